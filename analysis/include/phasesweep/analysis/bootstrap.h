// Cross-seed summaries: bootstrap confidence intervals (BCa, as scipy.stats.bootstrap with
// method='BCa') and per-probe-step summary bands (median, IQR, mean with a t interval).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace phasesweep::analysis {

struct ConfidenceInterval {
  double estimate = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

using Statistic = std::function<double(const std::vector<double>&)>;

// The BCa interval of SciPy 1.10.1's _bca_interval for one sample, given the bootstrap
// replicates of `statistic`:
//   z0 = Phi^-1( (#{rep < theta} + #{rep <= theta}) / (2B) )
//   a  = sum U^3 / (6 (sum U^2)^(3/2)),  U_i = (n-1)(mean_j theta_(j) - theta_(i)) (jackknife)
//   alpha_1,2 = Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q))), q = (1 -+ confidence) / 2
//   interval = numpy.percentile(replicates, 100 alpha_1,2)
// Departures, both where SciPy would return NaN: a = 0 when the jackknife values are all equal
// (a BC interval), and [theta, theta] when every replicate equals theta. NaNs for n < 2.
ConfidenceInterval BcaInterval(const std::vector<double>& data,
                               const std::vector<double>& replicates, double confidence,
                               const Statistic& statistic);

// Median of `data` with a BCa interval from `n_resamples` bootstrap resamples drawn with our
// seeded generator (deterministic; agrees with SciPy in distribution, not draw for draw).
ConfidenceInterval BootstrapMedianBca(const std::vector<double>& data, int n_resamples,
                                      double confidence, std::uint64_t seed);

// Summary of one probe step across seeds (non-finite values ignored).
struct BandPoint {
  int count = 0;  // finite values
  double median = std::numeric_limits<double>::quiet_NaN();
  double q25 = std::numeric_limits<double>::quiet_NaN();  // numpy.percentile(..., 25)
  double q75 = std::numeric_limits<double>::quiet_NaN();
  double mean = std::numeric_limits<double>::quiet_NaN();
  // mean -+ t_{(1+confidence)/2, count-1} * sd(ddof=1) / sqrt(count); NaN for count < 2.
  double mean_low = std::numeric_limits<double>::quiet_NaN();
  double mean_high = std::numeric_limits<double>::quiet_NaN();
};
BandPoint SummarizeAcrossSeeds(const std::vector<double>& values, double confidence);

}  // namespace phasesweep::analysis
