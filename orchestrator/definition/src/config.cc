// YAML + overrides -> SweepSpec. Every user error becomes one line naming where it is
// (file:line:column, or the override as typed), what was found and what is valid.
#include "phasesweep/orchestrator/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "phasesweep/base/hash.h"
#include "phasesweep/orchestrator/sweep_grammar.h"

namespace phasesweep::orchestrator {
namespace {

std::string At(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string UnknownKey(const std::string& where, const std::string& key) {
  std::string msg = where + ": unknown key '" + key + "'";
  if (auto s = DidYouMean(key)) return msg + " (did you mean '" + *s + "'?)";
  return msg + " (docs/CONFIG.md lists every key)";
}

// A key given twice in one mapping, anywhere in the file, is an error naming both places: YAML
// leaves duplicates to the application, and yaml-cpp keeps both, so the last would silently win.
Status CheckNoDuplicateKeys(const YAML::Node& node, const std::string& file,
                            const std::string& path) {
  if (node.IsSequence()) {
    for (const auto& item : node) {
      PHASESWEEP_RETURN_IF_ERROR(CheckNoDuplicateKeys(item, file, path));
    }
  }
  if (!node.IsMap()) return Status::Ok();
  std::map<std::string, YAML::Mark> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    const std::string dotted = path.empty() ? key : path + "." + key;
    auto [first, fresh] = seen.emplace(key, it->first.Mark());
    if (!fresh) {
      return Status::InvalidArgument(At(file, it->first.Mark()) + ": " + dotted +
                                     " is given twice in one mapping (first at " +
                                     At(file, first->second) + "); keep one");
    }
    PHASESWEEP_RETURN_IF_ERROR(CheckNoDuplicateKeys(it->second, file, dotted));
  }
  return Status::Ok();
}

// What the YAML file and the overrides said, before defaults and expansion.
struct RawConfig {
  std::map<std::string, Value> fixed;
  std::map<std::string, std::string> fixed_where;
  std::map<std::string, std::vector<Value>> grid;
  std::map<std::string, std::string> grid_where;
  std::optional<std::vector<uint64_t>> seeds;
  RandomSpace random;
  std::map<std::string, std::string> random_where;
};

// Converts one YAML leaf to a value of the key's type.
Result<Value> LeafValue(const KeySpec& spec, const YAML::Node& node, const std::string& where) {
  if (node.IsSequence()) {
    std::vector<std::string> items;
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        return Status::InvalidArgument(where + ": " + spec.key + " expects a list of words");
      }
      items.push_back(item.Scalar());
    }
    if (spec.type != ValueType::kStringList) {
      return Status::InvalidArgument(
          where + ": " + spec.key +
          " expects a single value, got a list (to sweep it, put it under "
          "sweep.grid or use " +
          spec.key + "=v1,v2)");
    }
    return ValueFromList(spec, items, where);
  }
  if (node.IsMap()) {
    return Status::InvalidArgument(where + ": " + spec.key + " expects a value, got a mapping");
  }
  if (node.IsNull() && spec.type != ValueType::kString) {
    return Status::InvalidArgument(where + ": " + spec.key + " has no value");
  }
  return ValueFromText(spec, node.IsNull() ? "" : node.Scalar(), where);
}

