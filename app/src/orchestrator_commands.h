// The CLI11 wiring of the orchestrator's subcommands: plan, run, slurm and merge.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "phasesweep/app/cli.h"
#include "phasesweep/orchestrator/plan_listing.h"

namespace phasesweep::app {

// Positional arguments of `plan`, `run`, `slurm` and `merge`: an optional config file followed by
// overrides. The first argument is the config file unless it contains '=' (then every argument
// is an override and the embedded default study is used).
orchestrator::ConfigArgs SplitConfigArgs(const std::vector<std::string>& positionals);

void AddPlanCommand(CLI::App& app);
// `run`: holds the MPI session around the sweep. With --analyze, the analysis of the finished
// sweep is printed and stored in the file (as `phasesweep analyze`).
void AddRunCommand(CLI::App& app, const std::string& command_line, const CliHooks& hooks);
void AddSlurmCommand(CLI::App& app, const std::string& command_line);
void AddMergeCommand(CLI::App& app, const std::string& command_line);

}  // namespace phasesweep::app
