// Lookup, conversion and checks over the catalog's tables (keys.cc, keys_analysis.cc).
#include "phasesweep/spec/catalog.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "keys.h"

namespace phasesweep::spec {
namespace {

std::vector<KeySpec> BuildSchema() {
  std::vector<KeySpec> keys;
  for (auto section : {NameKeys, TaskKeys, ModelKeys, OptimizerKeys, TrainingKeys, ProbeKeys,
                       AnalysisKeys, OutputKeys}) {
    for (KeySpec& k : section()) keys.push_back(std::move(k));
  }
  // Runtime settings do not change a job's results, so sweeping them would only duplicate jobs.
  for (KeySpec& k : keys) {
    if (k.role == KeyRole::kRuntime) k.sweepable = false;
  }
  return keys;
}

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// "> 0 and <= 10", each bound written by `number`.
template <class Fn>
std::string Bounds(const KeySpec& s, Fn number) {
  std::string lo = s.min ? (s.min_exclusive ? "> " : ">= ") + number(*s.min) : "";
  std::string hi = s.max ? (s.max_exclusive ? "< " : "<= ") + number(*s.max) : "";
  if (!lo.empty() && !hi.empty()) return lo + " and " + hi;
  return lo + hi;
}

std::string Prefixed(const std::string& where, const std::string& msg) {
  return where.empty() ? msg : where + ": " + msg;
}

Status CheckRange(const KeySpec& spec, double v, const std::string& shown,
                  const std::string& where) {
  bool low = spec.min && (spec.min_exclusive ? v <= *spec.min : v < *spec.min);
  bool high = spec.max && (spec.max_exclusive ? v >= *spec.max : v > *spec.max);
  if (low || high || std::isnan(v)) {
    return Status::InvalidArgument(Prefixed(
        where,
        spec.key + " = " + shown + " is out of range; valid: " + Bounds(spec, CanonicalDouble)));
  }
  return Status::Ok();
}

Status CheckChoice(const KeySpec& spec, const std::string& word, const std::string& where) {
  if (spec.choices.empty() ||
      std::find(spec.choices.begin(), spec.choices.end(), word) != spec.choices.end()) {
    return Status::Ok();
  }
  return Status::InvalidArgument(Prefixed(
      where, spec.key + " = '" + word + "' is not valid; valid: " + Join(spec.choices, ", ")));
}

Status CheckList(const KeySpec& spec, const std::vector<std::string>& items,
                 const std::string& where) {
  std::vector<std::string> seen;
  for (const auto& item : items) {
    PHASESWEEP_RETURN_IF_ERROR(CheckChoice(spec, item, where));
    if (std::find(seen.begin(), seen.end(), item) != seen.end()) {
      return Status::InvalidArgument(Prefixed(where, spec.key + " lists '" + item + "' twice"));
    }
    seen.push_back(item);
  }
  return Status::Ok();
}

}  // namespace

const std::vector<KeySpec>& Schema() {
  static const std::vector<KeySpec> schema = BuildSchema();
  return schema;
}

std::vector<const KeySpec*> SectionKeys(const std::string& section) {
  std::vector<const KeySpec*> out;
  for (const KeySpec& k : Schema()) {
    if (k.key == section || k.key.rfind(section + ".", 0) == 0) out.push_back(&k);
  }
  return out;
}

const std::vector<std::string>& Sections() {
  static const std::vector<std::string> s = {"name",   "task",  "model",    "optimizer", "training",
                                             "probes", "sweep", "analysis", "output"};
  return s;
}

const KeySpec* FindKey(const std::string& key) {
  for (const auto& k : Schema()) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::optional<std::string> NearestWord(const std::string& word,
                                       const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  int best_d = 1 << 30;
  auto leaf = [](const std::string& s) { return s.substr(s.rfind('.') + 1); };
  for (const auto& c : candidates) {
    int d = EditDistance(word, c);
    // A correct leaf under the wrong section ("training.lr" -> "optimizer.lr") is a near miss too.
    if (word.find('.') != std::string::npos && leaf(word) == leaf(c)) d = std::min(d, 2);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const int limit = std::max<int>(2, static_cast<int>(word.size()) / 4);
  if (best && best_d <= limit) return best;
  return std::nullopt;
}

std::optional<std::string> DidYouMean(const std::string& key) {
  std::vector<std::string> candidates;
  for (const auto& k : Schema()) candidates.push_back(k.key);
  for (const char* s : {"sweep.seeds", "sweep.grid", "sweep.random"}) candidates.push_back(s);
  return NearestWord(key, candidates);
}

Result<Value> ValueFromText(const KeySpec& spec, const std::string& text,
                            const std::string& where) {
  if (spec.type == T::kStringList) {
    YAML::Node n;
    try {
      n = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(where + ": " + spec.key +
                                     " expects a list like [a, b]: " + e.msg);
    }
    if (!n.IsSequence()) {
      return Status::InvalidArgument(where + ": " + spec.key +
                                     " expects a list like [a, b], got '" + text + "'");
    }
    std::vector<std::string> items;
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        return Status::InvalidArgument(where + ": " + spec.key + " expects a list of words");
      }
      items.push_back(item.Scalar());
    }
    return ValueFromList(spec, items, where);
  }
  std::string shown = "'" + text + "'";
  auto bad_type = [&](const char* what) {
    return Status::InvalidArgument(where + ": " + spec.key + " expects " + what + ", got " + shown);
  };
  switch (spec.type) {
    case T::kBool: {
      YAML::Node n = YAML::Node(text);
      bool b;
      if (!YAML::convert<bool>::decode(n, b)) return bad_type("true or false");
      return Value(b);
    }
    case T::kIntOrAuto:
      if (text == "auto") return Value(int64_t{0});
      [[fallthrough]];
    case T::kInt: {
      size_t pos = 0;
      long long v = 0;
      try {
        v = std::stoll(text, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != text.size()) {
        return bad_type(spec.type == T::kIntOrAuto ? "an integer or auto" : "an integer");
      }
      PHASESWEEP_RETURN_IF_ERROR(CheckRange(spec, static_cast<double>(v), text, where));
      return Value(static_cast<int64_t>(v));
    }
    case T::kDouble: {
      size_t pos = 0;
      double v = 0;
      try {
        v = std::stod(text, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != text.size() || !std::isfinite(v)) return bad_type("a number");
      PHASESWEEP_RETURN_IF_ERROR(CheckRange(spec, v, text, where));
      return Value(v);
    }
    case T::kString:
      PHASESWEEP_RETURN_IF_ERROR(CheckChoice(spec, text, where));
      return Value(text);
    case T::kStringList:
      break;
  }
  return Status::Internal("unhandled value type for " + spec.key);
}

Result<Value> ValueFromList(const KeySpec& spec, const std::vector<std::string>& items,
                            const std::string& where) {
  if (spec.type != T::kStringList) {
    return Status::InvalidArgument(where + ": " + spec.key + " expects a single value, got a list");
  }
  PHASESWEEP_RETURN_IF_ERROR(CheckList(spec, items, where));
  return Value(items);
}

Status CheckValue(const KeySpec& spec, const Value& value, const std::string& where) {
  const Value::Storage& v = value.storage();
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (spec.type == T::kIntOrAuto && *i == 0) return Status::Ok();  // auto
    return CheckRange(spec, static_cast<double>(*i), std::to_string(*i), where);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) {
      return Status::InvalidArgument(
          Prefixed(where, spec.key + " = " + CanonicalDouble(*d) + " is not a finite number"));
    }
    return CheckRange(spec, *d, CanonicalDouble(*d), where);
  }
  if (const auto* s = std::get_if<std::string>(&v)) return CheckChoice(spec, *s, where);
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) return CheckList(spec, *l, where);
  return Status::Ok();  // bool
}

void FillSections(const std::map<std::string, Value>& resolved, PackSpec* pack,
                  MemberOptimizerScalars* member) {
  for (const KeySpec& k : Schema()) {
    if (k.set) k.set(resolved.at(k.key), pack, member);
  }
}

std::string DocRow(const KeySpec& spec) {
  static const char* const kTypeNames[] = {
      "bool", "int", "float", "string", "list of strings", "int or auto"};
  auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return std::string(buf);
  };
  std::string valid = !spec.valid_doc.empty() ? spec.valid_doc
                      : !spec.choices.empty() ? Join(spec.choices, ", ")
                                              : Bounds(spec, number);
  std::string meaning = spec.doc;
  if (spec.role == KeyRole::kMemberScalar) meaning += " (may differ inside a pack)";
  if (spec.role == KeyRole::kRuntime) meaning += " (runtime: not part of job identity)";
  if (!spec.sweepable) meaning += "; not sweepable";
  return "| `" + spec.key + "` | " + kTypeNames[static_cast<int>(spec.type)] + " | `" +
         spec.default_yaml + "` | " + valid + " | " + meaning + " |";
}

}  // namespace phasesweep::spec
