// ResultsWriter + WriteShard + Merge + Ledger + ResultsReader working together: round trips,
// resume and config-hash policies, supersession of records, interrupted merges.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::MakePlan;
using testing::MakeProvenance;
using testing::MakeRecord;
using testing::ScratchDir;
namespace fs = std::filesystem;

OpenOptions Options(const std::string& hash = "cafebabe00000001", int64_t grids = 2,
                    uint64_t seeds = 3) {
  OpenOptions o;
  o.provenance = MakeProvenance(hash);
  o.plan = MakePlan(grids, seeds);
  return o;
}

ShardInfo Info(const std::string& pack) { return ShardInfo{pack, 1, "cafebabe00000001"}; }

TEST(ResultsWriterTest, CreatesFileWithProvenanceAndPendingPlan) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->created());
  auto r = ResultsReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Provenance& p = r->provenance();
  EXPECT_EQ(p.format_version, kFormatVersion);
  EXPECT_EQ(p.config_hash, "cafebabe00000001");
  EXPECT_EQ(p.git_commit, "abc1234");
  EXPECT_EQ(p.config_yaml, "sweep:\n  seeds: 4\n");
  EXPECT_EQ(p.mpi_version, "Open MPI v4.1.4");
  EXPECT_FALSE(p.hdf5_version.empty());
  EXPECT_EQ(p.created_utc.size(), 20u);
  EXPECT_TRUE(r->jobs().empty());
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  EXPECT_EQ(ledger->Totals().pending, 6);
  EXPECT_EQ(ledger->JobIds(JobStatus::kPending).front(), testing::JobId(0, 0));
}

TEST(ResultsWriterTest, ShardRoundTripsEveryFieldBeforeAndAfterMerge) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok()) << w.status().message();
  JobRecord rec = MakeRecord(1, 2, 7, 4, JobStatus::kDiverged, 2);
  rec.error = "loss became NaN at step 60";
  rec.device = "cuda:3";
  rec.snapshots["embedding"] = Snapshot{{2, 3}, {1, 2, 3, 4, 5, 6}};
  auto shard = WriteShard(path, Info("p1"), {rec, MakeRecord(0, 0)});
  ASSERT_TRUE(shard.ok()) << shard.status().message();
  EXPECT_TRUE(fs::exists(*shard));

  auto check = [&](bool expect_in_shard) {
    auto r = ResultsReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->jobs().size(), 2u);
    const JobSummary* s = r->FindJob(rec.job_id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->in_shard, expect_in_shard);
    auto got = r->LoadJob(rec.job_id, LoadOptions{{}, true});
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(got->seed, rec.seed);
    EXPECT_EQ(got->grid_index, rec.grid_index);
    EXPECT_EQ(got->hparams, rec.hparams);
    EXPECT_EQ(got->status, JobStatus::kDiverged);
    EXPECT_EQ(got->attempts, 2);
    EXPECT_EQ(got->wall_seconds, rec.wall_seconds);
    EXPECT_EQ(got->rank, rec.rank);
    EXPECT_EQ(got->device, "cuda:3");
    EXPECT_EQ(got->pack_id, rec.pack_id);
    EXPECT_EQ(got->error, rec.error);
    EXPECT_EQ(got->trace.steps, rec.trace.steps);
    EXPECT_EQ(got->trace.metrics, rec.trace.metrics);  // bitwise: float64 stored losslessly
    ASSERT_EQ(got->snapshots.count("embedding"), 1u);
    EXPECT_EQ(got->snapshots["embedding"].shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(got->snapshots["embedding"].data, rec.snapshots["embedding"].data);
  };
  check(/*expect_in_shard=*/true);
  auto stats = w->Merge();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->shards_merged, 1);
  EXPECT_EQ(stats->jobs_added, 2);
  EXPECT_FALSE(fs::exists(*shard));
  check(/*expect_in_shard=*/false);
  // Without shards the merged file alone holds everything.
  auto only_file = ResultsReader::Open(path, ReaderOptions{false});
  ASSERT_TRUE(only_file.ok());
  EXPECT_EQ(only_file->jobs().size(), 2u);
}

