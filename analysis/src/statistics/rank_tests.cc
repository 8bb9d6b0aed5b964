// Rank tests with SciPy 1.10.1 semantics: Wilcoxon signed-rank (scipy/stats/_morestats.py),
// sign test (via binomtest), Mann-Whitney U (_mannwhitneyu.py), Kruskal-Wallis and Spearman
// (_stats_py.py). Each branch below mirrors a branch of SciPy's code; see hypothesis_tests.h.
#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <string>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/hypothesis_tests.h"

namespace phasesweep::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status CheckFinite(const std::vector<double>& x, const char* what) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return Status::InvalidArgument(std::string(what) + " value " + std::to_string(i + 1) +
                                     " is not a finite number");
    }
  }
  return Status::Ok();
}

// Probabilities of R+ = 0..n(n+1)/2 for n differences without ties (SciPy's
// _get_wilcoxon_distr: add one rank at a time, each sign with probability 1/2).
std::vector<double> WilcoxonDistribution(std::size_t n) {
  std::vector<double> c = {1.0};
  for (std::size_t k = 1; k <= n; ++k) {
    std::vector<double> next(k * (k + 1) / 2 + 1, 0.0);
    const std::size_t m = c.size();
    for (std::size_t i = 0; i < m; ++i) next[i] = c[i] * 0.5;
    for (std::size_t i = 0; i < m; ++i) next[next.size() - m + i] += c[i] * 0.5;
    c.swap(next);
  }
  return c;
}

double SumRange(const std::vector<double>& p, std::size_t lo, std::size_t hi_exclusive) {
  double s = 0.0;
  for (std::size_t i = lo; i < hi_exclusive && i < p.size(); ++i) s += p[i];
  return s;
}

// Probabilities of U = 0..m*n under the null for samples of m and n without ties: the number of
// m-subsets of positions whose (rank sum - m(m+1)/2) equals U, over C(m+n, m).
std::vector<double> MannWhitneyDistribution(std::size_t m, std::size_t n) {
  const std::size_t umax = m * n;
  // ways[j][u]: j of the first i positions chosen for x, contributing u (x items beat y items).
  std::vector<std::vector<double>> ways(m + 1, std::vector<double>(umax + 1, 0.0));
  ways[0][0] = 1.0;
  for (std::size_t i = 0; i < m + n; ++i) {
    // Rows are updated from j = high to low so that row j - 1 still holds positions < i.
    for (std::size_t j = std::min(m, i + 1); j >= 1; --j) {
      const std::size_t beats = i - (j - 1);  // y's before the j-th x when it sits at i
      if (beats > n) continue;
      auto& to = ways[j];
      const auto& from = ways[j - 1];
      for (std::size_t u = beats; u <= umax; ++u) to[u] += from[u - beats];
    }
  }
  std::vector<double> pmf = ways[m];
  double total = 0.0;
  for (double w : pmf) total += w;
  for (double& w : pmf) w /= total;
  return pmf;
}

}  // namespace

Result<Alternative> ParseAlternative(std::string_view name) {
  if (name == "two-sided") return Alternative::kTwoSided;
  if (name == "less") return Alternative::kLess;
  if (name == "greater") return Alternative::kGreater;
  return Status::InvalidArgument("unknown alternative '" + std::string(name) +
                                 "' (valid: two-sided, greater, less)");
}

std::string_view AlternativeName(Alternative alternative) {
  switch (alternative) {
    case Alternative::kTwoSided:
      return "two-sided";
    case Alternative::kLess:
      return "less";
    case Alternative::kGreater:
      return "greater";
  }
  return "?";
}

Result<TestMethod> ParseTestMethod(std::string_view name) {
  if (name == "auto") return TestMethod::kAuto;
  if (name == "exact") return TestMethod::kExact;
  if (name == "approx" || name == "asymptotic") return TestMethod::kApprox;
  return Status::InvalidArgument("unknown method '" + std::string(name) +
                                 "' (valid: auto, exact, approx)");
}

std::string_view TestMethodName(TestMethod method) {
  switch (method) {
    case TestMethod::kAuto:
      return "auto";
    case TestMethod::kExact:
      return "exact";
    case TestMethod::kApprox:
      return "approx";
  }
  return "?";
}

