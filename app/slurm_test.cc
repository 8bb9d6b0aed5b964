// The Slurm path on a real Slurm: a one-node cluster on localhost (app/mini_cluster.sh:
// munged, slurmctld, slurmd from Debian's packages, started here and stopped at the end, also if
// this process dies) runs the scripts `phasesweep slurm` writes:
//   - the CPU script under `sbatch --wait` ends with the results of a plain mpirun run;
//   - USR1 to the batch shell (`scancel --batch --signal=USR1`, what --signal=B:USR1 sends) and
//     SIGTERM to the job step alone (clusters without a user signal) each checkpoint, requeue,
//     resume and end bitwise equal to an uninterrupted run;
//   - `--array --submit`: three slices and the dependent merge job give the unsharded results;
//   - sbatch missing or rejecting the script: one-line errors, exit 2, the script kept.
// Exit 77 (ctest: skipped) only when the daemons cannot run here: not root, Slurm not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "phasesweep/storage/reader.h"
#include "test_process.h"
#include "traces.h"

namespace phasesweep::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
const std::string kExe = PHASESWEEP_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";
// Preemption: 4 packs of one job, each several seconds, checkpoints every 20 steps.
const std::string kLong = kSmoke +
                          " training.steps=12000 training.checkpoint_every=20 training.threads=1 "
                          "probes.every=200 training.pack=1";

std::string Mpirun(int np) { return MpirunPrefix(MPIEXEC, np); }

std::string Field(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\\s)" + key + "=(\\S*)"))) return "";
  return m[2];
}

// The job's state and restarts from `scontrol show job` (kept MinJobAge = 600 s after the end).
struct JobInfo {
  std::string state;
  int restarts = 0;
};
JobInfo Job(const std::string& id) {
  ProcessResult r = RunCommand("scontrol show job -o " + id);
  JobInfo info{Field(r.out, "JobState"), 0};
  const std::string restarts = Field(r.out, "Restarts");
  if (!restarts.empty()) info.restarts = std::stoi(restarts);
  return info;
}

bool Finished(const std::string& state) {
  return state == "COMPLETED" || state == "FAILED" || state == "CANCELLED" || state == "TIMEOUT" ||
         state == "NODE_FAIL" || state == "OUT_OF_MEMORY" || state == "BOOT_FAIL";
}

// Waits (bounded) for the job to end; its final state.
JobInfo WaitForJob(const std::string& id, seconds limit) {
  JobInfo info;
  WaitUntil(
      [&] {
        info = Job(id);
        return Finished(info.state);
      },
      limit);
  return info;
}

int CountInLogs(const std::string& dir, const std::string& needle) {
  int count = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    const std::string text = ReadTextFile(e.path().string());
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++count;
  }
  return count;
}

class SlurmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A short path: munge's socket lives there (108-byte limit on socket paths).
    char templ[] = "/tmp/ps-slurm-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    cluster_ = new std::string(templ);
    const auto start = std::chrono::steady_clock::now();
    ProcessResult r = RunCommand(std::string(MINI_CLUSTER) + " start " + *cluster_ + " " +
                                 std::to_string(getpid()));
    if (r.exit_code == 77) {
      std::fprintf(stderr, "slurm_test: SKIPPED: %s", r.err.c_str());
      std::exit(77);
    }
    ASSERT_EQ(r.exit_code, 0) << r.err << ReadTextFile(*cluster_ + "/log/slurmctld.log");
    std::fprintf(stderr, "slurm_test: one-node Slurm up in %.1f s (%s/slurm.conf)\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                 cluster_->c_str());
    setenv("SLURM_CONF", (*cluster_ + "/slurm.conf").c_str(), 1);
    // Jobs inherit the submitting environment (sbatch --export=ALL): Open MPI as root.
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  }
  static void TearDownTestSuite() {
    if (cluster_ == nullptr) return;
    RunCommand(std::string(MINI_CLUSTER) + " stop " + *cluster_);
    std::error_code ec;
    fs::remove_all(*cluster_, ec);
    delete cluster_;
    cluster_ = nullptr;
    delete long_ref_;
    long_ref_ = nullptr;
  }

  // `phasesweep slurm` in the test's folder.
  ProcessResult Generate(const std::string& args) {
    return RunCommand(kExe + " slurm " + args, dir_.path());
  }
  // Submits `script` and returns the job id.
  std::string Submit(const std::string& script) {
    ProcessResult r = RunCommand("sbatch --parsable " + script, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find_first_of(";\n"));
    return id;
  }
  std::string SlurmLog() {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      if (e.path().filename().string().rfind("slurm-", 0) == 0) all += ReadTextFile(e.path());
    }
    return all;
  }

  // A long sweep under the generated script, stopped by `signal` once both ranks train, requeued
  // by the script, resumed: it ends bitwise equal to the uninterrupted mpirun run.
  void PreemptAndResume(const std::string& signal, const std::string& stopped_by) {
    if (long_ref_ == nullptr) {  // the uninterrupted run, shared by both preemption tests
      TempDir ref_dir;
      ProcessResult ref =
          RunCommand(Mpirun(2) + kExe + " run " + kLong + " -q -o ref.h5", ref_dir.path());
      ASSERT_EQ(ref.exit_code, 0) << ref.err;
      long_ref_ = new Traces(Load(ref_dir.path() + "/ref.h5"));
    }
    ProcessResult gen = Generate(kLong +
                                 " --nodes 1 --ntasks-per-node 2 --time 00:30:00 "
                                 "--stop-timeout 60 --results out.h5 -o job.sbatch");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const std::string out = dir_.path() + "/out.h5";
    const std::string id = Submit("job.sbatch");
    ASSERT_FALSE(id.empty());
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitUntil([&] { return CountCheckpoints(out) >= 2 || Finished(Job(id).state); },
                          seconds(240)))
        << SlurmLog();
    ASSERT_EQ(Job(id).state, "RUNNING") << "the sweep ended before the signal\n" << SlurmLog();
    ProcessResult sent = RunCommand("scancel " + signal + " " + id);
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    const JobInfo done = WaitForJob(id, seconds(400));
    std::fprintf(stderr, "slurm_test: %s: job %s %s after %d restart(s), %.0f s from training\n",
                 signal.c_str(), id.c_str(), done.state.c_str(), done.restarts,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const std::string log = SlurmLog();
    ASSERT_EQ(done.state, "COMPLETED") << log;
    EXPECT_EQ(done.restarts, 1) << log;
    EXPECT_NE(log.find("checkpointed; requeueing job " + id), std::string::npos) << log;
    EXPECT_NE(log.find("(restart 1)"), std::string::npos) << "one log, appended to\n" << log;
    EXPECT_EQ(CountInLogs(out + ".logs", "; checkpoint saved"), 2) << log;
    EXPECT_GE(CountInLogs(out + ".logs", "resumes from its checkpoint at step"), 2) << log;
    EXPECT_EQ(CountInLogs(out + ".logs", "stopped by " + stopped_by), 1) << log;
    ExpectClose(*long_ref_, Load(out), 0);
  }

  static std::string* cluster_;
  static Traces* long_ref_;
  TempDir dir_;
};
std::string* SlurmTest::cluster_ = nullptr;
Traces* SlurmTest::long_ref_ = nullptr;

TEST_F(SlurmTest, GeneratedCpuScriptUnderSbatchWaitEqualsAPlainMpirunRun) {
  const std::string sweep = kSmoke + " training.threads=1";
  ProcessResult ref = RunCommand(Mpirun(2) + kExe + " run " + sweep + " -q -o ref.h5", dir_.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  ProcessResult gen = Generate(sweep +
                               " --nodes 1 --ntasks-per-node 2 --cpus-per-task 1 "
                               "--time 00:10:00 --results out.h5 -o job.sbatch");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string script = ReadTextFile(dir_.path() + "/job.sbatch");
  const std::smatch name = [&] {
    std::smatch m;
    std::regex_search(script, m, std::regex("--job-name=(ps-smoke-([0-9a-f]{8}))"));
    return m;
  }();
  ASSERT_EQ(name.size(), 3u) << script;
  const auto t0 = std::chrono::steady_clock::now();
  ProcessResult run = RunCommand("timeout 300 sbatch --wait job.sbatch", dir_.path());
  std::fprintf(stderr, "slurm_test: sbatch --wait of the CPU script: exit %d in %.1f s\n",
               run.exit_code,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const std::string log = SlurmLog();
  ASSERT_EQ(run.exit_code, 0) << run.err << log;
  ExpectClose(Load(dir_.path() + "/ref.h5"), Load(dir_.path() + "/out.h5"), 0);
  // The job name carries the hash of the config the results file records.
  auto reader = storage::ResultsReader::Open(dir_.path() + "/out.h5");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->provenance().config_hash.substr(0, 8), name[2].str());
  EXPECT_NE(log.find("phasesweep-slurm: GPUs: none"), std::string::npos) << log;
  EXPECT_NE(ReadTextFile(dir_.path() + "/out.h5.slurm-jobs").find(" gpus=none"), std::string::npos);
  EXPECT_NE(log.find("phasesweep-slurm: phasesweep exited 0"), std::string::npos) << log;
}

TEST_F(SlurmTest, UsrOneToTheBatchShellIsForwardedCheckpointsRequeuesAndResumesBitwise) {
  PreemptAndResume("--batch --signal=USR1", "SIGUSR1");
  EXPECT_NE(SlurmLog().find("phasesweep-slurm: USR1 at"), std::string::npos);
}

TEST_F(SlurmTest, TermToTheJobStepAloneAlsoCheckpointsRequeuesAndResumesBitwise) {
  PreemptAndResume("--signal=TERM", "SIGTERM");
}

TEST_F(SlurmTest, ArrayOfThreeSlicesAndItsMergeJobGiveTheUnshardedResults) {
  const std::string sweep = kSmoke + " 'sweep.seeds=range(6)' training.threads=1";
  ProcessResult ref = RunCommand(Mpirun(3) + kExe + " run " + sweep + " -q -o ref.h5", dir_.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  ProcessResult sub = Generate(sweep +
                               " --nodes 3 --array --time 00:10:00 --results out.h5 "
                               "-o array.sbatch --submit");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(sub.out, m,
                                std::regex("Submitted batch job (\\d+)\nSubmitted batch job (\\d+) "
                                           "\\(merges the slices when array (\\d+) has finished")))
      << sub.out;
  const std::string merge_id = m[2];
  const auto t0 = std::chrono::steady_clock::now();
  const JobInfo merged = WaitForJob(merge_id, seconds(400));
  std::fprintf(stderr, "slurm_test: array %s + merge %s: %s in %.1f s\n", m[1].str().c_str(),
               merge_id.c_str(), merged.state.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  ASSERT_EQ(merged.state, "COMPLETED") << SlurmLog();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Job(m[1].str() + "_" + std::to_string(i)).state, "COMPLETED") << i;
  }
  EXPECT_NE(SlurmLog().find("folded 3 slice files (6 finished jobs)"), std::string::npos)
      << SlurmLog();
  ExpectClose(Load(dir_.path() + "/ref.h5"), Load(dir_.path() + "/out.h5"), 0);
  EXPECT_EQ(dir_.Listing().find(".slice-"), std::string::npos) << "merged slices are removed";
}

