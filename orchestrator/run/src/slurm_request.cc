// `phasesweep slurm`: validates the request against the sweep's plan, writes the sbatch script
// (slurm_script.cc) and submits it with --submit (see slurm.h).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/slices.h"
#include "phasesweep/orchestrator/slurm.h"

namespace phasesweep::orchestrator {
namespace fs = std::filesystem;
namespace {

// The full path of `tool` on PATH, or "".
std::string OnPath(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t a = 0, b; a <= dirs.size(); a = b + 1) {
    b = dirs.find(':', a);
    if (b == std::string::npos) b = dirs.size();
    const fs::path candidate =
        fs::path(dirs.substr(a, b - a).empty() ? "." : dirs.substr(a, b - a)) / tool;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// Runs `command` through the shell; its exit status and stdout+stderr (trailing newline cut).
int Capture(const std::string& command, std::string* text) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text->append(buf.data(), n);
  const int status = pclose(pipe);
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// "ps-<study>-<8 hex>", with characters Slurm and file names take.
std::string JobName(const std::string& study, const std::string& hash) {
  std::string name = "ps-";
  for (char c : study) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return name + "-" + hash.substr(0, 8);
}

Status Validate(const SlurmRequest& o) {
  const auto at_least = [](const char* flag, int value, int least) {
    if (value >= least) return Status::Ok();
    return Status::InvalidArgument(std::string(flag) + " " + std::to_string(value) +
                                   ": must be at least 1");
  };
  PHASESWEEP_RETURN_IF_ERROR(at_least("--nodes", o.nodes, 1));
  if (o.gpus_per_node != -1 && o.gpus_per_node < 1) {
    return Status::InvalidArgument("--gpus-per-node " + std::to_string(o.gpus_per_node) +
                                   ": must be at least 1; leave it out for a CPU-only job (ranks "
                                   "per node: --ntasks-per-node)");
  }
  PHASESWEEP_RETURN_IF_ERROR(at_least("--cpus-per-task", o.cpus_per_task, 1));
  return at_least("--ntasks-per-node", o.tasks_per_node, 0);  // 0: the default
}

}  // namespace

Status WriteSlurmJob(const SlurmRequest& o, std::ostream& out, std::ostream& err) {
  PHASESWEEP_RETURN_IF_ERROR(Validate(o));
  auto seconds = ParseTimeLimit(o.time);
  if (!seconds.ok()) return seconds.status();
  auto sweep = LoadSweepSpec({o.args.config_path}, o.args.overrides);
  if (!sweep.ok()) return sweep.status();

  SlurmJob job;
  job.nodes = o.nodes;
  job.gpus_per_node = std::max(0, o.gpus_per_node);
  job.tasks_per_node = o.tasks_per_node > 0 ? o.tasks_per_node : std::max(1, job.gpus_per_node);
  job.cpus_per_task = o.cpus_per_task;
  job.time_limit = o.time;
  job.partition = o.partition;
  job.array_slices = o.array ? o.nodes : 0;
  job.stop_timeout_s = o.stop_timeout_s;
  if (*seconds <= SignalLeadSeconds(job)) {
    return Status::InvalidArgument(
        "--time " + o.time + " (" + std::to_string(*seconds) +
        " s) leaves no time to train: the stop window before the limit is " +
        std::to_string(SignalLeadSeconds(job)) + " s (--signal=B:USR1@" +
        std::to_string(SignalLeadSeconds(job)) + " = --stop-timeout " +
        std::to_string(o.stop_timeout_s) +
        " + 60 s); give a longer --time or a shorter "
        "--stop-timeout");
  }
  // The plan this allocation would run: every rank of all nodes (or all slices) together.
  const int ranks = o.nodes * job.tasks_per_node;
  const int64_t group = sweep->base.at("training.data_parallel").AsInt();
  if (job.tasks_per_node * (o.array ? 1 : o.nodes) % group != 0) {
    return Status::InvalidArgument(
        "training.data_parallel = " + std::to_string(group) + " does not divide the " +
        std::to_string(job.tasks_per_node * (o.array ? 1 : o.nodes)) +
        " ranks of one job; use --ntasks-per-node / --gpus-per-node a multiple of it");
  }
  PlanOptions plan_options;
  plan_options.ranks = static_cast<int>(ranks / group);
  auto plan = MakePlan(*sweep, plan_options);
  if (!plan.ok()) return plan.status();
  const int64_t packs = static_cast<int64_t>(plan->packs.size());
  if (packs < plan_options.ranks) {
    const char* unit = job.gpus_per_node > 0 ? " GPUs" : " ranks";
    err << "phasesweep: warning: " << ranks << unit << " requested but the sweep has " << packs
        << " pack" << (packs == 1 ? "" : "s") << ": only " << packs * group << unit
        << " would be used (see `phasesweep plan --ranks " << plan_options.ranks << "`)\n";
  }

  const std::string results =
      fs::absolute(o.output.empty() ? sweep->base.at("output.path").AsString() : o.output)
          .lexically_normal()
          .string();
  job.config_hash = plan->config_hash;
  job.job_name = JobName(sweep->base.at("name").AsString(), plan->config_hash);
  job.exe = o.exe;
  job.workdir = fs::current_path().string();
  job.config_yaml = ResolvedYaml(*sweep);
  job.results = results;
  job.config_file = ResultsStem(results) + ".config-" + plan->config_hash.substr(0, 8) + ".yaml";
  job.generated_by = o.command_line;
  const std::string script = o.script_path.empty() ? job.job_name + ".sbatch" : o.script_path;
  {
    std::ofstream file(script, std::ios::trunc);
    file << SlurmScript(job);
    file.close();
    if (!file) return Status::IOError("cannot write the script " + script);
  }
  chmod(script.c_str(), 0755);
  out << "phasesweep: wrote " << script << " (" << job.job_name << ": "
      << (o.array ? std::to_string(o.nodes) + " array tasks of 1 node"
                  : std::to_string(o.nodes) + " node" + (o.nodes == 1 ? "" : "s"))
      << " x " << job.tasks_per_node << " ranks"
      << (job.gpus_per_node > 0 ? " (" + std::to_string(job.gpus_per_node) + " GPUs per node)" : "")
      << " x " << job.cpus_per_task << " cpus, time " << o.time << ") -> " << results << "\n";
  if (!o.submit) {
    out << "phasesweep: submit it with: sbatch " << script << "\n";
    return Status::Ok();
  }
  const std::string sbatch = OnPath("sbatch");
  if (sbatch.empty()) {
    return Status::InvalidArgument(
        "--submit: sbatch is not on PATH (not a Slurm login node?); "
        "the script is written: " +
        script);
  }
  std::string reply;
  if (Capture(ShellQuote(sbatch) + " --parsable " + ShellQuote(script), &reply) != 0) {
    return Status::InvalidArgument("sbatch rejected " + script + ": " + OneLine(reply));
  }
  const std::string id = reply.substr(0, reply.find(';'));
  out << "Submitted batch job " << id << "\n";
  if (o.array) {
    std::string merge_reply;
    const std::string merge =
        ShellQuote(sbatch) + " --parsable --dependency=afterok:" + id +
        " --job-name=" + job.job_name + "-merge --chdir=" + ShellQuote(job.workdir) +
        " --output=" + ShellQuote(job.workdir + "/slurm-%x-%j.out") +
        " --ntasks=1 --time=" + o.time +
        (o.partition.empty() ? "" : " --partition=" + ShellQuote(o.partition)) + " --wrap " +
        ShellQuote(MergeCommand(job));
    if (Capture(merge, &merge_reply) != 0) {
      return Status::InvalidArgument("sbatch rejected the merge job after array " + id + ": " +
                                     OneLine(merge_reply));
    }
    out << "Submitted batch job " << merge_reply.substr(0, merge_reply.find(';'))
        << " (merges the slices when array " << id << " has finished)\n";
  }
  return Status::Ok();
}

}  // namespace phasesweep::orchestrator