Status ParseSweepSection(const YAML::Node& sweep, const std::string& file, RawConfig* raw) {
  if (!sweep.IsMap()) {
    return Status::InvalidArgument(At(file, sweep.Mark()) +
                                   ": sweep must be a mapping with seeds, grid, random");
  }
  for (auto it = sweep.begin(); it != sweep.end(); ++it) {
    const std::string k = it->first.Scalar();
    const YAML::Node v = it->second;
    const std::string where = At(file, v.Mark());
    if (k == "seeds") {
      std::string text;
      if (v.IsSequence()) {
        for (const auto& s : v) text += (text.empty() ? "" : ",") + s.Scalar();
        if (text.empty())
          return Status::InvalidArgument(where + ": sweep.seeds is empty; give at least one seed");
      } else {
        text = v.Scalar();
      }
      auto seeds = ParseSeeds(text, where);
      if (!seeds.ok()) return seeds.status();
      raw->seeds = *seeds;
    } else if (k == "grid") {
      if (v.IsNull()) continue;
      if (!v.IsMap())
        return Status::InvalidArgument(where + ": sweep.grid must map keys to lists of values");
      for (auto g = v.begin(); g != v.end(); ++g) {
        const std::string key = g->first.Scalar();
        const std::string gwhere = At(file, g->first.Mark());
        const KeySpec* spec = FindKey(key);
        if (!spec) return Status::InvalidArgument(UnknownKey(gwhere, key) + " in sweep.grid");
        if (!spec->sweepable) {
          return Status::InvalidArgument(gwhere + ": " + key +
                                         " cannot be swept (it is a runtime setting)");
        }
        if (!g->second.IsSequence()) {
          return Status::InvalidArgument(gwhere + ": sweep.grid." + key +
                                         " must be a list of values");
        }
        if (g->second.size() == 0) {
          return Status::InvalidArgument(gwhere + ": sweep.grid." + key +
                                         " is an empty list; give at least one value");
        }
        std::vector<Value> values;
        for (const auto& item : g->second) {
          auto val = LeafValue(*spec, item, At(file, item.Mark()));
          if (!val.ok()) return val.status();
          if (std::find(values.begin(), values.end(), *val) != values.end()) {
            return Status::InvalidArgument(At(file, item.Mark()) + ": sweep.grid." + key +
                                           " lists " + val->Display() + " twice");
          }
          values.push_back(*val);
        }
        raw->grid[key] = values;
        raw->grid_where[key] = gwhere;
      }
    } else if (k == "random") {
      if (!v.IsMap())
        return Status::InvalidArgument(where +
                                       ": sweep.random must be a mapping with n, seed, space");
      for (auto r = v.begin(); r != v.end(); ++r) {
        const std::string rk = r->first.Scalar();
        const std::string rwhere = At(file, r->second.Mark());
        if (rk == "n" || rk == "seed") {
          std::string text = r->second.Scalar();
          size_t pos = 0;
          long long x = -1;
          try {
            x = std::stoll(text, &pos);
          } catch (...) {
            pos = 0;
          }
          if (pos == 0 || pos != text.size() || x < 0) {
            return Status::InvalidArgument(rwhere + ": sweep.random." + rk +
                                           " expects a non-negative integer, got '" + text + "'");
          }
          if (rk == "n")
            raw->random.n = x;
          else
            raw->random.seed = static_cast<uint64_t>(x);
        } else if (rk == "space") {
          if (!r->second.IsMap()) {
            return Status::InvalidArgument(rwhere +
                                           ": sweep.random.space must map keys to distributions");
          }
          for (auto s = r->second.begin(); s != r->second.end(); ++s) {
            const std::string key = s->first.Scalar();
            raw->random.space[key] = s->second.Scalar();
            raw->random_where[key] = At(file, s->first.Mark());
          }
        } else {
          return Status::InvalidArgument(At(file, r->first.Mark()) +
                                         ": unknown key 'sweep.random." + rk +
                                         "'; valid: n, seed, space");
        }
      }
    } else {
      return Status::InvalidArgument(UnknownKey(At(file, it->first.Mark()), "sweep." + k) +
                                     "; sweep has seeds, grid, random");
    }
  }
  return Status::Ok();
}

