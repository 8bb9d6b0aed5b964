// `phasesweep analyze` end to end on small results files written with the storage writer:
// synthetic traces with a planted transition, /analysis written back, and each bad input.
#include "phasesweep/analysis/analyze_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/analysis/synthetic.h"
#include "phasesweep/spec/catalog.h"
#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "results_file_fixture.h"

namespace phasesweep::analysis {
namespace {

using testutil::Scratch;

constexpr char kConfig[] =
    "sweep: {name: t}\n"
    "analysis:\n"
    "  metrics: [emb_cos_prev, test_acc]\n"
    "  alpha: 0.05\n"
    "  adjust: bh\n"
    "  surrogates: 39\n"
    "  pairs: [\"emb_cos_prev<test_acc\"]\n";

// Writes `jobs` into a new results file; returns its path.
std::string WriteResults(const Scratch& dir, const std::vector<TraceJob>& jobs,
                         const std::string& config = kConfig) {
  return testutil::WriteTraceJobs(dir, jobs, config);
}

const storage::Table& FindTable(const std::vector<storage::Table>& tables,
                                const std::string& name) {
  for (const auto& t : tables)
    if (t.name == name) return t;
  ADD_FAILURE() << "no table " << name;
  static const storage::Table empty;
  return empty;
}

template <class T>
std::vector<T> Column(const storage::Table& table, const std::string& name) {
  for (const auto& c : table.columns)
    if (c.name == name) return std::get<std::vector<T>>(c.values);
  ADD_FAILURE() << "no column " << table.name << "/" << name;
  return {};
}

std::vector<TraceJob> Synthetic(int probes = 60) {
  SyntheticSweepSpec spec;
  spec.levels = {"0"};
  spec.seeds = 4;
  spec.probes = probes;
  spec.controls = false;
  spec.metrics = {"emb_cos_prev", "test_acc", "train_loss"};
  return MakeSyntheticSweep(spec).jobs;
}

// Every `analysis:` key with a valid value other than its default.
const char* const kEveryKeyNotDefault =
    "analysis:\n  metrics: [a]\n  alpha: 0.01\n  adjust: bh\n  surrogates: 9\n"
    "  surrogate: block\n  bootstrap: 100\n  confidence: 0.9\n  seed: 4\n"
    "  threads: 1\n  bands: false\n  cost: normal\n  penalty: 3.5\n"
    "  penalty_scale: 2\n  min_size: 3\n  jump: 2\n  smooth_sigma: 0\n"
    "  settle_tolerance: 0.1\n  thresholds: [\"a<=0.1:4\"]\n  min_change: [\"a:0.2\"]\n"
    "  pairs: [\"a<b\"]\n"
    "  ordering_alternative: less\n  stability_metrics: [a]\n"
    "  control_key: ctl\n  effect_kind: steepest\n  early_stop_metric: l\n"
    "  early_stop_reference: a:threshold\n  patience: 2\n  min_delta: 0.01\n";

TEST(AnalyzeCommandTest, PlantedTransitionIsSignificantAndStored) {
  Scratch dir;
  const std::string path = WriteResults(dir, Synthetic());
  std::ostringstream text;
  ASSERT_TRUE(RunAnalyze({path, {}, false, true}, text).ok());
  EXPECT_NE(text.str().find("emb_cos_prev"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("test_acc"), std::string::npos);
  EXPECT_EQ(text.str().find("train_loss"), std::string::npos);  // not in analysis.metrics
  EXPECT_NE(text.str().find("(bh)"), std::string::npos) << text.str();

  std::ostringstream json;
  ASSERT_TRUE(RunAnalyze({path, {"emb_cos_prev"}, true, true}, json).ok());
  EXPECT_NE(json.str().find("\"significant\":true"), std::string::npos) << json.str();
  EXPECT_EQ(json.str().find("\"metric\":\"test_acc\""), std::string::npos);

  std::map<std::string, std::string> attrs;
  auto tables = storage::ReadAnalysis(path, &attrs);
  ASSERT_TRUE(tables.ok()) << tables.status().message();
  EXPECT_EQ(attrs.at("metrics"), "emb_cos_prev");
  const storage::Table& traces = FindTable(*tables, "traces");
  for (const auto& c : traces.columns) {
    if (c.name == "significant") {
      const auto& v = std::get<std::vector<int64_t>>(c.values);
      ASSERT_EQ(v.size(), 4u);
      int sig = 0;
      for (int64_t s : v) sig += static_cast<int>(s);
      EXPECT_GE(sig, 3);
    }
    if (c.name == "changepoint_step_hi") {
      // Planted near tc - 0.1 of 60 probes x 10 steps: 0.35 * 600 = 210.
      for (int64_t s : std::get<std::vector<int64_t>>(c.values)) EXPECT_NEAR(s, 210, 60);
    }
  }
}

// Every hypothesis of the issue is stored under /analysis, its tests linked by row index, and the
// `analysis:` keys of the stored config reach the options.
TEST(AnalyzeCommandTest, HypothesesAndBandsAreStored) {
  Scratch dir;
  SyntheticSweepSpec spec;
  spec.seeds = 4;
  spec.probes = 80;
  const std::vector<TraceJob> jobs = MakeSyntheticSweep(spec).jobs;  // 2 levels + 2 controls
  const std::string config =
      "analysis:\n"
      "  adjust: bh\n"
      "  surrogates: 19\n"
      "  bootstrap: 200\n"
      "  patience: 5\n"
      "  early_stop_reference: emb_cos_prev:steepest\n"
      "  thresholds: [\"test_acc>=0.8:2\"]\n"
      "  seed: 7\n";
  const std::string path = WriteResults(dir, jobs, config);
  std::ostringstream text;
  ASSERT_TRUE(RunAnalyze({path, {}, false, true}, text).ok());
  std::map<std::string, std::string> attrs;
  auto tables = storage::ReadAnalysis(path, &attrs);
  ASSERT_TRUE(tables.ok()) << tables.status().message();
  std::vector<std::string> names;
  for (const auto& t : *tables) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"answers", "bands", "early_stop_summaries",
                                             "early_stops", "effect_levels", "effect_pairs",
                                             "effects", "notes", "ordering_lags", "orderings",
                                             "phase_comparisons", "phase_summaries", "phases",
                                             "significance", "tests", "traces", "transitions"}));
  EXPECT_EQ(attrs.at("setting.adjust"), "bh");
  EXPECT_EQ(attrs.at("setting.patience"), "5");
  EXPECT_EQ(attrs.at("setting.early_stop"), "test_loss vs emb_cos_prev:steepest");
  EXPECT_EQ(attrs.at("setting.threshold"), "test_acc>=0.8:2");
  EXPECT_EQ(
      attrs.at("setting.ordering"),
      "emb_cos_prev:changepoint<test_acc:changepoint, "
      "emb_cos_prev:changepoint<train_loss:settle, cka_prev:changepoint<test_acc:changepoint");

