// Option parsing and validation for AnalyzeSweep (trace_set.h).
#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "phasesweep/analysis/analysis_result.h"
#include "phasesweep/analysis/trace_set.h"
#include "phasesweep/base/number_format.h"

namespace phasesweep::analysis {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status ParseSide(const std::string& text, const std::string& whole, std::string* metric,
                 TransitionKind* kind) {
  const std::size_t colon = text.find(':');
  *metric = text.substr(0, colon);
  if (metric->empty()) {
    return Status::InvalidArgument("ordering pair '" + whole +
                                   "': empty metric name (expected A<B or A:kind<B:kind)");
  }
  if (colon == std::string::npos) {
    *kind = EndsWith(*metric, "_loss") ? TransitionKind::kSettle : TransitionKind::kChangePoint;
    return Status::Ok();
  }
  auto k = ParseTransitionKind(text.substr(colon + 1));
  if (!k.ok()) return k.status().WithContext("ordering pair '" + whole + "'");
  *kind = *k;
  return Status::Ok();
}

}  // namespace

std::map<std::string, std::string> HparamTexts(const Hparams& hparams) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : hparams) out.emplace(key, value.text);
  return out;
}

std::vector<std::string> AvailableMetrics(const TraceSet& traces) {
  std::set<std::string> names;
  for (const auto& job : traces.jobs)
    for (const auto& [name, values] : job.trace.metrics) names.insert(name);
  return {names.begin(), names.end()};
}

Result<OrderingPair> ParseOrderingPair(std::string_view text) {
  const std::string whole(text);
  const std::size_t lt = whole.find('<');
  if (lt == std::string::npos || whole.find('<', lt + 1) != std::string::npos) {
    return Status::InvalidArgument("ordering pair '" + whole +
                                   "': expected A<B or A:kind<B:kind, e.g. emb_cos_prev<test_acc");
  }
  OrderingPair pair;
  PHASESWEEP_RETURN_IF_ERROR(ParseSide(whole.substr(0, lt), whole, &pair.a_metric, &pair.a_kind));
  PHASESWEEP_RETURN_IF_ERROR(ParseSide(whole.substr(lt + 1), whole, &pair.b_metric, &pair.b_kind));
  return pair;
}

std::string FormatOrderingPair(const OrderingPair& pair) {
  return pair.a_metric + ":" + std::string(TransitionKindName(pair.a_kind)) + "<" + pair.b_metric +
         ":" + std::string(TransitionKindName(pair.b_kind));
}

Status ValidateAnalysisOptions(const AnalysisOptions& o) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument("analysis option " + m); };
  if (!(o.alpha > 0.0 && o.alpha < 1.0)) return bad("alpha must be in (0, 1)");
  if (!(o.confidence > 0.0 && o.confidence < 1.0)) return bad("confidence must be in (0, 1)");
  if (o.surrogates < 0 || o.surrogates > 1000000) return bad("surrogates must be in [0, 1e6]");
  if (o.bootstrap < 0 || o.bootstrap > 1000000) return bad("bootstrap must be in [0, 1e6]");
  if (o.patience < 1) return bad("patience must be >= 1 probe");
  if (!(o.min_delta >= 0.0)) return bad("min_delta must be >= 0");
  if (o.threads < 0) return bad("threads must be >= 0");
  if (o.transition.segmentation.min_size < 1) return bad("min_size must be >= 1");
  if (o.transition.segmentation.jump < 1) return bad("jump must be >= 1");
  if (o.transition.penalty && !(*o.transition.penalty >= 0.0)) return bad("penalty must be >= 0");
  if (!(o.transition.penalty_scale > 0.0)) return bad("penalty_scale must be > 0");
  if (!(o.transition.smooth_sigma >= 0.0)) return bad("smooth_sigma must be >= 0");
  if (!(o.transition.settle_tolerance > 0.0 && o.transition.settle_tolerance < 1.0)) {
    return bad("settle_tolerance must be in (0, 1)");
  }
  for (const auto& [metric, value] : o.min_change) {
    if (metric.empty() || !(value >= 0.0) || !std::isfinite(value))
      return bad("min_change '" + metric + ":" + FormatDouble(value) + "' is malformed");
  }
  for (const auto& rule : o.thresholds) {
    if (rule.metric.empty() || rule.k < 1 || !std::isfinite(rule.value)) {
      return bad("threshold '" + FormatThresholdRule(rule) + "' is malformed");
    }
  }
  return Status::Ok();
}

const Transition& TraceResult::Get(TransitionKind kind) const {
  switch (kind) {
    case TransitionKind::kChangePoint:
      return changepoint;
    case TransitionKind::kSteepest:
      return steepest;
    case TransitionKind::kThreshold:
      return threshold;
    case TransitionKind::kSettle:
      break;
  }
  return settle;
}

}  // namespace phasesweep::analysis