TEST_F(SlurmTest, AClusterWithoutThePmixPluginStopsAtThePreflightWithAClearMessage) {
  // An srun whose --mpi=list lacks pmix (as on a Slurm built without it); every other call is
  // the real srun.
  const std::string shim = dir_.path() + "/shim";
  fs::create_directories(shim);
  RunCommand(
      "printf '#!/bin/sh\\nif [ \"$1\" = --mpi=list ]; then printf \"MPI plugin types "
      "are...\\\\n\\\\tnone\\\\n\\\\tpmi2\\\\n\"; exit 0; fi\\nexec "
      "/usr/bin/srun \"$@\"\\n' > " +
      shim + "/srun && chmod +x " + shim + "/srun");
  ASSERT_EQ(RunCommand(shim + "/srun --mpi=list").out, "MPI plugin types are...\n\tnone\n\tpmi2\n");
  ProcessResult gen =
      Generate(kSmoke + " --nodes 1 --time 00:10:00 --results out.h5 -o job.sbatch");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ProcessResult run =
      RunCommand("PATH=" + shim + ":$PATH timeout 120 sbatch --wait job.sbatch", dir_.path());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(SlurmLog().find("phasesweep-slurm: error: this Slurm has no pmix MPI plugin (srun "
                            "--mpi=list: MPI plugin types are... none pmi2 )"),
            std::string::npos)
      << SlurmLog();
  EXPECT_FALSE(fs::exists(dir_.path() + "/out.h5"));
}

TEST_F(SlurmTest, SbatchMissingOrRejectingIsAOneLineErrorAndTheScriptIsKept) {
  const std::string args = kSmoke + " --nodes 1 --time 00:10:00 -o job.sbatch --submit";
  ProcessResult missing = RunCommand("PATH=/nonexistent " + kExe + " slurm " + args, dir_.path());
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(missing.err,
            "phasesweep: error: --submit: sbatch is not on PATH (not a Slurm login node?); the "
            "script is written: job.sbatch\n");
  EXPECT_TRUE(fs::exists(dir_.path() + "/job.sbatch"));
  ProcessResult rejected = Generate(args + " --partition nosuch");
  EXPECT_EQ(rejected.exit_code, 2) << rejected.err;
  EXPECT_EQ(rejected.err.find("phasesweep: error: sbatch rejected job.sbatch: sbatch: error: "), 0u)
      << rejected.err;
  EXPECT_NE(rejected.err.find("partition"), std::string::npos) << rejected.err;
  EXPECT_EQ(std::count(rejected.err.begin(), rejected.err.end(), '\n'), 1) << rejected.err;
}

}  // namespace
}  // namespace phasesweep::testing
