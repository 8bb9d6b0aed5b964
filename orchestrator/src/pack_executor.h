// The real PackExecutor and ResultCollector of `phasesweep run`: train a pack with the worker's
// PackTrainer (resuming from its checkpoint), write its jobs as a storage shard, and on rank 0
// merge shards into the results file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/scheduler.h"
#include "phasesweep/storage/records.h"
#include "phasesweep/storage/results_writer.h"

namespace phasesweep::orchestrator {

// Where a pack's checkpoint lives: <results>.d/checkpoints/<hash of its member job ids>.ckpt,
// so a rerun finds it whichever rank trains the pack, and a different packing never loads it.
std::string CheckpointPathFor(const std::string& results_path, const worker::PackSpec& pack);

// The records of a pack's jobs, with the given status, for failed packs.
std::vector<storage::JobRecord> FailedRecords(const SweepPlan& plan, const Pack& pack, int rank,
                                              int attempts, const std::string& error);

struct ExecutorSettings {
  std::string results_path;
  int world_rank = 0;
  int local_rank = 0;
  int64_t threads = 1;  // intra-op threads for this rank
};

class TrainerExecutor : public PackExecutor {
 public:
  TrainerExecutor(const SweepPlan& plan, ExecutorSettings settings)
      : plan_(plan), settings_(std::move(settings)) {}
  PackOutcome Run(const PackContext& context) override;

 private:
  const SweepPlan& plan_;
  ExecutorSettings settings_;
};

class ShardCollector : public ResultCollector {
 public:
  ShardCollector(const SweepPlan& plan, storage::ResultsWriter& writer)
      : plan_(plan), writer_(writer) {}
  Status PackDone(size_t pack, int rank, int attempts, const PackOutcome& outcome) override;

 private:
  const SweepPlan& plan_;
  storage::ResultsWriter& writer_;
};

}  // namespace phasesweep::orchestrator
