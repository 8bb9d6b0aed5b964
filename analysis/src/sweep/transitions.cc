// Transition extraction for one trace; see transitions.h for the definitions.
#include "phasesweep/analysis/transitions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/base/number_format.h"

namespace phasesweep::analysis {
namespace {

// Standard deviation of white noise after GaussianSmooth(sigma), per unit input sd, away from
// the ends: sqrt(sum w^2) / sum w.
double SmoothedNoiseFactor(double sigma) {
  if (!(sigma > 0.0)) return 1.0;
  const auto h = static_cast<int>(std::ceil(3.0 * sigma));
  double sw = 0.0, sw2 = 0.0;
  for (int k = -h; k <= h; ++k) {
    const double w = std::exp(-0.5 * k * k / (sigma * sigma));
    sw += w;
    sw2 += w * w;
  }
  return std::sqrt(sw2) / sw;
}

void SetInterval(Transition& t, const std::vector<std::int64_t>& steps,
                 const std::vector<std::size_t>& valid_index, std::size_t lo, std::size_t hi) {
  t.found = true;
  t.step_lo = steps[valid_index[lo]];
  t.step_hi = steps[valid_index[hi]];
  t.index_hi = valid_index[hi];
}

Status PrincipalChangePoint(const std::vector<std::int64_t>& steps, const TransitionOptions& o,
                            TraceTransitions& out) {
  const auto& y = out.valid_values;
  const std::size_t n = y.size();
  const std::size_t min_size = std::max<std::size_t>(o.segmentation.min_size, 1);
  Transition& t = out.changepoint;
  if (n < 2 * min_size) {
    t.note = "too short: " + std::to_string(n) + " finite probes, a change point needs at least " +
             std::to_string(2 * min_size) + " (2 x min_size)";
    return Status::Ok();
  }
  auto cost = MakeSegmentCost(o.cost, y);
  if (!cost.ok()) return cost.status();
  out.penalty = o.penalty ? *o.penalty : o.penalty_scale * DefaultPenalty(o.cost, y);
  auto bkps = Pelt(**cost, o.segmentation, out.penalty);
  if (!bkps.ok()) return bkps.status();
  double best_gain = 0.0;
  std::size_t best = 0;
  for (std::size_t b : *bkps) {
    if (b >= n) continue;
    out.breakpoint_steps.push_back(steps[out.valid_index[b]]);
    const double g = SplitGain(**cost, 0, b, n);
    if (best == 0 || g > best_gain) {
      best_gain = g;
      best = b;
    }
  }
  if (best == 0) {
    t.note = "no change point at penalty " + FormatDouble(out.penalty);
    return Status::Ok();
  }
  SetInterval(t, steps, out.valid_index, best - 1, best);
  t.magnitude = best_gain;
  return Status::Ok();
}

void Steepest(const std::vector<std::int64_t>& steps, const std::vector<double>& smooth,
              TraceTransitions& out) {
  Transition& t = out.steepest;
  double best = 0.0;
  std::size_t best_i = 0;
  for (std::size_t i = 0; i + 1 < smooth.size(); ++i) {
    const double d = smooth[i + 1] - smooth[i];
    if (std::fabs(d) > std::fabs(best)) {
      best = d;
      best_i = i;
    }
  }
  if (best == 0.0) {
    t.note = smooth.size() < 2 ? "too short: fewer than 2 finite probes" : "no change (flat)";
    return;
  }
  SetInterval(t, steps, out.valid_index, best_i, best_i + 1);
  t.magnitude = best;
}

void Threshold(const std::vector<std::int64_t>& steps, const ThresholdRule& rule,
               TraceTransitions& out) {
  Transition& t = out.threshold;
  const auto& y = out.valid_values;
  const std::size_t k = static_cast<std::size_t>(std::max(rule.k, 1));
  std::size_t run = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const bool ok = rule.at_least ? y[i] >= rule.value : y[i] <= rule.value;
    run = ok ? run + 1 : 0;
    if (run == k) {
      const std::size_t first = i + 1 - k;
      SetInterval(t, steps, out.valid_index, first == 0 ? 0 : first - 1, first);
      t.magnitude = y[first];
      if (first == 0) t.note = "already past the threshold at the first probe";
      return;
    }
  }
  t.note = "never " + std::string(rule.at_least ? ">= " : "<= ") + FormatDouble(rule.value) +
           " for " + std::to_string(k) + " consecutive probes";
}

void Settle(const std::vector<std::int64_t>& steps, const std::vector<double>& smooth,
            const TransitionOptions& o, TraceTransitions& out) {
  Transition& t = out.settle;
  const std::size_t n = smooth.size();
  if (n < 2) {
    t.note = "too short: fewer than 2 finite probes";
    return;
  }
  const auto [lo, hi] = std::minmax_element(smooth.begin(), smooth.end());
  const double range = *hi - *lo;
  if (range == 0.0) {
    t.note = "no change (flat)";
    return;
  }
  // Final level: median of the last max(settle_min_run, 10%) smoothed values. Band: the larger
  // of settle_tolerance x range and three noise sds of the smoothed trace, so that noise alone
  // does not keep a trace from counting as settled.
  const std::size_t tail =
      std::min(n, std::max<std::size_t>(std::max<std::size_t>(o.settle_min_run, 1), (n + 9) / 10));
  const double final_value = Median(std::vector<double>(smooth.end() - tail, smooth.end()));
  const double noise = RobustNoiseSigma(out.valid_values) * SmoothedNoiseFactor(o.smooth_sigma);
  const double tol = std::max(o.settle_tolerance * range, 3.0 * noise);
  std::size_t first = 0;  // first index of the final run within tolerance
  for (std::size_t i = n; i-- > 0;) {
    if (std::fabs(smooth[i] - final_value) > tol) {
      first = i + 1;
      break;
    }
  }
  if (first == 0) {
    t.note = "within the settling band from the first probe: no settling transition";
    return;
  }
  if (n - first < std::max<std::size_t>(o.settle_min_run, 1)) {
    t.note = "not settled: fewer than " + std::to_string(o.settle_min_run) +
             " final probes within the settling band";
    return;
  }
  SetInterval(t, steps, out.valid_index, first - 1, first);
  t.magnitude = final_value;
}

}  // namespace

