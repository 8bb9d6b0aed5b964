// `phasesweep analyze` end to end on small results files written with the storage writer:
// synthetic traces with a planted transition, /analysis written back, and each bad input.
#include "phasesweep/analysis/analyze_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/analysis/synthetic.h"
#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"

namespace phasesweep::analysis {
namespace {

class Scratch {
 public:
  Scratch() {
    std::string tmpl = std::string(PHASESWEEP_BINARY_DIR) + "/analyze_cmd_test_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& n) const { return path_ + "/" + n; }

 private:
  std::string path_;
};

constexpr char kConfig[] =
    "sweep: {name: t}\n"
    "analysis:\n"
    "  metrics: [emb_cos_prev, test_acc]\n"
    "  alpha: 0.05\n"
    "  adjust: bh\n"
    "  surrogates: 39\n"
    "  pairs: [\"emb_cos_prev<test_acc\"]\n";

std::string HparamsJson(const TraceJob& j) {
  std::string s = "{";
  for (const auto& [k, v] : j.hparams) {
    if (s.size() > 1) s += ",";
    const bool plain = v == "true" || v == "false" ||
                       (!v.empty() && std::isdigit(static_cast<unsigned char>(v[0])));
    s += "\"" + k + "\":" + (plain ? v : "\"" + v + "\"");
  }
  return s + "}";
}

// Writes `jobs` into a new results file; returns its path.
std::string WriteResults(const Scratch& dir, const std::vector<TraceJob>& jobs,
                         const std::string& config = kConfig) {
  const std::string path = dir / "results.h5";
  storage::OpenOptions o;
  o.provenance.config_hash = "test";
  o.provenance.config_yaml = config;
  auto w = storage::ResultsWriter::Open(path, o);
  EXPECT_TRUE(w.ok()) << w.status().message();
  std::vector<storage::JobRecord> recs;
  for (const auto& j : jobs) {
    storage::JobRecord r;
    r.job_id = j.job_id;
    r.seed = static_cast<uint64_t>(j.seed);
    r.grid_index = j.grid_index;
    r.hparams_json = HparamsJson(j);
    r.steps = j.steps;
    r.metrics = j.metrics;
    recs.push_back(r);
  }
  if (!recs.empty()) {
    auto shard = storage::WriteShard(path, storage::ShardInfo{"p", 0, "test"}, recs);
    EXPECT_TRUE(shard.ok()) << shard.status().message();
  }
  auto merged = w->Merge();
  EXPECT_TRUE(merged.ok()) << merged.status().message();
  return path;
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
  ASSERT_EQ(tables->size(), 4u);  // notes, tests, traces, transitions (by name)
  EXPECT_EQ(attrs.at("metrics"), "emb_cos_prev");
  const storage::Table& traces = (*tables)[2];
  EXPECT_EQ(traces.name, "traces");
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
  for (double& v : jobs[0].metrics["emb_cos_prev"]) v = 0.5;
  auto& nan_trace = jobs[1].metrics["emb_cos_prev"];
  for (size_t i = 50; i < nan_trace.size(); ++i) {
    nan_trace[i] = std::numeric_limits<double>::quiet_NaN();
  }
  TraceJob& shortj = jobs[2];
  shortj.steps.resize(3);
  for (auto& [m, v] : shortj.metrics) v.resize(3);
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
  auto tables = storage::ReadAnalysis(path);
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 4u);
}

TEST(AnalyzeCommandTest, CommandLineExitCodes) {
  Scratch dir;
  const std::string path = WriteResults(dir, Synthetic());
  auto run = [](const std::vector<std::string>& args) {
    CLI::App app;
    AddAnalyzeCommand(app);
    std::vector<const char*> argv = {"phasesweep"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error& e) {
      return e.get_exit_code();
    }
    return 0;
  };
  EXPECT_EQ(run({"analyze", path, "--metrics", "emb_cos_prev,nope"}), 2);
  EXPECT_EQ(run({"analyze", dir / "absent.h5"}), 1);
}

TEST(AnalyzeCommandTest, FlatJsonAndConfigErrors) {
  auto hp = ParseFlatJsonObject(R"({"lr": 0.001, "opt":"adamw", "task.random_labels":true})");
  ASSERT_TRUE(hp.ok()) << hp.status().message();
  EXPECT_EQ(hp->at("lr"), "0.001");
  EXPECT_EQ(hp->at("opt"), "adamw");
  EXPECT_EQ(hp->at("task.random_labels"), "true");
  EXPECT_FALSE(ParseFlatJsonObject(R"({"a": [1]})").ok());
  EXPECT_FALSE(ParseFlatJsonObject("{\"a\" 1}").ok());
  AnalysisOptions o;
  Status st = ApplyAnalysisConfig("analysis:\n  adjust: bonferroni\n", &o);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("analysis.adjust"), std::string::npos) << st.message();
  st = ApplyAnalysisConfig("analysis:\n  pairs: [\"a\"]\n", &o);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("analysis.pairs"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace phasesweep::analysis
