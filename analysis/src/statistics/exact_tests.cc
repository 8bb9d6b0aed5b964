// Exact tests with SciPy 1.10.1 semantics: binomtest (scipy/stats/_binomtest.py), fisher_exact
// and the independent-samples permutation test (_stats_py.py, _resampling.py), plus the
// Clopper-Pearson interval and the normal/t helpers. SciPy evaluates binom and hypergeom with
// Boost.Math, as we do here.
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/hypergeometric.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>

#include "phasesweep/analysis/hypothesis_tests.h"
#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// scipy.stats binom.pmf/cdf/sf for integer arguments, defined outside the support.
struct Binom {
  std::int64_t n;
  double p;
  boost::math::binomial_distribution<double> dist{static_cast<double>(n), p};
  double Pmf(double k) const {
    if (k < 0 || k > n) return 0.0;
    return boost::math::pdf(dist, k);
  }
  double Cdf(double k) const {
    if (k < 0) return 0.0;
    if (k >= n) return 1.0;
    return boost::math::cdf(dist, k);
  }
  double Sf(double k) const {  // P(X > k)
    if (k < 0) return 1.0;
    if (k >= n) return 0.0;
    return boost::math::cdf(boost::math::complement(dist, k));
  }
};

// scipy.stats hypergeom with (M total, n successes, N draws), defined outside the support.
struct Hypergeom {
  std::int64_t total, successes, draws;
  std::int64_t lo() const { return std::max<std::int64_t>(0, draws + successes - total); }
  std::int64_t hi() const { return std::min(successes, draws); }
  boost::math::hypergeometric_distribution<double> Dist() const {
    return {static_cast<unsigned>(successes), static_cast<unsigned>(draws),
            static_cast<unsigned>(total)};
  }
  double Pmf(std::int64_t k) const {
    if (k < lo() || k > hi()) return 0.0;
    return boost::math::pdf(Dist(), static_cast<unsigned>(k));
  }
  double Cdf(std::int64_t k) const {
    if (k < lo()) return 0.0;
    if (k >= hi()) return 1.0;
    return boost::math::cdf(Dist(), static_cast<unsigned>(k));
  }
  double Sf(std::int64_t k) const {
    if (k < lo()) return 1.0;
    if (k >= hi()) return 0.0;
    return boost::math::cdf(boost::math::complement(Dist(), static_cast<unsigned>(k)));
  }
};

// SciPy's _binary_search_for_binom_tst / _binary_search: the i in [lo, hi] with
// a(i) <= d < a(i + 1) for a function increasing on [lo, hi].
std::int64_t BinarySearch(const std::function<double(std::int64_t)>& a, double d, std::int64_t lo,
                          std::int64_t hi) {
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    const double midval = a(mid);
    if (midval < d) {
      lo = mid + 1;
    } else if (midval > d) {
      hi = mid - 1;
    } else {
      return mid;
    }
  }
  return a(lo) <= d ? lo : lo - 1;
}

double BinomCoefficient(std::int64_t n, std::int64_t k) {
  if (k < 0 || k > n) return 0.0;
  k = std::min(k, n - k);
  double c = 1.0;
  for (std::int64_t i = 1; i <= k; ++i)
    c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::round(c);
}

}  // namespace

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double NormalSf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }
double NormalQuantile(double p) {
  if (!(p > 0.0)) return p == 0.0 ? -kInf : std::nan("");
  if (!(p < 1.0)) return p == 1.0 ? kInf : std::nan("");
  return -std::sqrt(2.0) * boost::math::erfc_inv(2.0 * p);
}
double StudentTQuantile(double p, double df) {
  if (!(df > 0.0) || !(p > 0.0) || !(p < 1.0)) return std::nan("");
  return boost::math::quantile(boost::math::students_t(df), p);
}

