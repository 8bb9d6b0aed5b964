// Significance of a trace's transition against surrogate null traces.
//
// Statistic (a studentised sup-F for one smooth or sharp transition on top of a linear trend):
//   r      = y with its least-squares line removed
//   x(t)   = clamp((t - a) / L, 0, 1): a ramp from t = a to a + L (L = 1 is a step at a + 1), for
//            lengths L in {1, 2, 4, ..., <= n/2} (only L = 1 below MinSmoothLength probes) and
//            starts a with at least min_size probes before and after; starts every max(1, L/4)
//   G(a,L) = (x'r)^2 / |x~|^2, x~ = x made orthogonal to [1, t]   (energy the ramp explains)
//   then three ramps, greedily: each is the candidate with the largest (x'e)^2 / |x~|^2 on what
//            the features before it left (e, starting at r), and e loses its projection on that
//            ramp made orthogonal to [1, t] and to them; so a trace with two or three features,
//            or a transition one ramp fits imperfectly, does not leave structure behind. The
//            third is kept only if it explains at least 12 ln(n) mean(e^2) (a real feature, not
//            noise: fitting noise makes rho_e less informative and the null heavier)
//   e      = residuals of y on [1, t] and the three ramps
//   rho_e  = sum e_i e_{i+1} / sum e_i^2, clipped to [-0.9, 0.98]
//   rho_c  = rho_e with its bias removed: the AR(1) coefficient whose mean rho_e (simulated for
//            the trace's length, the table behind the null's weights below) equals rho_e, but
//            raised to at most max(rho_e, 0.8)
//   LRV    = mean(e^2) (1 + rho_c) / (1 - rho_c)           (AR(1) long-run variance of e)
//   T      = max over L of [ sqrt(G_L / LRV) + bonus(L) ], G_L = max_a G(a, L),
//            bonus(L) = sqrt(2 log(e n)) - sqrt(2 log(e n / L))  (0 for a step)
//   the principal (tested) feature is the argmax of G at the length attaining T
// Fitting the transition's own shape (sharp or smooth, of any width) before estimating the noise
// keeps a clean transition from looking like persistent noise: what is left is the noise, so T
// grows as the noise falls. Dividing by the long-run variance makes T nearly pivotal under AR(1)
// noise, so the surrogates only need the dependence roughly right; removing the fit's bias from
// rho_e makes it more nearly so. The length bonus (a multiscale calibration in the manner of
// Duembgen and Spokoiny) keeps a long smooth ramp from being drowned by the many short candidates,
// whose maximum is larger under the null.
//
// Null traces (B of them), each put through the same statistic:
//   ar1    AR(1) series, stationary start; each draws its coefficient from
//   Ar1NullRhoWeights(rho_e):
//          a posterior over a grid of coefficients (-0.9 ... 0.98) given the observed rho_e, with
//          the likelihood from a seeded simulation of rho_e under each coefficient (once per
//          length; fitting ramps biases rho_e down, most in short traces) and a prior leaning to
//          persistence, so that where rho_e cannot tell coefficients apart the null is the
//          conservative one. T is scale-free, so the innovation scale is irrelevant.
//   block  circular block bootstrap of the detrended trace r, blocks of ceil(n^(1/3)) probes
//          (valid for weak dependence; anti-conservative for strong dependence in short traces).
// p_level = (1 + #{T_b >= T}) / (B + 1).
//
// Second statistic, the increment scan S (statistics/increment_scan.h): the largest change of the
// trace within a window of L probes (its share of the linear trend removed), in units of a robust
// scale of the probe-to-probe changes, with the same length bonus. It sees a transition against
// a smooth background (a bump, a drift, a curve the ramps do not fit), which inflates the level
// noise and so hides the transition from T. Its null: further traces drawn exactly as above, from
// a separate stream, sequentially (Besag and Clifford: stop at 10 exceedances, at most 999
// draws), p_increments = 10 / draws or (1 + exceed) / 1000.
// p = min(1, p_level / 0.9, p_increments / 0.1) (weighted Bonferroni: a level of at most alpha
// when each is valid); where p_level / 0.9 <= 0.01 (the smallest p_increments / 0.1) the
// increment draws are skipped and increment_pvalue is NaN. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
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
  double statistic = std::numeric_limits<double>::quiet_NaN();            // T
  double pvalue = std::numeric_limits<double>::quiet_NaN();               // both scans combined
  double level_pvalue = std::numeric_limits<double>::quiet_NaN();         // the ramp scan's
  double increment_statistic = std::numeric_limits<double>::quiet_NaN();  // S
  double increment_pvalue = std::numeric_limits<double>::quiet_NaN();     // the increment scan's
  int count = 0;                                                          // B actually drawn
  int exceed = 0;                                                         // #{T_b >= T}
  std::size_t split = 0;  // index of the first value past the middle of the principal feature
  std::size_t width = 0;  // its length L in probes (1: a step): the length attaining T
  // Its height: the ramp's least-squares coefficient next to the line (y ~ 1 + t + x), in the
  // metric's units, signed (negative: a fall). 0 for an exactly linear trace.
  double height = 0.0;
  double rho = std::numeric_limits<double>::quiet_NaN();  // rho_e (raw; the LRV uses rho_c)
  std::string note;
  // The principal feature's `split` in each surrogate (the null distribution of where a
  // transition is found in this trace when there is none); for the cross-seed agreement test.
  std::vector<std::size_t> null_splits;
};

// Smallest trace the test accepts: 2 * min_size + 4 finite values.
std::size_t MinSignificanceLength(std::size_t min_size);
// Shortest trace for which smooth transitions (ramps of length >= 2) are fitted; shorter ones are
// tested for a step only, with a note.
std::size_t MinSmoothLength();
// The ramp lengths tried for a trace of n finite values: 1, 2, 4, ... <= n / 2.
std::vector<std::size_t> RampLengths(std::size_t n);
// rho_e of y (the raw residual lag-1 autocorrelation after the trend and three ramps); NaN when
// short.
double RawResidualRho(const std::vector<double>& y, std::size_t min_size);
// The null's AR(1) coefficients for a residual autocorrelation rho_e in a trace of n values, as
// (rho, probability) pairs summing to 1: likelihood N(rho_e; m(rho), s(rho)) with m, s the mean and
// spread of rho_e over 256 seeded AR(1) traces of that length (simulated the first time each
// (n, min_size) is seen, then kept; thread-safe), times the prior (1 - rho)^(-1/2) on the grid.
std::vector<std::pair<double, double>> Ar1NullRhoWeights(double rho_e, std::size_t n,
                                                         std::size_t min_size);

// The statistic alone (split and rho_e through the optional out-pointers). NaN when y is
// shorter than MinSignificanceLength; 0 for a trace that is exactly linear (or constant).
// A trace shorter than MinSmoothLength is tested for a step only (with a note).
double TransitionStatistic(const std::vector<double>& y, std::size_t min_size,
                           std::size_t* split = nullptr, double* rho = nullptr);

// InvalidArgument for non-finite values or count < 1. A too-short trace gives an OK result with
// NaN p-value and a note; an exactly linear (or constant) trace gives T = 0 and p = 1.
Result<SignificanceResult> TransitionSignificance(const std::vector<double>& y,
                                                  const SurrogateOptions& options);

}  // namespace phasesweep::analysis
