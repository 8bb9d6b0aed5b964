// Golden tests of PELT, binary segmentation and the segment costs against ruptures semantics:
// /work/shared/REFERENCE_VALUES.md plus the cases in golden/changepoint_goldens.inc, produced by
// golden/gen_changepoint_goldens.py from a transcription of ruptures 1.1.9.
#include "phasesweep/analysis/changepoint.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/random.h"
#include "statistics/segment_costs.h"

namespace phasesweep::analysis {
namespace {

struct SegmentationGolden {
  const char* expr;
  const std::vector<double>* signal;
  const char* method;
  const char* cost;
  std::size_t min_size, jump;
  double pen;
  long n_bkps;
  bool ok;
  std::vector<std::size_t> bkps;
};
struct CostGolden {
  const char* expr;
  const std::vector<double>* signal;
  const char* cost;
  std::size_t start, end;
  double error;
};
#include "golden/changepoint_goldens.inc"

const std::vector<double> kRef = {0, 0, 0, 5, 5, 5, 5, -2, -2};

std::unique_ptr<SegmentCost> Fit(CostKind kind, const std::vector<double>& y) {
  auto cost = MakeSegmentCost(kind, y);
  EXPECT_TRUE(cost.ok()) << cost.status().message();
  return std::move(cost.value());
}

double TotalCost(const SegmentCost& cost, const std::vector<std::size_t>& bkps) {
  double total = 0.0;
  std::size_t start = 0;
  for (std::size_t end : bkps) {
    total += cost.Error(start, end);
    start = end;
  }
  return total;
}

// REFERENCE_VALUES.md, "Change points" (ruptures Pelt/Binseg, CostL2).
TEST(ChangePointReference, PeltBinsegAndCostL2) {
  auto cost = Fit(CostKind::kL2, kRef);
  EXPECT_DOUBLE_EQ(cost->Error(0, 9), 79.55555555555556);
  EXPECT_DOUBLE_EQ(cost->Error(0, 4), 18.75);
  auto pelt = Pelt(*cost, {1, 1}, 0.5);
  ASSERT_TRUE(pelt.ok());
  EXPECT_EQ(*pelt, (std::vector<std::size_t>{3, 7, 9}));
  auto binseg = BinarySegmentation(*cost, {1, 1}, {2, std::nullopt});
  ASSERT_TRUE(binseg.ok());
  EXPECT_EQ(*binseg, (std::vector<std::size_t>{3, 7, 9}));
  // ruptures' defaults min_size 2, jump 5: the jump grid only admits a breakpoint at 5.
  auto coarse = Pelt(*cost, SegmentationParams{}, 0.5);
  ASSERT_TRUE(coarse.ok());
  EXPECT_EQ(*coarse, (std::vector<std::size_t>{5, 9}));
}

TEST(ChangePointGolden, SegmentCostsMatchRuptures) {
  for (const auto& g : kCostGoldens) {
    auto cost = Fit(*ParseCostKind(g.cost), *g.signal);
    const double got = cost->Error(g.start, g.end);
    EXPECT_NEAR(got, g.error, 1e-9 * std::max(1.0, std::fabs(g.error))) << g.expr;
  }
}

TEST(ChangePointGolden, PeltAndBinsegMatchRuptures) {
  int checked = 0, tie_resolved = 0;
  for (const auto& g : kSegmentationGoldens) {
    auto cost = Fit(*ParseCostKind(g.cost), *g.signal);
    SegmentationParams params{g.min_size, g.jump};
    Result<std::vector<std::size_t>> got =
        std::string(g.method) == "pelt"
            ? Pelt(*cost, params, g.pen)
            : BinarySegmentation(*cost, params,
                                 g.n_bkps >= 0 ? BinsegStop{static_cast<std::size_t>(g.n_bkps), {}}
                                               : BinsegStop{{}, g.pen});
    ASSERT_EQ(got.ok(), g.ok) << g.expr;
    ++checked;
    if (!g.ok || *got == g.bkps) continue;
    // s0 and s5 hold exact ties (integer plateaus). Where splits are mathematically equally good,
    // ruptures' choice is decided by NumPy's rounding of sums; accept an equally good answer:
    // same number of breakpoints and the same total cost to 1e-9.
    ASSERT_TRUE(g.signal == &k_s0 || g.signal == &k_s5) << g.expr;
    ASSERT_EQ(got->size(), g.bkps.size()) << g.expr;
    EXPECT_NEAR(TotalCost(*cost, *got), TotalCost(*cost, g.bkps), 1e-9) << g.expr;
    ++tie_resolved;
  }
  EXPECT_GT(checked, 800);
  EXPECT_LE(tie_resolved, 5);
}

TEST(ChangePoint, BadParametersAreErrors) {
  auto cost = Fit(CostKind::kL2, kRef);
  EXPECT_FALSE(Pelt(*cost, {10, 1}, 1.0).ok());  // n < min_size
  EXPECT_FALSE(Pelt(*cost, {1, 0}, 1.0).ok());   // jump 0
  EXPECT_FALSE(Pelt(*cost, {1, 1}, -1.0).ok());  // negative penalty
  EXPECT_FALSE(Pelt(*cost, {1, 1}, std::nan("")).ok());
  EXPECT_FALSE(BinarySegmentation(*cost, {1, 1}, {}).ok());        // no stopping rule
  EXPECT_FALSE(BinarySegmentation(*cost, {1, 1}, {2, 1.0}).ok());  // both
  EXPECT_FALSE(BinarySegmentation(*cost, {2, 1}, {5, {}}).ok());   // 5 breakpoints impossible
  EXPECT_FALSE(MakeSegmentCost(CostKind::kL2, {1.0, std::nan(""), 2.0}).ok());
  EXPECT_FALSE(MakeSegmentCost(CostKind::kRbf, std::vector<double>(kMaxRbfSamples + 1)).ok());
  EXPECT_FALSE(ParseCostKind("l1").ok());
}

TEST(ChangePoint, ConstantSignalHasNoChange) {
  const std::vector<double> flat(50, 0.7);
  for (CostKind kind : {CostKind::kL2, CostKind::kNormal, CostKind::kRbf}) {
    auto cost = Fit(kind, flat);
    auto pelt = Pelt(*cost, {2, 1}, DefaultPenalty(kind, flat));
    ASSERT_TRUE(pelt.ok());
    EXPECT_EQ(*pelt, std::vector<std::size_t>{50}) << CostKindName(kind);
  }
  EXPECT_EQ(DefaultPenalty(CostKind::kL2, flat), 0.0);
}

TEST(ChangePoint, DefaultPenaltyFormula) {
  // sigma = 1.4826 * MAD(diff) / sqrt(2); pen = 2 sigma^2 ln n.
  const std::vector<double> y = {0, 1, 0, 2, 1, 3, 2, 2, 4};
  // diff = [1,-1,2,-1,2,-1,0,2]; median 0.5; |diff - 0.5| = [.5,1.5,1.5,1.5,1.5,1.5,.5,1.5]
  const double sigma = 1.4826 * 1.5 / std::sqrt(2.0);
  EXPECT_DOUBLE_EQ(RobustNoiseSigma(y), sigma);
  EXPECT_DOUBLE_EQ(DefaultPenalty(CostKind::kL2, y), 2 * sigma * sigma * std::log(9.0));
  EXPECT_DOUBLE_EQ(DefaultPenalty(CostKind::kNormal, y), 3 * std::log(9.0));
  EXPECT_DOUBLE_EQ(DefaultPenalty(CostKind::kRbf, y), std::log(9.0));
  // MAD = 0 (mostly repeated differences): mean absolute difference fallback.
  const std::vector<double> steps = {0, 0, 0, 0, 1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(RobustNoiseSigma(steps), std::sqrt(M_PI) / 2.0 * (1.0 / 7.0));
}

// A long piecewise-constant signal: PELT recovers every planted change exactly.
TEST(ChangePoint, PeltRecoversPlantedSteps) {
  Rng rng(11);
  std::vector<double> y;
  std::vector<std::size_t> truth;
  for (int seg = 0; seg < 20; ++seg) {
    const double level = (seg % 2 == 0) ? 0.0 : 6.0;
    for (int i = 0; i < 200; ++i) y.push_back(level + rng.Normal());
    truth.push_back(y.size());
  }
  auto cost = Fit(CostKind::kL2, y);
  auto bkps = Pelt(*cost, {2, 1}, DefaultPenalty(CostKind::kL2, y));
  ASSERT_TRUE(bkps.ok());
  EXPECT_EQ(*bkps, truth);
}

// The l2 fast path (pelt_l2.cc) against ruptures' loop as transcribed, on signals where its
// bounds matter: no change (every block skipped), planted steps (pruning), slow drift, ties on
// integer plateaus, AR(1) noise; every min_size / jump combination and penalties from 0 up.
TEST(ChangePoint, BoundedL2PeltEqualsTheReferenceLoop) {
  Rng rng(2024);
  int compared = 0, with_changes = 0;
  for (int trial = 0; trial < 240; ++trial) {
    const std::size_t n = 50 + static_cast<std::size_t>(rng.UniformInt(700));
    std::vector<double> y(n);
    const int shape = trial % 6;
    double level = 0.0, ar = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      ar = 0.6 * ar + rng.Normal();
      switch (shape) {
        case 0:  // white noise, no change
          y[i] = 10.0 + rng.Normal();
          break;
        case 1:  // planted steps every ~100 points
          if (i % 97 == 0) level = 3.0 * rng.Normal();
          y[i] = level + rng.Normal();
          break;
        case 2:  // drift
          y[i] = 0.01 * static_cast<double>(i) + rng.Normal();
          break;
        case 3:  // integer plateaus: exact ties
          y[i] = static_cast<double>(rng.UniformInt(3)) + (i > n / 2 ? 2.0 : 0.0);
          break;
        case 4:  // AR(1), no change
          y[i] = ar;
          break;
        default:  // one small step, near the detection limit
          y[i] = rng.Normal() + (i > n / 3 ? 0.8 : 0.0);
      }
    }
    auto cost = Fit(CostKind::kL2, y);
    const auto& l2 = static_cast<const internal::L2Cost&>(*cost);
    const std::size_t min_size = 1 + trial % 4, jump = std::size_t{1} + (trial / 4) % 3 * 2;
    const double base = DefaultPenalty(CostKind::kL2, y);
    for (double pen : {base, 0.25 * base, 4.0 * base, 0.0}) {
      const auto want = internal::PeltReference(*cost, min_size, jump, pen);
      const auto got = internal::PeltL2(l2, min_size, jump, pen);
      EXPECT_EQ(got, want) << "trial " << trial << " shape " << shape << " n " << n << " min_size "
                           << min_size << " jump " << jump << " pen " << pen;
      ++compared;
      with_changes += want.size() > 1;
    }
  }
  EXPECT_EQ(compared, 960);
  EXPECT_GT(with_changes, 300);
}

// PELT on 20,000 change-free points: quadratic in ruptures' loop (2e8 evaluations), linear-ish
// here. A loose bound so that a regression to the quadratic loop fails even on a loaded machine.
TEST(ChangePoint, ChangeFreePeltIsNotQuadratic) {
  Rng rng(5);
  std::vector<double> y(20000);
  for (double& v : y) v = rng.Normal();
  auto cost = Fit(CostKind::kL2, y);
  const auto t0 = std::chrono::steady_clock::now();
  auto bkps = Pelt(*cost, {2, 1}, DefaultPenalty(CostKind::kL2, y));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(bkps.ok());
  EXPECT_EQ(*bkps, std::vector<std::size_t>{20000});
  EXPECT_LT(seconds, 0.25);
}

}  // namespace
}  // namespace phasesweep::analysis
