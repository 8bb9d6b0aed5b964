// ApplyAnalysisConfig (analyze_command.h): the `analysis:` mapping of a results file's stored
// config -> AnalysisOptions. Every key is optional; docs/STATISTICS.md ("Configuration") lists
// them with their defaults. Unknown keys under `analysis:` are an error here as in the schema.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/analysis/changepoint.h"

namespace phasesweep::analysis {
namespace {

using Setter = std::function<Status(const YAML::Node&, AnalysisOptions*)>;

template <class T>
Result<T> Scalar(const YAML::Node& n) {
  if (!n.IsScalar()) return Status::InvalidArgument("expected a single value");
  return n.as<T>();
}

Result<std::vector<std::string>> List(const YAML::Node& n) {
  if (n.IsNull()) return std::vector<std::string>{};
  if (!n.IsSequence()) return Status::InvalidArgument("expected a list");
  std::vector<std::string> out;
  for (const auto& item : n) {
    if (!item.IsScalar()) return Status::InvalidArgument("expected a list of strings");
    out.push_back(item.as<std::string>());
  }
  return out;
}

// "metric" or "metric:kind".
Status MetricAndKind(const std::string& text, std::string* metric, TransitionKind* kind) {
  const std::size_t colon = text.find(':');
  *metric = text.substr(0, colon);
  if (metric->empty()) return Status::InvalidArgument("empty metric name in '" + text + "'");
  if (colon == std::string::npos) return Status::Ok();
  auto k = ParseTransitionKind(text.substr(colon + 1));
  if (!k.ok()) return k.status();
  *kind = *k;
  return Status::Ok();
}

// Wraps a parser of one scalar text into a setter.
template <class T, class Fn>
Setter ScalarKey(Fn fn) {
  return [fn](const YAML::Node& n, AnalysisOptions* o) -> Status {
    auto v = Scalar<T>(n);
    if (!v.ok()) return v.status();
    return fn(*v, o);
  };
}

template <class Fn>
Setter ListKey(Fn fn) {
  return [fn](const YAML::Node& n, AnalysisOptions* o) -> Status {
    auto v = List(n);
    if (!v.ok()) return v.status();
    return fn(*v, o);
  };
}

const std::map<std::string, Setter>& Keys() {
  using S = std::string;
  using V = std::vector<std::string>;
  using O = AnalysisOptions;
  static const std::map<std::string, Setter> keys = {
      {"metrics", ListKey([](const V& v, O* o) {
         o->metrics = v;
         return Status::Ok();
       })},
      {"alpha", ScalarKey<double>([](double v, O* o) {
         o->alpha = v;
         return Status::Ok();
       })},
      {"adjust", ScalarKey<S>([](const S& v, O* o) {
         auto a = ParseAdjustment(v);
         if (a.ok()) o->adjust = *a;
         return a.status();
       })},
      {"surrogates", ScalarKey<int>([](int v, O* o) {
         o->surrogates = v;
         return Status::Ok();
       })},
      {"surrogate", ScalarKey<S>([](const S& v, O* o) {
         auto m = ParseSurrogateMethod(v);
         if (m.ok()) o->surrogate = *m;
         return m.status();
       })},
      {"bootstrap", ScalarKey<int>([](int v, O* o) {
         o->bootstrap = v;
         return Status::Ok();
       })},
      {"confidence", ScalarKey<double>([](double v, O* o) {
         o->confidence = v;
         return Status::Ok();
       })},
      {"seed", ScalarKey<std::uint64_t>([](std::uint64_t v, O* o) {
         o->seed = v;
         return Status::Ok();
       })},
      {"threads", ScalarKey<int>([](int v, O* o) {
         o->threads = v;
         return Status::Ok();
       })},
      {"bands", ScalarKey<bool>([](bool v, O* o) {
         o->bands = v;
         return Status::Ok();
       })},
      {"cost", ScalarKey<S>([](const S& v, O* o) {
         auto c = ParseCostKind(v);
         if (c.ok()) o->transition.cost = *c;
         return c.status();
       })},
      {"penalty",
       [](const YAML::Node& n, O* o) -> Status {
         if (n.IsNull() || (n.IsScalar() && n.as<S>() == "default")) {
           o->transition.penalty.reset();
           return Status::Ok();
         }
         auto v = Scalar<double>(n);
         if (v.ok()) o->transition.penalty = *v;
         return v.status();
       }},
      {"penalty_scale", ScalarKey<double>([](double v, O* o) {
         o->transition.penalty_scale = v;
         return Status::Ok();
       })},
      {"min_size", ScalarKey<std::size_t>([](std::size_t v, O* o) {
         o->transition.segmentation.min_size = v;
         return Status::Ok();
       })},
      {"jump", ScalarKey<std::size_t>([](std::size_t v, O* o) {
         o->transition.segmentation.jump = v;
         return Status::Ok();
       })},
      {"smooth_sigma", ScalarKey<double>([](double v, O* o) {
         o->transition.smooth_sigma = v;
         return Status::Ok();
       })},
      {"settle_tolerance", ScalarKey<double>([](double v, O* o) {
         o->transition.settle_tolerance = v;
         return Status::Ok();
       })},
      {"thresholds", ListKey([](const V& v, O* o) {
         std::vector<ThresholdRule> rules;
         for (const S& s : v) {
           auto r = ParseThresholdRule(s);
           if (!r.ok()) return r.status();
           rules.push_back(*r);
         }
         o->thresholds = rules;
         return Status::Ok();
       })},
      {"pairs", ListKey([](const V& v, O* o) {
         std::vector<OrderingPair> pairs;
         for (const S& s : v) {
           auto p = ParseOrderingPair(s);
           if (!p.ok()) return p.status();
           pairs.push_back(*p);
         }
         o->orderings = pairs;
         return Status::Ok();
       })},
      {"ordering_alternative", ScalarKey<S>([](const S& v, O* o) {
         auto a = ParseAlternative(v);
         if (a.ok()) o->ordering_alternative = *a;
         return a.status();
       })},
      {"stability_metrics", ListKey([](const V& v, O* o) {
         o->stability_metrics = v;
         return Status::Ok();
       })},
      {"control_key", ScalarKey<S>([](const S& v, O* o) {
         o->control_key = v;
         return Status::Ok();
       })},
      {"effect_kind", ScalarKey<S>([](const S& v, O* o) {
         auto k = ParseTransitionKind(v);
         if (k.ok()) o->effect_kind = *k;
         return k.status();
       })},
      {"early_stop_metric", ScalarKey<S>([](const S& v, O* o) {
         o->early_stop_metric = v;
         return v.empty() ? Status::InvalidArgument("empty metric name") : Status::Ok();
       })},
      {"early_stop_reference", ScalarKey<S>([](const S& v, O* o) {
         return MetricAndKind(v, &o->early_stop_reference, &o->early_stop_reference_kind);
       })},
      {"patience", ScalarKey<int>([](int v, O* o) {
         o->patience = v;
         return Status::Ok();
       })},
      {"min_delta", ScalarKey<double>([](double v, O* o) {
         o->min_delta = v;
         return Status::Ok();
       })},
  };
  return keys;
}

}  // namespace

std::vector<std::string> AnalysisConfigKeys() {
  std::vector<std::string> names;
  for (const auto& [name, setter] : Keys()) names.push_back(name);
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
    auto it = Keys().find(key);
    if (it == Keys().end()) {
      std::string valid;
      for (const auto& name : AnalysisConfigKeys()) valid += (valid.empty() ? "" : ", ") + name;
      return Status::InvalidArgument("config key analysis." + key + ": unknown (valid: " + valid +
                                     ")");
    }
    Status st;
    try {
      st = it->second(kv.second, options);
    } catch (const YAML::Exception&) {
      st = Status::InvalidArgument("value of the wrong type");
    }
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
