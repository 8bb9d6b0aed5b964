// The named steps of RunSweep (run.h), in the order it calls them. Each is collective over
// MPI_COMM_WORLD unless it says "rank 0"; a step that fails on rank 0 fails on every rank with the
// same Status (AgreeOnStatus), so every rank leaves the sweep at the same step.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "phasesweep/orchestrator/config.h"
#include "phasesweep/orchestrator/launch.h"
#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/rank_setup.h"
#include "phasesweep/orchestrator/run.h"
#include "phasesweep/orchestrator/scheduler.h"
#include "phasesweep/storage/results_writer.h"

namespace phasesweep::orchestrator {

// One log per rank under --log-dir, plus (rank 0, not quiet) the terminal.
class RankLog {
 public:
  RankLog(const std::string& dir, int rank, bool echo);
  void Line(const std::string& text);
  // Only into the log file (per-pack detail that would flood the terminal).
  void FileLine(const std::string& text);

 private:
  bool echo_;
  std::ofstream file_;
};

// Rank 0's Status of a step, shared with every rank (InvalidArgument stays InvalidArgument,
// anything else arrives as Internal with the same message). `rank`: this rank in MPI_COMM_WORLD.
Status AgreeOnStatus(const Status& status_on_rank0, int rank);

// 1. Rank 0 validates the config (and that training.data_parallel divides the ranks); every rank
//    gets the same resolved config and output path.
struct AgreedConfig {
  std::string resolved_yaml;
  std::string output;  // -o, or output.path of the config
  SweepSpec sweep;
};
Result<AgreedConfig> AgreeOnConfig(const RunRequest& request, const LaunchLayout& layout);

// 2. The data-parallel groups (rank_setup.h), on CUDA when training.device resolves to it.
Result<RankGroup> SetUpGroups(const AgreedConfig& config, const LaunchLayout& layout);

// 3. The plan, for the groups of all slices together (so every slice packs the jobs as one
//    unsharded run would), and which results file this run writes.
struct SweepWork {
  SweepPlan plan;
  std::string sweep_output;         // the sweep's results file
  std::string output;               // this run's: the sweep's, or its slice's (slices.h)
  std::vector<size_t> slice_packs;  // --shard: the packs of this slice
};
Result<SweepWork> PlanSweep(const RunRequest& request, const AgreedConfig& config, int group_count);

// 4. Rank 0 opens (or creates) the results file, folds leftover shards and slices into it and
//    reads which jobs are finished; every rank learns the pending packs (resume).
struct OpenedResults {
  std::unique_ptr<storage::ResultsWriter> writer;  // rank 0 only
  std::set<std::string> finished;                  // job ids
  std::vector<size_t> pending;                     // packs with unfinished jobs
};
Result<OpenedResults> OpenResults(const RunRequest& request, const AgreedConfig& config,
                                  SweepWork& work, int rank, RankLog& log);

// 5. Rank 0: the line that says what this run will do.
void AnnounceStart(const RunRequest& request, const AgreedConfig& config, const SweepWork& work,
                   const OpenedResults& results, const LaunchLayout& layout, int64_t threads,
                   RankLog& log);

// 6. Trains the pending packs through the scheduler (inside data-parallel groups when G > 1).
Result<SchedulerSummary> Train(const RunRequest& request, const AgreedConfig& config,
                               const SweepWork& work, OpenedResults& results, RankGroup& group,
                               const LaunchLayout& layout, int64_t threads, RankLog& log);

// 7. Rank 0 merges what finished, prints the totals and what to do next, and runs
//    `after_finish`. A scheduler that failed (a stop timed out) aborts the job here.
SweepResult Finish(const RunRequest& request, const SweepWork& work, OpenedResults& results,
                   const Result<SchedulerSummary>& trained, RankLog& log);

}  // namespace phasesweep::orchestrator
