// Tests of AnalyzeSweep on synthetic sweeps with planted transitions (synthetic.h): every
// hypothesis finds what was planted, controls do not, results do not depend on threads, and bad
// input gives one-line errors.
#include "phasesweep/analysis/analyze.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "phasesweep/analysis/synthetic.h"

namespace phasesweep::analysis {
namespace {

AnalysisOptions FastOptions() {
  AnalysisOptions o;
  o.surrogates = 99;
  o.bootstrap = 500;
  o.threads = 2;
  o.seed = 3;
  return o;
}

class AnalyzeSweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new TraceSet(MakeSyntheticSweep(SyntheticSweepSpec{}));
    auto r = AnalyzeSweep(*set_, FastOptions());
    ASSERT_TRUE(r.ok()) << r.status().message();
    result_ = new AnalysisResult(std::move(r.value()));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete set_;
  }
  static const TestRecord& Test(int i) { return result_->tests.at(static_cast<std::size_t>(i)); }
  static TraceSet* set_;
  static AnalysisResult* result_;
};
TraceSet* AnalyzeSweepTest::set_ = nullptr;
AnalysisResult* AnalyzeSweepTest::result_ = nullptr;

// Grid points: 0 (wd 0), 1 (wd 0.1) regular; 2, 3 the random-label controls.
bool IsControlGrid(std::int64_t g) { return g >= 2; }

TEST_F(AnalyzeSweepTest, EveryTraceAnalysed) {
  EXPECT_EQ(result_->n_jobs, 32);
  EXPECT_EQ(result_->traces.size(), 32u * 5u);
  EXPECT_EQ(result_->metrics.size(), 5u);
  for (const auto& t : result_->traces) {
    if (IsControlGrid(t.grid_index) || t.metric == "test_loss") continue;
    EXPECT_TRUE(t.changepoint.found) << t.job_id << " " << t.metric;
    EXPECT_TRUE(t.significant) << t.job_id << " " << t.metric << " p=" << t.pvalue;
  }
}

TEST_F(AnalyzeSweepTest, SignificanceAcrossSeeds) {
  for (const auto& s : result_->significance) {
    if (s.metric != "test_acc") continue;
    ASSERT_GE(s.test, 0);
    if (IsControlGrid(s.grid_index)) {
      EXPECT_LE(s.n_significant, 2) << "grid " << s.grid_index;
      EXPECT_FALSE(Test(s.test).rejected);
    } else {
      EXPECT_EQ(s.n_significant, 8);
      EXPECT_TRUE(Test(s.test).rejected);
    }
  }
}

TEST_F(AnalyzeSweepTest, MedianTransitionStepsWithIntervals) {
  // test_acc rises at tc = 0.45 (grid 0) and 0.37 (grid 1) of 2000 steps.
  for (const auto& t : result_->transitions) {
    if (t.metric != "test_acc" || t.kind != TransitionKind::kChangePoint) continue;
    if (IsControlGrid(t.grid_index)) continue;
    const double expected = t.grid_index == 0 ? 900.0 : 740.0;
    EXPECT_NEAR(t.median_step.estimate, expected, 40.0);
    EXPECT_LE(t.median_step.low, t.median_step.estimate);
    EXPECT_GE(t.median_step.high, t.median_step.estimate);
    EXPECT_EQ(t.n_found, 8);
  }
}

