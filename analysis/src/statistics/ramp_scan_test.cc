// The pieces of the transition statistic added for issue 19's calibration: the bias correction of
// rho_e (inverting the simulated table of its means), the multiscale length bonus, and the
// principal feature's width coming from the length that attains T.
#include "statistics/ramp_scan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "phasesweep/analysis/random.h"
#include "phasesweep/analysis/surrogate.h"

namespace phasesweep::analysis {
namespace {

TEST(RampScan, CorrectedRhoInvertsTheTableOfMeans) {
  const double grid[] = {-0.5, 0.0, 0.5, 0.9};
  const double mean[] = {-0.6, -0.1, 0.3, 0.25};  // the last crosses back (simulation error)
  const internal::RhoTable table{grid, mean, 4};
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(-0.7, table), -0.5);    // below the table: its first end
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(-0.35, table), -0.25);  // halfway between -0.6 and -0.1
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(0.1, table), 0.25);
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(0.3, table), 0.5);
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(0.35, table), 0.9);                // above: the last end
  EXPECT_DOUBLE_EQ(internal::CorrectedRho(0.2, internal::RhoTable{}), 0.2);  // no table
}

TEST(RampScan, LengthBonusIsZeroForAStepAndGrowsWithTheLength) {
  EXPECT_DOUBLE_EQ(internal::LengthBonus(100, 1), 0.0);
  double previous = 0.0;
  for (std::size_t len = 2; len <= 50; len *= 2) {
    const double b = internal::LengthBonus(100, len);
    EXPECT_GT(b, previous);
    previous = b;
  }
  const double e100 = std::exp(1.0) * 100.0;
  EXPECT_NEAR(internal::LengthBonus(100, 32),
              std::sqrt(2.0 * std::log(e100)) - std::sqrt(2.0 * std::log(e100 / 32.0)), 1e-15);
}

// A wide smooth transition is reported with a wide principal feature (the length attaining T), a
// sharp one with a step, both significant.
TEST(RampScan, PrincipalWidthComesFromTheLengthAttainingT) {
  const std::size_t n = 200;
  Rng rng(5);
  std::vector<double> wide(n), sharp(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i);
    const double noise = 0.05 * rng.Normal();
    wide[i] = 1.0 / (1.0 + std::exp(-(t - 100.0) / 10.0)) + noise;
    sharp[i] = (i >= 80 ? 1.0 : 0.0) + noise;
  }
  SurrogateOptions o;
  o.seed = 9;
  auto w = TransitionSignificance(wide, o), s = TransitionSignificance(sharp, o);
  ASSERT_TRUE(w.ok() && s.ok());
  EXPECT_GE(w->width, 16u);
  EXPECT_NEAR(static_cast<double>(w->split), 100.0, 10.0);
  EXPECT_LE(w->pvalue, 0.05);
  EXPECT_EQ(s->width, 1u);
  EXPECT_EQ(s->split, 80u);
  EXPECT_LE(s->pvalue, 0.05);
}

// The scan's hot loop is compiled for the default x86-64 and for AVX2 (chosen at run time); both
// must give bit-identical statistics, principal features and p-values on fixed traces.
TEST(RampScan, Avx2CloneIsBitIdenticalToTheDefault) {
  if (!internal::ScanHasAvx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  Rng rng(17);
  std::vector<std::vector<double>> traces;
  for (std::size_t n : {12u, 50u, 101u, 500u, 1500u}) {
    std::vector<double> noise(n), smooth(n), ar(n);
    double x = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / static_cast<double>(n);
      noise[i] = rng.Normal();
      smooth[i] = 1.0 / (1.0 + std::exp(-(t - 0.4) * 12.0)) + 0.05 * rng.Normal();
      x = 0.9 * x + rng.Normal();
      ar[i] = x + (t > 0.7 ? 2.0 : 0.0);
    }
    traces.push_back(noise);
    traces.push_back(smooth);
    traces.push_back(ar);
  }
  SurrogateOptions o;
  o.count = 49;
  o.seed = 3;
  for (const auto& y : traces) {
    internal::SetScanIsaForTesting(internal::ScanIsa::kDefault);
    auto d = TransitionSignificance(y, o);
    internal::SetScanIsaForTesting(internal::ScanIsa::kAvx2);
    auto v = TransitionSignificance(y, o);
    internal::SetScanIsaForTesting(internal::ScanIsa::kAuto);
    ASSERT_TRUE(d.ok() && v.ok());
    EXPECT_EQ(std::memcmp(&d->statistic, &v->statistic, sizeof(double)), 0) << y.size();
    EXPECT_EQ(d->exceed, v->exceed);
    EXPECT_EQ(d->split, v->split);
    EXPECT_EQ(d->width, v->width);
    EXPECT_EQ(d->null_splits, v->null_splits);
  }
}

}  // namespace
}  // namespace phasesweep::analysis
