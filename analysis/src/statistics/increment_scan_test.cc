// The increment scan (the surrogate test's second statistic) and what it adds to the test:
// transitions against a smooth background, including two real traces the ramp scan alone called
// "not significant" (p = 0.23 and 0.47), and its edge cases.
#include "statistics/increment_scan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "phasesweep/analysis/random.h"
#include "phasesweep/analysis/surrogate.h"

namespace phasesweep::analysis {
namespace {

using internal::IncrementStatistic;
using internal::IncrementWorkspace;

double S(const std::vector<double>& y, std::size_t* at = nullptr, std::size_t* len = nullptr) {
  IncrementWorkspace ws;
  return IncrementStatistic(y.data(), y.size(), RampLengths(y.size()), ws, at, len);
}

SignificanceResult Significance(const std::vector<double>& y, const std::string& tag) {
  SurrogateOptions o;
  o.seed = StreamSeed(0, tag);
  auto r = TransitionSignificance(y, o);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : SignificanceResult{};
}

// Test loss of two grokking runs (modular addition mod 23, train fraction 0.5 and 0.8, 800 steps,
// probes every 10, step 0 left out; the positive-controls sweep of app/positive_controls_test.cc,
// seeds of jobs 0626fbd0ccfb729d and 16c099919a34276c), 4 significant digits.
const std::vector<double> kJumpOnDrift = {
    3.594, 4.512, 5.001, 5.938, 6.666, 6.764, 6.231, 5.681, 5.476, 5.42,  5.368, 5.276,
    5.208, 5.161, 5.098, 5.042, 4.966, 4.92,  4.86,  4.833, 4.762, 4.707, 4.638, 4.591,
    4.549, 4.513, 4.519, 4.55,  4.578, 4.613, 4.626, 4.664, 4.712, 4.732, 4.757, 4.752,
    4.775, 4.809, 4.85,  4.889, 4.898, 4.888, 4.903, 4.901, 4.895, 4.871, 2.382, 2.142,
    2.187, 2.247, 2.273, 2.29,  2.335, 2.35,  2.368, 2.378, 2.398, 2.434, 2.453, 2.477,
    2.519, 2.533, 2.564, 2.587, 2.617, 2.652, 2.687, 2.72,  2.77,  2.807, 2.849, 2.895,
    2.928, 2.972, 3.017, 3.065, 3.111, 3.156, 3.197, 3.229};
const std::vector<double> kSmoothFall = {
    3.311,   3.741,   4.287,   4.2,     3.453,   3.192,   3.136,   3.105,    3.021,   2.869,
    2.762,   2.675,   2.648,   2.612,   2.6,     2.562,   2.562,   2.536,    2.519,   2.489,
    2.454,   2.437,   2.39,    2.377,   2.362,   2.343,   2.328,   2.287,    2.235,   2.195,
    2.165,   2.136,   2.135,   2.147,   2.098,   2.066,   2.016,   1.959,    1.907,   1.832,
    1.705,   1.591,   1.5,     1.39,    1.264,   1.148,   0.9985,  0.8354,   0.6891,  0.5713,
    0.476,   0.3542,  0.2498,  0.1299,  0.0421,  0.01825, 0.02006, 0.02692,  0.03541, 0.03775,
    0.03931, 0.03405, 0.02669, 0.02277, 0.02034, 0.02087, 0.0225,  0.02352,  0.02529, 0.02599,
    0.02403, 0.0216,  0.01972, 0.01858, 0.0169,  0.01462, 0.01163, 0.008373, 0.00535, 0.003644};

TEST(IncrementScan, RealTransitionsOnASmoothBackgroundAreSignificant) {
  // The drop of 2.49 in one probe where the loss otherwise moves by about 0.03 per probe.
  std::size_t at = 0, len = 0;
  EXPECT_GT(S(kJumpOnDrift, &at, &len), 20.0);
  EXPECT_LE(at, 45u);
  EXPECT_GE(at + len, 46u);  // the window holds the drop (probes 45 -> 46)
  const SignificanceResult jump = Significance(kJumpOnDrift, "jump");
  EXPECT_GT(jump.level_pvalue, 0.05);  // the ramp scan alone misses it (the curved background)
  EXPECT_LE(jump.increment_pvalue, 0.002);
  EXPECT_LE(jump.pvalue, 0.02);
  // A fall from 2.1 to 0.02 over about 15 probes, then flat: clean, smooth, several features.
  const SignificanceResult fall = Significance(kSmoothFall, "fall");
  EXPECT_GT(fall.level_pvalue, 0.05);
  EXPECT_LE(fall.increment_pvalue, 0.002);
  EXPECT_LE(fall.pvalue, 0.02);
}

TEST(IncrementScan, IsScaleAndTrendFree) {
  Rng rng(7);
  std::vector<double> y(120), z(120);
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] = rng.Normal() + (i >= 70 ? 3.0 : 0.0);
    z[i] = -4.0 * y[i] + 0.25 * static_cast<double>(i) + 10.0;
  }
  EXPECT_NEAR(S(z), S(y), 1e-9 * S(y));
}