TEST(ResultsWriterTest, LedgerCountsPerGridPointIncludingUnmergedShards) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0), MakeRecord(0, 1)}).ok());
  ASSERT_TRUE(w->Merge().ok());
  ASSERT_TRUE(WriteShard(path, Info("b"), {MakeRecord(1, 0, 5, 3, JobStatus::kFailed)}).ok());
  ASSERT_TRUE(WriteShard(path, Info("c"), {MakeRecord(1, 1, 5, 3, JobStatus::kRunning)}).ok());
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  LedgerCounts t = ledger->Totals();
  EXPECT_EQ(t.done, 2);
  EXPECT_EQ(t.failed, 1);
  EXPECT_EQ(t.running, 1);
  EXPECT_EQ(t.pending, 2);
  EXPECT_EQ(t.in_shards, 2);
  EXPECT_EQ(ledger->unmerged_shards(), 2);
  auto by = ledger->ByGridPoint();
  EXPECT_EQ(by[0].done, 2);
  EXPECT_EQ(by[0].pending, 1);
  EXPECT_EQ(by[1].failed, 1);
  EXPECT_EQ(ledger->JobIds(JobStatus::kFailed), std::vector<std::string>{testing::JobId(1, 0)});
  std::vector<std::string> planned;
  for (const PlannedJob& j : MakePlan(2, 3)) planned.push_back(j.job_id);
  planned.push_back("job-not-in-file");
  auto todo = ledger->Unfinished(planned);
  EXPECT_EQ(todo, (std::vector<std::string>{testing::JobId(0, 2), testing::JobId(1, 1),
                                            testing::JobId(1, 2), "job-not-in-file"}));
}

TEST(ResultsWriterTest, NewerRecordsSupersedeOlderOnesInLedgerAndMerge) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  // Preempted: a partial "running" record, then the resumed run finishes (same attempt).
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0, 3, 2, JobStatus::kRunning)}).ok());
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0, 6, 2, JobStatus::kDone)}).ok());
  // Failed on attempt 1, done on attempt 2 — but the shards arrive in the opposite order.
  ASSERT_TRUE(WriteShard(path, Info("b"), {MakeRecord(0, 1, 4, 2, JobStatus::kDone, 2)}).ok());
  ASSERT_TRUE(WriteShard(path, Info("b"), {MakeRecord(0, 1, 2, 2, JobStatus::kFailed, 1)}).ok());
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->Find(testing::JobId(0, 0))->status, JobStatus::kDone);
  EXPECT_EQ(ledger->Find(testing::JobId(0, 1))->status, JobStatus::kDone);
  EXPECT_EQ(ledger->Find(testing::JobId(0, 1))->attempts, 2);
  auto stats = w->Merge();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->jobs_added, 2);
  EXPECT_EQ(stats->jobs_replaced, 1);
  EXPECT_EQ(stats->jobs_ignored, 1);
  auto r = ResultsReader::Open(path, ReaderOptions{false});
  ASSERT_TRUE(r.ok());
  auto j0 = r->LoadJob(testing::JobId(0, 0));
  ASSERT_TRUE(j0.ok());
  EXPECT_EQ(j0->trace.steps.size(), 6u);
  auto j1 = r->LoadJob(testing::JobId(0, 1));
  ASSERT_TRUE(j1.ok());
  EXPECT_EQ(j1->attempts, 2);
  EXPECT_EQ(j1->trace.steps.size(), 4u);
  // A later merge with an older record does not regress the stored one.
  ASSERT_TRUE(WriteShard(path, Info("c"), {MakeRecord(0, 0, 3, 2, JobStatus::kRunning)}).ok());
  ASSERT_TRUE(w->Merge().ok());
  auto again = ResultsReader::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->FindJob(testing::JobId(0, 0))->status, JobStatus::kDone);
}

TEST(ResultsWriterTest, ShardLeftBehindByInterruptedMergeIsNotMergedTwice) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  auto shard = WriteShard(path, Info("a"), {MakeRecord(0, 0)});
  ASSERT_TRUE(shard.ok());
  const std::string saved = dir / "saved.h5";
  fs::copy_file(*shard, saved);
  ASSERT_TRUE(w->Merge().ok());
  // As if the merge was killed after its rename but before deleting the shard.
  fs::copy_file(saved, *shard);
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->unmerged_shards(), 0);
  EXPECT_EQ(ledger->Totals().in_shards, 0);
  auto stats = w->Merge();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->shards_merged, 0);
  EXPECT_EQ(stats->jobs_replaced, 0);
  EXPECT_FALSE(fs::exists(*shard));
}

