// Internal helpers shared by answers.cc and answers_trends.cc: reading settings back from an
// AnalysisResult, telling regular grid points from controls, and formatting numbers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "phasesweep/analysis/analysis_result.h"
#include "phasesweep/analysis/transitions.h"

namespace phasesweep::analysis::answers_internal {

// The first value of setting `key`, or `fallback`.
std::string Setting(const AnalysisResult& r, const std::string& key, const std::string& fallback);
double SettingNumber(const AnalysisResult& r, const std::string& key, double fallback);

// Grid indices of the control grid points.
std::set<std::int64_t> ControlGrids(const AnalysisResult& r);
// Regular grid points, in grid order (grid_points is sorted).
std::vector<std::int64_t> RegularGrids(const AnalysisResult& r);
// Seeds per regular grid point: the smallest count over them (0 when there are none).
std::int64_t SeedsPerRegularGrid(const AnalysisResult& r);

// "%.3g"-style text; "-" for NaN.
std::string Num(double v);
// p-value text: "p=0.0012"; "p<1e-12" for tiny values.
std::string PText(double p);
// "k/n (pct%)".
std::string Frac(std::int64_t k, std::int64_t n);
// "estimate [low, high]" of a median interval, in whole steps.
std::string StepsCi(double est, double lo, double hi);

// The metric whose jump the answers refer to: test_acc when analysed, with its transition
// (threshold when a rule names it, else changepoint). Empty metric when test_acc is absent.
struct JumpRef {
  std::string metric;
  TransitionKind kind = TransitionKind::kChangePoint;
  std::string label;  // "test_acc>=0.9" or "test_acc:changepoint"
};
JumpRef Jump(const AnalysisResult& r);

// The transition used for a metric's own change: settle (plateau onset) for *_loss, else the
// principal change point (the convention of analysis.pairs without ":kind").
TransitionKind DefaultKind(const std::string& metric);

// Median with a BCa interval, seeded from the result's analysis seed and `tag`.
ConfidenceInterval MedianCi(const AnalysisResult& r, const std::vector<double>& v,
                            const std::string& tag);

}  // namespace phasesweep::analysis::answers_internal
