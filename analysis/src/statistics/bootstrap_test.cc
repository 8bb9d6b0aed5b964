// Tests of the BCa interval and the per-step bands against SciPy 1.10.1 / NumPy
// (golden/bootstrap_goldens.inc from golden/gen_bootstrap_goldens.py), plus determinism and
// coverage of the seeded bootstrap of the median.
#include "phasesweep/analysis/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

struct BcaGolden {
  const char* expr;
  const char* statistic;
  std::vector<double> data, replicates;
  double confidence, low, high;
};
struct BandGolden {
  const char* expr;
  std::vector<double> values;
  double median, q25, q75, mean, mean_low, mean_high;
};
#include "golden/bootstrap_goldens.inc"

TEST(BootstrapGolden, BcaMatchesScipyOnTheSameReplicates) {
  for (const auto& g : kBcaGoldens) {
    const Statistic stat = std::string(g.statistic) == "median"
                               ? Statistic([](const std::vector<double>& x) { return Median(x); })
                               : Statistic([](const std::vector<double>& x) { return Mean(x); });
    const ConfidenceInterval ci = BcaInterval(g.data, g.replicates, g.confidence, stat);
    EXPECT_NEAR(ci.low, g.low, 1e-9 * std::fabs(g.low) + 1e-12) << g.expr;
    EXPECT_NEAR(ci.high, g.high, 1e-9 * std::fabs(g.high) + 1e-12) << g.expr;
  }
}

TEST(BootstrapGolden, BandsMatchNumpyAndScipy) {
  for (const auto& g : kBandGoldens) {
    const BandPoint b = SummarizeAcrossSeeds(g.values, 0.95);
    EXPECT_EQ(b.count, static_cast<int>(g.values.size()));
    EXPECT_NEAR(b.median, g.median, 1e-12) << g.expr;
    EXPECT_NEAR(b.q25, g.q25, 1e-12) << g.expr;
    EXPECT_NEAR(b.q75, g.q75, 1e-12) << g.expr;
    EXPECT_NEAR(b.mean, g.mean, 1e-12) << g.expr;
    EXPECT_NEAR(b.mean_low, g.mean_low, 1e-9) << g.expr;
    EXPECT_NEAR(b.mean_high, g.mean_high, 1e-9) << g.expr;
  }
  const BandPoint with_nan = SummarizeAcrossSeeds({1.0, std::nan(""), 3.0}, 0.95);
  EXPECT_EQ(with_nan.count, 2);
  EXPECT_DOUBLE_EQ(with_nan.median, 2.0);
  const BandPoint one = SummarizeAcrossSeeds({4.0}, 0.95);
  EXPECT_EQ(one.median, 4.0);
  EXPECT_TRUE(std::isnan(one.mean_low));
  EXPECT_EQ(SummarizeAcrossSeeds({}, 0.95).count, 0);
}

TEST(Bootstrap, DegenerateInputs) {
  EXPECT_TRUE(std::isnan(BootstrapMedianBca({}, 100, 0.95, 1).estimate));
  const ConfidenceInterval one = BootstrapMedianBca({7.0}, 100, 0.95, 1);
  EXPECT_EQ(one.estimate, 7.0);
  EXPECT_TRUE(std::isnan(one.low));
  const ConfidenceInterval same = BootstrapMedianBca({3, 3, 3, 3}, 100, 0.95, 1);
  EXPECT_EQ(same.low, 3.0);
  EXPECT_EQ(same.high, 3.0);
  // Jackknife values all equal (a = 0) while replicates vary: still a finite interval.
  const ConfidenceInterval tied = BootstrapMedianBca({1, 1, 1, 1, 1, 9}, 500, 0.95, 3);
  EXPECT_TRUE(std::isfinite(tied.low) && std::isfinite(tied.high));
  EXPECT_LE(tied.low, tied.high);
}

TEST(Bootstrap, SeededAndCoversTheMedian) {
  Rng rng(5);
  int covered = 0;
  const int reps = 300;
  for (int r = 0; r < reps; ++r) {
    std::vector<double> x(25);
    for (double& v : x) v = rng.Normal();  // true median 0
    const ConfidenceInterval a = BootstrapMedianBca(x, 1000, 0.95, 100 + r);
    const ConfidenceInterval b = BootstrapMedianBca(x, 1000, 0.95, 100 + r);
    ASSERT_EQ(a.low, b.low);
    ASSERT_EQ(a.high, b.high);
    covered += a.low <= 0.0 && 0.0 <= a.high;
  }
  // Nominal 95%; bootstrap intervals for a median at n = 25 run near nominal. Binomial(300,
  // 0.95) has sd 1.3%: accept 88%..99.5%.
  EXPECT_GE(covered, 264);
  EXPECT_LE(covered, 299);
}

}  // namespace
}  // namespace phasesweep::analysis
