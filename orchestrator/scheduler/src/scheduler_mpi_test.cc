// The scheduler under real mpirun (-np 1, 2, 4): every pack runs exactly once, failures retry
// then fail, idle ranks leave cleanly, and a stop signal on one rank stops every rank.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <vector>

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

// Data-parallel groups (G = 2 when the rank count is even): the roots schedule, every member of
// a group runs the same packs in the same order, and a stop signal on a non-root member stops
// its whole group at the same step (the agreement is an allreduce, as in phasesweep run).
TEST(SchedulerTest, GroupMembersRunTheirRootsPacksInStepAndStopTogether) {
  InstallStopHandlers();
  ResetStopSignal();
  const int g = Size() % 2 == 0 ? 2 : 1;
  MPI_Comm group, roots;
  MPI_Comm_split(MPI_COMM_WORLD, Rank() / g, Rank(), &group);
  int group_rank = 0;
  MPI_Comm_rank(group, &group_rank);
  MPI_Comm_split(MPI_COMM_WORLD, group_rank == 0 ? 0 : MPI_UNDEFINED, Rank(), &roots);
  const StopAgreement agree = [&](bool stop_here) {
    int any = stop_here ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_LOR, group);
    return any != 0;
  };

  for (const bool stop : {false, true}) {
    std::vector<long long> ran;  // pack * 1000 + steps, in order
    FakeExecutor ex;
    ex.body = [&](const PackContext& c) -> PackOutcome {
      for (int s = 0; s < 20; ++s) {
        if (c.should_stop()) {
          ran.push_back(static_cast<long long>(c.pack) * 1000 + s);
          return {PackOutcomeKind::kInterrupted, s, ""};
        }
        // The last rank (a non-root when g = 2) is signalled in its second pack.
        if (stop && Rank() == Size() - 1 && ran.size() == 1 && s == 5) raise(SIGUSR1);
        usleep(300);
        c.service();
      }
      ran.push_back(static_cast<long long>(c.pack) * 1000 + 20);
      return {PackOutcomeKind::kFinished, 20, ""};
    };
    RecordingCollector collector;
    const size_t n = 4 * static_cast<size_t>(Size());
    Result<SchedulerSummary> r = SchedulerSummary{};
    if (group_rank == 0) {
      GroupRootExecutor root(group, ex, agree);
      r = RunScheduler(roots, Range(n), root, &collector, SchedulerOptions{}, nullptr);
      root.ReleaseGroup();
    } else {
      r = FollowGroupRoot(group, ex, agree);
    }
    ASSERT_TRUE(r.ok()) << r.status().message();
    // Every member of a group ran exactly what its root ran, to the same step.
    long long count = static_cast<long long>(ran.size()), max_count = 0;
    MPI_Allreduce(&count, &max_count, 1, MPI_LONG_LONG, MPI_MAX, group);
    ASSERT_EQ(count, max_count);
    std::vector<long long> roots_ran = ran;
    MPI_Bcast(roots_ran.data(), static_cast<int>(count), MPI_LONG_LONG, 0, group);
    EXPECT_EQ(ran, roots_ran) << "rank " << Rank();
    if (Rank() == 0) {
      if (stop) {
        EXPECT_TRUE(r->stopped);
        EXPECT_LT(collector.done.size(), n);
      } else {
        EXPECT_EQ(collector.done.size(), n);
      }
    }
    ResetStopSignal();
    MPI_Barrier(MPI_COMM_WORLD);
  }
  if (roots != MPI_COMM_NULL) MPI_Comm_free(&roots);
  MPI_Comm_free(&group);
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
