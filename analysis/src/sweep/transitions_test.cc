// Tests of the per-trace transition definitions (changepoint, steepest, threshold, settle), the
// handling of NaN, constant and short traces, and option parsing.
#include "phasesweep/analysis/transitions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

std::vector<std::int64_t> Steps(std::size_t n, std::int64_t every = 10) {
  std::vector<std::int64_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::int64_t>(i) * every;
  return s;
}

std::vector<double> NoisyStep(std::size_t n, std::size_t at, double height, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = (i >= at ? height : 0.0) + 0.2 * rng.Normal();
  return y;
}

TEST(Transitions, StepIsAnIntervalOnTheProbeGrid) {
  const auto steps = Steps(60);
  const auto y = NoisyStep(60, 25, 3.0, 1);
  auto t = DetectTransitions(steps, y, TransitionOptions{});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(t->changepoint.found);
  EXPECT_EQ(t->changepoint.step_lo, 240);
  EXPECT_EQ(t->changepoint.step_hi, 250);
  EXPECT_EQ(t->changepoint.index_hi, 25u);
  EXPECT_DOUBLE_EQ(t->changepoint.Midpoint(), 245.0);
  EXPECT_GT(t->changepoint.magnitude, 0.0);
  ASSERT_TRUE(t->steepest.found);
  EXPECT_NEAR(static_cast<double>(t->steepest.index_hi), 25.0, 1.0);
  EXPECT_GT(t->steepest.magnitude, 0.0);
  ASSERT_TRUE(t->settle.found);
  EXPECT_NEAR(static_cast<double>(t->settle.index_hi), 27.0, 3.0);
  EXPECT_NEAR(t->settle.magnitude, 3.0, 0.2);
  EXPECT_FALSE(t->threshold.found);  // none configured
  EXPECT_EQ(t->n_valid, 60u);
  EXPECT_FALSE(t->breakpoint_steps.empty());
}

TEST(Transitions, ThresholdNeedsKConsecutiveProbes) {
  const auto steps = Steps(10);
  const std::vector<double> acc = {0.1, 0.5, 0.92, 0.85, 0.91, 0.93, 0.95, 0.97, 0.2, 0.99};
  TransitionOptions o;
  o.threshold = ThresholdRule{"test_acc", true, 0.9, 3};
  auto t = DetectTransitions(steps, acc, o);
  ASSERT_TRUE(t->threshold.found);
  EXPECT_EQ(t->threshold.step_lo, 30);  // 0.92 at step 20 is not sustained
  EXPECT_EQ(t->threshold.step_hi, 40);
  EXPECT_DOUBLE_EQ(t->threshold.magnitude, 0.91);
  o.threshold = ThresholdRule{"loss", false, 0.05, 1};
  EXPECT_FALSE(DetectTransitions(steps, acc, o)->threshold.found);
  o.threshold = ThresholdRule{"acc", true, 0.05, 2};
  auto at_start = DetectTransitions(steps, acc, o);
  ASSERT_TRUE(at_start->threshold.found);
  EXPECT_EQ(at_start->threshold.step_lo, 0);
  EXPECT_EQ(at_start->threshold.step_hi, 0);
  EXPECT_FALSE(at_start->threshold.note.empty());
}

TEST(Transitions, NanRunsAreExcludedAndReported) {
  const auto steps = Steps(50);
  auto y = NoisyStep(50, 20, 3.0, 2);
  y[5] = std::nan("");
  for (std::size_t i = 40; i < 50; ++i) y[i] = std::numeric_limits<double>::infinity();  // diverged
  auto t = DetectTransitions(steps, y, TransitionOptions{});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->n_valid, 39u);
  ASSERT_EQ(t->excluded.size(), 2u);
  EXPECT_EQ(t->excluded[0], (std::pair<std::int64_t, std::int64_t>{50, 50}));
  EXPECT_EQ(t->excluded[1], (std::pair<std::int64_t, std::int64_t>{400, 490}));
  ASSERT_TRUE(t->changepoint.found);
  EXPECT_EQ(t->changepoint.step_hi, 200);
}

TEST(Transitions, ConstantShortAndEmptyTraces) {
  const auto steps = Steps(30);
  TransitionOptions o;
  o.threshold = ThresholdRule{"cos", true, 0.98, 3};
  auto flat = DetectTransitions(steps, std::vector<double>(30, 0.99), o);
  ASSERT_TRUE(flat.ok());
  EXPECT_FALSE(flat->changepoint.found);
  EXPECT_FALSE(flat->steepest.found);
  EXPECT_FALSE(flat->settle.found);
  EXPECT_EQ(flat->note, "constant trace: no change");
  EXPECT_TRUE(flat->threshold.found);  // at 0.99 from the first probe
  auto shortt = DetectTransitions(Steps(3), {0.1, 0.5, 0.9}, TransitionOptions{});
  ASSERT_TRUE(shortt.ok());
  EXPECT_FALSE(shortt->changepoint.found);
  EXPECT_NE(shortt->changepoint.note.find("too short"), std::string::npos);
  auto empty = DetectTransitions({0, 1}, {std::nan(""), std::nan("")}, TransitionOptions{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->note, "no finite values");
  EXPECT_FALSE(DetectTransitions({0, 1}, {1.0}, TransitionOptions{}).ok());
  EXPECT_FALSE(DetectTransitions({0, 5, 5}, {1, 2, 3}, TransitionOptions{}).ok());
}

TEST(Transitions, SmoothingPreservesConstantsAndMeans) {
  const std::vector<double> c(9, 2.5);
  for (double v : GaussianSmooth(c, 1.5)) EXPECT_NEAR(v, 2.5, 1e-15);
  const auto s = GaussianSmooth({0, 0, 0, 0, 1, 1, 1, 1}, 1.0);
  EXPECT_NEAR(s[3] + s[4], 1.0, 1e-12);  // symmetric about the step
  EXPECT_LT(s[3], 0.5);
  EXPECT_EQ(GaussianSmooth({1, 2}, 0.0), (std::vector<double>{1, 2}));
}

TEST(Transitions, ParsesRulesAndKinds) {
  auto r = ParseThresholdRule("test_acc>=0.9");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->metric, "test_acc");
  EXPECT_TRUE(r->at_least);
  EXPECT_EQ(r->value, 0.9);
  EXPECT_EQ(r->k, 3);
  auto l = ParseThresholdRule("train_loss<=0.05:5");
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(l->at_least);
  EXPECT_EQ(l->k, 5);
  EXPECT_EQ(FormatThresholdRule(*l), "train_loss<=0.05:5");
  EXPECT_FALSE(ParseThresholdRule("acc>0.9").ok());
  EXPECT_FALSE(ParseThresholdRule(">=0.9").ok());
  EXPECT_FALSE(ParseThresholdRule("acc>=abc").ok());
  EXPECT_FALSE(ParseThresholdRule("acc>=0.9:0").ok());
  for (TransitionKind k : kAllTransitionKinds)
    EXPECT_EQ(*ParseTransitionKind(TransitionKindName(k)), k);
  EXPECT_FALSE(ParseTransitionKind("onset").ok());
}

}  // namespace
}  // namespace phasesweep::analysis