  const auto n_tests =
      static_cast<int64_t>(Column<double>(FindTable(*tables, "tests"), "pvalue").size());
  ASSERT_GT(n_tests, 0);
  auto linked = [&](const std::string& table, const std::string& column, bool all) {
    const auto v = Column<int64_t>(FindTable(*tables, table), column);
    EXPECT_FALSE(v.empty()) << table;
    for (int64_t i : v) {
      EXPECT_LT(i, n_tests) << table << "/" << column;
      EXPECT_GE(i, all ? 0 : -1) << table << "/" << column;
    }
  };
  linked("significance", "binomial_test", true);
  linked("orderings", "wilcoxon_test", false);
  linked("orderings", "sign_test", false);
  linked("phase_comparisons", "fisher_test", true);
  linked("effects", "kruskal_test", false);
  linked("effect_pairs", "mannwhitney_test", true);

  // Bands: 4 grid points x 5 metrics x 80 probes, quartiles around the median.
  const storage::Table& bands = FindTable(*tables, "bands");
  const auto median = Column<double>(bands, "median");
  const auto q25 = Column<double>(bands, "q25"), q75 = Column<double>(bands, "q75");
  const auto lo = Column<double>(bands, "mean_low"), hi = Column<double>(bands, "mean_high");
  const auto mean = Column<double>(bands, "mean");
  ASSERT_EQ(median.size(), 4u * 5u * 80u);
  for (size_t i = 0; i < median.size(); ++i) {
    EXPECT_LE(q25[i], median[i]);
    EXPECT_LE(median[i], q75[i]);
    EXPECT_LE(lo[i], mean[i]);
    EXPECT_LE(mean[i], hi[i]);
  }
  EXPECT_EQ(Column<int64_t>(bands, "count")[0], 4);

