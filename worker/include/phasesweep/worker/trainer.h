// PackTrainer: trains one pack (K members, one device) for its step budget, probing at scheduled
// steps and checkpointing; the orchestrator drives it step by step or through Run with hooks.
//
// Step semantics: step s = the model after s optimizer updates (0 = initialisation). Update i
// (0-based) uses the minibatch i of the member's seeded order (or the full training set), then
// the step counter becomes i + 1; if that is a probe step the probes run, then if it is a
// multiple of training.checkpoint_every (and TrainerOptions::checkpoint_path is set) a checkpoint
// is written. Probes at step 0 run before the first update.
//
// Typical use (rank-side):
//   auto t = PackTrainer::Create(spec, device, {.checkpoint_path = ckpt});   // Result<...>
//   if (exists(ckpt)) RETURN_IF_ERROR((*t)->LoadCheckpoint(ckpt));
//   auto outcome = (*t)->Run({.should_stop = [&]{ return sigterm; },
//                             .after_step = [&](int64_t s) { ServiceMpi(); return Status::Ok();
//                             }});
//   if (*outcome == RunOutcome::kStopped) (*t)->SaveCheckpoint(ckpt);
//   else store (*t)->traces() and (*t)->statuses().
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/worker/checkpoint.h"
#include "phasesweep/worker/model.h"
#include "phasesweep/worker/optimizer.h"
#include "phasesweep/worker/probe.h"
#include "phasesweep/worker/spec.h"
#include "phasesweep/worker/tasks.h"
#include "phasesweep/worker/trace.h"

namespace phasesweep::worker {

// "cpu" → CPU; "cuda" → CUDA device local_rank % device_count, or an error if this LibTorch has
// no CUDA (Unimplemented) or no GPU is visible (FailedPrecondition); "auto" → CUDA when present,
// else CPU. Other names: InvalidArgument. Messages name training.device.
Result<torch::Device> ResolveDevice(const std::string& name, int64_t local_rank = 0);

// Checks a whole pack spec without building anything: the configuration's one rule set
// (spec::ValidatePack, what the orchestrator checks on every grid point, including whether each
// probe applies to this task and model) and that `probes` produces every requested metric.
// Every error is one line naming the config key.
Status ValidatePackSpec(const PackSpec& spec,
                        const ProbeRegistry& probes = ProbeRegistry::Builtin());

struct TrainerOptions {
  // Written every training.checkpoint_every steps when not empty (atomically, replacing it).
  std::string checkpoint_path;
  // Probes to use; nullptr = ProbeRegistry::Builtin(). Must outlive the trainer.
  const ProbeRegistry* probes = nullptr;
  EnsembleOptimizer::Kernel optimizer_kernel = EnsembleOptimizer::Kernel::kAuto;
  // Calls TuneAllocatorForTraining() (once per process) when the pack trains on the CPU.
  bool tune_allocator = true;

  // Data parallelism (training.data_parallel = G > 1; set by the orchestrator): this trainer is
  // one of `group_size` ranks training the same pack in step. Create calls `share` once with the
  // global minibatch's row count (training.batch_size, or n_train for full batch); each update
  // then uses only rows [begin, end) of the minibatch, scales this rank's per-member mean losses
  // by `loss_scale`, and between backward and the optimizer step calls `average` with the flat
  // gradient buffer and those losses [K], which must replace both by their mean over the group,
  // in place and bit-identically on every rank (collectives' SplitGlobalBatch and
  // GradientSynchronizer do this), so every rank takes the step one rank would take on the
  // whole minibatch. A non-OK status from either is returned by Create / Step. group_size 1
  // (the default) ignores both.
  struct DataParallel {
    int group_size = 1;
    std::function<Status(int64_t global_rows, int64_t* begin, int64_t* end, double* loss_scale)>
        share;
    std::function<Status(const torch::Tensor& flat_grads, const torch::Tensor& losses)> average;
  };
  DataParallel data_parallel;
};

// glibc only (a no-op elsewhere): keeps freed blocks of up to 32 MiB in the heap instead of
// returning them to the OS (mallopt M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB). A
// training step frees and reallocates the same activation buffers every step; with glibc's
// defaults each reallocation page-faults anew (3x slower steps on the default study at full
// batch, bench/README.md). Process-wide; safe to call more than once.
void TuneAllocatorForTraining();

enum class RunOutcome {
  kFinished,  // the step budget is spent, or every member diverged
  kStopped,   // should_stop returned true; the trainer can continue or be checkpointed
};

struct RunHooks {
  // Polled before every step; true stops Run between two steps.
  std::function<bool()> should_stop;
  // Called after every step (after its probes and checkpoint) with the new step count, e.g. so
  // rank 0 can service MPI requests. A non-OK status aborts Run with that status.
  std::function<Status(int64_t step)> after_step;
  // Called after the probes of a probe step (including step 0) have been appended to traces().
  std::function<void(int64_t step)> after_probe;
};

// A member's embedding snapshots (probes.snapshot_every > 0): TokenEmbedding() at steps 0,
// snapshot_every, 2 snapshot_every, ... and the last step; none after the member diverged.
struct EmbeddingSnapshots {
  std::vector<int64_t> steps;
  torch::Tensor embed;  // float32 [steps.size(), rows, d] on the CPU (undefined when empty)
};

class PackTrainer {
 public:
  // Validates the spec, resolves nothing (pass the device, see ResolveDevice), sets the
  // intra-op thread count when training.threads > 0, builds data, model, optimizer and probes.
  static Result<std::unique_ptr<PackTrainer>> Create(const PackSpec& spec, torch::Device device,
                                                     TrainerOptions options = {});

