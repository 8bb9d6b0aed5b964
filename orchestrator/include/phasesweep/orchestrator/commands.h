// The orchestrator's subcommands as plain functions (testable with string streams) and their
// CLI11 registration, which app/main.cc calls.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

namespace phasesweep::orchestrator {

// Positional arguments of `plan` and `run`: an optional config file followed by overrides. The
// first argument is the config file unless it contains '=' (then every argument is an override
// and the embedded default study is used).
struct ConfigArgs {
  std::string config_path;
  std::vector<std::string> overrides;
};
ConfigArgs SplitConfigArgs(const std::vector<std::string>& positionals);

struct PlanCommandOptions {
  ConfigArgs args;
  bool json = false;
  int ranks = 1;  // show the packing `run` would use under this many ranks
};

// Prints the resolved config, counts and the job table (or the same as JSON). Returns the
// process exit status: 0, or 2 with one line on `err` for invalid input.
int RunPlanCommand(const PlanCommandOptions& options, std::ostream& out, std::ostream& err);

// Adds `plan` to the application.
void AddPlanCommand(CLI::App& app);

}  // namespace phasesweep::orchestrator