  // Default pairs: 3 pairs x 4 grid points; per-seed lags of the regular grid points.
  EXPECT_EQ(Column<std::string>(FindTable(*tables, "orderings"), "pair").size(), 12u);
  EXPECT_FALSE(Column<double>(FindTable(*tables, "ordering_lags"), "lag").empty());
  // Three phases per seed of both stability metrics, regular and control.
  const storage::Table& phases = FindTable(*tables, "phases");
  EXPECT_EQ(Column<int64_t>(phases, "three_phase").size(), 2u * 16u);
  int64_t controls = 0;
  for (int64_t c : Column<int64_t>(phases, "control")) controls += c;
  EXPECT_EQ(controls, 16);
  EXPECT_EQ(Column<int64_t>(FindTable(*tables, "phase_summaries"), "n").size(), 2u * 4u);
  // Early stopping: every job, and a summary per grid point with a Clopper-Pearson interval.
  EXPECT_EQ(Column<int64_t>(FindTable(*tables, "early_stops"), "cut_short").size(), 16u);
  const auto frac_lo = Column<double>(FindTable(*tables, "early_stop_summaries"), "fraction_low");
  EXPECT_EQ(frac_lo.size(), 4u);
  // Weight decay axis with the label setting fixed, for each of the 5 metrics, per slice.
  const storage::Table& levels = FindTable(*tables, "effect_levels");
  EXPECT_FALSE(Column<std::string>(levels, "level").empty());

  // The JSON carries the same tables.
  std::ostringstream json;
  ASSERT_TRUE(RunAnalyze({path, {}, true, false}, json).ok());
  for (const char* key : {"\"bands\":[", "\"orderings\":[", "\"phases\":[", "\"effects\":[",
                          "\"early_stop_summaries\":[", "\"wilcoxon_test\":"}) {
    EXPECT_NE(json.str().find(key), std::string::npos) << key;
  }
}