Status ParseYaml(const std::string& text, const std::string& file, RawConfig* raw) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return Status::InvalidArgument(At(file, e.mark) + ": malformed YAML: " + e.msg);
  }
  PHASESWEEP_RETURN_IF_ERROR(CheckNoDuplicateKeys(root, file, ""));
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) {
    return Status::InvalidArgument(
        At(file, root.Mark()) + ": the config must be a mapping of sections (" +
        "name, task, model, optimizer, training, probes, sweep, analysis, output)");
  }
  std::set<std::string> seen_sections;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string section = it->first.Scalar();
    const YAML::Node body = it->second;
    const auto& sections = Sections();
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      std::string msg = At(file, it->first.Mark()) + ": unknown section '" + section + "'";
      if (auto s = NearestWord(section, sections)) msg += " (did you mean '" + *s + "'?)";
      return Status::InvalidArgument(
          msg +
          "; valid: name, task, model, optimizer, training, probes, sweep, "
          "analysis, output");
    }
    if (section == "sweep") {
      PHASESWEEP_RETURN_IF_ERROR(ParseSweepSection(body, file, raw));
      continue;
    }
    if (section == "name") {
      auto v = LeafValue(*FindKey("name"), body, At(file, body.Mark()));
      if (!v.ok()) return v.status();
      raw->fixed["name"] = *v;
      raw->fixed_where["name"] = At(file, body.Mark());
      continue;
    }
    if (body.IsNull()) continue;
    if (!body.IsMap()) {
      return Status::InvalidArgument(At(file, body.Mark()) + ": section '" + section +
                                     "' must be a mapping");
    }
    for (auto kv = body.begin(); kv != body.end(); ++kv) {
      const std::string key = section + "." + kv->first.Scalar();
      const KeySpec* spec = FindKey(key);
      if (!spec) return Status::InvalidArgument(UnknownKey(At(file, kv->first.Mark()), key));
      auto v = LeafValue(*spec, kv->second, At(file, kv->second.Mark()));
      if (!v.ok()) return v.status();
      raw->fixed[key] = *v;
      raw->fixed_where[key] = At(file, kv->first.Mark());
    }
  }
  return Status::Ok();
}

Status ApplyOverrides(const std::vector<std::string>& overrides, RawConfig* raw) {
  std::set<std::string> seen;
  for (const std::string& ov : overrides) {
    const std::string where = "override '" + ov + "'";
    const size_t eq = ov.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(where + ": expected key=value (e.g. optimizer.lr=1e-3)");
    }
    const std::string key = ov.substr(0, eq);
    const std::string text = ov.substr(eq + 1);
    if (!seen.insert(key).second) {
      return Status::InvalidArgument(where + ": " + key +
                                     " is overridden twice; give one override per key");
    }
    if (key == "sweep.seeds") {
      auto seeds = ParseSeeds(text, where);
      if (!seeds.ok()) return seeds.status();
      raw->seeds = *seeds;
      continue;
    }
    if (key == "sweep.random.n" || key == "sweep.random.seed") {
      auto n = ParseSeeds(text, where);  // same grammar: one non-negative integer
      if (!n.ok() || n->size() != 1) {
        return Status::InvalidArgument(where + ": " + key + " expects one non-negative integer");
      }
      if (key == "sweep.random.n")
        raw->random.n = static_cast<int64_t>((*n)[0]);
      else
        raw->random.seed = (*n)[0];
      continue;
    }
    const KeySpec* spec = FindKey(key);
    if (!spec) return Status::InvalidArgument(UnknownKey(where, key));
    auto items = SplitTopLevelCommas(text);
    if (items.empty()) return Status::InvalidArgument(where + ": " + key + " has no value");
    if (items.size() == 1) {
      auto v = ValueFromText(*spec, items[0], where);
      if (!v.ok()) return v.status();
      // A fixed value on the command line pins the key, replacing a sweep of it in the file.
      raw->fixed[key] = *v;
      raw->fixed_where[key] = where;
      raw->grid.erase(key);
      continue;
    }
    if (!spec->sweepable) {
      return Status::InvalidArgument(where + ": " + key +
                                     " cannot be swept (it is a runtime setting)");
    }
    std::vector<Value> values;
    for (const auto& item : items) {
      auto v = ValueFromText(*spec, item, where);
      if (!v.ok()) return v.status();
      if (std::find(values.begin(), values.end(), *v) != values.end()) {
        return Status::InvalidArgument(where + ": " + key + " lists " + v->Display() + " twice");
      }
      values.push_back(*v);
    }
    // A comma list on the command line sweeps the key, replacing its fixed value in the file.
    raw->grid[key] = values;
    raw->grid_where[key] = where;
    raw->fixed.erase(key);
  }
  return Status::Ok();
}