  // Runs steps until the budget is spent, every member diverged, should_stop, or an error.
  Result<RunOutcome> Run(const RunHooks& hooks = {});

  // One update (preceded by the step-0 probes on the first call). FailedPrecondition when
  // finished. Errors: a failed automatic checkpoint (IOError).
  Status Step();

  // Saves the complete state now (atomically). Allowed at any step between two Step calls.
  Status SaveCheckpoint(const std::string& path) const;

  // Restores a checkpoint written by a trainer with the same spec (fingerprint), member count
  // and parameter/optimizer/probe layout. Errors name the file: NotFound, Corruption
  // (truncated, bad checksum, malformed), FailedPrecondition (format version, other config).
  // On error nothing has been changed, except when a probe rejects its saved state (then the
  // trainer must be discarded).
  Status LoadCheckpoint(const std::string& path);

  int64_t step() const { return step_; }
  int64_t total_steps() const { return spec_.training.steps; }
  bool finished() const { return finished_; }
  // Per-member traces so far (member order = spec.members).
  const std::vector<Trace>& traces() const { return traces_; }
  // Per-member status: diverged (with step), done once finished, else running.
  std::vector<MemberStatus> statuses() const;
  const std::vector<int64_t>& probe_steps() const { return probe_steps_; }
  // Embedding snapshots of member k so far (empty unless probes.snapshot_every > 0).
  EmbeddingSnapshots snapshots(int64_t member) const;

  const PackSpec& spec() const { return spec_; }
  torch::Device device() const { return device_; }
  EnsembleModel& model() { return *model_; }
  const PackData& data() const { return data_; }
  const EnsembleOptimizer& optimizer() const { return *optimizer_; }

 private:
  PackTrainer(PackSpec spec, torch::Device device, TrainerOptions options);
  Status Init();
  void Batch(int64_t update_index, torch::Tensor* tokens, torch::Tensor* labels);
  void RunProbes();
  void ProbeInitial();  // step-0 probes and snapshot, once
  void MaybeSnapshot();
  void CheckParamsFinite();
  void DataPosition(int64_t step, int64_t* epoch, int64_t* batch) const;

  PackSpec spec_;
  torch::Device device_;
  TrainerOptions options_;
  std::vector<uint64_t> seeds_;
  PackData data_;
  std::unique_ptr<EnsembleModel> model_;
  std::unique_ptr<EnsembleOptimizer> optimizer_;
  std::vector<std::unique_ptr<Probe>> probes_;
  std::vector<std::string> capture_;
  ProbeBatch probe_batch_;
  MemberHealth health_;
  std::vector<int64_t> probe_steps_;
  std::vector<Trace> traces_;
  std::vector<int64_t> snapshot_steps_;
  std::vector<torch::Tensor> snapshots_;  // per snapshot step: float32 [K, rows, d] on the CPU
  int64_t step_ = 0;
  bool probed_initial_ = false;
  bool finished_ = false;
  std::string fingerprint_;
  // Data parallelism: this rank's rows of every minibatch and its loss factor.
  int64_t share_begin_ = 0, share_end_ = 0;
  double share_loss_scale_ = 1.0;
  // Minibatch order of the cached epoch: flat row indices [K, n_train] into [K * n_train].
  int64_t order_epoch_ = -1;
  torch::Tensor order_;
};

}  // namespace phasesweep::worker
