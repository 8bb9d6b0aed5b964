// Unit tests of the Slurm path without a cluster: launcher detection, --shard parsing and slicing,
// --time parsing, the script's contents and `phasesweep slurm`'s bad inputs. The real cluster is
// exercised by app/slurm_test.cc (label `slurm`).
#include "phasesweep/orchestrator/slurm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "phasesweep/orchestrator/launch.h"
#include "phasesweep/orchestrator/slices.h"

namespace phasesweep::orchestrator {
namespace {

namespace fs = std::filesystem;

LaunchLayout Detect(const std::map<std::string, std::string>& env) {
  LaunchLayout mpi;
  mpi.rank = 5;
  mpi.size = 8;
  mpi.local_rank = 1;
  mpi.local_size = 4;
  return DetectLaunch(
      [&env](const char* name) {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      mpi);
}

TEST(LaunchTest, PlainMpiKeepsWhatMpiSays) {
  const LaunchLayout l = Detect({});
  EXPECT_EQ(l.launcher, "mpi");
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_size, 4);
  EXPECT_EQ(l.cpus_per_task, 0);
  EXPECT_EQ(ThreadsPerRank(l, 16), 4);
}

TEST(LaunchTest, SrunVariablesGiveRankLocalRankAndThreads) {
  const LaunchLayout l = Detect({{"SLURM_PROCID", "6"},
                                 {"SLURM_NTASKS", "8"},
                                 {"SLURM_LOCALID", "2"},
                                 {"SLURM_NTASKS_PER_NODE", "8"},
                                 {"SLURM_CPUS_PER_TASK", "3"}});
  EXPECT_EQ(l.launcher, "srun");
  EXPECT_EQ(l.rank, 6);
  EXPECT_EQ(l.size, 8);
  EXPECT_EQ(l.local_rank, 2);
  EXPECT_EQ(l.local_size, 8);
  EXPECT_EQ(ThreadsPerRank(l, 64), 3) << "threads per rank = --cpus-per-task";
}

TEST(LaunchTest, OpenMpiWinsOverTheAllocationsSlurmVariables) {
  // mpirun inside an sbatch allocation: Slurm's variables describe the batch shell, not the rank.
  const LaunchLayout l = Detect({{"SLURM_PROCID", "0"},
                                 {"SLURM_NTASKS", "1"},
                                 {"SLURM_LOCALID", "0"},
                                 {"OMPI_COMM_WORLD_RANK", "3"},
                                 {"OMPI_COMM_WORLD_SIZE", "8"},
                                 {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                 {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  EXPECT_EQ(l.launcher, "mpirun");
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_size, 2);
  EXPECT_EQ(ThreadsPerRank(l, 16), 8);
}

TEST(LaunchTest, MalformedOrInconsistentVariablesFallBackToMpi) {
  // SLURM_NTASKS_PER_NODE in its "2(x3)" form and a rank beyond the size are not trusted.
  LaunchLayout l = Detect({{"SLURM_PROCID", "9"}, {"SLURM_NTASKS", "4"}});
  EXPECT_EQ(l.launcher, "mpi");
  EXPECT_EQ(Detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}}).launcher,
            "mpi")
      << "another world's variables (a singleton run in an sbatch shell) are ignored";
  l = Detect({{"SLURM_PROCID", "1"},
              {"SLURM_NTASKS", "8"},
              {"SLURM_LOCALID", "1"},
              {"SLURM_NTASKS_PER_NODE", "2(x3)"},
              {"SLURM_CPUS_PER_TASK", "x"}});
  EXPECT_EQ(l.launcher, "srun");
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_size, 4) << "from MPI";
  EXPECT_EQ(l.cpus_per_task, 0);
}

TEST(ShardTest, ParsesSlicesAndRefusesBadOnesNamingBoth) {
  auto s = ParseShard("2/3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  auto over = ParseShard("3/3");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().message(),
            "--shard 3/3: i = 3 must be below n = 3 (slices are numbered 0 to n-1, n >= 1)");
  EXPECT_EQ(over.status().ExitCode(), 2);
  for (const char* bad : {"", "1", "1/", "/2", "-1/2", "a/b", "1/2/3", "0/0", " 0/2"}) {
    auto r = ParseShard(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().ExitCode(), 2) << bad;
  }
}

TEST(ShardTest, SlicesPartitionThePacksDeterministically) {
  std::vector<size_t> all(10);
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::multiset<size_t> seen;
  for (int i = 0; i < 3; ++i) {
    for (size_t p : PacksOfSlice(all, {i, 3})) seen.insert(p);
  }
  EXPECT_EQ(seen, std::multiset<size_t>(all.begin(), all.end()));
  EXPECT_EQ(PacksOfSlice(all, {1, 3}), (std::vector<size_t>{1, 4, 7}));
  EXPECT_EQ(PacksOfSlice({4, 5, 7}, {1, 3}), (std::vector<size_t>{4, 7})) << "pending only";
  EXPECT_EQ(SlicePath("/d/r.h5", {1, 3}), "/d/r.slice-1-of-3.h5");
  EXPECT_EQ(SlicePath("out", {0, 2}), "out.slice-0-of-2.h5");
}

TEST(ShardTest, SliceFilesAreFoundAndAnotherNIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("ps-slices-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string results = (dir / "r.h5").string();
  std::ofstream(dir / "r.slice-0-of-4.h5") << "x";
  std::ofstream(dir / "r.slice-1-of-4.h5.tmp") << "x";
  std::ofstream(dir / "other.slice-0-of-3.h5") << "x";
  const auto found = FindSlices(results);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].shard.count, 4);
  const Status s = CheckSliceStart(results, {1, 3}, "abc");
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find("--shard 1/3: " + (dir / "r.slice-0-of-4.h5").string() +
                             " is slice 0/4 of the same results file; every slice must use the "
                             "same n (4 vs 3)"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(CheckSliceStart(results, {1, 4}, "abc").ok());
  fs::remove_all(dir);
}

TEST(SlurmScriptTest, ShellQuoting) {
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(SlurmScriptTest, TimeLimits) {
  EXPECT_EQ(*ParseTimeLimit("04:00:00"), 4 * 3600);
  EXPECT_EQ(*ParseTimeLimit("100:30:05"), 100 * 3600 + 30 * 60 + 5);
  EXPECT_EQ(*ParseTimeLimit("2-01:00:00"), 49 * 3600);
  for (const char* bad : {"", "4", "04:00", "1:60:00", "00:00:60", "x-01:00:00", "00:00:00"}) {
    auto r = ParseTimeLimit(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().ExitCode(), 2) << bad;
  }
}

SlurmJob GpuJob() {
  SlurmJob job;
  job.job_name = "ps-study-0123abcd";
  job.config_hash = "0123abcdef";
  job.nodes = 8;
  job.gpus_per_node = 8;
  job.tasks_per_node = 8;
  job.cpus_per_task = 6;
  job.time_limit = "12:00:00";
  job.partition = "gpu";
  job.exe = "/opt/ps/bin/phasesweep";
  job.workdir = "/scratch/me";
  job.config_yaml = "name: study\n";
  job.config_file = "/scratch/me/r.config-0123abcd.yaml";
  job.results = "/scratch/me/r.h5";
  job.generated_by = "phasesweep slurm";
  return job;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(SlurmScriptTest, EveryPainPointIsInTheScript) {
  const std::string s = SlurmScript(GpuJob());
  EXPECT_TRUE(Has(s, "#SBATCH --job-name=ps-study-0123abcd")) << s;
  EXPECT_TRUE(Has(s, "#SBATCH --nodes=8\n"));
  EXPECT_TRUE(Has(s, "#SBATCH --ntasks-per-node=8 "));
  EXPECT_TRUE(Has(s, "#SBATCH --gpus-per-node=8 "));
  EXPECT_FALSE(Has(s, "#SBATCH --gpus-per-task")) << "no per-task GPU isolation";
  EXPECT_FALSE(Has(s, "--gpu-bind"));
  EXPECT_TRUE(Has(s, "#SBATCH --signal=B:USR1@180 "));
  EXPECT_TRUE(Has(s, "#SBATCH --requeue "));
  EXPECT_TRUE(Has(s, "#SBATCH --open-mode=append "));
  EXPECT_TRUE(Has(s, "#SBATCH --partition=gpu\n"));
  EXPECT_TRUE(Has(s, "srun --mpi=list 2>&1 | grep -qw pmix"));
  EXPECT_TRUE(Has(s, "srun --mpi=pmix --cpus-per-task=$SLURM_CPUS_PER_TASK --ntasks-per-node=8"));
  EXPECT_TRUE(Has(s, "trap 'echo \"phasesweep-slurm: USR1"));
  EXPECT_TRUE(Has(s, "kill -USR1 \"$step\"' USR1"));
  EXPECT_TRUE(Has(s, "if [ \"$rc\" -eq 75 ]"));
  EXPECT_TRUE(Has(s, "scontrol requeue \"$SLURM_JOB_ID\""));
  EXPECT_TRUE(Has(s, "nvidia-smi --query-gpu=name"));
  EXPECT_TRUE(Has(s, "'/opt/ps/bin/phasesweep' run \"$config\" -o \"$results\""));
  EXPECT_TRUE(Has(s, "cat >\"$config\" <<'PHASESWEEP_CONFIG_EOF'"));
  EXPECT_TRUE(Has(s, "name: study\nPHASESWEEP_CONFIG_EOF\n"));
  EXPECT_FALSE(Has(s, "--shard"));
  // Every #SBATCH line comes before the first command (sbatch stops reading at it).
  std::istringstream in(s);
  bool command_seen = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#SBATCH", 0) == 0) {
      EXPECT_FALSE(command_seen) << line;
    } else if (!line.empty() && line[0] != '#') {
      command_seen = true;
    }
  }
}

TEST(SlurmScriptTest, ArraysRunOneSliceEachAndNameTheMerge) {
  SlurmJob job = GpuJob();
  job.gpus_per_node = 0;
  job.tasks_per_node = 2;
  job.array_slices = 3;
  const std::string s = SlurmScript(job);
  EXPECT_TRUE(Has(s, "#SBATCH --array=0-2 ")) << s;
  EXPECT_TRUE(Has(s, "#SBATCH --nodes=1 "));
  EXPECT_TRUE(Has(s, "--shard \"$SLURM_ARRAY_TASK_ID/3\""));
  EXPECT_TRUE(Has(s, "gpus=none"));
  EXPECT_FALSE(Has(s, "gpus-per-node"));
  EXPECT_EQ(
      MergeCommand(job),
      "'/opt/ps/bin/phasesweep' merge '/scratch/me/r.config-0123abcd.yaml' -o '/scratch/me/r.h5'");
}

struct CommandRun {
  Status status;
  std::string out, warnings;
};
CommandRun Slurm(SlurmRequest o) {
  if (o.time.empty()) o.time = "01:00:00";
  if (o.script_path.empty()) o.script_path = fs::temp_directory_path() / "ps-unit.sbatch";
  o.exe = "/usr/bin/phasesweep";
  std::ostringstream out, warnings;
  Status status = WriteSlurmJob(o, out, warnings);
  return {std::move(status), out.str(), warnings.str()};
}

std::string ReadScript(const SlurmRequest& o) {
  std::ifstream in(o.script_path.empty() ? (fs::temp_directory_path() / "ps-unit.sbatch").string()
                                         : o.script_path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SlurmCommandTest, BadRequestsAreOneLineInvalidArguments) {
  struct Case {
    std::function<void(SlurmRequest&)> set;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& o) { o.nodes = 0; }, "--nodes 0: must be at least 1"},
      {[](auto& o) { o.nodes = -2; }, "--nodes -2: must be at least 1"},
      {[](auto& o) { o.gpus_per_node = 0; }, "--gpus-per-node 0: must be at least 1; leave it out"},
      {[](auto& o) { o.gpus_per_node = -4; }, "--gpus-per-node -4: must be at least 1"},
      {[](auto& o) { o.time = "4h"; }, "--time '4h' is not HH:MM:SS or D-HH:MM:SS"},
      {[](auto& o) { o.time = "00:03:00"; },
       "--time 00:03:00 (180 s) leaves no time to train: the stop window before the limit is 180 "
       "s"},
  };
  for (const Case& c : cases) {
    SlurmRequest o;
    c.set(o);
    const CommandRun r = Slurm(o);
    EXPECT_EQ(r.status.code(), Status::Code::kInvalidArgument) << c.message;
    EXPECT_EQ(r.status.message().find(c.message), 0u) << r.status.message();
    EXPECT_EQ(r.status.message().find('\n'), std::string::npos) << r.status.message();
    EXPECT_TRUE(r.warnings.empty()) << r.warnings;
  }
}

TEST(SlurmCommandTest, MoreGpusThanPacksIsAWarningWithTheNumberUsed) {
  SlurmRequest o;
  o.nodes = 2;
  o.gpus_per_node = 8;
  o.args.config_path = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";  // 4 jobs
  const CommandRun r = Slurm(o);
  EXPECT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.warnings,
            "phasesweep: warning: 16 GPUs requested but the sweep has 4 packs: only 4 GPUs would "
            "be used (see `phasesweep plan --ranks 16`)\n");
  EXPECT_NE(r.out.find("2 nodes x 8 ranks (8 GPUs per node) x 1 cpus"), std::string::npos) << r.out;
  const std::string script = ReadScript(o);
  EXPECT_NE(script.find("#SBATCH --gpus-per-node=8 "), std::string::npos);
  fs::remove(fs::temp_directory_path() / "ps-unit.sbatch");
}

}  // namespace
}  // namespace phasesweep::orchestrator