TEST(ResultsWriterTest, ResumeSameHashKeepsJobsAndRecordsSession) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  {
    auto w = ResultsWriter::Open(path, Options());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0)}).ok());
    // Killed before merging: the shard stays.
  }
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_FALSE(w->created());
  ASSERT_TRUE(w->Merge().ok());
  auto r = ResultsReader::Open(path, ReaderOptions{false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->jobs().size(), 1u);
}

TEST(ResultsWriterTest, DifferentConfigHashIsRefusedUnlessFreshOrAccepted) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  {
    auto w = ResultsWriter::Open(path, Options());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0)}).ok());
    ASSERT_TRUE(w->Merge().ok());
  }
  const auto before = fs::file_size(path);
  auto refused = ResultsWriter::Open(path, Options("0000000000000bad"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  const std::string& msg = refused.status().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("cafebabe00000001"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--fresh"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--accept-config-mismatch"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_EQ(fs::file_size(path), before);

  OpenOptions accept = Options("0000000000000bad");
  accept.existing = ExistingFile::kAcceptMismatch;
  {
    auto w = ResultsWriter::Open(path, accept);
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_TRUE(w->config_mismatch_accepted());
    ASSERT_TRUE(w->Merge().ok());  // records the session
  }
  // Once accepted and recorded, the same config resumes without asking again.
  auto resumed = ResultsWriter::Open(path, Options("0000000000000bad"));
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_FALSE(resumed->config_mismatch_accepted());
  resumed = Status::Cancelled("release the lock");

  OpenOptions fresh = Options("00000000000000f2");
  fresh.existing = ExistingFile::kFresh;
  auto w = ResultsWriter::Open(path, fresh);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->created());
  ASSERT_FALSE(w->moved_aside_to().empty());
  EXPECT_NE(w->moved_aside_to().find("results.prev-"), std::string::npos);
  // The old file was moved, not deleted, and still reads with its job.
  auto old = ResultsReader::Open(w->moved_aside_to());
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->jobs().size(), 1u);
  EXPECT_TRUE(fs::is_directory(w->moved_aside_to() + ".d"));
  auto now = ResultsReader::Open(path);
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->jobs().empty());
  EXPECT_EQ(now->provenance().config_hash, "00000000000000f2");
}

TEST(ResultsWriterTest, ShardsWithoutAResultsFileAreSetAsideNotMerged) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  {
    auto w = ResultsWriter::Open(path, Options());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0)}).ok());
  }
  fs::remove(path);  // the user deleted the file but not its .d directory
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->created());
  EXPECT_NE(w->moved_aside_to().find("/results.h5.d/orphaned-shards-"), std::string::npos);
  EXPECT_FALSE(fs::is_empty(w->moved_aside_to()));
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->Totals().done, 0);
}

TEST(ResultsWriterTest, OpenRemovesTemporaryFilesOfAKilledWriter) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  { ASSERT_TRUE(ResultsWriter::Open(path, Options()).ok()); }
  const SidecarPaths side = SidecarFor(path);
  std::ofstream(side.merge_tmp) << "partial";
  std::ofstream(side.shards + "/.tmp-000-r0-1-0.h5") << "partial";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(fs::exists(side.merge_tmp));
  EXPECT_FALSE(fs::exists(side.shards + "/.tmp-000-r0-1-0.h5"));
}

TEST(ResultsWriterTest, UnreadableShardIsSetAsideAndReported) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0)}).ok());
  const std::string bogus = SidecarFor(path).shards + "/99999999999999999999-r0-1-0.h5";
  std::ofstream(bogus) << "not hdf5";
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->bad_shards().size(), 1u);
  EXPECT_EQ(ledger->Totals().done, 1);
  auto stats = w->Merge();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->shards_merged, 1);
  ASSERT_EQ(stats->bad_shards.size(), 1u);
  EXPECT_NE(stats->bad_shards[0].find("not an HDF5 file"), std::string::npos);
  EXPECT_TRUE(fs::exists(bogus + ".bad"));
}