Result<TestResult> WilcoxonSignedRank(const std::vector<double>& d_in, Alternative alternative,
                                      TestMethod method) {
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(d_in, "difference"));
  TestResult result;
  if (d_in.empty()) return result;  // SciPy: (nan, nan)
  TestMethod mode = method;
  if (mode == TestMethod::kAuto)
    mode = d_in.size() <= 50 ? TestMethod::kExact : TestMethod::kApprox;
  const auto n_zero = static_cast<std::size_t>(std::count(d_in.begin(), d_in.end(), 0.0));
  if (n_zero > 0 && mode == TestMethod::kExact) mode = TestMethod::kApprox;  // SciPy switches
  std::vector<double> d;
  if (mode == TestMethod::kApprox) {
    if (n_zero == d_in.size()) {
      return Status::InvalidArgument(
          "wilcoxon: every difference is zero (zero_method 'wilcox' drops zeros, nothing is left)");
    }
    for (double v : d_in)
      if (v != 0.0) d.push_back(v);
  } else {
    d = d_in;
  }
  const std::size_t count = d.size();
  if (mode == TestMethod::kExact && count > 1000) {
    return Status::InvalidArgument(
        "wilcoxon: exact distribution limited to 1000 differences, got " + std::to_string(count) +
        "; use the approximation");
  }
  std::vector<double> abs_d(count);
  for (std::size_t i = 0; i < count; ++i) abs_d[i] = std::fabs(d[i]);
  const std::vector<double> r = RankAverage(abs_d);
  double r_plus = 0.0, r_minus = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    if (d[i] > 0) r_plus += r[i];
    if (d[i] < 0) r_minus += r[i];
  }
  const double t = alternative == Alternative::kTwoSided ? std::min(r_plus, r_minus) : r_plus;
  result.statistic = t;
  result.method = mode;
  if (mode == TestMethod::kApprox) {
    const double cn = static_cast<double>(count);
    const double mn = cn * (cn + 1.0) * 0.25;
    double se = cn * (cn + 1.0) * (2.0 * cn + 1.0);
    for (double rep : TieGroupSizes(r)) se -= 0.5 * (rep * (rep * rep - 1.0));
    se = std::sqrt(se / 24.0);
    const double z = (t - mn) / se;
    if (alternative == Alternative::kTwoSided) {
      result.pvalue = 2.0 * NormalSf(std::fabs(z));
    } else if (alternative == Alternative::kGreater) {
      result.pvalue = NormalSf(z);
    } else {
      result.pvalue = NormalCdf(z);
    }
  } else {
    const std::vector<double> pmf = WilcoxonDistribution(count);
    const auto rp = static_cast<std::size_t>(r_plus);  // SciPy: int(r_plus)
    double p;
    if (alternative == Alternative::kTwoSided) {
      if (rp == (pmf.size() - 1) / 2) {
        p = 1.0;
      } else {
        const double p_less = SumRange(pmf, 0, rp + 1);
        const double p_greater = SumRange(pmf, rp, pmf.size());
        p = 2.0 * std::min(p_greater, p_less);
      }
    } else if (alternative == Alternative::kGreater) {
      p = SumRange(pmf, rp, pmf.size());
    } else {
      p = SumRange(pmf, 0, rp + 1);
    }
    result.pvalue = std::clamp(p, 0.0, 1.0);
  }
  return result;
}

Result<TestResult> WilcoxonSignedRank(const std::vector<double>& x, const std::vector<double>& y,
                                      Alternative alternative, TestMethod method) {
  if (x.size() != y.size()) {
    return Status::InvalidArgument("wilcoxon: paired samples differ in length (" +
                                   std::to_string(x.size()) + " and " + std::to_string(y.size()) +
                                   ")");
  }
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
  return WilcoxonSignedRank(d, alternative, method);
}

Result<TestResult> SignTest(const std::vector<double>& d, Alternative alternative) {
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(d, "difference"));
  std::int64_t pos = 0, nonzero = 0;
  for (double v : d) {
    if (v != 0.0) ++nonzero;
    if (v > 0.0) ++pos;
  }
  if (nonzero == 0) return Status::InvalidArgument("sign test: every difference is zero");
  auto r = BinomTest(pos, nonzero, 0.5, alternative);
  if (!r.ok()) return r.status();
  r->statistic = static_cast<double>(pos);
  return r;
}