Status CheckRandomSpace(const RawConfig& raw) {
  for (const auto& [key, text] : raw.random.space) {
    const std::string& where =
        raw.random_where.count(key) ? raw.random_where.at(key) : "sweep.random.space";
    const KeySpec* spec = FindKey(key);
    if (!spec) return Status::InvalidArgument(UnknownKey(where, key) + " in sweep.random.space");
    if (!spec->sweepable) {
      return Status::InvalidArgument(where + ": " + key +
                                     " cannot be swept (it is a runtime setting)");
    }
    if (raw.grid.count(key) || raw.fixed.count(key)) {
      return Status::InvalidArgument(
          where + ": " + key + " is both sampled in sweep.random.space and " +
          (raw.grid.count(key) ? "swept in sweep.grid" : "set to a fixed value") + "; keep one");
    }
    auto dist = ParseDistribution(*spec, text, where);
    if (!dist.ok()) return dist.status();
  }
  if (raw.random.n > 0 && raw.random.space.empty()) {
    return Status::InvalidArgument("sweep.random.n = " + std::to_string(raw.random.n) +
                                   " but sweep.random.space is empty; name the keys to sample");
  }
  if (raw.random.n == 0 && !raw.random.space.empty()) {
    return Status::InvalidArgument(
        "sweep.random.space is given but sweep.random.n is 0; set n > 0");
  }
  return Status::Ok();
}

Result<SweepSpec> Resolve(const std::string& name, const std::string& yaml_text,
                          const std::vector<std::string>& overrides) {
  RawConfig raw;
  PHASESWEEP_RETURN_IF_ERROR(ParseYaml(yaml_text, name, &raw));
  // Fixed-and-swept is ambiguous only within the file; overrides resolve it explicitly.
  for (const auto& [key, values] : raw.grid) {
    if (raw.fixed.count(key)) {
      return Status::InvalidArgument(raw.fixed_where.at(key) + ": " + key +
                                     " is set here and swept in sweep.grid (" +
                                     raw.grid_where.at(key) + "); keep one");
    }
  }
  PHASESWEEP_RETURN_IF_ERROR(ApplyOverrides(overrides, &raw));
  PHASESWEEP_RETURN_IF_ERROR(CheckRandomSpace(raw));

  SweepSpec spec;
  spec.source = name;
  for (const KeySpec& k : Schema()) {
    auto it = raw.fixed.find(k.key);
    if (it != raw.fixed.end()) {
      spec.base[k.key] = it->second;
      continue;
    }
    auto def = ValueFromText(k, k.default_yaml, "schema default");
    if (!def.ok()) return def.status();
    spec.base[k.key] = *def;
  }
  for (const auto& [key, values] : raw.grid)
    spec.grid.push_back({key, values});  // std::map: sorted
  spec.random = raw.random;
  spec.seeds = raw.seeds.value_or(std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  if (spec.seeds.empty())
    return Status::InvalidArgument(name + ": sweep.seeds is empty; give at least one seed");

  auto points = ExpandGrid(spec);
  if (!points.ok()) return points.status();
  for (const GridPoint& p : *points) {
    std::string where = name;
    if (!p.values.empty()) where += " at grid point " + p.Label();
    PHASESWEEP_RETURN_IF_ERROR(ValidateResolved(ResolvePoint(spec, p), where));
  }
  return spec;
}

bool IsSwept(const SweepSpec& spec, const std::string& key) {
  for (const auto& axis : spec.grid) {
    if (axis.key == key) return true;
  }
  return spec.random.space.count(key) > 0;
}

void EmitValue(YAML::Emitter& out, const Value& v, ValueType type = ValueType::kString) {
  if (type == ValueType::kIntOrAuto && v.AsInt() == 0) {
    out << "auto";
  } else if (const auto* l = std::get_if<std::vector<std::string>>(&v.storage())) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : *l) out << s;
    out << YAML::EndSeq;
  } else {
    out << v.Display();
  }
}

}  // namespace

