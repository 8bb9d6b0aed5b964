// Positive controls of the whole chain (train -> probe -> analyse) on a tiny grokking sweep:
// a larger train fraction groks earlier across seeds (the effects table says so, significantly
// after adjustment), the random-label control never shows the test-accuracy jump, and the test
// loss peaks before it falls. One sweep (modular addition mod 23, 12 seeds x train fraction
// 0.5 / 0.8 x random labels, 800 steps), shared by the three tests; ~2 min on 2 shared cores.
// Only test_acc is analysed and the per-trace surrogate test is off, so the family of adjusted
// p-values is small (about a dozen) and the train-fraction effect can pass Holm's adjustment.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/reader.h"
#include "test_process.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";

template <class T>
const std::vector<T>& Column(const storage::Table& t, const std::string& name) {
  for (const auto& c : t.columns)
    if (c.name == name) return std::get<std::vector<T>>(c.values);
  ADD_FAILURE() << "no column " << name << " in " << t.name;
  static const std::vector<T> empty;
  return empty;
}

const storage::Table& Find(const std::vector<storage::Table>& tables, const std::string& name) {
  for (const auto& t : tables)
    if (t.name == name) return t;
  ADD_FAILURE() << "no table " << name;
  static const storage::Table empty;
  return empty;
}

class PositiveControls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const ProcessResult r = RunCommand(
        kExe + " run " + kSmoke +
            " task.p=23 model.d_model=32 model.heads=4 model.d_mlp=128 optimizer.lr=0.01"
            " optimizer.weight_decay=2.0 task.train_fraction=0.5,0.8"
            " task.random_labels=false,true 'sweep.seeds=range(12)' training.steps=800"
            " probes.every=10 probes.batch=64"
            " 'probes.metrics=[train_loss, test_loss, train_acc, test_acc]'"
            " analysis.effect_kind=changepoint 'analysis.thresholds=[test_acc>=0.9:3]'"
            " 'analysis.stability_metrics=[]' 'analysis.metrics=[test_acc]' analysis.surrogates=0"
            " --analyze -q -o pc.h5",
        dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    path_ = new std::string(dir_->path() + "/pc.h5");
    auto tables = storage::ReadAnalysis(*path_, nullptr);
    ASSERT_TRUE(tables.ok()) << tables.status().message();
    tables_ = new std::vector<storage::Table>(std::move(*tables));
  }
  static void TearDownTestSuite() {
    delete tables_;
    delete path_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::string* path_;
  static std::vector<storage::Table>* tables_;
};
TempDir* PositiveControls::dir_ = nullptr;
std::string* PositiveControls::path_ = nullptr;
std::vector<storage::Table>* PositiveControls::tables_ = nullptr;

TEST_F(PositiveControls, LargerTrainFractionGroksEarlierSignificantly) {
  ASSERT_NE(tables_, nullptr);
  const auto& effects = Find(*tables_, "effects");
  const auto& tests = Find(*tables_, "tests");
  const auto& levels = Find(*tables_, "effect_levels");
  const auto& axis = Column<std::string>(effects, "axis");
  const auto& fixed = Column<std::string>(effects, "fixed");
  const auto& metric = Column<std::string>(effects, "metric");
  const auto& kruskal = Column<std::int64_t>(effects, "kruskal_test");
  int row = -1;
  for (std::size_t i = 0; i < axis.size(); ++i) {
    if (axis[i] == "task.train_fraction" && metric[i] == "test_acc" &&
        fixed[i].find("task.random_labels=false") != std::string::npos)
      row = static_cast<int>(i);
  }
  ASSERT_GE(row, 0);
  ASSERT_GE(kruskal[row], 0);
  EXPECT_EQ(Column<std::int64_t>(tests, "rejected")[kruskal[row]], 1)
      << "adjusted p " << Column<double>(tests, "pvalue_adjusted")[kruskal[row]];
  std::map<std::string, double> median;
  for (std::size_t i = 0; i < Column<std::int64_t>(levels, "effect").size(); ++i) {
    if (Column<std::int64_t>(levels, "effect")[i] == row)
      median[Column<std::string>(levels, "level")[i]] = Column<double>(levels, "median_step")[i];
  }
  ASSERT_EQ(median.size(), 2u);
  EXPECT_LT(median.at("0.8"), median.at("0.5"));
}

TEST_F(PositiveControls, RandomLabelControlNeverJumps) {
  ASSERT_NE(tables_, nullptr);
  auto reader = storage::ResultsReader::Open(*path_);
  ASSERT_TRUE(reader.ok());
  int controls = 0, regular_jumps = 0;
  for (const auto& js : reader->jobs()) {
    auto job = reader->LoadJob(js.job_id);
    ASSERT_TRUE(job.ok());
    const auto& acc = job->trace.metrics.at("test_acc");
    const bool control = job->hparams.at("task.random_labels") == HparamValue::Bool(true);
    const double best = *std::max_element(acc.begin(), acc.end());
    if (control) {
      ++controls;
      EXPECT_LT(best, 0.5) << js.job_id;  // chance is 1/23
    } else {
      regular_jumps += best >= 0.9;
    }
  }
  EXPECT_EQ(controls, 24);
  EXPECT_GE(regular_jumps, 12);  // the jump exists where the labels are real
  // The analysis agrees: no control trace has a test_acc threshold crossing.
  const auto& traces = Find(*tables_, "traces");
  const auto& m = Column<std::string>(traces, "metric");
  const auto& job = Column<std::string>(traces, "job_id");
  const auto& lo = Column<std::int64_t>(traces, "threshold_step_lo");
  for (const auto& js : reader->jobs()) {
    if (js.hparams.at("task.random_labels") != HparamValue::Bool(true)) continue;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (job[i] == js.job_id && m[i] == "test_acc") {
        EXPECT_EQ(lo[i], -1) << js.job_id;
      }
    }
  }
}

TEST_F(PositiveControls, TestLossPeaksBeforeItFalls) {
  ASSERT_NE(tables_, nullptr);
  auto reader = storage::ResultsReader::Open(*path_);
  ASSERT_TRUE(reader.ok());
  int grokked = 0, peak_first = 0;
  for (const auto& js : reader->jobs()) {
    auto job = reader->LoadJob(js.job_id);
    ASSERT_TRUE(job.ok());
    const auto& acc = job->trace.metrics.at("test_acc");
    const auto& loss = job->trace.metrics.at("test_loss");
    const auto jump = std::find_if(acc.begin(), acc.end(), [](double a) { return a >= 0.9; });
    if (jump == acc.end()) continue;
    ++grokked;
    const auto peak = std::max_element(loss.begin(), loss.end());
    const auto i_peak = peak - loss.begin(), i_jump = jump - acc.begin();
    // Memorisation drives the test loss above its initial value; it falls at the jump.
    peak_first += *peak > loss.front() && i_peak < i_jump && loss.back() < 0.5 * *peak;
  }
  EXPECT_GE(grokked, 12);
  EXPECT_GE(peak_first * 10, grokked * 8) << peak_first << "/" << grokked;
}

}  // namespace
}  // namespace phasesweep::testing
