// phasesweep: the command line. It only parses arguments and hands each subcommand to the
// library that owns it; every subcommand's logic lives (and is tested) in its library.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/analysis/report.h"
#include "phasesweep/analysis/stats_commands.h"
#include "phasesweep/orchestrator/commands.h"
#include "phasesweep/orchestrator/slices.h"
#include "phasesweep/orchestrator/slurm.h"
#include "phasesweep/storage/commands.h"
#include "phasesweep/worker/stats_probe_commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "phasesweep: seeds x hyperparameter sweeps of small models, probed while they train, "
      "with cross-seed tests for phase transitions"};
  app.set_version_flag("--version", std::string("phasesweep ") + PHASESWEEP_VERSION);
  app.require_subcommand(1);

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  // `run --analyze`: the analysis of the finished sweep, printed and stored in the file.
  phasesweep::orchestrator::AddRunCommand(app, command_line, [](const std::string& results) {
    phasesweep::analysis::AnalyzeRequest request;
    request.results_path = results;
    std::cout << "\n" << std::flush;
    const phasesweep::Status s = phasesweep::analysis::RunAnalyze(request, std::cout);
    if (s.ok()) return 0;
    std::cerr << "phasesweep: error: " << s.message() << "\n";
    return s.ExitCode();
  });
  phasesweep::orchestrator::AddPlanCommand(app);
  phasesweep::storage::AddStorageCommands(app);  // status, export
  phasesweep::analysis::AddAnalyzeCommand(app);
  phasesweep::analysis::AddReportCommand(app);
  CLI::App* stats = app.add_subcommand("stats", "The statistics and probes on any numbers");
  stats->require_subcommand(1);
  phasesweep::analysis::AddStatsCommands(*stats);     // changepoints, test, adjust
  phasesweep::worker::AddProbeStatsCommands(*stats);  // similarity, rank
  phasesweep::orchestrator::AddSlurmCommand(app, command_line);
  phasesweep::orchestrator::AddMergeCommand(app, command_line);  // slices of `run --shard`

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand already printed its one-line error
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors: exit status 2, like invalid input
  }
  return 0;
}
