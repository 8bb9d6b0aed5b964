// End-to-end tests of `phasesweep run` under real mpirun: results, determinism across rank
// counts, resume after kill -9 (bitwise identical traces), refusal of a changed config, idle
// ranks, failures and retries, and bad inputs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "phasesweep/storage/reader.h"
#include "test_process.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";

std::string Mpirun(int np) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + std::string(MPIEXEC) +
         " --oversubscribe -np " + std::to_string(np) + " ";
}

// A sweep long enough to be killed mid-way, with frequent checkpoints; one thread per rank so
// traces are bitwise comparable whatever the rank count.
std::string LongArgs() {
  return kSmoke +
         " training.steps=300 training.checkpoint_every=20 training.threads=1 probes.every=10 -q";
}

// Every job's traces of a results file: job id -> (metric -> values), plus steps as "step".
using Traces = std::map<std::string, std::map<std::string, std::vector<double>>>;
Traces Load(const std::string& path) {
  auto reader = storage::ResultsReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  Traces out;
  if (!reader.ok()) return out;
  for (const auto& job : reader->jobs()) {
    auto record = reader->LoadJob(job.job_id);
    EXPECT_TRUE(record.ok()) << record.status().message();
    auto& t = out[job.job_id];
    t = record->metrics;
    t["step"] = std::vector<double>(record->steps.begin(), record->steps.end());
    EXPECT_EQ(record->status, storage::JobStatus::kDone) << job.job_id;
  }
  return out;
}

void ExpectClose(const Traces& a, const Traces& b, double rel) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [job, metrics] : a) {
    ASSERT_TRUE(b.count(job)) << job;
    for (const auto& [name, values] : metrics) {
      const auto& other = b.at(job).at(name);
      ASSERT_EQ(values.size(), other.size()) << job << " " << name;
      for (size_t i = 0; i < values.size(); ++i) {
        if (rel == 0) {
          EXPECT_EQ(values[i], other[i]) << job << " " << name << " [" << i << "]";
        } else {
          EXPECT_NEAR(values[i], other[i], rel * std::max(1.0, std::abs(values[i])))
              << job << " " << name;
        }
      }
    }
  }
}

// Starts `command` in its own process group; returns its pid (= process group id).
pid_t Start(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

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
  for (int delay_ms : {700, 1500, 2500}) {
    const pid_t pid = Start("cd " + dir.path() + " && " + run + " -o killed.h5");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(-pid, SIGKILL);
    Wait(pid);
    // Whatever instant the kill hit, the file opens (or was not created yet).
    if (std::filesystem::exists(dir.path() + "/killed.h5")) {
      EXPECT_TRUE(storage::ResultsReader::Open(dir.path() + "/killed.h5").ok());
    }
  }
  ProcessResult resumed = RunCommand(run + " -o killed.h5", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectClose(Load(dir.path() + "/ref.h5"), Load(dir.path() + "/killed.h5"), 0);
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
  // Test hook: the executor throws on the first N attempts of the named pack.
  ProcessResult r = RunCommand("PHASESWEEP_INJECT_PACK_FAILURES=pack-0001=5 " + kExe + " run " +
                                   kSmoke + " training.pack=2 training.retries=1 -q -o out.h5",
                               dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("2/4 jobs done, 0 diverged, 2 failed"), std::string::npos) << r.err;
  auto reader = storage::ResultsReader::Open(dir.path() + "/out.h5");
  ASSERT_TRUE(reader.ok());
  int failed = 0;
  for (const auto& j : reader->jobs()) {
    if (j.status != storage::JobStatus::kFailed) continue;
    ++failed;
    EXPECT_EQ(j.attempts, 2);
    auto rec = reader->LoadJob(j.job_id);
    ASSERT_TRUE(rec.ok());
    EXPECT_NE(rec->error.find("injected failure"), std::string::npos) << rec->error;
  }
  EXPECT_EQ(failed, 2);
  // A transient failure is retried and the sweep ends clean.
  r = RunCommand("PHASESWEEP_INJECT_PACK_FAILURES=pack-0000=1 " + kExe + " run " + kSmoke +
                     " training.pack=2 training.retries=1 -q -o retry.h5",
                 dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace phasesweep::testing
