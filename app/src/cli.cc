// RunCli (see cli.h): the subcommands of `phasesweep`, each handed to the library that owns it.
#include "phasesweep/app/cli.h"

#include <CLI/CLI.hpp>
#include <string>

#include "library_commands.h"
#include "orchestrator_commands.h"
#include "phasesweep/app/exit_status.h"

#ifndef PHASESWEEP_VERSION
#define PHASESWEEP_VERSION "unknown"
#endif

namespace phasesweep::app {

int RunCli(int argc, char** argv, const CliHooks& hooks) {
  CLI::App app{
      "phasesweep: seeds x hyperparameter sweeps of small models, probed while they train, "
      "with cross-seed tests for phase transitions"};
  app.set_version_flag("--version", std::string("phasesweep ") + PHASESWEEP_VERSION);
  app.require_subcommand(1);

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  AddRunCommand(app, command_line, hooks);
  AddPlanCommand(app);
  AddResultsCommands(app);  // status, export, analyze, report
  CLI::App* stats = app.add_subcommand("stats", "The statistics and probes on any numbers");
  stats->require_subcommand(1);
  AddStatsCommands(*stats);  // changepoints, test, adjust, similarity, rank
  AddSlurmCommand(app, command_line);
  AddMergeCommand(app, command_line);  // slices of `run --shard`

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand already reported its one-line error
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInvalidInput;  // usage errors: like invalid input
  }
  return kExitOk;
}

}  // namespace phasesweep::app
