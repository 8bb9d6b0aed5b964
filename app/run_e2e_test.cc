// End-to-end tests of `phasesweep run` under real mpirun: results, determinism across rank
// counts, resume after kill -9 (bitwise identical traces), preemption signals (SIGUSR1 and
// SIGTERM, to mpirun or to the ranks), a second sweep on the same file, refusal of a changed
// config, idle ranks, failures and retries, and bad inputs. Data parallelism (groups of ranks
// training one pack) is in data_parallel_e2e_test.cc, in the same test binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/storage/reader.h"
#include "test_process.h"
#include "traces.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;
// The same command line with faults injected into `run`'s executor (fault_injection_main.cc).
const std::string kFaultsExe = PHASESWEEP_FAULTS_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";

std::string Mpirun(int np) { return MpirunPrefix(MPIEXEC, np); }

// A sweep long enough to be interrupted mid-way (each job takes seconds), with frequent
// checkpoints; one thread per rank so traces are bitwise comparable whatever the rank count.
// Packs of ~5 s each on this machine: long enough that a signal delivered a few seconds after
// training starts (mpirun delays its SIGTERM to the ranks by odls_base_sigkill_timeout) still
// finds every rank training.
std::string LongArgs() {
  return kSmoke +
         " training.steps=12000 training.checkpoint_every=20 training.threads=1 probes.every=200 "
         "-q";
}

// Counts the lines containing `needle` in every rank log under `log_dir` (logs are appended to
// by reruns, so counts accumulate over the runs of one test).
int CountInLogs(const std::string& log_dir, const std::string& needle) {
  int count = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(log_dir, ec)) {
    count += CountLines(ReadTextFile(e.path().string()), needle);
  }
  return count;
}

constexpr auto kLimit = std::chrono::seconds(120);

TEST(RunTest, SmokeSweepRunsAloneAndStoresEveryJob) {
  TempDir dir;
  ProcessResult r = RunCommand(kExe + " run " + kSmoke + " -o out.h5", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("4/4 jobs done, 0 diverged, 0 failed, 0 pending -> out.h5"),
            std::string::npos)
      << r.err;
  Traces t = Load(dir.path() + "/out.h5");
  ASSERT_EQ(t.size(), 4u);
  for (const auto& [job, metrics] : t) {
    EXPECT_EQ(metrics.at("step").front(), 0);
    EXPECT_EQ(metrics.at("step").back(), 200);
    EXPECT_TRUE(metrics.count("test_acc")) << job;
  }
  // Rerunning the finished sweep trains nothing and changes nothing.
  ProcessResult again = RunCommand(kExe + " run " + kSmoke + " -o out.h5", dir.path());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("4 already finished, 0 to run"), std::string::npos) << again.err;
  ExpectClose(t, Load(dir.path() + "/out.h5"), 0);
}

TEST(RunTest, TracesDoNotDependOnRankCount) {
  TempDir dir;
  const std::string args = " run " + kSmoke + " training.threads=1 -q -o ";
  ASSERT_EQ(RunCommand(Mpirun(1) + kExe + args + "np1.h5", dir.path()).exit_code, 0);
  ProcessResult r3 = RunCommand(Mpirun(3) + kExe + args + "np3.h5", dir.path());
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  // -np 3 packs the 4 seeds differently (2 + 2): equal within float tolerance.
  ExpectClose(Load(dir.path() + "/np1.h5"), Load(dir.path() + "/np3.h5"), 1e-5);
  // The same packing on another rank count is bitwise identical.
  ASSERT_EQ(RunCommand(Mpirun(2) + kExe + args + "np2.h5 training.pack=2", dir.path()).exit_code,
            0);
  ExpectClose(Load(dir.path() + "/np3.h5"), Load(dir.path() + "/np2.h5"), 0);
}

