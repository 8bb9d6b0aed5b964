// `phasesweep run`: one sweep over every rank of MPI_COMM_WORLD, as a short composition of named
// steps (run_sweep.cc; the steps in sweep_steps.h): set up this rank, agree on the config (rank 0
// validates and broadcasts the resolved YAML, so no rank can disagree about the sweep), set up the
// data-parallel groups, plan, open the results file and read its ledger (resume), train through
// the scheduler, then merge and report on rank 0. The command line (app/) parses the request,
// holds the MpiSession around the call, prints a failed Status once and maps the result to the
// process exit status.
#pragma once

#include <functional>
#include <string>

#include "phasesweep/base/status.h"
#include "phasesweep/orchestrator/pack_executor.h"
#include "phasesweep/orchestrator/plan_listing.h"
#include "phasesweep/orchestrator/slices.h"

namespace phasesweep::orchestrator {

struct RunRequest {
  ConfigArgs args;
  std::string output;  // -o; empty = output.path from the config
  bool fresh = false;  // move an existing results file aside and start anew
  bool accept_config_mismatch = false;
  bool quiet = false;           // no progress line
  std::string log_dir;          // one log file per rank
  double stop_timeout_s = 120;  // after a stop signal, how long rank 0 waits for the others
  std::string command_line;     // recorded in the results file
  Shard shard;                  // --shard i/n: only this slice of the packs (slices.h)
  // Rank 0 only, after a sweep that finished (every job, or some failed): called with the results
  // file once it is released; a failed Status becomes the sweep's. `run --analyze` sets it.
  std::function<Status(const std::string& results_path)> after_finish;
  // Makes this rank's pack executor; empty: the TrainerExecutor. Tests inject faults here.
  ExecutorFactory make_executor;
  // Prints a fatal error on rank 0 just before the job is aborted (a stop that timed out: some
  // rank did not answer, so returning would hang in MPI). app/ passes its one error printer.
  std::function<void(const Status&)> report_fatal;
};

enum class SweepOutcome {
  kFinished,        // every job finished (done or diverged)
  kSomeJobsFailed,  // finished, but some jobs failed after their retries
  kStopped,         // stopped by a signal; the same command resumes (requeue)
};

// How the sweep ended on this rank. A failed `status` (invalid config, unusable results file, a
// failed analysis, ...) is the same on every rank where the ranks agreed on it; only the rank
// that `reports` (world rank 0) should print it.
struct SweepResult {
  Status status;
  SweepOutcome outcome = SweepOutcome::kFinished;
  bool reports = false;
};

// Runs the sweep; MPI must be initialised (MpiSession, rank_setup.h). Collective over
// MPI_COMM_WORLD. A stop that timed out aborts the job after `report_fatal`.
SweepResult RunSweep(const RunRequest& request);

}  // namespace phasesweep::orchestrator
