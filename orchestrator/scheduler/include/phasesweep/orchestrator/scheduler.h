// The MPI scheduler: a dynamic pull queue of packs in which every rank trains and rank 0 also
// coordinates, cooperatively, between its own training steps.
//
// Protocol (MPI_COMM_WORLD, or the communicator of group leaders when packs are data-parallel):
//   worker -> 0   REQUEST               "give me a pack"
//   0 -> worker   ASSIGN pack attempt   (pack = -1: no work left, leave the loop)
//   worker -> 0   PROGRESS pack step    (at most once a second while training)
//   worker -> 0   FINISHED pack outcome member_steps error
//   0 -> worker   STOP                  (a stop signal reached some rank: checkpoint and report)
// Rank 0 answers requests whenever it is idle and, while it trains, from the executor's
// `service` hook, which the trainer calls between steps. A worker asks for its next pack as soon
// as it starts one; rank 0 grants such an early request only while the queue holds at least one
// pack per rank, so that a worker rarely waits for rank 0's next service call between packs and
// the last packs still go to whichever rank is free (bench/README.md, "Scheduler"). A pack given
// early to a rank that has meanwhile been told to stop comes back as interrupted, untouched.
//
// Failure policy: a pack whose executor reports kError is queued again until it has run
// 1 + retries times, then reported to the collector as failed. A stop request (SIGTERM/SIGUSR1
// on any rank) makes every rank stop its pack at the next step boundary (the executor checkpoints)
// and the scheduler returns with `stopped` set once all outstanding packs reported, or after
// `stop_timeout_s`.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::orchestrator {

enum class PackOutcomeKind : int { kFinished = 0, kInterrupted = 1, kError = 2 };

struct PackOutcome {
  PackOutcomeKind kind = PackOutcomeKind::kFinished;
  int64_t member_steps = 0;  // member-steps trained in this attempt (for throughput)
  std::string error;         // kError: one line
};

// What an executor gets while it trains a pack.
struct PackContext {
  size_t pack = 0;
  int attempt = 1;                             // 1 for the first run of the pack
  std::function<void()> service;               // call between steps (cheap when nothing is pending)
  std::function<bool()> should_stop;           // true once a stop was requested: checkpoint, return
  std::function<void(int64_t step)> progress;  // the pack's current step (rate-limited inside)
};

// Trains one pack on this rank (or group): resumes from its checkpoint when one exists, writes
// its results durably (a shard) before returning kFinished, checkpoints before kInterrupted.
// Exceptions are caught by the scheduler and treated as kError with the exception's text.
class PackExecutor {
 public:
  virtual ~PackExecutor() = default;
  virtual PackOutcome Run(const PackContext& context) = 0;
};

// Rank 0's view of finished work: makes it part of the results file and the ledger.
class ResultCollector {
 public:
  virtual ~ResultCollector() = default;
  // `outcome.kind` is kFinished, or kError after the last retry (the pack's jobs failed).
  virtual Status PackDone(size_t pack, int rank, int attempts, const PackOutcome& outcome) = 0;
};

// Receives the sweep's progress on rank 0, about once a second and at the end.
struct ProgressSnapshot {
  int64_t packs_total = 0, packs_done = 0, packs_failed = 0, packs_running = 0;
  int64_t jobs_total = 0, jobs_done = 0, jobs_failed = 0, jobs_running = 0;
  int64_t member_steps_total = 0, member_steps_done = 0;
  double elapsed_s = 0;
  double member_steps_per_s = 0;
  double eta_s = -1;  // -1 = unknown
  bool final = false;
};
using ProgressSink = std::function<void(const ProgressSnapshot&)>;

struct SchedulerOptions {
  int retries = 1;
  double stop_timeout_s = 120;
  // Per pack (indexed like the plan's packs): members and total steps, for progress and ETA.
  std::vector<int64_t> pack_members;
  std::vector<int64_t> pack_steps;
};

struct SchedulerSummary {
  int64_t packs_finished = 0;  // by this call, over all ranks (rank 0's count)
  int64_t packs_failed = 0;
  int64_t packs_interrupted = 0;
  int64_t packs_run_here = 0;  // by this rank
  bool stopped = false;        // a stop signal ended the run early
  double busy_fraction = 0;    // this rank: time inside executor.Run / wall time
};

// Runs the queue until every pending pack has finished or failed, or a stop was requested.
// `pending` and `collector` are read on rank 0 only. Collective over `comm`.
Result<SchedulerSummary> RunScheduler(MPI_Comm comm, const std::vector<size_t>& pending,
                                      PackExecutor& executor, ResultCollector* collector,
                                      const SchedulerOptions& options,
                                      const ProgressSink& progress);

// --- Data-parallel groups (training.data_parallel = G > 1) ---
// Each group of G ranks trains one pack at a time, together. The group roots (group rank 0) run
// RunScheduler over a communicator of the roots alone, each with its executor wrapped in a
// GroupRootExecutor; every other rank of a group calls FollowGroupRoot. For each pack the root
// announces pack and attempt over `group` and every rank of the group runs its own executor on
// it; the executors keep themselves in step (gradient allreduce every step).
//
// Stopping must happen at the same step on every rank of a group, or the others would wait in
// the next allreduce: inside a group, the should_stop an executor sees returns `agree(flag)`,
// where flag is this rank's own view (the scheduler's stop on the root, a stop signal on the
// others) and `agree` must return the same verdict on every rank (e.g. true when any rank's flag
// is set: an allreduce). It is called exactly once per should_stop call, in step.
using StopAgreement = std::function<bool(bool stop_here)>;

class GroupRootExecutor : public PackExecutor {
 public:
  // `group`: the group's ranks, the root being rank 0. `inner` and `agree` must outlive this.
  GroupRootExecutor(MPI_Comm group, PackExecutor& inner, StopAgreement agree)
      : group_(group), inner_(inner), agree_(std::move(agree)) {}
  PackOutcome Run(const PackContext& context) override;
  // Tells the other ranks of the group that there is no more work (FollowGroupRoot returns).
  // Call once, after RunScheduler returned, also when it failed.
  void ReleaseGroup();

 private:
  MPI_Comm group_;
  PackExecutor& inner_;
  StopAgreement agree_;
};

// A non-root rank of a group: runs each pack its root announces with `executor` (whose outcome
// is the root's to report) until the root releases the group. Waits politely (polling with
// sleeps) between packs.
Result<SchedulerSummary> FollowGroupRoot(MPI_Comm group, PackExecutor& executor,
                                         const StopAgreement& agree);

}  // namespace phasesweep::orchestrator