Result<TransitionKind> ParseTransitionKind(std::string_view name) {
  for (TransitionKind k : kAllTransitionKinds)
    if (TransitionKindName(k) == name) return k;
  return Status::InvalidArgument("unknown transition kind '" + std::string(name) +
                                 "' (valid: changepoint, steepest, threshold, settle)");
}

std::string_view TransitionKindName(TransitionKind kind) {
  switch (kind) {
    case TransitionKind::kChangePoint:
      return "changepoint";
    case TransitionKind::kSteepest:
      return "steepest";
    case TransitionKind::kThreshold:
      return "threshold";
    case TransitionKind::kSettle:
      return "settle";
  }
  return "?";
}

const Transition& TraceTransitions::Get(TransitionKind kind) const {
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

Result<ThresholdRule> ParseThresholdRule(std::string_view text) {
  const std::string s(text);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("threshold '" + s + "': " + why +
                                   " (expected METRIC>=VALUE or METRIC<=VALUE, optional :K)");
  };
  ThresholdRule rule;
  std::size_t op = s.find(">=");
  rule.at_least = true;
  if (op == std::string::npos) {
    op = s.find("<=");
    rule.at_least = false;
  }
  if (op == std::string::npos || op == 0) return bad("no metric or operator");
  rule.metric = s.substr(0, op);
  std::string rest = s.substr(op + 2);
  const std::size_t colon = rest.find(':');
  std::string value_text = rest.substr(0, colon);
  char* end = nullptr;
  rule.value = std::strtod(value_text.c_str(), &end);
  if (value_text.empty() || *end != '\0' || !std::isfinite(rule.value)) {
    return bad("'" + value_text + "' is not a number");
  }
  if (colon != std::string::npos) {
    const std::string k_text = rest.substr(colon + 1);
    const long k = std::strtol(k_text.c_str(), &end, 10);
    if (k_text.empty() || *end != '\0' || k < 1 || k > 1000000) {
      return bad("'" + k_text + "' is not a probe count >= 1");
    }
    rule.k = static_cast<int>(k);
  }
  return rule;
}

