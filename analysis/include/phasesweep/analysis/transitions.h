// Transition definitions for one trace (a metric probed at increasing training steps). Each is
// reported as a step interval on the probe grid: the change happened after probe step `step_lo`
// and is visible at probe step `step_hi` (a coarse grid gives an interval, not a point).
//
//   changepoint  the principal change point: of the PELT breakpoints (cost, penalty, min_size,
//                jump as configured), the one whose single split of the whole trace gains most,
//                G(t) = C(0, n) - C(0, t) - C(t, n).
//   steepest     the largest |s[i+1] - s[i]| of the trace smoothed by a Gaussian kernel of
//                `smooth_sigma` probes (truncated at 3 sigma, renormalised at the ends).
//   threshold    the first probe i with value >= (or <=) the threshold at k consecutive probes
//                i..i+k-1; the interval is (step[i-1], step[i]].
//   settle       plateau onset (settling time): the first probe after which the smoothed trace
//                stays within a band around its final level (median of the last 10% or
//                `settle_min_run` smoothed values); band half-width = max(settle_tolerance x
//                range, 3 x the noise sd of the smoothed trace); at least `settle_min_run`
//                probes must remain settled.
// Non-finite values (a diverged run) are dropped first and reported as excluded step ranges.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

enum class TransitionKind { kChangePoint, kSteepest, kThreshold, kSettle };
inline constexpr TransitionKind kAllTransitionKinds[] = {
    TransitionKind::kChangePoint, TransitionKind::kSteepest, TransitionKind::kThreshold,
    TransitionKind::kSettle};
// "changepoint" | "steepest" | "threshold" | "settle".
Result<TransitionKind> ParseTransitionKind(std::string_view name);
std::string_view TransitionKindName(TransitionKind kind);

struct Transition {
  bool found = false;
  std::int64_t step_lo = 0;  // last probe step before the change
  std::int64_t step_hi = 0;  // first probe step showing it
  std::size_t index_hi = 0;  // index of step_hi in the trace's probe grid
  // changepoint: gain G; steepest: signed smoothed difference; threshold: value at step_hi;
  // settle: the final (settled) smoothed value.
  double magnitude = std::numeric_limits<double>::quiet_NaN();
  std::string note;  // why it was not found, or a caveat
  // Point estimate used across seeds: (step_lo + step_hi) / 2.
  double Midpoint() const { return 0.5 * (static_cast<double>(step_lo) + step_hi); }
};

// "metric >= value for k probes" or "<=".
struct ThresholdRule {
  std::string metric;
  bool at_least = true;  // >= (true) or <= (false)
  double value = 0.0;
  int k = 3;
};
// "test_acc>=0.9" or "train_loss<=0.05:5" (":k" optional, default 3).
Result<ThresholdRule> ParseThresholdRule(std::string_view text);
std::string FormatThresholdRule(const ThresholdRule& rule);

// "test_acc:0.05": a metric's smallest relevant transition height (analysis.min_change), a
// finite number >= 0 in the metric's units.
Result<std::pair<std::string, double>> ParseMinChange(std::string_view text);

struct TransitionOptions {
  CostKind cost = CostKind::kL2;
  SegmentationParams segmentation{2, 1};  // min_size 2, jump 1: every probe is admissible
  std::optional<double> penalty;          // default: DefaultPenalty(cost, trace)
  double penalty_scale = 1.0;             // multiplies the default penalty
  double smooth_sigma = 1.5;              // probes
  std::optional<ThresholdRule> threshold;
  double settle_tolerance = 0.05;
  std::size_t settle_min_run = 3;
};

struct TraceTransitions {
  std::size_t n_probes = 0;
  std::size_t n_valid = 0;                                      // finite values used
  std::vector<std::pair<std::int64_t, std::int64_t>> excluded;  // non-finite runs [first, last]
  double penalty = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::int64_t> breakpoint_steps;  // first probe step of every new PELT segment
  Transition changepoint, steepest, threshold, settle;
  std::vector<double> valid_values;      // the finite values, in order
  std::vector<std::size_t> valid_index;  // their probe indices
  std::string note;                      // e.g. "constant trace", "too short"
  const Transition& Get(TransitionKind kind) const;
};

// From this many PELT change points on, the trace's note says so (the work stays bounded: the
// principal change point is an O(1) gain per change point, and significance ignores them).
inline constexpr std::size_t kManyChangePoints = 100;

// InvalidArgument when steps and values differ in length or steps do not strictly increase.
Result<TraceTransitions> DetectTransitions(const std::vector<std::int64_t>& steps,
                                           const std::vector<double>& values,
                                           const TransitionOptions& options);

// Gaussian smoothing with standard deviation `sigma` samples (sigma <= 0 returns a copy).
std::vector<double> GaussianSmooth(const std::vector<double>& y, double sigma);

}  // namespace phasesweep::analysis