Result<SweepSpec> ParseSweepSpec(const std::string& yaml_text, const std::string& name,
                                 const std::vector<std::string>& overrides) {
  return Resolve(name, yaml_text, overrides);
}

Result<SweepSpec> LoadSweepSpec(const ConfigSource& source,
                                const std::vector<std::string>& overrides) {
  if (source.path.empty()) return Resolve("<embedded default>", EmbeddedDefaultConfig(), overrides);
  std::ifstream in(source.path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(
        source.path + ": cannot read the config file (" +
        (std::ifstream(source.path).good() ? "unreadable" : "no such file") +
        "); omit it to use the embedded default study");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return Resolve(source.path, buf.str(), overrides);
}

std::string ResolvedYaml(const SweepSpec& spec) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value;
  EmitValue(out, spec.base.at("name"));
  std::string open_section;
  for (const KeySpec& k : Schema()) {
    const size_t dot = k.key.find('.');
    if (dot == std::string::npos) continue;
    const std::string section = k.key.substr(0, dot);
    if (section != open_section) {
      if (!open_section.empty()) out << YAML::EndMap;
      if (section == "analysis") {  // sweep is emitted between probes and analysis, as documented
        out << YAML::Key << "sweep" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "seeds" << YAML::Value << YAML::Flow << spec.seeds;
        out << YAML::Key << "grid" << YAML::Value << YAML::BeginMap;
        for (const auto& axis : spec.grid) {
          out << YAML::Key << axis.key << YAML::Value << YAML::Flow << YAML::BeginSeq;
          for (const auto& v : axis.values) EmitValue(out, v);
          out << YAML::EndSeq;
        }
        out << YAML::EndMap;
        if (spec.random.n > 0) {
          out << YAML::Key << "random" << YAML::Value << YAML::BeginMap;
          out << YAML::Key << "n" << YAML::Value << spec.random.n;
          out << YAML::Key << "seed" << YAML::Value << spec.random.seed;
          out << YAML::Key << "space" << YAML::Value << YAML::BeginMap;
          for (const auto& [key, dist] : spec.random.space)
            out << YAML::Key << key << YAML::Value << dist;
          out << YAML::EndMap << YAML::EndMap;
        }
        out << YAML::EndMap;
      }
      out << YAML::Key << section << YAML::Value << YAML::BeginMap;
      open_section = section;
    }
    if (IsSwept(spec, k.key)) continue;  // its values are under sweep
    out << YAML::Key << k.key.substr(dot + 1) << YAML::Value;
    EmitValue(out, spec.base.at(k.key), k.type);
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ConfigHash(const SweepSpec& spec) {
  std::string canon;
  for (const KeySpec& k : Schema()) {
    if (k.role == KeyRole::kRuntime || IsSwept(spec, k.key)) continue;
    canon += k.key + "=" + spec.base.at(k.key).Canonical() + "\n";
  }
  for (const auto& axis : spec.grid) {
    canon += "grid:" + axis.key + "=";
    for (const auto& v : axis.values) canon += v.Canonical() + ";";
    canon += "\n";
  }
  if (spec.random.n > 0) {
    canon += "random:n=" + std::to_string(spec.random.n) +
             ",seed=" + std::to_string(spec.random.seed) + "\n";
    for (const auto& [key, dist] : spec.random.space) canon += "random:" + key + "=" + dist + "\n";
  }
  canon += "seeds=";
  for (uint64_t s : spec.seeds) canon += std::to_string(s) + ",";
  return HexDigest64(canon);
}

}  // namespace phasesweep::orchestrator