// Default hypotheses whose metrics the file does not hold are skipped with a note, not an error.
TEST(AnalyzeCommandTest, HypothesesOnAbsentMetricsAreSkippedWithANote) {
  Scratch dir;
  const std::string path = WriteResults(dir, Synthetic(), "");  // no cka_prev, no test_loss
  std::ostringstream text;
  ASSERT_TRUE(RunAnalyze({path, {}, false, true}, text).ok());
  const std::string s = text.str();
  EXPECT_NE(s.find("ordering cka_prev:changepoint<test_acc:changepoint skipped: metric "
                   "'cka_prev' not analysed"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("three-phase analysis of 'cka_prev' skipped"), std::string::npos) << s;
  EXPECT_NE(s.find("early-stopping counterfactual skipped: metric 'test_loss'"), std::string::npos)
      << s;
  EXPECT_NE(s.find("emb_cos_prev:changepoint<train_loss:settle"), std::string::npos) << s;
  auto tables = storage::ReadAnalysis(path);
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(Column<int64_t>(FindTable(*tables, "early_stops"), "stopped").size(), 0u);
  EXPECT_EQ(Column<std::string>(FindTable(*tables, "orderings"), "pair").size(), 2u);
}

// A random-label control that is not a grid axis (a separate control sweep) is recognised from
// the stored config: its jobs count as controls in the three-phase analysis.
TEST(AnalyzeCommandTest, ControlFlagFromTheStoredConfig) {
  Scratch dir;
  std::vector<TraceJob> jobs = Synthetic();
  for (auto& j : jobs) j.hparams.erase("task.random_labels");  // not swept
  const std::string path =
      WriteResults(dir, jobs, "task:\n  random_labels: true\nanalysis:\n  surrogates: 0\n");
  std::ostringstream text;
  ASSERT_TRUE(RunAnalyze({path, {}, false, true}, text).ok());
  auto tables = storage::ReadAnalysis(path);
  ASSERT_TRUE(tables.ok());
  const auto control = Column<int64_t>(FindTable(*tables, "phases"), "control");
  ASSERT_EQ(control.size(), 4u);
  for (int64_t c : control) EXPECT_EQ(c, 1);
  EXPECT_NE(text.str().find("only control jobs: no comparison"), std::string::npos) << text.str();
}

TEST(AnalyzeCommandTest, UnknownMetricListsAvailable) {
  Scratch dir;
  const std::string path = WriteResults(dir, Synthetic());
  std::ostringstream out;
  const Status st = RunAnalyze({path, {"nope"}, false, false}, out);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("'nope'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("emb_cos_prev, test_acc, train_loss"), std::string::npos)
      << st.message();
}

TEST(AnalyzeCommandTest, FileWithoutTraces) {
  Scratch dir;
  const std::string path = WriteResults(dir, {});
  std::ostringstream out;
  const Status st = RunAnalyze({path, {}, false, false}, out);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("no traces"), std::string::npos) << st.message();
}

TEST(AnalyzeCommandTest, MissingAndNonPhasesweepFiles) {
  Scratch dir;
  std::ostringstream out;
  Status st = RunAnalyze({dir / "absent.h5", {}, false, false}, out);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.ExitCode(), 1);
  EXPECT_NE(st.message().find("absent.h5"), std::string::npos) << st.message();
  const std::string junk = dir / "junk.h5";
  std::FILE* f = std::fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("not hdf5\n", f);
  std::fclose(f);
  st = RunAnalyze({junk, {}, false, false}, out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("junk.h5"), std::string::npos) << st.message();
}

TEST(AnalyzeCommandTest, ShortConstantAndNaNTracesAreNotes) {
  Scratch dir;
  std::vector<TraceJob> jobs = Synthetic();
  // Job 0: constant embedding stability; job 1: a diverged (NaN) tail; job 2: 3 probes only.
  for (double& v : jobs[0].trace.metrics["emb_cos_prev"]) v = 0.5;
  auto& nan_trace = jobs[1].trace.metrics["emb_cos_prev"];
  for (size_t i = 50; i < nan_trace.size(); ++i) {
    nan_trace[i] = std::numeric_limits<double>::quiet_NaN();
  }
  TraceJob& shortj = jobs[2];
  shortj.trace.steps.resize(3);
  for (auto& [m, v] : shortj.trace.metrics) v.resize(3);
  // Job 3: a single probe, shorter than min_size (2).
  TraceJob& single = jobs[3];
  single.trace.steps.resize(1);
  for (auto& [m, v] : single.trace.metrics) v.resize(1);
  const std::string path = WriteResults(dir, jobs);
  std::ostringstream json;
  const Status st = RunAnalyze({path, {"emb_cos_prev"}, true, true}, json);
  ASSERT_TRUE(st.ok()) << st.message();
  const std::string s = json.str();
  EXPECT_NE(s.find("\"n_valid\":50"), std::string::npos) << s;  // NaN tail excluded
  EXPECT_NE(s.find("non-finite values excluded at steps 500-590"), std::string::npos) << s;
  EXPECT_NE(s.find("constant trace: no change"), std::string::npos) << s;
  EXPECT_NE(s.find("\"n_probes\":3,\"n_valid\":3,\"changepoint_step_lo\":-1"),
            std::string::npos)
      << s;  // too short for a change point: reported, not a crash
  EXPECT_NE(s.find("\"n_probes\":1,\"n_valid\":1,\"changepoint_step_lo\":-1"), std::string::npos)
      << s;
  std::ostringstream text;
  ASSERT_TRUE(RunAnalyze({path, {"emb_cos_prev"}, false, false}, text).ok());
  EXPECT_NE(text.str().find("too short"), std::string::npos) << text.str();
  auto tables = storage::ReadAnalysis(path);
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(Column<std::string>(FindTable(*tables, "traces"), "excluded_steps")[1], "500-590");
}

