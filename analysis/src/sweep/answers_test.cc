// Tests of the answer lines (answers.h): on a synthetic sweep with planted transitions the
// answers find them; on the bad inputs of issue 13 (nothing transitions, one seed, controls only,
// a pair naming an unprobed metric) every line still comes and says what evidence is missing.
#include "phasesweep/analysis/answers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "phasesweep/analysis/analyze.h"
#include "phasesweep/analysis/synthetic.h"

namespace phasesweep::analysis {
namespace {

AnalysisOptions FastOptions() {
  AnalysisOptions o;
  o.surrogates = 49;
  o.bootstrap = 300;
  o.threads = 2;
  o.seed = 5;
  return o;
}

std::vector<Answer> AnswersOf(const TraceSet& set, const AnalysisOptions& o = FastOptions()) {
  auto r = AnalyzeSweep(set, o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? BuildAnswers(*r) : std::vector<Answer>{};
}

// Keeps only the random-label jobs of a synthetic sweep.
void KeepControls(TraceSet* set) {
  auto& jobs = set->jobs;
  jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                            [](const TraceJob& j) {
                              return j.hparams.at("task.random_labels") != "true";
                            }),
             jobs.end());
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

void ExpectSevenLines(const std::vector<Answer>& a) {
  ASSERT_EQ(a.size(), 7u);
  const char* topics[] = {"pattern", "ordering",    "early_stopping", "hyperparameters",
                          "control", "equilibrium", "signals"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(a[i].id, i + 1);
    EXPECT_EQ(a[i].topic, topics[i]);
    EXPECT_EQ(a[i].text.rfind(std::to_string(i + 1) + ". ", 0), 0u) << a[i].text;
    EXPECT_EQ(a[i].text.find('\n'), std::string::npos) << a[i].text;
  }
}

TEST(MinSeeds, ExactTestsAgainstTheFamily) {
  // 2 / 2^10 * 16 = 0.031 <= 0.05 but 2 / 2^9 * 16 = 0.0625.
  EXPECT_EQ(MinSeedsPaired(16, 0.05, true), 10);
  EXPECT_EQ(MinSeedsPaired(16, 0.05, false), 9);
  // 8 seeds give at best 2/256 = 0.0078: after 16 p-values 0.125 (the complaint).
  EXPECT_GT(MinSeedsPaired(16, 0.05, true), 8);
  // 0.05^3 * 100 = 0.0125 <= 0.05; 0.05^2 * 100 = 0.25.
  EXPECT_EQ(MinSeedsBinomial(100, 0.05), 3);
  // C(8, 4) = 70 >= 40 > C(6, 3) = 20.
  EXPECT_EQ(MinSeedsMannWhitney(1, 0.05), 4);
}

TEST(Answers, FindThePlantedTransitions) {
  SyntheticSweepSpec spec;
  spec.seeds = 8;
  spec.probes = 120;
  const auto a = AnswersOf(MakeSyntheticSweep(spec));
  ExpectSevenLines(a);
  // The planted emb_cos_prev transition sits at the same fraction of the run in every seed: the
  // cross-seed agreement test finds the seeds agree on when, at every regular grid point.
  EXPECT_TRUE(Has(a[0].text, "the seeds agree on when it happens at 2/2 grid points")) << a[0].text;
  // emb_cos_prev changes 0.1 of the run before test_acc crosses 0.9, in every seed.
  EXPECT_TRUE(Has(a[1].text, "emb_cos_prev first in 16/16")) << a[1].text;
  // Early stopping on test_loss stops during its planted rise, before the transition.
  EXPECT_TRUE(Has(a[2].text, "Yes, in most seeds")) << a[2].text;
  // The weight-decay levels shift the transition by 0.08 of the run.
  EXPECT_TRUE(Has(a[3].text, "optimizer.weight_decay")) << a[3].text;
  EXPECT_TRUE(Has(a[3].text, "moves it")) << a[3].text;
  // Controls never reach the accuracy threshold.
  EXPECT_TRUE(Has(a[4].text, "test_acc>=0.9 reached in 0/16 (0%) control vs 16/16 (100%) regular"))
      << a[4].text;
  EXPECT_TRUE(Has(a[5].text, "not enough evidence")) << a[5].text;  // no rel_update probed
  EXPECT_TRUE(Has(a[6].text, "Best: emb_cos_prev")) << a[6].text;
  const std::string text = FormatAnswers(a);
  EXPECT_EQ(text.rfind("Answers\n  1. ", 0), 0u);
}

TEST(Answers, NothingTransitions) {
  // Controls only in shape, but flagged regular: no jump, flat stability, slowly falling loss.
  SyntheticSweepSpec spec;
  spec.seeds = 6;
  spec.probes = 80;
  TraceSet set = MakeSyntheticSweep(spec);
  KeepControls(&set);
  for (auto& j : set.jobs) j.hparams["task.random_labels"] = "false";
  const auto a = AnswersOf(set);
  ExpectSevenLines(a);
  EXPECT_TRUE(Has(a[6].text, "not enough evidence: test_acc>=0.9 was reached in no regular seed"))
      << a[6].text;
  EXPECT_TRUE(Has(a[4].text, "no control jobs")) << a[4].text;
}

TEST(Answers, SingleSeedSaysWhichNeedMoreSeeds) {
  SyntheticSweepSpec spec;
  spec.seeds = 1;
  spec.probes = 80;
  const auto a = AnswersOf(MakeSyntheticSweep(spec));
  ExpectSevenLines(a);
  EXPECT_TRUE(Has(a[0].text, "needs >= ")) << a[0].text;
  EXPECT_TRUE(Has(a[0].text, "whether the seeds agree on when was not tested (needs >= 3 seeds"))
      << a[0].text;
  EXPECT_TRUE(Has(a[3].text, "needs >= ")) << a[3].text;
  EXPECT_TRUE(Has(a[1].text, "needs >= ") || Has(a[1].text, "no test")) << a[1].text;
}

TEST(Answers, ControlOnlySweep) {
  SyntheticSweepSpec spec;
  spec.seeds = 4;
  spec.probes = 80;
  TraceSet set = MakeSyntheticSweep(spec);
  KeepControls(&set);
  const auto a = AnswersOf(set);
  ExpectSevenLines(a);
  EXPECT_TRUE(Has(a[0].text, "only control jobs")) << a[0].text;
  EXPECT_TRUE(Has(a[4].text, "only control jobs")) << a[4].text;
  EXPECT_TRUE(Has(a[6].text, "not enough evidence")) << a[6].text;
}

TEST(Answers, PairNamingAnUnprobedMetricIsANote) {
  SyntheticSweepSpec spec;
  spec.seeds = 6;
  spec.probes = 80;
  AnalysisOptions o = FastOptions();
  o.orderings.push_back(*ParseOrderingPair("fourier_gini<test_acc"));
  auto r = AnalyzeSweep(MakeSyntheticSweep(spec), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  bool noted = false;
  for (const auto& n : r->notes) noted = noted || Has(n, "'fourier_gini' not analysed");
  EXPECT_TRUE(noted);
  const auto a = BuildAnswers(*r);
  ExpectSevenLines(a);
  EXPECT_TRUE(Has(a[1].text, "emb_cos_prev first")) << a[1].text;  // the rest still runs
}

// Answer 6 from hand-made bands: steady updates and a drifting embedding read as an
// equilibrium; shrinking updates as convergence.
AnalysisResult Bands(double update_decay, double drift) {
  AnalysisResult r;
  r.metrics = {"emb_cos_init", "emb_cos_prev", "rel_update"};
  r.grid_points.push_back({0, false, 4, {}});
  for (const std::string& m : r.metrics) {
    Band b;
    b.metric = m;
    for (int i = 0; i < 50; ++i) {
      b.steps.push_back(i * 10);
      BandPoint p;
      p.count = 4;
      p.median = m == "emb_cos_prev" ? 0.999
                 : m == "rel_update" ? 0.01 * std::pow(update_decay, i)
                                     : 0.9 - drift * i;
      b.points.push_back(p);
    }
    r.bands.push_back(b);
  }
  return r;
}

TEST(Answers, EquilibriumFromBands) {
  EXPECT_TRUE(Has(AnswerEquilibrium(Bands(1.0, 0.002)), "optimiser's equilibrium"));
  EXPECT_TRUE(Has(AnswerEquilibrium(Bands(0.9, 0.002)), "convergence"));
  EXPECT_TRUE(Has(AnswerEquilibrium(Bands(1.0, 0.0)), "no longer drifts"));
  AnalysisResult none = Bands(1.0, 0.0);
  none.bands.pop_back();
  EXPECT_TRUE(Has(AnswerEquilibrium(none), "not enough evidence"));
}

}  // namespace
}  // namespace phasesweep::analysis