Result<TestResult> MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y,
                                Alternative alternative, TestMethod method, bool use_continuity) {
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(x, "first sample"));
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(y, "second sample"));
  if (x.empty() || y.empty()) return Status::InvalidArgument("mannwhitneyu: a sample is empty");
  const std::size_t n1 = x.size(), n2 = y.size();
  std::vector<double> xy = x;
  xy.insert(xy.end(), y.begin(), y.end());
  const bool ties = !TieGroupSizes(xy).empty();
  TestMethod mode = method;
  if (mode == TestMethod::kAuto) {
    mode = (n1 > 8 && n2 > 8) || ties ? TestMethod::kApprox : TestMethod::kExact;
  }
  const std::vector<double> ranks = RankAverage(xy);
  double r1 = 0.0;
  for (std::size_t i = 0; i < n1; ++i) r1 += ranks[i];
  const double u1 = r1 - static_cast<double>(n1) * (n1 + 1) / 2.0;
  const double u2 = static_cast<double>(n1) * n2 - u1;
  double u = u1, f = 1.0;
  if (alternative == Alternative::kLess) u = u2;
  if (alternative == Alternative::kTwoSided) {
    u = std::max(u1, u2);
    f = 2.0;
  }
  TestResult result;
  result.statistic = u1;
  result.method = mode;
  double p;
  if (mode == TestMethod::kExact) {
    const double work = static_cast<double>(n1) * n2 * (n1 + n2);
    if (work > 4e8) {
      return Status::InvalidArgument("mannwhitneyu: exact distribution too large for samples of " +
                                     std::to_string(n1) + " and " + std::to_string(n2) +
                                     "; use the approximation");
    }
    const std::vector<double> pmf = MannWhitneyDistribution(n1, n2);
    p = SumRange(pmf, static_cast<std::size_t>(u), pmf.size());  // P(U >= int(u))
  } else {
    const double mu = static_cast<double>(n1) * n2 / 2.0;
    const double n = static_cast<double>(n1 + n2);
    double tie_term = 0.0;
    for (double t : TieGroupSizes(ranks)) tie_term += t * t * t - t;
    const double s =
        std::sqrt(static_cast<double>(n1) * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0))));
    double numerator = u - mu;
    if (use_continuity) numerator -= 0.5;
    p = NormalSf(numerator / s);
  }
  result.pvalue = std::clamp(p * f, 0.0, 1.0);
  return result;
}

Result<TestResult> KruskalWallis(const std::vector<std::vector<double>>& groups) {
  if (groups.size() < 2) return Status::InvalidArgument("kruskal: needs at least two groups");
  std::vector<double> all;
  for (const auto& g : groups) {
    PHASESWEEP_RETURN_IF_ERROR(CheckFinite(g, "group"));
    if (g.empty()) return TestResult{};  // SciPy: (nan, nan)
    all.insert(all.end(), g.begin(), g.end());
  }
  const std::vector<double> ranked = RankAverage(all);
  const double total = static_cast<double>(all.size());
  double tie_sum = 0.0;
  for (double t : TieGroupSizes(all)) tie_sum += t * t * t - t;
  const double ties = total < 2 ? 1.0 : 1.0 - tie_sum / (total * total * total - total);
  if (ties == 0.0) return Status::InvalidArgument("kruskal: all numbers are identical");
  double ssbn = 0.0;
  std::size_t offset = 0;
  for (const auto& g : groups) {
    double s = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) s += ranked[offset + i];
    ssbn += s * s / static_cast<double>(g.size());
    offset += g.size();
  }
  double h = 12.0 / (total * (total + 1.0)) * ssbn - 3.0 * (total + 1.0);
  h /= ties;
  TestResult result;
  result.statistic = h;
  result.method = TestMethod::kApprox;
  const double df = static_cast<double>(groups.size() - 1);
  result.pvalue =
      h <= 0.0 ? 1.0 : boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), h));
  return result;
}

Result<TestResult> Spearman(const std::vector<double>& x, const std::vector<double>& y,
                            Alternative alternative) {
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(x, "first sample"));
  PHASESWEEP_RETURN_IF_ERROR(CheckFinite(y, "second sample"));
  if (x.size() != y.size()) {
    return Status::InvalidArgument("spearman: samples differ in length (" +
                                   std::to_string(x.size()) + " and " + std::to_string(y.size()) +
                                   ")");
  }
  TestResult result;
  result.method = TestMethod::kApprox;
  const std::size_t n = x.size();
  if (n <= 1) return result;
  const bool x_const = std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; });
  const bool y_const = std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; });
  if (x_const || y_const) return result;  // SciPy: ConstantInputWarning, (nan, nan)
  const std::vector<double> rx = RankAverage(x), ry = RankAverage(y);
  const double mx = Mean(rx), my = Mean(ry);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  const double dn = static_cast<double>(n) - 1.0;  // numpy.cov normalisation (cancels)
  const double rs = std::clamp(sxy / dn / std::sqrt(sxx / dn) / std::sqrt(syy / dn), -1.0, 1.0);
  result.statistic = rs;
  const double dof = static_cast<double>(n) - 2.0;
  if (dof <= 0.0) return result;  // SciPy: 0/0 gives a NaN p-value
  const double denom = (rs + 1.0) * (1.0 - rs);
  const double t = denom == 0.0 ? std::copysign(std::numeric_limits<double>::infinity(), rs)
                                : rs * std::sqrt(std::max(0.0, dof / denom));
  const boost::math::students_t dist(dof);
  auto stdtr = [&](double v) {
    if (std::isinf(v)) return v > 0 ? 1.0 : 0.0;
    return boost::math::cdf(dist, v);
  };
  if (alternative == Alternative::kLess) {
    result.pvalue = stdtr(t);
  } else if (alternative == Alternative::kGreater) {
    result.pvalue = stdtr(-t);
  } else {
    result.pvalue = stdtr(-std::fabs(t)) * 2.0;
  }
  return result;
}

}  // namespace phasesweep::analysis
