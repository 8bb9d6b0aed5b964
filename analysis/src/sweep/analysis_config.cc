// ApplyAnalysisConfig (analyze_command.h): the `analysis:` mapping of a results file's stored
// config -> AnalysisOptions. The keys, their types, ranges, choices and defaults are the
// catalog's analysis section (spec/catalog.h, docs/CONFIG.md); this file only says where each
// checked value goes in AnalysisOptions. Unknown keys under `analysis:` are an error here as in
// the config.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/spec/catalog.h"

namespace phasesweep::analysis {
namespace {

using spec::Value;
using Setter = std::function<Status(const Value&, AnalysisOptions*)>;

// "metric" or "metric:kind" (no kind: the change point).
Status MetricAndKind(const std::string& text, std::string* metric, TransitionKind* kind) {
  const std::size_t colon = text.find(':');
  *metric = text.substr(0, colon);
  if (metric->empty()) return Status::InvalidArgument("empty metric name in '" + text + "'");
  *kind = TransitionKind::kChangePoint;
  if (colon == std::string::npos) return Status::Ok();
  auto k = ParseTransitionKind(text.substr(colon + 1));
  if (!k.ok()) return k.status();
  *kind = *k;
  return Status::Ok();
}

// A setter storing the parsed word (one of the catalog's choices) through `parse`.
template <class Parse, class Store>
Setter Word(Parse parse, Store store) {
  return [parse, store](const Value& v, AnalysisOptions* o) -> Status {
    auto parsed = parse(v.AsString());
    if (parsed.ok()) store(o, *parsed);
    return parsed.status();
  };
}

// Where each key of the catalog's analysis section goes, by its name under `analysis:`.
const std::map<std::string, Setter>& Setters() {
  using O = AnalysisOptions;
  using V = Value;
  static const std::map<std::string, Setter> setters = {
      {"metrics", [](const V& v, O* o) { return o->metrics = v.AsStringList(), Status::Ok(); }},
      {"alpha", [](const V& v, O* o) { return o->alpha = v.AsDouble(), Status::Ok(); }},
      {"adjust", Word(ParseAdjustment, [](O* o, Adjustment a) { o->adjust = a; })},
      {"surrogates",
       [](const V& v, O* o) { return o->surrogates = static_cast<int>(v.AsInt()), Status::Ok(); }},
      {"surrogate", Word(ParseSurrogateMethod, [](O* o, SurrogateMethod m) { o->surrogate = m; })},
      {"bootstrap",
       [](const V& v, O* o) { return o->bootstrap = static_cast<int>(v.AsInt()), Status::Ok(); }},
      {"confidence", [](const V& v, O* o) { return o->confidence = v.AsDouble(), Status::Ok(); }},
      {"seed", [](const V& v,
                  O* o) { return o->seed = static_cast<std::uint64_t>(v.AsInt()), Status::Ok(); }},
      {"threads",
       [](const V& v, O* o) { return o->threads = static_cast<int>(v.AsInt()), Status::Ok(); }},
      {"bands", [](const V& v, O* o) { return o->bands = v.AsBool(), Status::Ok(); }},
      {"cost", Word(ParseCostKind, [](O* o, CostKind c) { o->transition.cost = c; })},
      {"penalty",
       [](const V& v, O* o) -> Status {
         const std::string& text = v.AsString();
         if (text.empty() || text == "default") {
           o->transition.penalty.reset();
           return Status::Ok();
         }
         std::size_t pos = 0;
         double p = 0;
         try {
           p = std::stod(text, &pos);
         } catch (...) {
           pos = 0;
         }
         if (pos == 0 || pos != text.size()) {
           return Status::InvalidArgument("expected a number or default");
         }
         o->transition.penalty = p;
         return Status::Ok();
       }},
      {"penalty_scale",
       [](const V& v, O* o) { return o->transition.penalty_scale = v.AsDouble(), Status::Ok(); }},
      {"min_size",
       [](const V& v, O* o) {
         o->transition.segmentation.min_size = static_cast<std::size_t>(v.AsInt());
         return Status::Ok();
       }},
      {"jump",
       [](const V& v, O* o) {
         o->transition.segmentation.jump = static_cast<std::size_t>(v.AsInt());
         return Status::Ok();
       }},
      {"smooth_sigma",
       [](const V& v, O* o) { return o->transition.smooth_sigma = v.AsDouble(), Status::Ok(); }},
      {"settle_tolerance",
       [](const V& v, O* o) {
         return o->transition.settle_tolerance = v.AsDouble(), Status::Ok();
       }},
      {"thresholds",
       [](const V& v, O* o) -> Status {
         std::vector<ThresholdRule> rules;
         for (const std::string& s : v.AsStringList()) {
           auto r = ParseThresholdRule(s);
           if (!r.ok()) return r.status();
           rules.push_back(*r);
         }
         o->thresholds = rules;
         return Status::Ok();
       }},
      {"min_change",
       [](const V& v, O* o) -> Status {
         std::map<std::string, double> rules;
         for (const std::string& s : v.AsStringList()) {
           auto r = ParseMinChange(s);
           if (!r.ok()) return r.status();
           rules[r->first] = r->second;
         }
         o->min_change = rules;
         return Status::Ok();
       }},
      {"pairs",
       [](const V& v, O* o) -> Status {
         std::vector<OrderingPair> pairs;
         for (const std::string& s : v.AsStringList()) {
           auto p = ParseOrderingPair(s);
           if (!p.ok()) return p.status();
           pairs.push_back(*p);
         }
         o->orderings = pairs;
         return Status::Ok();
       }},
      {"ordering_alternative",
       Word(ParseAlternative, [](O* o, Alternative a) { o->ordering_alternative = a; })},
      {"stability_metrics",
       [](const V& v, O* o) { return o->stability_metrics = v.AsStringList(), Status::Ok(); }},
      {"control_key", [](const V& v, O* o) { return o->control_key = v.AsString(), Status::Ok(); }},
      {"effect_kind",
       Word(ParseTransitionKind, [](O* o, TransitionKind k) { o->effect_kind = k; })},
      {"early_stop_metric",
       [](const V& v, O* o) {
         o->early_stop_metric = v.AsString();
         return v.AsString().empty() ? Status::InvalidArgument("empty metric name") : Status::Ok();
       }},
      {"early_stop_reference",
       [](const V& v, O* o) {
         return MetricAndKind(v.AsString(), &o->early_stop_reference,
                              &o->early_stop_reference_kind);
       }},
      {"patience",
       [](const V& v, O* o) { return o->patience = static_cast<int>(v.AsInt()), Status::Ok(); }},
      {"min_delta", [](const V& v, O* o) { return o->min_delta = v.AsDouble(), Status::Ok(); }},
  };
  return setters;
}

// The YAML value of `row` as a checked value of its type.
Result<Value> ValueOf(const spec::KeySpec& row, const YAML::Node& n) {
  const std::string where = "stored config";
  if (n.IsSequence()) {
    std::vector<std::string> items;
    for (const auto& item : n) {
      if (!item.IsScalar())
        return Status::InvalidArgument(where + ": " + row.key + " expects a list of words");
      items.push_back(item.Scalar());
    }
    return spec::ValueFromList(row, items, where);
  }
  if (n.IsMap())
    return Status::InvalidArgument(where + ": " + row.key + " expects a value, got a mapping");
  if (n.IsNull() && row.type == spec::ValueType::kStringList) {
    return spec::ValueFromList(row, {}, where);
  }
  return spec::ValueFromText(row, n.IsNull() ? "" : n.Scalar(), where);
}

}  // namespace

namespace {

// Each analysis key's catalog default, parsed and stored like a config's value. A default the
// setters refuse is a defect of the catalog, caught by every analysis test.
void ApplyCatalogDefaults(AnalysisOptions* o) {
  for (const spec::KeySpec* k : spec::SectionKeys("analysis")) {
    Result<Value> value = ValueOf(*k, YAML::Load(k->default_yaml));
    const std::string name = k->key.substr(std::string("analysis.").size());
    Status st = value.ok() ? Setters().at(name)(*value, o) : value.status();
    if (!st.ok()) throw std::logic_error("catalog default of " + k->key + ": " + st.message());
  }
}

}  // namespace

const AnalysisOptions& CatalogAnalysisDefaults() {  // built once
  static AnalysisOptions* const defaults = new AnalysisOptions(AnalysisOptions::Unset{});
  static const bool filled = (ApplyCatalogDefaults(defaults), true);
  (void)filled;
  return *defaults;
}

AnalysisOptions::AnalysisOptions() : AnalysisOptions(CatalogAnalysisDefaults()) {}

std::vector<std::string> AnalysisConfigKeys() {
  std::vector<std::string> names;
  for (const spec::KeySpec* k : spec::SectionKeys("analysis")) {
    names.push_back(k->key.substr(std::string("analysis.").size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status ApplyAnalysisConfig(const std::string& config_yaml, AnalysisOptions* options) {
  if (config_yaml.empty()) return Status::Ok();
  YAML::Node root;
  try {
    root = YAML::Load(config_yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("stored config is not YAML: ") + e.what());
  }
  if (!root.IsMap() || !root["analysis"] || root["analysis"].IsNull()) return Status::Ok();
  const YAML::Node a = root["analysis"];
  if (!a.IsMap()) return Status::InvalidArgument("config key analysis: expected a mapping");
  for (const auto& kv : a) {
    const std::string key = kv.first.as<std::string>();
    const spec::KeySpec* row = spec::FindKey("analysis." + key);
    auto setter = Setters().find(key);
    if (row == nullptr || setter == Setters().end()) {
      std::string valid;
      for (const auto& name : AnalysisConfigKeys()) valid += (valid.empty() ? "" : ", ") + name;
      return Status::InvalidArgument("config key analysis." + key + ": unknown (valid: " + valid +
                                     ")");
    }
    Result<Value> value = ValueOf(*row, kv.second);
    if (!value.ok()) return value.status();
    Status st = setter->second(*value, options);
    if (!st.ok()) {
      std::string found =
          kv.second.IsScalar() ? " (found '" + kv.second.as<std::string>() + "')" : "";
      return Status::InvalidArgument("config key analysis." + key + ": " + st.message() + found);
    }
  }
  Status st = ValidateAnalysisOptions(*options);
  if (!st.ok()) return Status::InvalidArgument("stored config: " + st.message());
  return Status::Ok();
}

}  // namespace phasesweep::analysis