TEST(ResultsWriterTest, MergePolicyWaitsForEnoughWorkButAlwaysCapsShards) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  MergePolicy policy;
  policy.max_pending_shards = 3;
  policy.max_pending_fraction = 1e9;  // only the shard count triggers
  policy.max_seconds_between = 1e9;
  policy.max_time_fraction = 0;
  w->set_merge_policy(policy);
  EXPECT_FALSE(w->MergeDue());
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(0, 0)}).ok());
  ASSERT_TRUE(WriteShard(path, Info("b"), {MakeRecord(0, 1)}).ok());
  EXPECT_FALSE(w->MergeDue());
  auto none = w->MaybeMerge();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->shards_merged, 0);
  ASSERT_TRUE(WriteShard(path, Info("c"), {MakeRecord(0, 2)}).ok());
  EXPECT_TRUE(w->MergeDue());
  auto merged = w->MaybeMerge();
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->shards_merged, 3);
  // Right after a merge the time gate holds back everything but the shard cap.
  policy.max_pending_fraction = 0;
  policy.max_seconds_between = 0;
  policy.max_time_fraction = 1e-9;
  w->set_merge_policy(policy);
  ASSERT_TRUE(WriteShard(path, Info("d"), {MakeRecord(1, 0)}).ok());
  EXPECT_FALSE(w->MergeDue());
  ASSERT_TRUE(WriteShard(path, Info("e"), {MakeRecord(1, 1)}).ok());
  ASSERT_TRUE(WriteShard(path, Info("f"), {MakeRecord(1, 2)}).ok());
  EXPECT_TRUE(w->MergeDue());
}

TEST(ResultsWriterTest, JobsOutsideThePlanAreAppended) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  OpenOptions o = Options();
  o.plan.clear();
  auto w = ResultsWriter::Open(path, o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(WriteShard(path, Info("a"), {MakeRecord(3, 9), MakeRecord(3, 1)}).ok());
  ASSERT_TRUE(w->Merge().ok());
  ASSERT_TRUE(WriteShard(path, Info("b"), {MakeRecord(4, 0)}).ok());
  ASSERT_TRUE(w->Merge().ok());
  auto r = ResultsReader::Open(path);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->jobs().size(), 3u);
  EXPECT_EQ(r->jobs()[0].seed, 1u);  // sorted by (grid, seed)
  auto grid = r->GridPoints();
  ASSERT_EQ(grid.size(), 2u);
  EXPECT_EQ(grid[0].job_ids,
            (std::vector<std::string>{testing::JobId(3, 1), testing::JobId(3, 9)}));
}

TEST(ResultsWriterTest, RecordThatDisagreesWithThePlanWinsInTheIndex) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  JobRecord r = MakeRecord(0, 1);
  r.hparams = {{"lr", HparamValue::Number("0.5")}};
  r.seed = 77;
  ASSERT_TRUE(WriteShard(path, Info("a"), {r}).ok());
  ASSERT_TRUE(w->Merge().ok());
  auto reader = ResultsReader::Open(path, ReaderOptions{false});
  ASSERT_TRUE(reader.ok());
  const JobSummary* s = reader->FindJob(r.job_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(HparamsJson(s->hparams), "{\"lr\":0.5}");
  EXPECT_EQ(s->seed, 77u);
  auto ledger = Ledger::Read(path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->Find(testing::JobId(0, 0))->hparams, testing::HparamsFor(0));
}

TEST(ShardWriterTest, RejectsInvalidRecords) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  JobRecord bad = MakeRecord(0, 0);
  bad.trace.metrics["metric_0"].pop_back();
  auto s = WriteShard(path, Info("a"), {bad});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("metric_0"), std::string::npos);
  JobRecord slash = MakeRecord(0, 0);
  slash.trace.metrics["train/loss"] = slash.trace.metrics["metric_0"];
  EXPECT_FALSE(WriteShard(path, Info("a"), {slash}).ok());
  EXPECT_FALSE(WriteShard(path, Info("a"), {MakeRecord(0, 0), MakeRecord(0, 0)}).ok());
  // Nothing was left in the shard directory.
  EXPECT_TRUE(fs::is_empty(SidecarFor(path).shards));
  ScratchDir other;
  auto no_dir = WriteShard(other / "results.h5", Info("a"), {MakeRecord(0, 0)});
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace phasesweep::storage