Result<std::pair<std::string, double>> ParseMinChange(std::string_view text) {
  const std::string s(text);
  const std::size_t colon = s.rfind(':');
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("min_change '" + s + "': " + why +
                                   " (expected METRIC:VALUE, VALUE >= 0 in the metric's units)");
  };
  if (colon == std::string::npos || colon == 0) return bad("no metric");
  const std::string value_text = s.substr(colon + 1);
  char* end = nullptr;
  const double value = std::strtod(value_text.c_str(), &end);
  if (value_text.empty() || *end != '\0' || !std::isfinite(value) || value < 0.0)
    return bad("'" + value_text + "' is not a number >= 0");
  return std::make_pair(s.substr(0, colon), value);
}

std::string FormatThresholdRule(const ThresholdRule& rule) {
  return rule.metric + (rule.at_least ? ">=" : "<=") + FormatDouble(rule.value) + ":" +
         std::to_string(rule.k);
}

std::vector<double> GaussianSmooth(const std::vector<double>& y, double sigma) {
  if (!(sigma > 0.0) || y.size() < 2) return y;
  const auto h = static_cast<std::ptrdiff_t>(std::ceil(3.0 * sigma));
  std::vector<double> w(static_cast<std::size_t>(2 * h + 1));
  for (std::ptrdiff_t k = -h; k <= h; ++k)
    w[static_cast<std::size_t>(k + h)] = std::exp(-0.5 * (k * k) / (sigma * sigma));
  const auto n = static_cast<std::ptrdiff_t>(y.size());
  std::vector<double> out(y.size());
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    double s = 0.0, ws = 0.0;
    for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, i - h); j <= std::min(n - 1, i + h); ++j) {
      const double wj = w[static_cast<std::size_t>(j - i + h)];
      s += wj * y[static_cast<std::size_t>(j)];
      ws += wj;
    }
    out[static_cast<std::size_t>(i)] = s / ws;
  }
  return out;
}

Result<TraceTransitions> DetectTransitions(const std::vector<std::int64_t>& steps,
                                           const std::vector<double>& values,
                                           const TransitionOptions& options) {
  if (steps.size() != values.size()) {
    return Status::InvalidArgument("trace has " + std::to_string(values.size()) + " values but " +
                                   std::to_string(steps.size()) + " steps");
  }
  for (std::size_t i = 1; i < steps.size(); ++i) {
    if (steps[i] <= steps[i - 1]) {
      return Status::InvalidArgument("probe steps must increase strictly; step " +
                                     std::to_string(steps[i]) + " follows " +
                                     std::to_string(steps[i - 1]));
    }
  }
  TraceTransitions out;
  out.n_probes = values.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) {
      out.valid_values.push_back(values[i]);
      out.valid_index.push_back(i);
    } else if (!out.excluded.empty() && i > 0 && !std::isfinite(values[i - 1])) {
      out.excluded.back().second = steps[i];
    } else {
      out.excluded.emplace_back(steps[i], steps[i]);
    }
  }
  out.n_valid = out.valid_values.size();
  const auto& y = out.valid_values;
  if (options.threshold) {
    Threshold(steps, *options.threshold, out);
  } else {
    out.threshold.note = "no threshold configured for this metric";
  }
  if (y.empty()) {
    out.note = "no finite values";
    for (Transition* t : {&out.changepoint, &out.steepest, &out.settle}) t->note = out.note;
    return out;
  }
  if (std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; })) {
    out.note = "constant trace: no change";
    for (Transition* t : {&out.changepoint, &out.steepest, &out.settle}) t->note = out.note;
    return out;
  }
  PHASESWEEP_RETURN_IF_ERROR(PrincipalChangePoint(steps, options, out));
  if (out.breakpoint_steps.size() >= kManyChangePoints) {
    out.note = "PELT kept " + std::to_string(out.breakpoint_steps.size()) +
               " change points at penalty " + FormatDouble(out.penalty) +
               ": the trace is noisy at this penalty (analysis.penalty_scale raises it); the "
               "changepoint is the one of largest gain, and the significance test does not "
               "depend on them";
  }
  const std::vector<double> smooth = GaussianSmooth(y, options.smooth_sigma);
  Steepest(steps, smooth, out);
  Settle(steps, smooth, options, out);
  if (out.n_valid < 2 * std::max<std::size_t>(options.segmentation.min_size, 1)) {
    out.note = out.changepoint.note;
  }
  return out;
}

}  // namespace phasesweep::analysis
