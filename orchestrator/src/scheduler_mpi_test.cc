// The scheduler under real mpirun (-np 1, 2, 4): every pack runs exactly once, failures retry
// then fail, idle ranks leave cleanly, and a stop signal on one rank stops every rank.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <mutex>
#include <set>

#include "phasesweep/orchestrator/scheduler.h"
#include "phasesweep/orchestrator/signals.h"

namespace phasesweep::orchestrator {
namespace {

int Rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int Size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// Trains nothing: "steps" are short sleeps, calling the hooks like the trainer does.
class FakeExecutor : public PackExecutor {
 public:
  std::function<PackOutcome(const PackContext&)> body;
  PackOutcome Run(const PackContext& c) override { return body(c); }
};

PackOutcome Steps(const PackContext& c, int steps, int micros) {
  for (int s = 0; s < steps; ++s) {
    if (c.should_stop()) return {PackOutcomeKind::kInterrupted, s, ""};
    usleep(micros);
    c.service();
    c.progress(s);
  }
  return {PackOutcomeKind::kFinished, steps, ""};
}

struct Record {
  int rank;
  int attempts;
  PackOutcome outcome;
};
class RecordingCollector : public ResultCollector {
 public:
  std::map<size_t, std::vector<Record>> done;
  Status PackDone(size_t pack, int rank, int attempts, const PackOutcome& o) override {
    done[pack].push_back({rank, attempts, o});
    return Status::Ok();
  }
};

std::vector<size_t> Range(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST(SchedulerTest, EveryPackRunsExactlyOnceAndAllRanksTrain) {
  FakeExecutor ex;
  ex.body = [](const PackContext& c) { return Steps(c, 5 + static_cast<int>(c.pack % 7), 2000); };
  RecordingCollector collector;
  SchedulerOptions options;
  const size_t n = 24;
  auto r = RunScheduler(MPI_COMM_WORLD, Range(n), ex, &collector, options, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->stopped);
  // Every rank trained at least one pack (24 uneven packs, at most 4 ranks).
  EXPECT_GT(r->packs_run_here, 0) << "rank " << Rank();
  if (Rank() == 0) {
    ASSERT_EQ(collector.done.size(), n);
    for (const auto& [pack, records] : collector.done) {
      ASSERT_EQ(records.size(), 1u) << pack;
      EXPECT_EQ(records[0].outcome.kind, PackOutcomeKind::kFinished);
      EXPECT_EQ(records[0].attempts, 1);
    }
    EXPECT_EQ(r->packs_finished, static_cast<int64_t>(n));
    std::set<int> ranks;
    for (const auto& [pack, records] : collector.done) ranks.insert(records[0].rank);
    EXPECT_EQ(static_cast<int>(ranks.size()), Size());
  }
}

TEST(SchedulerTest, ErrorsAreRetriedThenFailWithTheirText) {
  FakeExecutor ex;
  std::map<size_t, int> calls;
  ex.body = [&](const PackContext& c) -> PackOutcome {
    if (c.pack == 1 && c.attempt == 1) throw std::runtime_error("transient failure");
    if (c.pack == 2) throw std::runtime_error("always fails: bad pack");
    return Steps(c, 3, 1000);
  };
  RecordingCollector collector;
  SchedulerOptions options;
  options.retries = 2;
  auto r = RunScheduler(MPI_COMM_WORLD, Range(6), ex, &collector, options, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  if (Rank() == 0) {
    ASSERT_EQ(collector.done.size(), 6u);
    EXPECT_EQ(collector.done[1][0].outcome.kind, PackOutcomeKind::kFinished);
    EXPECT_EQ(collector.done[1][0].attempts, 2);
    EXPECT_EQ(collector.done[2][0].outcome.kind, PackOutcomeKind::kError);
    EXPECT_EQ(collector.done[2][0].attempts, 3);  // 1 + retries
    EXPECT_EQ(collector.done[2][0].outcome.error, "always fails: bad pack");
    EXPECT_EQ(r->packs_failed, 1);
    EXPECT_EQ(r->packs_finished, 5);
  }
}

TEST(SchedulerTest, MoreRanksThanPacksLeavesIdleRanksCleanly) {
  FakeExecutor ex;
  ex.body = [](const PackContext& c) { return Steps(c, 20, 1000); };
  RecordingCollector collector;
  auto r = RunScheduler(MPI_COMM_WORLD, Range(1), ex, &collector, SchedulerOptions{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int ran = static_cast<int>(r->packs_run_here), total = 0;
  MPI_Allreduce(&ran, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 1);
  if (Rank() == 0) {
    EXPECT_EQ(collector.done.size(), 1u);
  }
}

TEST(SchedulerTest, AStopSignalOnOneRankStopsEveryRank) {
  InstallStopHandlers();
  ResetStopSignal();
  const int signaller = Size() - 1;  // the last rank receives SIGUSR1, as from SLURM
  FakeExecutor ex;
  ex.body = [&](const PackContext& c) -> PackOutcome {
    for (int s = 0; s < 100000; ++s) {
      if (c.should_stop()) return {PackOutcomeKind::kInterrupted, s, ""};
      if (Rank() == signaller && s == 50) raise(SIGUSR1);
      usleep(500);
      c.service();
    }
    return {PackOutcomeKind::kFinished, 100000, ""};
  };
  RecordingCollector collector;
  auto r = RunScheduler(MPI_COMM_WORLD, Range(3 * static_cast<size_t>(Size())), ex, &collector,
                        SchedulerOptions{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  if (Rank() == 0) {
    EXPECT_TRUE(r->stopped);
    EXPECT_EQ(r->packs_finished, 0);
    EXPECT_GE(r->packs_interrupted, 1);
    EXPECT_TRUE(collector.done.empty());
  }
  ResetStopSignal();
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
}  // namespace phasesweep::orchestrator

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  // Only rank 0 prints gtest's report; the others' failures still fail the exit status.
  if (phasesweep::orchestrator::Rank() != 0) {
    delete ::testing::UnitTest::GetInstance()->listeners().Release(
        ::testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0, any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
