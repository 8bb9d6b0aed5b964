// The transition statistic's scan over ramps (internal to the surrogate test; see
// phasesweep/analysis/surrogate.h for the statistic and docs/STATISTICS.md for the reasons).
//
// Statistic() evaluates T for one trace: the ramps x(t) = clamp((t - a) / L, 0, 1) of every
// admissible start a and length L, their gains G(a, L) against the detrended trace, the greedy fit
// of three ramps for the noise estimate, the bias-corrected AR(1) long-run variance and the
// multiscale combination of the lengths. Every evaluation of one trace (the observed one and its B
// surrogates) goes through it, so the test is exact under the null whatever the statistic is.
#pragma once

#include <cstddef>
#include <vector>

namespace phasesweep::analysis::internal {

// One candidate transition: x(t) = clamp((t - a) / len, 0, 1), t = 0..n-1 (len = 1: a step at
// a + 1). `xr` is x'v for the vector being fitted, `den` the energy of x orthogonal to [1, t]
// (and to the features before it), `gain` = xr^2 / den.
struct Ramp {
  std::size_t a = 0, len = 1;
  double gain = -1.0, xr = 0.0, den = 0.0;
};

// The admissible ramps of one length: starts a_lo, a_lo + stride, ... (count of them), with
// 1 / |x~|^2 per start (0 where the ramp has no energy orthogonal to [1, t]) and the length's
// bonus in the multiscale combination. The same for every trace of length n, so built once per
// (n, min_size) and reused by every evaluation.
struct LengthBlock {
  std::size_t len = 1, a_lo = 0, stride = 1;
  double bonus = 0.0;
  std::vector<double> inv_den;
};

// Buffers reused across the B + 1 evaluations of one trace. basis[j] is the j-th fitted feature
// made orthonormal to [1, t] and to the features before it; q0/q1 its prefix sums.
struct ScanWorkspace {
  std::vector<double> r, e, p0, p1, gains;
  std::vector<std::vector<double>> basis, q0, q1;
  std::vector<LengthBlock> blocks;
  std::vector<Ramp> block_best;  // the principal pass's best ramp of each length
  std::size_t blocks_n = 0, blocks_min_size = 0;
};

// The mean of rho_e (the residual lag-1 autocorrelation after the fit) under AR(1) noise of each
// coefficient grid[g], for one trace length: the bias of rho_e, which CorrectedRho inverts.
struct RhoTable {
  const double* grid = nullptr;
  const double* mean = nullptr;
  std::size_t size = 0;
};

// The coefficient whose mean rho_e equals rho_e: the table's means made non-decreasing, inverted
// by linear interpolation and clipped to the grid's ends.
double CorrectedRho(double rho_e, const RhoTable& table);

// The multiscale bonus of length len in a trace of n values:
// sqrt(2 log(e n)) - sqrt(2 log(e n / len)) (0 for a step, growing with the length).
double LengthBonus(std::size_t n, std::size_t len);

// Which compiled version of the scan's hot loop runs: chosen from the CPU (kAuto, the default), or
// forced, for the test that checks both give bit-identical results. kAvx2 needs ScanHasAvx2().
enum class ScanIsa { kAuto, kDefault, kAvx2 };
void SetScanIsaForTesting(ScanIsa isa);
bool ScanHasAvx2();

// T for y[0..n) (n >= MinSignificanceLength(min_size)); lengths from RampLengths(n). With `table`
// the LRV uses min(CorrectedRho(rho_e), max(rho_e, 0.8)); without it (the simulation that builds
// the table) the raw rho_e, and then only *rho_out is meaningful. `principal` receives the ramp of
// the length that attains T; `rho_out` the raw rho_e (clipped to [-0.9, 0.98]). 0 for an exactly
// linear trace, +inf for one the features fit exactly.
double Statistic(const double* y, std::size_t n, std::size_t min_size,
                 const std::vector<std::size_t>& lengths, ScanWorkspace& ws, const RhoTable* table,
                 Ramp* principal, double* rho_out);

}  // namespace phasesweep::analysis::internal
