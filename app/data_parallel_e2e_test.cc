// End-to-end tests of data parallelism under real mpirun: groups of training.data_parallel = G
// ranks train one pack together and follow the trajectory of one rank on the same global batch,
// resume bitwise after SIGUSR1, and refuse bad groups with one line. (Part of run_e2e_test.)
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "test_process.h"
#include "traces.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;
// The same command line with faults injected into `run`'s executor (fault_injection_main.cc).
const std::string kFaultsExe = PHASESWEEP_FAULTS_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";
constexpr auto kLimit = std::chrono::seconds(120);

std::string Mpirun(int np) { return MpirunPrefix(MPIEXEC, np); }

// |a - b| <= rel * max(|a|, |b|) for every value of every trace (values below 1e-12 must match
// to 1e-12 absolute).
void ExpectRelativelyClose(const Traces& a, const Traces& b, double rel) {
  double worst = 0;
  ForEachValuePair(
      a, b, [&](const std::string& job, const std::string& name, size_t i, double x, double y) {
        const double scale = std::max({std::abs(x), std::abs(y), 1e-12});
        const double d = std::abs(x - y) / scale;
        worst = std::max(worst, d);
        EXPECT_LE(d, rel) << job << " " << name << " [" << i << "]: " << x << " vs " << y;
      });
  std::printf("largest relative difference: %.3g\n", worst);
}

TEST(DataParallelRunTest, GroupOfTwoFollowsTheTrajectoryOfOneRankOnTheSameGlobalBatch) {
  TempDir dir;
  // 100 steps, full batch (the global batch is the whole training set), one thread per rank.
  const std::string args = " run " + kSmoke + " training.steps=100 training.threads=1 -q";
  ProcessResult one = RunCommand(Mpirun(1) + kExe + args + " -o g1.h5", dir.path());
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ProcessResult two = RunCommand(
      Mpirun(2) + kExe + args + " training.data_parallel=2 --log-dir logs -o g2.h5", dir.path());
  ASSERT_EQ(two.exit_code, 0) << two.err;
  ExpectRelativelyClose(Load(dir.path() + "/g1.h5"), Load(dir.path() + "/g2.h5"), 1e-5);
  // Both ranks trained every pack; only the group root stored them.
  const std::string root_log = ReadTextFile(dir.path() + "/logs/rank-0.log");
  const std::string member_log = ReadTextFile(dir.path() + "/logs/rank-1.log");
  EXPECT_GE(CountLines(root_log, "finished ("), 1) << root_log;
  EXPECT_EQ(CountLines(member_log, "finished ("), 0) << member_log;
  EXPECT_EQ(CountLines(member_log, "no pack was left"), 0) << member_log;
}

TEST(DataParallelRunTest, MinibatchesAndTwoGroupsMatchOneRankToo) {
  TempDir dir;
  // Minibatches of 15 (an uneven split: 8 + 7 rows) and 4 ranks in 2 groups of 2.
  const std::string args =
      " run " + kSmoke + " training.steps=60 training.batch_size=15 training.threads=1 -q";
  ProcessResult one = RunCommand(Mpirun(2) + kExe + args + " -o g1.h5", dir.path());
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ProcessResult two =
      RunCommand(Mpirun(4) + kExe + args + " training.data_parallel=2 -o g2.h5", dir.path());
  ASSERT_EQ(two.exit_code, 0) << two.err;
  ExpectRelativelyClose(Load(dir.path() + "/g1.h5"), Load(dir.path() + "/g2.h5"), 1e-5);
}

TEST(DataParallelRunTest, AGroupStoppedBySigusrOneResumesBitwiseIdentical) {
  TempDir dir;
  const std::string run = Mpirun(2) + kExe + " run " + kSmoke +
                          " training.steps=1000 training.checkpoint_every=20 training.threads=1 "
                          "probes.every=50 training.pack=2 training.data_parallel=2 -q "
                          "--log-dir logs";
  ProcessResult ref = RunCommand(run + " -o ref.h5", dir.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string out = dir.path() + "/out.h5", logs = dir.path() + "/logs";
  std::filesystem::remove_all(logs);
  const pid_t pid = StartCommand(run + " -o out.h5", dir.path(), dir.path() + "/first.log");
  ASSERT_TRUE(WaitUntil([&] { return CountCheckpoints(out) > 0 || Ended(pid); }, kLimit));
  ASSERT_FALSE(Ended(pid)) << ReadTextFile(dir.path() + "/first.log");
  kill(pid, SIGUSR1);
  ASSERT_EQ(WaitForExit(pid, kLimit), 75) << ReadTextFile(dir.path() + "/first.log");
  // Only the group root writes the checkpoint; on the rerun both ranks load it.
  EXPECT_EQ(CountLines(ReadTextFile(logs + "/rank-0.log"), "; checkpoint saved"), 1);
  EXPECT_EQ(CountLines(ReadTextFile(logs + "/rank-1.log"), "; checkpoint saved"), 0);
  ProcessResult resumed = RunCommand(run + " -o out.h5", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(CountLines(ReadTextFile(logs + "/rank-0.log"), "resumes from its checkpoint"), 1);
  EXPECT_EQ(CountLines(ReadTextFile(logs + "/rank-1.log"), "resumes from its checkpoint"), 1);
  ExpectClose(Load(dir.path() + "/ref.h5"), Load(out), 0);
}

TEST(DataParallelRunTest, BadGroupsAreClearErrors) {
  TempDir dir;
  // G does not divide the rank count: refused at start on every rank, one line.
  ProcessResult r = RunCommand(
      Mpirun(3) + kExe + " run " + kSmoke + " training.data_parallel=2 -q -o out.h5", dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("phasesweep: error: training.data_parallel = 2 does not divide the 3 MPI "
                       "ranks"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(CountLines(r.err, "phasesweep: error:"), 1) << r.err;
  // A rank whose model differs from its group's (test executor): the parameter checksum at start
  // fails every pack with an error naming the rank, instead of hanging.
  r = RunCommand("PHASESWEEP_INJECT_MODEL_MISMATCH_RANK=1 " + Mpirun(2) + kFaultsExe + " run " +
                     kSmoke + " training.data_parallel=2 training.retries=0 -q -o out.h5",
                 dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("parameter shapes differ across group 0 (ranks 0-1): rank 1 has"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace phasesweep::testing
