// Exit statuses of `phasesweep`, and the one place that prints an error. Every subcommand ends
// through here: a failed Status is printed as one line "phasesweep: error: <message>" on stderr
// and mapped to its exit status.
//   0   success
//   1   any other failure (unreadable or corrupt file, a rank stopped responding, a bug)
//   2   invalid input the user must fix (config, override, option value, usage)
//   3   `run`: the sweep finished but some jobs failed
//   75  `run`: stopped by a signal and checkpointed; the same command resumes it (EX_TEMPFAIL
//       from sysexits.h; the generated sbatch scripts requeue on it, orchestrator/slurm.h)
#pragma once

#include <iostream>

#include "phasesweep/base/status.h"
#include "phasesweep/orchestrator/run.h"

namespace phasesweep::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitFailedJobs = 3;
inline constexpr int kExitRequeue = 75;

// 0 for OK, 2 for InvalidArgument, 1 for every other error.
int ExitStatusOf(const Status& status);

// Prints `status` (not OK) as the one error line on `err` and returns its exit status.
int ReportError(const Status& status, std::ostream& err = std::cerr);

// For CLI11 callbacks: reports a failed `status` and ends the subcommand with its exit status
// (CLI::RuntimeError, which RunCli turns into the return value). Does nothing when OK.
void ExitOnError(const Status& status, std::ostream& err = std::cerr);

// `run`'s exit status on this rank; prints the error when this rank reports for the sweep.
int ExitStatusOf(const orchestrator::SweepResult& result);

}  // namespace phasesweep::app
