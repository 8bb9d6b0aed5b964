// Tests of the deterministic generator: reproducibility, independent streams, unbiased integers,
// and the ziggurat normal against the standard normal CDF (including its tail).
#include "phasesweep/analysis/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "phasesweep/analysis/hypothesis_tests.h"

namespace phasesweep::analysis {
namespace {

TEST(Rng, ReproducibleAndSeedDependent) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    EXPECT_NE(x, c.NextU64());
  }
  EXPECT_NE(StreamSeed(1, "job/a"), StreamSeed(1, "job/b"));
  EXPECT_NE(StreamSeed(1, "job/a"), StreamSeed(2, "job/a"));
  EXPECT_EQ(StreamSeed(7, "x"), StreamSeed(7, "x"));
}

TEST(Rng, UniformIntIsUniform) {
  Rng rng(1);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[rng.UniformInt(7)];
  for (int c : counts) EXPECT_NEAR(c, n / 7, 5 * std::sqrt(n / 7.0));  // 5 sd
  EXPECT_EQ(rng.UniformInt(1), 0u);
}

TEST(Rng, ZigguratNormalMatchesTheNormalCdf) {
  Rng rng(2);
  const int n = 1000000;
  const double points[] = {-3.5, -2.0, -1.0, -0.3, 0.0, 0.5, 1.5, 2.5, 3.44, 4.0};
  std::vector<int> below(std::size(points), 0);
  double sum = 0.0, sum2 = 0.0;
  int tail = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.Normal();
    sum += z;
    sum2 += z * z;
    tail += std::fabs(z) > 3.442619855899;
    for (std::size_t k = 0; k < std::size(points); ++k) below[k] += z < points[k];
  }
  EXPECT_NEAR(sum / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum2 / n, 1.0, 5.0 * std::sqrt(2.0 / n));
  for (std::size_t k = 0; k < std::size(points); ++k) {
    const double p = NormalCdf(points[k]);
    EXPECT_NEAR(static_cast<double>(below[k]) / n, p, 5.0 * std::sqrt(p * (1 - p) / n) + 1e-6)
        << "at " << points[k];
  }
  const double p_tail = 2.0 * NormalSf(3.442619855899);  // 5.76e-4: the ziggurat's tail path
  EXPECT_NEAR(static_cast<double>(tail) / n, p_tail, 5.0 * std::sqrt(p_tail / n));
}

}  // namespace
}  // namespace phasesweep::analysis
