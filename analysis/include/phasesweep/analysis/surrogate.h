// Significance of a trace's transition against surrogate null traces.
//
// Statistic (a studentised sup-F for one mean shift on top of a linear trend):
//   r      = y with its least-squares line removed
//   G(t)   = S_t^2 / t + (S_n - S_t)^2 / (n - t) - S_n^2 / n,  S_t = r_0 + ... + r_{t-1},
//            for t in [min_size, n - min_size]; t* = argmax G
//   e      = residuals of y on [1, t, 1(t >= t*)]          (trend and the best step removed)
//   rho_e  = sum e_i e_{i+1} / sum e_i^2 + (5 + 10 rho) / n, clipped to [-0.9, 0.98] (the raw
//            estimate is biased by about -(5 + 10 rho) / n after a trend and a step are fitted)
//   LRV    = mean(e^2) (1 + rho_e) / (1 - rho_e)           (AR(1) long-run variance of e)
//   T      = G(t*) / LRV
// Removing the best step before estimating the noise keeps a real transition from inflating
// the noise estimate (which would hide it); dividing by the long-run variance makes T nearly
// pivotal under AR(1) noise, so the surrogates only need the dependence roughly right.
//
// Null traces (B of them), each put through the same statistic:
//   ar1    AR(1) series, stationary start; each draws its own coefficient
//          rho_b ~ N(rho_s, (1 - rho_s^2) / n), rho_s = rho_e + (5 + 10 rho_e) / n, clipped to
//          [-0.9, 0.98]: averaging over the uncertainty of rho keeps the test at its level when
//          the dependence is strong (calibration table in docs/STATISTICS.md). T is scale-free,
//          so the innovation scale is irrelevant.
//   block  circular block bootstrap of the detrended trace r, blocks of ceil(n^(1/3)) probes
//          (valid for weak dependence; anti-conservative for strong dependence in short traces).
// p = (1 + #{T_b >= T}) / (B + 1). Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

enum class SurrogateMethod { kAr1, kBlockBootstrap };
// "ar1" | "block".
Result<SurrogateMethod> ParseSurrogateMethod(std::string_view name);
std::string_view SurrogateMethodName(SurrogateMethod method);

struct SurrogateOptions {
  SurrogateMethod method = SurrogateMethod::kAr1;
  int count = 199;  // B
  std::size_t min_size = 2;
  std::uint64_t seed = 0;
};

struct SignificanceResult {
  double statistic = std::numeric_limits<double>::quiet_NaN();  // T
  double pvalue = std::numeric_limits<double>::quiet_NaN();
  int count = 0;          // B actually drawn
  int exceed = 0;         // #{T_b >= T}
  std::size_t split = 0;  // t*: index of the first value after the best split
  double rho = std::numeric_limits<double>::quiet_NaN();  // rho_e
  std::string note;
};

// Smallest trace the test accepts: 2 * min_size + 4 finite values.
std::size_t MinSignificanceLength(std::size_t min_size);

// The statistic alone (split and rho_e through the optional out-pointers). NaN when y is
// shorter than MinSignificanceLength; 0 for a trace that is exactly linear (or constant).
double TransitionStatistic(const std::vector<double>& y, std::size_t min_size,
                           std::size_t* split = nullptr, double* rho = nullptr);

// InvalidArgument for non-finite values or count < 1. A too-short trace gives an OK result with
// NaN p-value and a note; an exactly linear (or constant) trace gives T = 0 and p = 1.
Result<SignificanceResult> TransitionSignificance(const std::vector<double>& y,
                                                  const SurrogateOptions& options);

}  // namespace phasesweep::analysis
