// The real PackExecutor and ResultCollector of `phasesweep run`: train a pack with the worker's
// PackTrainer (resuming from its checkpoint), write its jobs as a storage shard, and on rank 0
// merge shards into the results file. A failure of a pack comes back from the executor as a
// kError outcome carrying the Status message (never as an exception to be caught as a string).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/scheduler.h"
#include "phasesweep/storage/records.h"
#include "phasesweep/storage/results_writer.h"

namespace phasesweep::collectives {
class Communicator;
}

namespace phasesweep::orchestrator {

// This rank's data-parallel group (training.data_parallel = G > 1). Every rank of a group trains
// the same pack in step (GroupRootExecutor / FollowGroupRoot): each on its share of every
// minibatch, gradients averaged over `communicator`, parameters broadcast from the group root
// after set-up and after resuming. Only the group root writes checkpoints and shards; the others
// read the root's checkpoint when they resume (the sidecar folder must be on a file system every
// rank sees, as for any multi-node sweep).
struct DataParallelGroup {
  collectives::Communicator* communicator = nullptr;  // null: no group (G = 1)
  int rank = 0;                                       // in the group; 0 = root
  int size = 1;
};

// Whether training.device `device_name` resolves to a CUDA device on this rank (worker's
// ResolveDevice; its errors).
Result<bool> TrainsOnCuda(const std::string& device_name, int local_rank);

// Where a pack's checkpoint lives: <results>.d/checkpoints/<hash of its member job ids>.ckpt,
// so a rerun finds it whichever rank trains the pack, and a different packing never loads it.
std::string CheckpointPathFor(const std::string& results_path, const spec::PackSpec& pack);

// The records of a pack's jobs, with the given status, for failed packs.
std::vector<storage::JobRecord> FailedRecords(const SweepPlan& plan, const Pack& pack, int rank,
                                              int attempts, const std::string& error);

struct ExecutorSettings {
  std::string results_path;
  int world_rank = 0;
  int local_rank = 0;
  int64_t threads = 1;  // intra-op threads for this rank
  // This rank's log, one line at a time: resumes and checkpoints on stop (echo = true: also on
  // the terminal where this rank echoes), and each finished pack (echo = false: file only).
  std::function<void(const std::string& line, bool echo)> log;
  DataParallelGroup group;
};

class TrainerExecutor : public PackExecutor {
 public:
  TrainerExecutor(const SweepPlan& plan, ExecutorSettings settings)
      : plan_(plan), settings_(std::move(settings)) {}
  // A pack the device cannot hold (the allocator refuses: CPU or CUDA out of memory) fails with
  // one line naming the memory it needed by the plan's model and the training.pack that would
  // fit; the scheduler then marks its jobs failed and every other pack's results are kept.
  PackOutcome Run(const PackContext& context) override;

 private:
  Result<PackOutcome> RunPack(const PackContext& context);
  void Log(const std::string& line, bool echo = true) const {
    if (settings_.log) settings_.log(line, echo);
  }
  bool is_group_root() const { return settings_.group.rank == 0; }

  const SweepPlan& plan_;
  ExecutorSettings settings_;
};

// Makes the executor that trains this rank's packs. `run` uses the TrainerExecutor; tests inject
// faults by wrapping it or by handing it a different plan (tests/fault_injection_main.cc).
using ExecutorFactory = std::function<std::unique_ptr<PackExecutor>(
    const SweepPlan& plan, const ExecutorSettings& settings)>;
ExecutorFactory TrainerExecutorFactory();

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
