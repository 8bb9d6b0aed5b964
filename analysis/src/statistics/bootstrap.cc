// BCa bootstrap intervals (after SciPy 1.10.1 scipy/stats/_resampling.py::_bca_interval) and
// per-step bands; see bootstrap.h.
#include "phasesweep/analysis/bootstrap.h"

#include <algorithm>
#include <cmath>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/hypothesis_tests.h"
#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {

ConfidenceInterval BcaInterval(const std::vector<double>& data,
                               const std::vector<double>& replicates, double confidence,
                               const Statistic& statistic) {
  ConfidenceInterval ci;
  if (data.empty()) return ci;
  ci.estimate = statistic(data);
  const std::size_t n = data.size();
  if (n < 2 || replicates.empty()) return ci;
  const double theta = ci.estimate;
  const double b = static_cast<double>(replicates.size());
  double below = 0, at_or_below = 0;
  bool all_equal = true;
  for (double r : replicates) {
    if (r < theta) ++below;
    if (r <= theta) ++at_or_below;
    if (r != theta) all_equal = false;
  }
  if (all_equal) {
    ci.low = ci.high = theta;
    return ci;
  }
  const double z0 = NormalQuantile((below + at_or_below) / (2.0 * b));
  // Jackknife acceleration.
  std::vector<double> jack(n), leave_one(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t k = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) leave_one[k++] = data[j];
    jack[i] = statistic(leave_one);
  }
  const double jack_mean = Mean(jack);
  const double nm1 = static_cast<double>(n) - 1.0, nd = static_cast<double>(n);
  double num = 0.0, den = 0.0;
  for (double j : jack) {
    const double u = nm1 * (jack_mean - j);
    num += u * u * u;
    den += u * u;
  }
  num /= nd * nd * nd;
  den /= nd * nd;
  const double a = den > 0.0 ? num / (6.0 * std::pow(den, 1.5)) : 0.0;
  const double z_alpha = NormalQuantile((1.0 - confidence) / 2.0);
  const double num1 = z0 + z_alpha, num2 = z0 - z_alpha;
  const double alpha_1 = NormalCdf(z0 + num1 / (1.0 - a * num1));
  const double alpha_2 = NormalCdf(z0 + num2 / (1.0 - a * num2));
  std::vector<double> sorted = replicates;
  std::sort(sorted.begin(), sorted.end());
  ci.low = PercentileSorted(sorted, 100.0 * alpha_1);
  ci.high = PercentileSorted(sorted, 100.0 * alpha_2);
  return ci;
}

ConfidenceInterval BootstrapMedianBca(const std::vector<double>& data, int n_resamples,
                                      double confidence, std::uint64_t seed) {
  const std::size_t n = data.size();
  std::vector<double> replicates;
  if (n >= 2 && n_resamples > 0) {
    Rng rng(seed);
    replicates.resize(static_cast<std::size_t>(n_resamples));
    std::vector<double> sample(n);
    for (double& rep : replicates) {
      for (double& s : sample) s = data[rng.UniformInt(n)];
      rep = Median(sample);
    }
  }
  return BcaInterval(data, replicates, confidence,
                     [](const std::vector<double>& x) { return Median(x); });
}

BandPoint SummarizeAcrossSeeds(const std::vector<double>& values, double confidence) {
  BandPoint band;
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  band.count = static_cast<int>(v.size());
  if (v.empty()) return band;
  std::sort(v.begin(), v.end());
  band.median = Median(v);
  band.q25 = PercentileSorted(v, 25.0);
  band.q75 = PercentileSorted(v, 75.0);
  band.mean = Mean(v);
  if (v.size() >= 2) {
    const double sd = std::sqrt(Variance(v, 1));
    const double t = StudentTQuantile((1.0 + confidence) / 2.0, static_cast<double>(v.size() - 1));
    const double half = t * sd / std::sqrt(static_cast<double>(v.size()));
    band.mean_low = band.mean - half;
    band.mean_high = band.mean + half;
  }
  return band;
}

}  // namespace phasesweep::analysis
