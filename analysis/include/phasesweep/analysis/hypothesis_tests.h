// Classical tests with SciPy 1.10.1 semantics: the statistic SciPy returns, its p-value rule, its
// 'auto' method choice, its tie and zero handling. Golden tests in analysis/src/statistics/ carry
// the SciPy expression behind every value; docs/STATISTICS.md gives the formulas.
//
// Inputs must be finite (InvalidArgument otherwise). Where SciPy returns NaN (e.g. Spearman of
// a constant input) the result holds NaN with an OK status; where SciPy raises (e.g. Wilcoxon
// when every difference is zero) the call returns InvalidArgument with SciPy's reason.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

enum class Alternative { kTwoSided, kLess, kGreater };
// "two-sided" | "less" | "greater".
Result<Alternative> ParseAlternative(std::string_view name);
std::string_view AlternativeName(Alternative alternative);

// How a p-value is computed. kAuto follows SciPy's own choice for each test.
enum class TestMethod { kAuto, kExact, kApprox };
// "auto" | "exact" | "approx" ("asymptotic" is accepted for approx, as SciPy names it for
// Mann-Whitney).
Result<TestMethod> ParseTestMethod(std::string_view name);
std::string_view TestMethodName(TestMethod method);

struct TestResult {
  double statistic = std::numeric_limits<double>::quiet_NaN();
  double pvalue = std::numeric_limits<double>::quiet_NaN();
  TestMethod method = TestMethod::kExact;  // what was used: kExact or kApprox
};

// scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, alternative, method) on the
// paired differences d. Statistic: min(R+, R-) two-sided, R+ one-sided. kAuto: exact when
// n <= 50, but zeros force the normal approximation (SciPy warns and switches). The exact
// distribution assumes no ties; with tied |d| SciPy truncates R+ to an integer, and so do we.
// Exact at most 1000 differences.
Result<TestResult> WilcoxonSignedRank(const std::vector<double>& d, Alternative alternative,
                                      TestMethod method = TestMethod::kAuto);
// The paired form, d = x - y (equal lengths).
Result<TestResult> WilcoxonSignedRank(const std::vector<double>& x, const std::vector<double>& y,
                                      Alternative alternative,
                                      TestMethod method = TestMethod::kAuto);

// Sign test on differences d: zeros dropped, statistic = number of positive differences,
// p = scipy.stats.binomtest(#positive, #nonzero, 0.5, alternative). 'greater' means d tends to
// be positive. InvalidArgument if every difference is zero.
Result<TestResult> SignTest(const std::vector<double>& d, Alternative alternative);

// scipy.stats.mannwhitneyu(x, y, use_continuity, alternative, method). Statistic U1 of x.
// kAuto: exact unless both samples exceed 8 or there are ties. Exact p uses the exact null
// distribution of U (without ties; a tied U is truncated to an integer as SciPy does); the
// approximation is normal with tie correction and continuity correction. Exact at most
// m*n*(m+n) <= 4e8.
Result<TestResult> MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y,
                                Alternative alternative, TestMethod method = TestMethod::kAuto,
                                bool use_continuity = true);

// scipy.stats.kruskal(*groups): H with tie correction, p from chi-squared with k-1 df. At least
// two groups; an empty group gives NaN (as SciPy); all values identical is InvalidArgument.
Result<TestResult> KruskalWallis(const std::vector<std::vector<double>>& groups);

// scipy.stats.spearmanr(x, y, alternative): rho = Pearson correlation of average ranks,
// p from t = rho sqrt((n-2) / ((1+rho)(1-rho))) with n-2 df. NaN for n < 2 or a constant input.
Result<TestResult> Spearman(const std::vector<double>& x, const std::vector<double>& y,
                            Alternative alternative);

// scipy.stats.binomtest(k, n, p, alternative): exact; two-sided sums the probabilities of all
// outcomes no more likely than k (relative tolerance 1e-7), as SciPy. Statistic k/n.
Result<TestResult> BinomTest(std::int64_t k, std::int64_t n, double p, Alternative alternative);

// Two-sided Clopper-Pearson interval for a binomial proportion k/n (the 'exact' method of
// binomtest(...).proportion_ci).
std::pair<double, double> ClopperPearson(std::int64_t k, std::int64_t n, double confidence);

// scipy.stats.fisher_exact([[a, b], [c, d]], alternative): statistic = sample odds ratio
// (a d) / (b c); p from the hypergeometric distribution. 'greater': the odds ratio exceeds 1.
Result<TestResult> FisherExact(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d,
                               Alternative alternative);

// scipy.stats.permutation_test((x, y), mean(x) - mean(y), permutation_type='independent',
// n_resamples, alternative): exact over all C(m+n, m) splits when that count is at most
// n_resamples (p = #{as extreme} / C, ties within a relative 1e-14), otherwise Monte Carlo with
// n_resamples random splits and p = (1 + #) / (1 + n_resamples). kExact forces enumeration (at
// most 2e7 splits); kApprox forces Monte Carlo. `seed` makes Monte Carlo reproducible (our
// generator, not NumPy's: Monte Carlo p-values agree with SciPy only in distribution).
Result<TestResult> PermutationMeanDifference(const std::vector<double>& x,
                                             const std::vector<double>& y, Alternative alternative,
                                             TestMethod method = TestMethod::kAuto,
                                             std::int64_t n_resamples = 9999,
                                             std::uint64_t seed = 0);

// Distribution helpers (SciPy names): standard normal cdf/sf/quantile.
double NormalCdf(double z);
double NormalSf(double z);
double NormalQuantile(double p);  // -inf at 0, +inf at 1
// Quantile of Student's t with df degrees of freedom.
double StudentTQuantile(double p, double df);

}  // namespace phasesweep::analysis