Result<TestResult> BinomTest(std::int64_t k, std::int64_t n, double p, Alternative alternative) {
  if (n < 1) return Status::InvalidArgument("binomtest: n must be >= 1, got " + std::to_string(n));
  if (k < 0 || k > n) {
    return Status::InvalidArgument("binomtest: k must be in [0, n], got k=" + std::to_string(k) +
                                   " n=" + std::to_string(n));
  }
  if (!(p >= 0.0 && p <= 1.0)) {
    return Status::InvalidArgument("binomtest: p must be in [0, 1], got " + std::to_string(p));
  }
  const Binom b{n, p};
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  double pval;
  if (alternative == Alternative::kLess) {
    pval = b.Cdf(kd);
  } else if (alternative == Alternative::kGreater) {
    pval = b.Sf(kd - 1);
  } else {
    const double d = b.Pmf(kd);
    const double rerr = 1 + 1e-7;
    if (kd == p * nd) {
      pval = 1.0;
    } else if (kd < p * nd) {
      const std::int64_t ix =
          BinarySearch([&](std::int64_t x) { return -b.Pmf(static_cast<double>(x)); }, -d * rerr,
                       static_cast<std::int64_t>(std::ceil(p * nd)), n);
      const std::int64_t y = n - ix + (d * rerr == b.Pmf(static_cast<double>(ix)) ? 1 : 0);
      pval = b.Cdf(kd) + b.Sf(static_cast<double>(n - y));
    } else {
      const std::int64_t ix =
          BinarySearch([&](std::int64_t x) { return b.Pmf(static_cast<double>(x)); }, d * rerr, 0,
                       static_cast<std::int64_t>(std::floor(p * nd)));
      const std::int64_t y = ix + 1;
      pval = b.Cdf(static_cast<double>(y - 1)) + b.Sf(kd - 1);
    }
    pval = std::min(1.0, pval);
  }
  TestResult result;
  result.statistic = kd / nd;
  result.pvalue = pval;
  result.method = TestMethod::kExact;
  return result;
}

std::pair<double, double> ClopperPearson(std::int64_t k, std::int64_t n, double confidence) {
  if (n < 1 || k < 0 || k > n) return {std::nan(""), std::nan("")};
  const double alpha = (1.0 - confidence) / 2.0;
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  const double lo = k == 0 ? 0.0 : boost::math::ibeta_inv(kd, nd - kd + 1.0, alpha);
  const double hi = k == n ? 1.0 : boost::math::ibeta_inv(kd + 1.0, nd - kd, 1.0 - alpha);
  return {lo, hi};
}

Result<TestResult> FisherExact(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d,
                               Alternative alternative) {
  if (a < 0 || b < 0 || c < 0 || d < 0) {
    return Status::InvalidArgument("fisher_exact: table entries must be >= 0");
  }
  TestResult result;
  result.method = TestMethod::kExact;
  if (a + c == 0 || b + d == 0 || a + b == 0 || c + d == 0) {
    result.pvalue = 1.0;  // SciPy: a zero row or column gives (nan, 1.0)
    return result;
  }
  result.statistic =
      (c > 0 && b > 0) ? static_cast<double>(a) * d / (static_cast<double>(c) * b) : kInf;
  const std::int64_t n1 = a + b, n2 = c + d, n = a + c;
  const Hypergeom h{n1 + n2, n1, n};
  double pvalue;
  if (alternative == Alternative::kLess) {
    pvalue = h.Cdf(a);
  } else if (alternative == Alternative::kGreater) {
    pvalue = Hypergeom{n1 + n2, n1, b + d}.Cdf(b);
  } else {
    const auto mode = static_cast<std::int64_t>(static_cast<double>(n + 1) * (n1 + 1) /
                                                static_cast<double>(n1 + n2 + 2));
    const double pexact = h.Pmf(a), pmode = h.Pmf(mode);
    const double epsilon = 1e-14, gamma = 1 + epsilon;
    if (std::fabs(pexact - pmode) / std::max(pexact, pmode) <= epsilon) {
      result.pvalue = 1.0;
      return result;
    }
    if (a < mode) {
      const double plower = h.Cdf(a);
      if (h.Pmf(n) > pexact * gamma) {
        result.pvalue = plower;
        return result;
      }
      const std::int64_t guess =
          BinarySearch([&](std::int64_t x) { return -h.Pmf(x); }, -pexact * gamma, mode, n);
      pvalue = plower + h.Sf(guess);
    } else {
      const double pupper = h.Sf(a - 1);
      if (h.Pmf(0) > pexact * gamma) {
        result.pvalue = pupper;
        return result;
      }
      const std::int64_t guess =
          BinarySearch([&](std::int64_t x) { return h.Pmf(x); }, pexact * gamma, 0, mode);
      pvalue = pupper + h.Cdf(guess);
    }
  }
  result.pvalue = std::min(pvalue, 1.0);
  return result;
}

