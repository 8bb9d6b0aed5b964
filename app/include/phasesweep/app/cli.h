// The `phasesweep` command line: every subcommand's CLI11 wiring, in one library so that the
// executable (app/main.cc) and test executables (tests/fault_injection_main.cc) share it. The
// libraries below take a request and return a Status; only this layer prints errors and turns
// them into exit statuses (exit_status.h).
#pragma once

#include "phasesweep/orchestrator/pack_executor.h"

namespace phasesweep::app {

// What a caller may replace under the command line. Empty members: the real thing.
struct CliHooks {
  // `run`'s pack executor (tests inject faults through it).
  orchestrator::ExecutorFactory make_executor;
};

// Parses argv, runs the subcommand and returns the process exit status (exit_status.h).
int RunCli(int argc, char** argv, const CliHooks& hooks = {});

}  // namespace phasesweep::app