TEST(RunTest, KillNineAtSeveralPointsThenResumeIsBitwiseIdentical) {
  TempDir dir;
  const std::string run = Mpirun(2) + kExe + " run " + LongArgs() + " training.pack=1";
  ProcessResult ref = RunCommand(run + " -o ref.h5", dir.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string killed = dir.path() + "/killed.h5", logs = dir.path() + "/logs";
  const std::string log = dir.path() + "/killed.log";
  // Kill points, each waited for on evidence rather than after a guessed delay: while the first
  // packs train (their checkpoints exist), after one of the 4 packs finished, after two (the
  // rank logs accumulate over the runs).
  const std::vector<std::function<bool()>> points = {
      [&] { return CountCheckpoints(killed) > 0; },
      [&] { return CountInLogs(logs, "finished (") >= 1; },
      [&] { return CountInLogs(logs, "finished (") >= 2; },
  };
  for (size_t i = 0; i < points.size(); ++i) {
    const pid_t pid = StartCommand(run + " --log-dir logs -o killed.h5", dir.path(), log);
    ASSERT_TRUE(WaitUntil([&] { return points[i]() || Ended(pid); }, kLimit)) << i;
    EXPECT_FALSE(Ended(pid)) << "kill point " << i << " came after the sweep ended\n"
                             << ReadTextFile(log);
    KillProcessTree(pid);  // mpirun and every rank, as a node failure would
    WaitForExit(pid, kLimit);
    // Whatever instant the kill hit, the file opens (or was not created yet).
    if (std::filesystem::exists(killed)) {
      EXPECT_TRUE(storage::ResultsReader::Open(killed).ok()) << "after kill point " << i;
    }
  }
  ProcessResult resumed = RunCommand(run + " --log-dir logs -o killed.h5", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  // The run that was killed while packs trained resumed them from their checkpoints.
  EXPECT_GE(CountInLogs(logs, "resumes from its checkpoint at step"), 1) << ReadTextFile(log);
  ExpectClose(Load(dir.path() + "/ref.h5"), Load(killed), 0);
}

TEST(RunTest, ChangedConfigIsRefusedUntilAskedFor) {
  TempDir dir;
  ASSERT_EQ(RunCommand(kExe + " run " + kSmoke + " -q -o out.h5", dir.path()).exit_code, 0);
  ProcessResult r =
      RunCommand(kExe + " run " + kSmoke + " optimizer.lr=0.002 -q -o out.h5", dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--fresh"), std::string::npos) << r.err;
  ProcessResult fresh =
      RunCommand(kExe + " run " + kSmoke + " optimizer.lr=0.002 -q --fresh -o out.h5", dir.path());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_NE(fresh.err.find("moved aside: "), std::string::npos) << fresh.err;
}

TEST(RunTest, MoreRanksThanPacksIdleRanksSaySoAndTheSweepCompletes) {
  TempDir dir;
  ProcessResult r = RunCommand(
      Mpirun(4) + kExe + " run " + kSmoke + " training.pack=4 -q -o out.h5 --log-dir logs",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Load(dir.path() + "/out.h5").size(), 4u);
  int idle = 0;
  for (int rank = 1; rank < 4; ++rank) {
    std::ifstream log(dir.path() + "/logs/rank-" + std::to_string(rank) + ".log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (text.find("no pack was left for this rank") != std::string::npos) ++idle;
  }
  EXPECT_EQ(idle, 3);
}

TEST(RunTest, BadInputsAreClearErrors) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() + "/adir");
  ProcessResult r = RunCommand(kExe + " run " + kSmoke + " -o adir", dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("adir"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("directory"), std::string::npos) << r.err;
  r = RunCommand(kExe + " run missing.yaml", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.yaml: cannot read the config file"), std::string::npos) << r.err;
  r = RunCommand(Mpirun(3) + kExe + " run " + kSmoke + " optimizer.lr=-1", dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(RunTest, APackThatKeepsFailingMarksItsJobsFailedAndTheSweepGoesOn) {
  TempDir dir;
  // Test executor: the first N attempts of the named pack fail.
  ProcessResult r =
      RunCommand("PHASESWEEP_INJECT_PACK_FAILURES=pack-0001=5 " + kFaultsExe + " run " + kSmoke +
                     " training.pack=2 training.retries=1 -q -o out.h5",
                 dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("2/4 jobs done, 0 diverged, 2 failed"), std::string::npos) << r.err;
  auto reader = storage::ResultsReader::Open(dir.path() + "/out.h5");
  ASSERT_TRUE(reader.ok());
  int failed = 0;
  for (const auto& j : reader->jobs()) {
    if (j.status != JobStatus::kFailed) continue;
    ++failed;
    EXPECT_EQ(j.attempts, 2);
    auto rec = reader->LoadJob(j.job_id);
    ASSERT_TRUE(rec.ok());
    EXPECT_NE(rec->error.find("injected failure"), std::string::npos) << rec->error;
  }
  EXPECT_EQ(failed, 2);
  // A transient failure is retried and the sweep ends clean.
  r = RunCommand("PHASESWEEP_INJECT_PACK_FAILURES=pack-0000=1 " + kFaultsExe + " run " + kSmoke +
                     " training.pack=2 training.retries=1 -q -o retry.h5",
                 dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Bytes of memory plus swap (/proc/meminfo), and whether the kernel overcommits without limit.
int64_t MemoryAndSwapBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0, total = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:" || key == "SwapTotal:") total += kb * 1024;
  }
  return total;
}
bool OvercommitsAlways() {
  std::ifstream in("/proc/sys/vm/overcommit_memory");
  int mode = 0;
  return (in >> mode) && mode == 1;
}

TEST(RunTest, APackTheDeviceCannotHoldFailsWithTheMemoryItNeedsAndTheRestIsKept) {
  // 8 MLP members of width 65536: the pack's flat parameter tensor alone is ~137 GB, so the CPU
  // allocator refuses it at once (nothing is touched) where memory + swap is well below that.
  if (MemoryAndSwapBytes() > (int64_t{64} << 30) || OvercommitsAlways()) {
    GTEST_SKIP() << "this machine could try to hold a 137 GB pack (memory + swap > 64 GiB or "
                    "vm.overcommit_memory = 1): the refusal cannot be provoked safely";
  }
  TempDir dir;
  {
    std::ofstream cfg(dir.path() + "/huge.yaml");
    cfg << "name: oom\ntask: {name: modular_arithmetic, p: 7, train_fraction: 0.5}\n"
           "model: {name: mlp, depth: 2}\noptimizer: {name: adamw, lr: 0.01}\n"
           "training: {steps: 20, batch_size: 0, pack: 8, retries: 0}\n"
           "probes: {metrics: [train_loss, test_acc], every: 10, batch: 16}\n"
           "sweep: {seeds: range(8), grid: {model.width: [16, 65536]}}\n"
           "output: {path: out.h5}\n";
  }
  ProcessResult r = RunCommand(kExe + " run huge.yaml -q", dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("8/16 jobs done, 0 diverged, 8 failed"), std::string::npos) << r.err;
  auto reader = storage::ResultsReader::Open(dir.path() + "/out.h5");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  int failed = 0, done = 0;
  for (const auto& j : reader->jobs()) {
    auto rec = reader->LoadJob(j.job_id);
    ASSERT_TRUE(rec.ok());
    if (j.status == JobStatus::kDone) {
      ++done;
      EXPECT_FALSE(rec->trace.steps.empty()) << "the small pack's traces are kept";
      continue;
    }
    ASSERT_EQ(j.status, JobStatus::kFailed);
    ++failed;
    // One line: the device, what the pack needed by the memory model, the allocator's words and
    // what would help.
    EXPECT_EQ(rec->error.find('\n'), std::string::npos) << rec->error;
    EXPECT_EQ(rec->error.rfind("out of memory on cpu: pack-", 0), 0u) << rec->error;
    EXPECT_NE(rec->error.find("(8 members) needs about "), std::string::npos) << rec->error;
    EXPECT_NE(rec->error.find(" GiB per member"), std::string::npos) << rec->error;
    EXPECT_NE(rec->error.find("the allocator said: "), std::string::npos) << rec->error;
    // A member of ~96 GiB is more than this machine holds: the advice is a smaller model.
    EXPECT_NE(rec->error.find("one member needs more than this machine's "), std::string::npos)
        << rec->error;
    EXPECT_LT(rec->error.size(), 600u) << rec->error;
  }
  EXPECT_EQ(done, 8);
  EXPECT_EQ(failed, 8);
}

// --- A sweep long enough to interrupt: preemption and a second sweep on the same file. SLURM's
// --signal sends SIGUSR1 (or a chosen signal) before the time limit and SIGTERM at preemption or
// the limit: to mpirun when the batch script runs it, to every rank when srun starts them. One
// uninterrupted reference run serves every case.
class LongSweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_dir_ = new TempDir;
    ProcessResult ref = RunCommand(Run("", "ref.h5"), ref_dir_->path());
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    ref_ = new Traces(Load(ref_dir_->path() + "/ref.h5"));
  }
  static void TearDownTestSuite() {
    delete ref_;
    delete ref_dir_;
    ref_ = nullptr;
    ref_dir_ = nullptr;
  }
  // 2 ranks and 4 packs of one job: both ranks are training when the signal comes, and packs
  // are left in the queue.
  static std::string Run(const std::string& env = "", const std::string& output = "out.h5",
                         int ranks = 2) {
    return env + Mpirun(ranks) + kExe + " run " + LongArgs() +
           " training.pack=1 --log-dir logs --stop-timeout 60 -o " + output;
  }

  // Starts the sweep and returns mpirun's pid once every rank trains (one pack checkpoint each).
  pid_t StartTraining(const std::string& env = "", int ranks = 2) {
    const pid_t pid = StartCommand(Run(env, "out.h5", ranks), dir_.path(), log_);
    const bool training =
        WaitUntil([&] { return CountCheckpoints(out_) >= ranks || Ended(pid); }, kLimit);
    EXPECT_TRUE(training && !Ended(pid)) << ReadTextFile(log_);
    return pid;
  }

  // The file left behind opens (our reader and h5py) and not every job is done yet.
  void ExpectConsistentAndUnfinished() {
    auto reader = storage::ResultsReader::Open(out_);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_LT(reader->jobs().size(), 4u);
    ProcessResult h5py =
        RunCommand("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + out_ +
                   "', 'r'); print(sorted(f.attrs.keys())[0], len(f.get('jobs', {})))\"");
    EXPECT_EQ(h5py.exit_code, 0) << h5py.err;
  }

  // Rerunning the same command resumes the interrupted packs and ends bitwise identical to the
  // uninterrupted reference.
  void ExpectResumesToReference() {
    ProcessResult resumed = RunCommand(Run(), dir_.path());
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_GE(CountInLogs(logs_, "resumes from its checkpoint at step"), 2)
        << resumed.err << "rank 0:\n"
        << ReadTextFile(logs_ + "/rank-0.log") << "rank 1:\n"
        << ReadTextFile(logs_ + "/rank-1.log");
    ExpectClose(*ref_, Load(out_), 0);
  }

  static TempDir* ref_dir_;
  static Traces* ref_;
  TempDir dir_;
  const std::string out_ = dir_.path() + "/out.h5", logs_ = dir_.path() + "/logs";
  const std::string log_ = dir_.path() + "/first.log";
};
TempDir* LongSweepTest::ref_dir_ = nullptr;
Traces* LongSweepTest::ref_ = nullptr;

TEST_F(LongSweepTest, SigusrOneToMpirunCheckpointsEveryRankAndExitsForRequeue) {
  ASSERT_NE(ref_, nullptr);
  const pid_t pid = StartTraining();
  const auto signalled = std::chrono::steady_clock::now();
  kill(pid, SIGUSR1);  // mpirun forwards SIGUSR1 to every rank
  const int code = WaitForExit(pid, kLimit);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  const std::string err = ReadTextFile(log_);
  ASSERT_EQ(code, 75) << err;
  EXPECT_LT(seconds, 60) << "bounded by --stop-timeout";
  EXPECT_NE(err.find("phasesweep: stopped by SIGUSR1; running packs are checkpointed. The sweep "
                     "can be requeued: rerun the same command to resume (exit status 75)."),
            std::string::npos)
      << err;
  // Every rank stopped its pack and saved its checkpoint.
  EXPECT_EQ(CountInLogs(logs_, "; checkpoint saved"), 2) << err;
  EXPECT_EQ(CountCheckpoints(out_), 2);
  ExpectConsistentAndUnfinished();
  ExpectResumesToReference();
}

TEST_F(LongSweepTest, SigtermToEveryRankAsSrunSendsItCheckpointsAndExitsForRequeue) {
  ASSERT_NE(ref_, nullptr);
  const pid_t pid = StartTraining();
  const std::vector<pid_t> ranks = ChildrenOf(pid);
  ASSERT_EQ(ranks.size(), 2u);
  for (pid_t rank : ranks) kill(rank, SIGTERM);
  const int code = WaitForExit(pid, kLimit);
  const std::string err = ReadTextFile(log_);
  ASSERT_EQ(code, 75) << err;
  EXPECT_NE(err.find("phasesweep: stopped by SIGTERM; running packs are checkpointed. The sweep "
                     "can be requeued"),
            std::string::npos)
      << err;
  EXPECT_EQ(CountInLogs(logs_, "; checkpoint saved"), 2) << err;
  ExpectConsistentAndUnfinished();
  ExpectResumesToReference();
}

// SIGTERM to mpirun itself: Open MPI 4.1 does not forward it; it aborts the job (SIGCONT, then
// SIGTERM to the ranks odls_base_sigkill_timeout seconds later, SIGKILL as long again after).
// With the default of 1 s the ranks may die before they checkpoint; with the timeout raised
// (docs: OMPI_MCA_odls_base_sigkill_timeout) every rank checkpoints. Either way the results file
// is consistent and the rerun ends identical to the reference; mpirun's own exit status is Open
// MPI's (not 75), which is why SLURM setups should send SIGUSR1 to mpirun or signal the ranks.
TEST_F(LongSweepTest, SigtermToMpirunWithLongerKillTimeoutStillCheckpointsAndResumes) {
  ASSERT_NE(ref_, nullptr);
  const pid_t pid = StartTraining("OMPI_MCA_odls_base_sigkill_timeout=3 ");
  kill(pid, SIGTERM);
  const int code = WaitForExit(pid, kLimit);
  const std::string err = ReadTextFile(log_);
  EXPECT_NE(code, 0) << err;
  EXPECT_NE(code, -1) << "mpirun did not end after SIGTERM\n" << err;
  EXPECT_EQ(CountInLogs(logs_, "; checkpoint saved"), 2) << err;
  // In rank 0's log: mpirun may drop what the ranks print while it is killing them.
  EXPECT_EQ(CountInLogs(logs_, "The sweep can be requeued"), 1) << err;
  ExpectConsistentAndUnfinished();
  ExpectResumesToReference();
}

TEST_F(LongSweepTest, ASecondSweepOnTheSameFileIsRefusedAndTheFirstIsUnaffected) {
  ASSERT_NE(ref_, nullptr);
  // One rank trains the 4 packs in turn (the same traces as on 2 ranks: one job per pack), so
  // the first sweep outlasts the attempts below.
  const pid_t pid = StartTraining("", 1);
  // The same command again, alone and under mpirun, and with --fresh (which would move the
  // file aside): each refused with one line naming the file, while the first sweep trains on.
  const std::string alone = kExe + " run " + LongArgs() + " training.pack=1 -o out.h5";
  for (const std::string& second : {alone, alone + " --fresh", Mpirun(2) + alone}) {
    ProcessResult r = RunCommand(second, dir_.path());
    EXPECT_EQ(r.exit_code, 1) << second << "\n" << r.err;
    // One line from phasesweep (mpirun adds its own note about the non-zero exit status).
    EXPECT_NE(r.err.find("phasesweep: error: out.h5 is being written by another sweep (pid="),
              std::string::npos)
        << r.err;
    EXPECT_EQ(CountLines(r.err, "phasesweep:"), 1) << r.err;
    ASSERT_FALSE(Ended(pid)) << "the first sweep ended before the refusal was checked\n"
                             << ReadTextFile(log_);
  }
  const int code = WaitForExit(pid, kLimit);
  ASSERT_EQ(code, 0) << ReadTextFile(log_);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/out.h5.d/checkpoints") &&
               CountCheckpoints(out_) > 0);
  ExpectClose(*ref_, Load(out_), 0);
}

}  // namespace
}  // namespace phasesweep::testing
