// The orchestrator's subcommands as plain functions (testable with string streams) and their
// CLI11 registration, which app/main.cc calls.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
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

// One slice of a sweep's packs for job arrays (`run --shard i/n`, slices.h); count == 0 means
// "not sliced".
struct Shard {
  int index = 0;
  int count = 0;
  bool active() const { return count > 0; }
};

struct RunCommandOptions {
  ConfigArgs args;
  std::string output;  // -o; empty = output.path from the config
  bool fresh = false;  // move an existing results file aside and start anew
  bool accept_config_mismatch = false;
  bool quiet = false;           // no progress line
  std::string log_dir;          // one log file per rank
  double stop_timeout_s = 120;  // after a stop signal, how long rank 0 waits for the others
  std::string command_line;     // recorded in the results file
  Shard shard;                  // --shard i/n: only this slice of the packs (slices.h)
  // Rank 0 only, after a sweep that finished (exit 0 or 3): called with the results file; a
  // non-zero return becomes the exit status. `run --analyze` sets it (app/main.cc).
  std::function<int(const std::string& results_path)> after_finish;
};

// `phasesweep run`: the whole sweep on every rank of MPI_COMM_WORLD (MPI must be initialised).
// Exit status: 0 every job finished (done or diverged); 3 finished but some jobs failed;
// kExitRequeue (75) stopped by a signal, resumable with the same command; 2 invalid input;
// 1 other errors (results file unusable, a rank stopped responding).
int RunSweep(const RunCommandOptions& options);

// Adds `run`. Its callback initialises MPI, runs the sweep and finalises MPI. With `analyze`,
// `run` gets an --analyze flag that calls it (as RunCommandOptions::after_finish) at the end.
void AddRunCommand(CLI::App& app, const std::string& command_line,
                   std::function<int(const std::string& results_path)> analyze = {});

}  // namespace phasesweep::orchestrator
