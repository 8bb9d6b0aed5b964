// `phasesweep plan | run | slurm | merge`: options into requests, requests to the orchestrator,
// errors to exit_status.h.
#include "orchestrator_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/app/exit_status.h"
#include "phasesweep/orchestrator/rank_setup.h"
#include "phasesweep/orchestrator/run.h"
#include "phasesweep/orchestrator/slices.h"
#include "phasesweep/orchestrator/slurm.h"

namespace phasesweep::app {

orchestrator::ConfigArgs SplitConfigArgs(const std::vector<std::string>& positionals) {
  orchestrator::ConfigArgs args;
  size_t first = 0;
  if (!positionals.empty() && positionals[0].find('=') == std::string::npos) {
    args.config_path = positionals[0];
    first = 1;
  }
  args.overrides.assign(positionals.begin() + static_cast<std::ptrdiff_t>(first),
                        positionals.end());
  return args;
}

void AddPlanCommand(CLI::App& app) {
  auto request = std::make_shared<orchestrator::PlanRequest>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  CLI::App* plan = app.add_subcommand(
      "plan",
      "Validate a sweep and list its jobs and packs (no file given: the embedded default study)");
  plan->add_option("config_and_overrides", *positionals,
                   "[CONFIG.yaml] [key=value ...]; key=v1,v2 sweeps; sweep.seeds=range(16)");
  plan->add_flag("--json", request->json, "print the plan as JSON");
  plan->add_option("--ranks", request->ranks, "show the packing for this many MPI ranks")
      ->check(CLI::Range(1, 1 << 20));
  plan->callback([request, positionals]() {
    request->args = SplitConfigArgs(*positionals);
    ExitOnError(orchestrator::ListPlan(*request, std::cout));
  });
}

namespace {

// `run --analyze`: the analysis of the finished sweep, printed and stored in the file.
Status AnalyzeFinishedSweep(const std::string& results) {
  analysis::AnalyzeRequest request;
  request.results_path = results;
  std::cout << "\n" << std::flush;
  return analysis::RunAnalyze(request, std::cout);
}

}  // namespace

void AddRunCommand(CLI::App& app, const std::string& command_line, const CliHooks& hooks) {
  auto request = std::make_shared<orchestrator::RunRequest>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  request->command_line = command_line;
  request->make_executor = hooks.make_executor;
  CLI::App* run = app.add_subcommand("run",
                                     "Run a sweep on every MPI rank (alone, or under mpirun/srun); "
                                     "rerun the same command to resume");
  run->add_option("config_and_overrides", *positionals,
                  "[CONFIG.yaml] [key=value ...]; no file: the embedded default study");
  run->add_option("-o,--output", request->output,
                  "results file (default: output.path of the config)");
  run->add_flag("--fresh", request->fresh,
                "move an existing results file aside and start a new one");
  run->add_flag("--accept-config-mismatch", request->accept_config_mismatch,
                "continue a results file written for a different config");
  run->add_flag("-q,--quiet", request->quiet, "no progress line");
  run->add_option("--log-dir", request->log_dir, "write one log per rank into this folder");
  run->add_option("--stop-timeout", request->stop_timeout_s,
                  "seconds rank 0 waits for every rank to checkpoint after a stop signal")
      ->check(CLI::PositiveNumber);
  auto shard_text = std::make_shared<std::string>();
  run->add_option("--shard", *shard_text,
                  "i/n: train only slice i of n of the plan's packs (job arrays), into "
                  "<results>.slice-i-of-n.h5; `phasesweep merge` folds the slices");
  auto with_analysis = std::make_shared<bool>(false);
  run->add_flag("--analyze", *with_analysis,
                "when the sweep has finished, analyse the results file and print the summary "
                "(as `phasesweep analyze`)");
  run->callback([request, positionals, with_analysis, shard_text]() {
    request->args = SplitConfigArgs(*positionals);
    if (!shard_text->empty()) {
      auto shard = orchestrator::ParseShard(*shard_text);
      ExitOnError(shard.status());
      request->shard = *shard;
    }
    if (*with_analysis) request->after_finish = AnalyzeFinishedSweep;
    request->report_fatal = [](const Status& s) { (void)ReportError(s); };
    int rc = 0;
    {
      const orchestrator::MpiSession mpi;
      if (!mpi.status().ok()) {
        rc = ReportError(mpi.status());
      } else {
        rc = ExitStatusOf(orchestrator::RunSweep(*request));
      }
    }
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

void AddSlurmCommand(CLI::App& app, const std::string& command_line) {
  auto o = std::make_shared<orchestrator::SlurmRequest>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  o->command_line = command_line;
  CLI::App* cmd =
      app.add_subcommand("slurm", "Write a ready sbatch script for a sweep (and submit it)");
  cmd->add_option("config_and_overrides", *positionals,
                  "[CONFIG.yaml] [key=value ...], as for run");
  cmd->add_option("--nodes", o->nodes, "nodes (with --array: array tasks of one node each)");
  cmd->add_option("--gpus-per-node", o->gpus_per_node,
                  "GPUs per node, one rank each; leave out for a CPU-only job");
  cmd->add_option("--ntasks-per-node", o->tasks_per_node,
                  "MPI ranks per node (default: 1, or one per GPU)");
  cmd->add_option("--cpus-per-task", o->cpus_per_task, "cores per rank = its threads (default 1)");
  cmd->add_option("--time", o->time, "time limit, HH:MM:SS or D-HH:MM:SS")->required();
  cmd->add_option("--partition", o->partition, "Slurm partition (default: the cluster's)");
  cmd->add_flag("--array", o->array,
                "a job array of --nodes one-node slices (run --shard) and a merge job after them");
  cmd->add_flag("--submit", o->submit, "submit with sbatch and print the job id");
  cmd->add_option("-o,--script", o->script_path, "the script to write (default <job name>.sbatch)");
  cmd->add_option("--results", o->output, "results file (default: output.path of the config)");
  cmd->add_option("--stop-timeout", o->stop_timeout_s,
                  "seconds the ranks get to checkpoint after USR1 (run --stop-timeout); the "
                  "signal comes this + 60 s before the limit")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, positionals]() {
    o->args = SplitConfigArgs(*positionals);
    std::error_code ec;
    o->exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    ExitOnError(orchestrator::WriteSlurmJob(*o, std::cout, std::cerr));
  });
}

void AddMergeCommand(CLI::App& app, const std::string& command_line) {
  auto request = std::make_shared<orchestrator::MergeRequest>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  request->command_line = command_line;
  CLI::App* merge = app.add_subcommand(
      "merge", "Fold the slices of `run --shard i/n` (job arrays) into the sweep's results file");
  merge->add_option("config_and_overrides", *positionals,
                    "[CONFIG.yaml] [key=value ...], as given to `run --shard`");
  merge->add_option("-o,--output", request->output,
                    "results file (default: output.path of the config)");
  merge->callback([request, positionals]() {
    request->args = SplitConfigArgs(*positionals);
    ExitOnError(orchestrator::MergeSlices(*request, std::cout));
  });
}

}  // namespace phasesweep::app
