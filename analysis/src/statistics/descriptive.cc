// Descriptive statistics with NumPy/SciPy conventions (see descriptive.h).
#include "phasesweep/analysis/descriptive.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace phasesweep::analysis {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// NumPy's _lerp: symmetric form so that t = 1 gives exactly b.
double Lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}
}  // namespace

double Mean(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double Variance(const std::vector<double>& x, int ddof) {
  const auto n = static_cast<double>(x.size());
  if (n <= ddof) return kNaN;
  const double m = Mean(x);
  double ss = 0.0;
  for (double v : x) ss += (v - m) * (v - m);
  return ss / (n - ddof);
}

double Median(std::vector<double> x) {
  if (x.empty()) return kNaN;
  const std::size_t n = x.size();
  const std::size_t mid = n / 2;
  std::nth_element(x.begin(), x.begin() + mid, x.end());
  const double upper = x[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(x.begin(), x.begin() + mid);
  return (lower + upper) / 2.0;
}

double PercentileSorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double h = (static_cast<double>(sorted.size()) - 1.0) * q / 100.0;
  const double lo_f = std::floor(h);
  auto lo = static_cast<std::size_t>(lo_f);
  if (lo >= sorted.size() - 1) return sorted.back();
  return Lerp(sorted[lo], sorted[lo + 1], h - lo_f);
}

double Percentile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  return PercentileSorted(x, q);
}

double MedianAbsoluteDeviation(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  const double m = Median(x);
  std::vector<double> dev(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) dev[i] = std::fabs(x[i] - m);
  return Median(std::move(dev));
}

std::vector<double> RankAverage(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && x[order[j]] == x[order[i]]) ++j;
    // Positions i..j-1 (0-based) share the average of ranks i+1..j.
    const double rank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

std::vector<double> TieGroupSizes(const std::vector<double>& x) {
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> sizes;
  std::size_t i = 0;
  while (i < sorted.size()) {
    std::size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    if (j - i > 1) sizes.push_back(static_cast<double>(j - i));
    i = j;
  }
  return sizes;
}

double RobustNoiseSigma(const std::vector<double>& y) {
  if (y.size() < 2) return 0.0;
  std::vector<double> d(y.size() - 1);
  for (std::size_t i = 0; i + 1 < y.size(); ++i) d[i] = y[i + 1] - y[i];
  const double mad = MedianAbsoluteDeviation(d);
  if (mad > 0.0) return 1.4826 * mad / std::sqrt(2.0);
  const double med = Median(d);
  double mean_abs = 0.0;
  for (double v : d) mean_abs += std::fabs(v - med);
  mean_abs /= static_cast<double>(d.size());
  // E|D| = 2 sigma / sqrt(pi) for D ~ N(0, 2 sigma^2).
  return std::sqrt(M_PI) / 2.0 * mean_abs;
}

std::vector<double> DetrendLinear(const std::vector<double>& y) {
  const std::size_t n = y.size();
  std::vector<double> r(n);
  if (n == 0) return r;
  const double tc = (static_cast<double>(n) - 1.0) / 2.0;
  const double ym = Mean(y);
  double sty = 0.0, stt = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) - tc;
    sty += t * (y[i] - ym);
    stt += t * t;
  }
  const double b = stt > 0.0 ? sty / stt : 0.0;
  for (std::size_t i = 0; i < n; ++i) r[i] = y[i] - ym - b * (static_cast<double>(i) - tc);
  return r;
}

}  // namespace phasesweep::analysis