Result<TestResult> PermutationMeanDifference(const std::vector<double>& x,
                                             const std::vector<double>& y, Alternative alternative,
                                             TestMethod method, std::int64_t n_resamples,
                                             std::uint64_t seed) {
  for (const auto* v : {&x, &y}) {
    for (double e : *v) {
      if (!std::isfinite(e)) return Status::InvalidArgument("permutation test: non-finite value");
    }
  }
  if (x.empty() || y.empty()) return Status::InvalidArgument("permutation test: a sample is empty");
  if (n_resamples < 1) return Status::InvalidArgument("permutation test: n_resamples must be >= 1");
  const std::size_t m = x.size(), n = y.size(), total_n = m + n;
  std::vector<double> data = x;
  data.insert(data.end(), y.begin(), y.end());
  const double total = std::accumulate(data.begin(), data.end(), 0.0);
  // The same formula for the observed and every permuted split, so an identical split gives an
  // identical value.
  auto stat = [&](double sum_x) {
    return sum_x / static_cast<double>(m) - (total - sum_x) / static_cast<double>(n);
  };
  const double observed = stat(std::accumulate(x.begin(), x.end(), 0.0));
  const double gamma = std::max(1e-14, std::fabs(1e-14 * observed));
  const double n_max =
      BinomCoefficient(static_cast<std::int64_t>(total_n), static_cast<std::int64_t>(m));
  bool exact = method == TestMethod::kExact ||
               (method == TestMethod::kAuto && static_cast<double>(n_resamples) >= n_max);
  if (exact && n_max > 2e7) {
    return Status::InvalidArgument("permutation test: " + std::to_string(n_max) +
                                   " splits are too many to enumerate; use the approximation");
  }
  double count_le = 0, count_ge = 0, resamples = 0;
  auto tally = [&](double v) {
    if (v <= observed + gamma) ++count_le;
    if (v >= observed - gamma) ++count_ge;
  };
  if (exact) {
    // Every m-subset of positions, by recursion with running sums.
    std::function<void(std::size_t, std::size_t, double)> rec = [&](std::size_t start,
                                                                    std::size_t left, double sum) {
      if (left == 0) {
        tally(stat(sum));
        return;
      }
      for (std::size_t i = start; i + left <= total_n; ++i) rec(i + 1, left - 1, sum + data[i]);
    };
    rec(0, m, 0.0);
    resamples = n_max;
  } else {
    Rng rng(seed);
    std::vector<double> perm = data;
    for (std::int64_t r = 0; r < n_resamples; ++r) {
      // Partial Fisher-Yates: the first m positions are a uniform random m-subset.
      double sum = 0.0;
      for (std::size_t i = 0; i < m; ++i) {
        const std::size_t j = i + rng.UniformInt(total_n - i);
        std::swap(perm[i], perm[j]);
        sum += perm[i];
      }
      tally(stat(sum));
    }
    resamples = static_cast<double>(n_resamples);
  }
  const double adjustment = exact ? 0.0 : 1.0;
  const double p_less = (count_le + adjustment) / (resamples + adjustment);
  const double p_greater = (count_ge + adjustment) / (resamples + adjustment);
  double p = alternative == Alternative::kLess      ? p_less
             : alternative == Alternative::kGreater ? p_greater
                                                    : 2.0 * std::min(p_less, p_greater);
  TestResult result;
  result.statistic = observed;
  result.pvalue = std::clamp(p, 0.0, 1.0);
  result.method = exact ? TestMethod::kExact : TestMethod::kApprox;
  return result;
}

}  // namespace phasesweep::analysis