TEST(IncrementScan, LinearAndConstantTracesGiveZero) {
  std::vector<double> line(50), flat(50, 0.3);
  for (std::size_t i = 0; i < line.size(); ++i) line[i] = 2.0 - 0.1 * static_cast<double>(i);
  EXPECT_EQ(S(line), 0.0);
  EXPECT_EQ(S(flat), 0.0);
  EXPECT_EQ(S({1.0, 2.0}), 0.0);  // too short: no increments to compare
}

TEST(IncrementScan, MostlyConstantDiscreteTraceUsesTheRootMeanSquare) {
  // An accuracy on 88 test examples that mostly stays put: the median absolute increment is 0, so
  // the scale falls back to the root mean square and S stays finite.
  std::vector<double> y(80, 2.0 / 88);
  for (std::size_t i = 40; i < 52; ++i) y[i] = 4.0 / 88;
  y[60] = 3.0 / 88;
  const double s = S(y);
  EXPECT_TRUE(std::isfinite(s));
  EXPECT_GT(s, 0.0);
  const SignificanceResult r = Significance(y, "discrete");
  EXPECT_TRUE(std::isfinite(r.pvalue));
  EXPECT_LE(r.pvalue, 0.05);
}

TEST(IncrementScan, SkippedWhereTheRampScanAloneIsAtTheFloor) {
  // A clean step: the ramp scan's p-value is 1 / 200, so p_level / 0.9 = 0.0056 is below the
  // increment scan's smallest contribution (0.001 / 0.1): no draws, increment_pvalue NaN.
  std::vector<double> step(60, 0.0);
  for (std::size_t i = 30; i < step.size(); ++i) step[i] = 1.0;
  const SignificanceResult r = Significance(step, "step");
  EXPECT_EQ(r.level_pvalue, 1.0 / 200);
  EXPECT_TRUE(std::isnan(r.increment_pvalue));
  EXPECT_DOUBLE_EQ(r.pvalue, 1.0 / 200 / 0.9);
  EXPECT_GT(r.increment_statistic, 0.0);  // the statistic itself is still reported
}

TEST(IncrementScan, WhiteNoiseIsRarelyExtreme) {
  // Its share of the level is 0.1 * 0.05 = 0.005; on 300 white-noise traces (n = 100) the scan
  // alone must not reject at that level more often than the 99th percentile of Binomial(300,
  // 0.005) = 5.
  Rng rng(11);
  int extreme = 0;
  for (int k = 0; k < 300; ++k) {
    std::vector<double> y(100);
    for (double& v : y) v = rng.Normal();
    if (Significance(y, "white/" + std::to_string(k)).increment_pvalue <= 0.005) ++extreme;
  }
  EXPECT_LE(extreme, 5);
}

}  // namespace
}  // namespace phasesweep::analysis
