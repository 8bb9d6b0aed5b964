// ResultsReader as analysis uses it: one metric across jobs as a matrix, grid points, filters,
// and reading while a sweep is merging underneath.
#include "phasesweep/storage/reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::MakeRecord;
using testing::ScratchDir;

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "results.h5";
    OpenOptions o;
    o.provenance = testing::MakeProvenance();
    o.plan = testing::MakePlan(2, 4);
    auto w = ResultsWriter::Open(path_, o);
    ASSERT_TRUE(w.ok()) << w.status().message();
    writer_ = std::make_unique<ResultsWriter>(std::move(*w));
    // Seeds out of order across shards; grid 1 seed 3 diverged early (shorter trace).
    ASSERT_TRUE(WriteShard(path_, ShardInfo{"a", 0, "h"},
                           {MakeRecord(0, 2), MakeRecord(0, 0), MakeRecord(1, 0)})
                    .ok());
    ASSERT_TRUE(writer_->Merge().ok());
    ASSERT_TRUE(WriteShard(path_, ShardInfo{"b", 1, "h"},
                           {MakeRecord(0, 1), MakeRecord(1, 3, 2, 3, JobStatus::kDiverged)})
                    .ok());
  }

  ScratchDir dir_;
  std::string path_;
  std::unique_ptr<ResultsWriter> writer_;
};

TEST_F(ReaderTest, OneMetricForAllSeedsOfAGridPointIsAMatrix) {
  auto r = ResultsReader::Open(path_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto t = r->LoadMetric("metric_1", JobFilter{0, {JobStatus::kDone}});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->seeds, (std::vector<uint64_t>{0, 1, 2}));  // sorted by seed, shard + file
  ASSERT_TRUE(t->Rectangular());
  auto m = t->Matrix();
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 3u * 5u);
  for (int row = 0; row < 3; ++row) {
    for (int col = 0; col < 5; ++col) {
      EXPECT_EQ((*m)[row * 5 + col], testing::ExpectedValue(testing::JobId(0, row), 1, col));
    }
  }
}

TEST_F(ReaderTest, RaggedTracesAreNotAMatrix) {
  auto r = ResultsReader::Open(path_);
  ASSERT_TRUE(r.ok());
  auto t = r->LoadMetric("metric_0", JobFilter{1, {}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->steps[1].size(), 2u);
  EXPECT_FALSE(t->Rectangular());
  EXPECT_EQ(t->Matrix().status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r->LoadMetric("nope").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r->LoadMetric("a/b").status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ReaderTest, GridPointsListJobsBySeed) {
  auto r = ResultsReader::Open(path_);
  ASSERT_TRUE(r.ok());
  auto points = r->GridPoints();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].grid_index, 0);
  EXPECT_EQ(points[0].hparams, testing::HparamsFor(0));
  EXPECT_EQ(points[0].job_ids, (std::vector<std::string>{testing::JobId(0, 0), testing::JobId(0, 1),
                                                         testing::JobId(0, 2)}));
  EXPECT_EQ(r->SelectJobs(JobFilter{{}, {JobStatus::kDiverged}}).size(), 1u);
  EXPECT_EQ(r->unmerged_shards(), 1);
  auto names = r->MetricNames(testing::JobId(0, 1));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"metric_0", "metric_1", "metric_2"}));
  auto only = r->LoadJob(testing::JobId(0, 1), LoadOptions{{"metric_2"}, false});
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->trace.metrics.size(), 1u);
  EXPECT_EQ(r->LoadJob(testing::JobId(0, 1), LoadOptions{{"zzz"}, false}).status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(r->LoadJob("unknown").status().code(), Status::Code::kNotFound);
}

TEST_F(ReaderTest, ReaderOpenedBeforeAMergeStillReadsEveryJob) {
  auto r = ResultsReader::Open(path_);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->FindJob(testing::JobId(0, 1))->in_shard);
  // The sweep merges (renaming a new file over the one we hold open, deleting the shard).
  ASSERT_TRUE(WriteShard(path_, ShardInfo{"c", 0, "h"}, {MakeRecord(1, 1)}).ok());
  ASSERT_TRUE(writer_->Merge().ok());
  auto job = r->LoadJob(testing::JobId(0, 1));
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->trace.metrics.at("metric_0")[4],
            testing::ExpectedValue(testing::JobId(0, 1), 0, 4));
  auto all = r->LoadMetric("metric_0");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->job_ids.size(), 5u);  // the snapshot it opened: the new job is not in it
  auto fresh = ResultsReader::Open(path_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->jobs().size(), 6u);
  EXPECT_EQ(fresh->unmerged_shards(), 0);
}

}  // namespace
}  // namespace phasesweep::storage