TEST_F(AnalyzeSweepTest, EmbeddingTransitionPrecedesAccuracy) {
  int checked = 0;
  for (const auto& o : result_->orderings) {
    if (o.pair != "emb_cos_prev:changepoint<test_acc:changepoint" || IsControlGrid(o.grid_index))
      continue;
    EXPECT_EQ(o.lags.size(), 8u);
    EXPECT_EQ(o.n_a_first, 8);
    EXPECT_LT(o.median_lag.estimate, -100.0);
    ASSERT_GE(o.wilcoxon_test, 0);
    // Lags live on the 10-step probe grid, so |lag| ties: the normal approximation is used
    // (SciPy's exact distribution assumes no ties).
    EXPECT_EQ(Test(o.wilcoxon_test).method, "approx");
    EXPECT_LT(Test(o.wilcoxon_test).pvalue, 0.012);   // 0.0117 without ties, less with ties
    EXPECT_EQ(Test(o.wilcoxon_test).statistic, 0.0);  // min(R+, R-): no positive lag
    EXPECT_NEAR(Test(o.sign_test).pvalue, 2.0 / 256.0, 1e-12);  // binomtest(0, 8, 0.5)
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(AnalyzeSweepTest, ThreePhasesInRegularConfigsNotInControls) {
  for (const auto& s : result_->phase_summaries) {
    if (s.metric != "emb_cos_prev") continue;
    if (s.control) {
      EXPECT_LE(s.fraction, 0.25) << "grid " << s.grid_index;
    } else {
      EXPECT_GE(s.fraction, 0.75) << "grid " << s.grid_index;
    }
  }
  bool compared = false;
  for (const auto& c : result_->phase_comparisons) {
    if (c.metric != "emb_cos_prev") continue;
    ASSERT_GE(c.test, 0);
    EXPECT_TRUE(Test(c.test).rejected);
    compared = true;
  }
  EXPECT_TRUE(compared);
}

TEST_F(AnalyzeSweepTest, WeightDecayMovesTheTransition) {
  bool found = false;
  for (const auto& e : result_->effects) {
    if (e.axis != "optimizer.weight_decay" || e.metric != "test_acc") continue;
    if (e.fixed != "task.random_labels=false") continue;
    ASSERT_EQ(e.levels, (std::vector<std::string>{"0", "0.1"}));
    ASSERT_GE(e.kruskal_test, 0);
    EXPECT_TRUE(Test(e.kruskal_test).rejected);
    ASSERT_EQ(e.mannwhitney_tests.size(), 1u);
    EXPECT_NEAR(Test(e.mannwhitney_tests[0]).statistic, 64.0, 1e-12);  // all of level 0 later
    ASSERT_GE(e.spearman_test, 0);
    EXPECT_LT(Test(e.spearman_test).statistic, -0.8);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(AnalyzeSweepTest, EarlyStoppingWouldCutRegularRunsShort) {
  for (const auto& s : result_->early_stop_summaries) {
    if (IsControlGrid(s.grid_index)) continue;
    EXPECT_EQ(s.n, 8);
    EXPECT_EQ(s.n_cut_short, s.n_with_reference);
    EXPECT_DOUBLE_EQ(s.fraction, 1.0);
    EXPECT_LT(s.ci_low, 1.0);
  }
}

TEST_F(AnalyzeSweepTest, AdjustedTogetherAndSummarised) {
  ASSERT_FALSE(result_->tests.empty());
  for (const auto& t : result_->tests) {
    EXPECT_GE(t.pvalue_adjusted, t.pvalue) << t.description;
    EXPECT_LE(t.pvalue_adjusted, 1.0);
  }
  const std::string text = FormatSummary(*result_);
  for (const char* needle : {"Transition steps", "Ordering", "Three phases", "Hyperparameter",
                             "Early stopping", "All tests"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  EXPECT_FALSE(result_->bands.empty());
  EXPECT_EQ(result_->bands[0].points.size(), 200u);
  EXPECT_EQ(result_->bands[0].points[0].count, 8);
}

TEST(AnalyzeSweep, DeterministicWhateverTheThreads) {
  SyntheticSweepSpec spec;
  spec.seeds = 4;
  spec.probes = 80;
  spec.controls = false;
  const TraceSet set = MakeSyntheticSweep(spec);
  AnalysisOptions a = FastOptions(), b = FastOptions();
  a.threads = 1;
  b.threads = 3;
  auto ra = AnalyzeSweep(set, a), rb = AnalyzeSweep(set, b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_EQ(ra->traces.size(), rb->traces.size());
  for (std::size_t i = 0; i < ra->traces.size(); ++i) {
    EXPECT_EQ(ra->traces[i].pvalue, rb->traces[i].pvalue);
    EXPECT_EQ(ra->traces[i].changepoint.step_hi, rb->traces[i].changepoint.step_hi);
  }
  ASSERT_EQ(ra->tests.size(), rb->tests.size());
  for (std::size_t i = 0; i < ra->tests.size(); ++i)
    EXPECT_EQ(ra->tests[i].pvalue_adjusted, rb->tests[i].pvalue_adjusted);
  EXPECT_EQ(FormatSummary(*ra), FormatSummary(*rb));
}

TEST(AnalyzeSweep, BadInputIsAOneLineError) {
  EXPECT_EQ(AnalyzeSweep(TraceSet{}, AnalysisOptions{}).status().code(), Status::Code::kNotFound);
  SyntheticSweepSpec spec;
  spec.seeds = 2;
  spec.probes = 30;
  spec.controls = false;
  TraceSet set = MakeSyntheticSweep(spec);
  AnalysisOptions o = FastOptions();
  o.metrics = {"test_acc", "sharpness"};
  auto missing = AnalyzeSweep(set, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("available: cka_prev, emb_cos_prev"),
            std::string::npos);
  EXPECT_EQ(missing.status().message().find('\n'), std::string::npos);
  TraceSet bad = set;
  bad.jobs[0].trace.metrics["test_acc"].pop_back();
  EXPECT_EQ(AnalyzeSweep(bad, FastOptions()).status().code(), Status::Code::kInvalidArgument);
  TraceSet dup = set;
  dup.jobs[1].job_id = dup.jobs[0].job_id;
  EXPECT_FALSE(AnalyzeSweep(dup, FastOptions()).ok());
  TraceSet unsorted = set;
  std::swap(unsorted.jobs[0].trace.steps[3], unsorted.jobs[0].trace.steps[4]);
  auto us = AnalyzeSweep(unsorted, FastOptions());
  ASSERT_FALSE(us.ok());
  EXPECT_NE(us.status().message().find("job 'g0s0'"), std::string::npos);
  AnalysisOptions alpha = FastOptions();
  alpha.alpha = 1.5;
  EXPECT_EQ(AnalyzeSweep(set, alpha).status().code(), Status::Code::kInvalidArgument);
}

// Three seeds of one grid point, 60 probes, no controls.
TraceSet ThreeSeedsOneLevel() {
  SyntheticSweepSpec spec;
  spec.seeds = 3;
  spec.probes = 60;
  spec.controls = false;
  spec.levels = {"0"};
  return MakeSyntheticSweep(spec);
}

TEST(AnalyzeSweep, DivergedConstantShortAndFailedJobs) {
  TraceSet set = ThreeSeedsOneLevel();
  for (std::size_t i = 45; i < 60; ++i) set.jobs[0].trace.metrics["test_acc"][i] = std::nan("");
  set.jobs[0].status = JobStatus::kDiverged;
  set.jobs[1].trace.metrics["emb_cos_prev"].assign(60, 0.97);
  set.jobs[2].status = JobStatus::kFailed;
  TraceJob tiny;
  tiny.job_id = "tiny";
  tiny.grid_index = 0;
  tiny.trace.steps = {0, 10, 20};
  tiny.trace.metrics["test_acc"] = {0.1, 0.2, 0.9};
  set.jobs.push_back(tiny);
  AnalysisOptions o = FastOptions();
  o.orderings.push_back(*ParseOrderingPair("sharpness<test_acc"));
  auto r = AnalyzeSweep(set, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->n_jobs_skipped, 1);
  auto has_note = [&](const std::string& s) {
    for (const auto& n : r->notes)
      if (n.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has_note("1 failed job(s) skipped"));
  EXPECT_TRUE(has_note("job g0s0 test_acc: non-finite values excluded at steps 450-590"));
  EXPECT_TRUE(has_note("1 constant trace(s): no change"));
  EXPECT_TRUE(has_note("job tiny test_acc: too short"));
  EXPECT_TRUE(has_note("ordering sharpness:changepoint<test_acc:changepoint skipped"));
  for (const auto& t : r->traces) {
    if (t.job_id == "g0s1" && t.metric == "emb_cos_prev") {
      EXPECT_FALSE(t.changepoint.found);
      EXPECT_EQ(t.pvalue, 1.0);
    }
    if (t.job_id == "g0s0" && t.metric == "test_acc") {
      EXPECT_EQ(t.n_valid, 45u);
    }
  }
  // BH instead of Holm: never larger adjusted p-values.
  AnalysisOptions bh = o;
  bh.adjust = Adjustment::kBenjaminiHochberg;
  auto rb = AnalyzeSweep(set, bh);
  ASSERT_TRUE(rb.ok());
  for (std::size_t i = 0; i < r->tests.size(); ++i)
    EXPECT_LE(rb->tests[i].pvalue_adjusted, r->tests[i].pvalue_adjusted + 1e-15);
}

// Metrics against the previous probe are NaN at the first probe step (docs/METRICS.md): that step
// is left out, with one note per metric rather than one per job, and it cannot be a transition
// (a stand-in of 1 there used to make emb_cos_prev cross its 0.98 threshold at step 0).
TEST(AnalyzeSweep, FirstProbeStepWithoutValueIsLeftOutWithOneNote) {
  TraceSet set = ThreeSeedsOneLevel();
  for (TraceJob& job : set.jobs) {
    std::vector<double>& v = job.trace.metrics["emb_cos_prev"];
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = i < 30 ? 0.5 + 0.001 * double(i) : 0.99;
    v[0] = std::nan("");
  }
  auto r = AnalyzeSweep(set, FastOptions());
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::size_t first_step_notes = 0;
  for (const auto& n : r->notes) {
    EXPECT_EQ(n.find("emb_cos_prev: non-finite values excluded"), std::string::npos) << n;
    first_step_notes +=
        n.find("emb_cos_prev: no finite value at the first probe step in 3 job(s)") !=
        std::string::npos;
  }
  EXPECT_EQ(first_step_notes, 1u);
  std::size_t seen = 0;
  for (const auto& t : r->traces) {
    if (t.metric != "emb_cos_prev") continue;
    ++seen;
    EXPECT_EQ(t.n_valid, 59u);
    ASSERT_TRUE(t.threshold.found) << t.threshold.note;
    EXPECT_EQ(t.threshold.step_hi, set.jobs[0].trace.steps[30]);
  }
  EXPECT_EQ(seen, 3u);
}

TEST(AnalyzeSweep, OrderingPairSyntax) {
  auto p = ParseOrderingPair("emb_cos_prev<train_loss");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->b_kind, TransitionKind::kSettle);  // a loss's transition is its plateau
  EXPECT_EQ(FormatOrderingPair(*p), "emb_cos_prev:changepoint<train_loss:settle");
  auto q = ParseOrderingPair("cka_prev:threshold<test_acc:steepest");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->a_kind, TransitionKind::kThreshold);
  EXPECT_EQ(q->b_kind, TransitionKind::kSteepest);
  EXPECT_FALSE(ParseOrderingPair("a>b").ok());
  EXPECT_FALSE(ParseOrderingPair("a<b<c").ok());
  EXPECT_FALSE(ParseOrderingPair("<b").ok());
  EXPECT_FALSE(ParseOrderingPair("a:onset<b").ok());
}

// analysis.min_change: a clean but tiny change of test accuracy (two test examples of 88 at
// probe 40) is significant by its p-value, and is not counted against the default minimum of
// 0.05 for test_acc, with a note naming its height; without a minimum it counts.
TEST(AnalyzeSweep, TransitionsBelowTheSmallestRelevantChangeAreNotCounted) {
  TraceSet set = ThreeSeedsOneLevel();
  for (auto& job : set.jobs) {
    std::vector<double>& acc = job.trace.metrics["test_acc"];
    for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = (i < 40 ? 3.0 : 5.0) / 88;
  }
  AnalysisOptions o = FastOptions();
  o.metrics = {"test_acc"};
  ASSERT_EQ(o.min_change.at("test_acc"), 0.05);  // the catalog's default
  auto r = AnalyzeSweep(set, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_FALSE(r->traces.empty());
  for (const auto& t : r->traces) {
    EXPECT_LE(t.pvalue, 0.05) << t.job_id;
    EXPECT_NEAR(t.height, 2.0 / 88, 1e-9) << t.job_id;
    EXPECT_FALSE(t.significant) << t.job_id;
    EXPECT_NE(t.note.find("below analysis.min_change 0.05"), std::string::npos) << t.note;
  }
  o.min_change.clear();
  auto all = AnalyzeSweep(set, o);
  ASSERT_TRUE(all.ok());
  for (const auto& t : all->traces) EXPECT_TRUE(t.significant) << t.job_id;
}

}  // namespace
}  // namespace phasesweep::analysis
