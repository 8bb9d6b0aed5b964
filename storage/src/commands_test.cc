// `phasesweep status` and `phasesweep export` logic, the --jobs filter and the JSON reader (the CLI
// wiring is tested on the executable: tests/cli_test.cc).
#include "phasesweep/storage/commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/storage/export.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::MakeRecord;
using testing::ScratchDir;

// 2 grid points x 3 seeds planned; grid 0 has two done jobs (merged), grid 1 one failed job in
// an unmerged shard.
std::string MakeFile(const ScratchDir& dir) {
  const std::string path = dir / "results.h5";
  OpenOptions o;
  o.provenance = testing::MakeProvenance();
  o.plan = testing::MakePlan(2, 3);
  auto w = ResultsWriter::Open(path, o);
  EXPECT_TRUE(w.ok()) << w.status().message();
  JobRecord a = MakeRecord(0, 0, 2, 2);
  JobRecord b = MakeRecord(0, 1, 2, 2);
  b.trace.metrics["metric_1"][1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(WriteShard(path, ShardInfo{"p0", 0, "h"}, {a, b}).ok());
  EXPECT_TRUE(w->Merge().ok());
  JobRecord c = MakeRecord(1, 0, 1, 1, JobStatus::kFailed);
  c.error = "CUDA out of memory";
  EXPECT_TRUE(WriteShard(path, ShardInfo{"p1", 1, "h"}, {c}).ok());
  return path;
}

TEST(StatusCommandTest, PrintsCountsOverallAndPerGridPoint) {
  ScratchDir dir;
  const std::string path = MakeFile(dir);
  std::ostringstream out;
  ASSERT_TRUE(RunStatus(path, out).ok());
  const std::string text = out.str();
  EXPECT_NE(text.find(path + ": 6 jobs: 2 done, 1 failed, 0 diverged, 0 running, 3 pending"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("config_hash cafebabe00000001"), std::string::npos) << text;
  EXPECT_NE(text.find("1 job record(s) in 1 shard(s) not yet merged"), std::string::npos) << text;
  EXPECT_NE(text.find("    grid    done  failed  diverged  running  pending  hparams\n"
                      "       0       2       0         0        0        1  "
                      "{\"lr\":0.001000,\"optimizer\":\"adamw\"}\n"
                      "       1       0       1         0        0        2  "),
            std::string::npos)
      << text;
}

TEST(StatusCommandTest, MissingFileIsAOneLineError) {
  ScratchDir dir;
  std::ostringstream out;
  Status s = RunStatus(dir / "missing.h5", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), dir / "missing.h5" + ": no such file");
}

TEST(ExportCommandTest, WritesTidyLongTable) {
  ScratchDir dir;
  const std::string path = MakeFile(dir);
  std::ostringstream out;
  ASSERT_TRUE(RunExport(ExportOptions{path, "-", {}, ""}, out).ok());
  std::istringstream lines(out.str());
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header, "job_id,seed,lr,optimizer,step,metric,value");
  std::vector<std::string> rows;
  for (std::string l; std::getline(lines, l);) rows.push_back(l);
  // 2 done jobs x 2 metrics x 2 steps + the failed job's 1 metric x 1 step.
  ASSERT_EQ(rows.size(), 9u);
  const std::string id = testing::JobId(0, 0);
  // The value is written in shortest round-trip form, so it reads back exactly.
  const std::string& first = rows[0];
  EXPECT_EQ(first.substr(0, first.rfind(',') + 1), id + ",0,0.001000,adamw,0,metric_0,");
  EXPECT_EQ(std::stod(first.substr(first.rfind(',') + 1)), testing::ExpectedValue(id, 0, 0));
  // Rows: job, then metric, then step; job b's metric_1 at step 10 is NaN.
  EXPECT_EQ(rows[7], testing::JobId(0, 1) + ",1,0.001000,adamw,10,metric_1,NaN");
  EXPECT_EQ(rows[8].rfind(testing::JobId(1, 0) + ",0,0.002000,adamw,0,metric_0,", 0), 0u);
}

TEST(ExportCommandTest, FiltersJobsAndMetrics) {
  ScratchDir dir;
  const std::string path = MakeFile(dir);
  std::ostringstream out;
  ASSERT_TRUE(
      RunExport(ExportOptions{path, "-", {"metric_1"}, "lr=1e-3,seed=1|7,status=done"}, out).ok());
  std::istringstream lines(out.str());
  std::string l;
  std::getline(lines, l);
  std::vector<std::string> rows;
  while (std::getline(lines, l)) rows.push_back(l);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].rfind(testing::JobId(0, 1) + ",1,0.001000,adamw,0,metric_1,", 0), 0u)
      << rows[0];
  EXPECT_EQ(rows[1], testing::JobId(0, 1) + ",1,0.001000,adamw,10,metric_1,NaN");
}

TEST(ExportCommandTest, WritesFileAtomicallyAndReportsBadInput) {
  ScratchDir dir;
  const std::string path = MakeFile(dir);
  std::ostringstream unused;
  const std::string csv = dir / "out.csv";
  ASSERT_TRUE(RunExport(ExportOptions{path, csv, {}, "status=failed"}, unused).ok());
  std::ifstream in(csv);
  std::string header, row, extra;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(row.rfind(testing::JobId(1, 0) + ",0,0.002000,adamw,0,metric_0,", 0), 0u) << row;
  EXPECT_FALSE(std::getline(in, extra));

  Status bad_key = RunExport(ExportOptions{path, csv, {}, "lrr=1"}, unused);
  EXPECT_EQ(bad_key.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad_key.message(),
            "--jobs: unknown key 'lrr'; valid keys: job_id, seed, status, grid_index, lr, "
            "optimizer");
  Status bad_syntax = RunExport(ExportOptions{path, csv, {}, "lr"}, unused);
  EXPECT_EQ(bad_syntax.code(), Status::Code::kInvalidArgument);
  Status bad_metric = RunExport(ExportOptions{path, csv, {"loss"}, ""}, unused);
  EXPECT_EQ(bad_metric.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad_metric.message(),
            "--metrics: no selected job has metric 'loss'; available: metric_0, metric_1");
  Status to_dir = RunExport(ExportOptions{path, dir.path(), {}, ""}, unused);
  EXPECT_EQ(to_dir.code(), Status::Code::kInvalidArgument);
  // Failed exports left the earlier CSV alone and no temporary files behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 2);  // results.h5 and out.csv
}

TEST(JobsFilterTest, ParsesConditionsAndAlternatives) {
  auto f = JobsFilter::Parse("lr=0.1|0.01,status=done");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->conditions().size(), 2u);
  EXPECT_EQ(f->conditions()[0].alternatives, (std::vector<std::string>{"0.1", "0.01"}));
  EXPECT_TRUE(JobsFilter::Parse("").ok());
  EXPECT_FALSE(JobsFilter::Parse("lr=").ok());
  EXPECT_FALSE(JobsFilter::Parse("=1").ok());
  EXPECT_FALSE(JobsFilter::Parse("lr=1|").ok());
}

}  // namespace
}  // namespace phasesweep::storage
