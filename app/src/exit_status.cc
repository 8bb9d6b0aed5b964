// The one error printer and the exit statuses (see exit_status.h).
#include "phasesweep/app/exit_status.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace phasesweep::app {

int ExitStatusOf(const Status& status) { return status.ExitCode(); }

int ReportError(const Status& status, std::ostream& err) {
  err << "phasesweep: error: " << status.message() << "\n" << std::flush;
  return ExitStatusOf(status);
}

void ExitOnError(const Status& status, std::ostream& err) {
  if (!status.ok()) throw CLI::RuntimeError(ReportError(status, err));
}

int ExitStatusOf(const orchestrator::SweepResult& result) {
  if (!result.status.ok()) {
    return result.reports ? ReportError(result.status) : ExitStatusOf(result.status);
  }
  switch (result.outcome) {
    case orchestrator::SweepOutcome::kFinished:
      return kExitOk;
    case orchestrator::SweepOutcome::kSomeJobsFailed:
      return kExitFailedJobs;
    case orchestrator::SweepOutcome::kStopped:
      return kExitRequeue;
  }
  return 1;
}

}  // namespace phasesweep::app