TEST(AnalyzeCommandTest, ConfigErrors) {
  AnalysisOptions o;
  Status st = ApplyAnalysisConfig("analysis:\n  adjust: bonferroni\n", &o);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("analysis.adjust"), std::string::npos) << st.message();
  st = ApplyAnalysisConfig("analysis:\n  pairs: [\"a\"]\n", &o);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("analysis.pairs"), std::string::npos) << st.message();
  st = ApplyAnalysisConfig("analysis:\n  patince: 3\n", &o);
  EXPECT_EQ(st.message().substr(0, 56), "config key analysis.patince: unknown (valid: adjust, alp")
      << st.message();
  st = ApplyAnalysisConfig("analysis:\n  patience: soon\n", &o);
  EXPECT_EQ(st.message(), "stored config: analysis.patience expects an integer, got 'soon'");
  st = ApplyAnalysisConfig("analysis:\n  alpha: 2\n", &o);
  EXPECT_EQ(st.message(),
            "stored config: analysis.alpha = 2 is out of range; valid: > 0.0 and < 1.0");
  // A smallest relevant change must name a metric and a number >= 0.
  for (const char* bad :
       {"[\"test_acc\"]", "[\":0.1\"]", "[\"test_acc:-1\"]", "[\"test_acc:big\"]"}) {
    st = ApplyAnalysisConfig(std::string("analysis:\n  min_change: ") + bad + "\n", &o);
    EXPECT_EQ(st.ExitCode(), 2) << bad;
    EXPECT_NE(st.message().find("min_change"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  }
  st = ApplyAnalysisConfig("analysis:\n  effect_kind: middle\n", &o);
  EXPECT_NE(st.message().find("analysis.effect_kind"), std::string::npos) << st.message();
  // Every key with a valid value; the options follow.
  AnalysisOptions all;
  ASSERT_TRUE(ApplyAnalysisConfig(kEveryKeyNotDefault, &all).ok());
  EXPECT_EQ(AnalysisConfigKeys().size(), 28u);
  EXPECT_EQ(all.metrics, std::vector<std::string>{"a"});
  EXPECT_EQ(all.alpha, 0.01);
  EXPECT_EQ(all.adjust, Adjustment::kBenjaminiHochberg);
  EXPECT_EQ(all.surrogates, 9);
  EXPECT_EQ(all.surrogate, SurrogateMethod::kBlockBootstrap);
  EXPECT_EQ(all.bootstrap, 100);
  EXPECT_EQ(all.confidence, 0.9);
  EXPECT_EQ(all.seed, 4u);
  EXPECT_EQ(all.threads, 1);
  EXPECT_FALSE(all.bands);
  EXPECT_EQ(all.transition.cost, CostKind::kNormal);
  EXPECT_EQ(all.transition.penalty.value_or(0), 3.5);
  EXPECT_EQ(all.transition.penalty_scale, 2.0);
  EXPECT_EQ(all.transition.segmentation.min_size, 3u);
  EXPECT_EQ(all.transition.segmentation.jump, 2u);
  EXPECT_EQ(all.transition.smooth_sigma, 0.0);
  EXPECT_EQ(all.transition.settle_tolerance, 0.1);
  ASSERT_EQ(all.thresholds.size(), 1u);
  EXPECT_EQ(FormatThresholdRule(all.thresholds[0]), "a<=0.1:4");
  EXPECT_EQ(all.min_change, (std::map<std::string, double>{{"a", 0.2}}));
  ASSERT_EQ(all.orderings.size(), 1u);
  EXPECT_EQ(all.ordering_alternative, Alternative::kLess);
  EXPECT_EQ(all.stability_metrics, std::vector<std::string>{"a"});
  EXPECT_EQ(all.control_key, "ctl");
  EXPECT_EQ(all.effect_kind, TransitionKind::kSteepest);
  EXPECT_EQ(all.early_stop_metric, "l");
  EXPECT_EQ(all.early_stop_reference, "a");
  EXPECT_EQ(all.early_stop_reference_kind, TransitionKind::kThreshold);
  EXPECT_EQ(all.patience, 2);
  EXPECT_EQ(all.min_delta, 0.01);
}

// AnalysisOptions() takes its defaults from the catalog (spec/keys_analysis.cc): from options
// that differ from the defaults in every field, setting every analysis key to its catalog
// default through a stored config gives back a default AnalysisOptions, field by field.
TEST(AnalyzeCommandTest, AnalysisOptionsDefaultsAreTheCatalogDefaults) {
  AnalysisOptions o;
  ASSERT_TRUE(ApplyAnalysisConfig(kEveryKeyNotDefault, &o).ok());
  std::string defaults = "analysis:\n";
  for (const spec::KeySpec* k : spec::SectionKeys("analysis")) {
    defaults += "  " + k->key.substr(9) + ": " + k->default_yaml + "\n";
  }
  ASSERT_TRUE(ApplyAnalysisConfig(defaults, &o).ok()) << defaults;
  const AnalysisOptions d;
  EXPECT_EQ(o.metrics, d.metrics);
  EXPECT_EQ(o.alpha, d.alpha);
  EXPECT_EQ(o.adjust, d.adjust);
  EXPECT_EQ(o.surrogates, d.surrogates);
  EXPECT_EQ(o.surrogate, d.surrogate);
  EXPECT_EQ(o.bootstrap, d.bootstrap);
  EXPECT_EQ(o.confidence, d.confidence);
  EXPECT_EQ(o.seed, d.seed);
  EXPECT_EQ(o.threads, d.threads);
  EXPECT_EQ(o.bands, d.bands);
  EXPECT_EQ(o.transition.cost, d.transition.cost);
  EXPECT_EQ(o.transition.penalty, d.transition.penalty);
  EXPECT_EQ(o.transition.penalty_scale, d.transition.penalty_scale);
  EXPECT_EQ(o.transition.segmentation.min_size, d.transition.segmentation.min_size);
  EXPECT_EQ(o.transition.segmentation.jump, d.transition.segmentation.jump);
  EXPECT_EQ(o.transition.smooth_sigma, d.transition.smooth_sigma);
  EXPECT_EQ(o.transition.settle_tolerance, d.transition.settle_tolerance);
  ASSERT_EQ(o.thresholds.size(), d.thresholds.size());
  for (std::size_t i = 0; i < d.thresholds.size(); ++i) {
    EXPECT_EQ(FormatThresholdRule(o.thresholds[i]), FormatThresholdRule(d.thresholds[i]));
  }
  EXPECT_EQ(o.min_change, d.min_change);
  ASSERT_EQ(o.orderings.size(), d.orderings.size());
  for (std::size_t i = 0; i < d.orderings.size(); ++i) {
    EXPECT_EQ(FormatOrderingPair(o.orderings[i]), FormatOrderingPair(d.orderings[i]));
  }
  EXPECT_EQ(o.ordering_alternative, d.ordering_alternative);
  EXPECT_EQ(o.stability_metrics, d.stability_metrics);
  EXPECT_EQ(o.control_key, d.control_key);
  EXPECT_EQ(o.effect_kind, d.effect_kind);
  EXPECT_EQ(o.early_stop_metric, d.early_stop_metric);
  EXPECT_EQ(o.early_stop_reference, d.early_stop_reference);
  EXPECT_EQ(o.early_stop_reference_kind, d.early_stop_reference_kind);
  EXPECT_EQ(o.patience, d.patience);
  EXPECT_EQ(o.min_delta, d.min_delta);
}

}  // namespace
}  // namespace phasesweep::analysis
