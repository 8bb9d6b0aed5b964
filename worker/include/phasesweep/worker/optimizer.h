// Optimizers for an ensemble whose members have their own hyperparameters.
//
// AdamW (decoupled weight decay, PyTorch semantics) and SGD with momentum (L2 weight decay added
// to the gradient, PyTorch semantics) over the flat buffers of a ParamStore; lr, weight decay,
// betas, momentum and the clipping norm are K-vectors (MemberOptimizerScalars). The schedule
// (linear warmup, then constant or cosine to 0 at training.steps) is shared by the pack.
//
// Each update also does the per-member bookkeeping the trainer needs: the global gradient L2
// norm of every member (before clipping), clipping to grad_clip, and divergence: a member whose
// loss or gradient norm is NaN/Inf is marked diverged and from then on its parameters and
// optimizer state never change (the other members continue).
//
// Two interchangeable kernels: a fused CPU loop (one pass over the buffers, parallel over fixed
// chunks so results do not depend on the thread count) and plain tensor ops that run on any
// device (CUDA). Both are deterministic and member-independent.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/validate.h"
#include "phasesweep/worker/param_store.h"
#include "phasesweep/worker/spec.h"

namespace phasesweep::worker {

// Learning-rate multiplier of update `i` (0-based: update i takes the model from step i to i+1)
// in a run of `total_steps` updates: (i+1)/warmup during warmup, then 1 (constant) or
// 0.5 (1 + cos(pi (i - warmup) / (total_steps - warmup))) (cosine; it would reach 0 at
// i = total_steps).
double ScheduleFactor(const OptimizerSpec& spec, int64_t i, int64_t total_steps);

// The optimizer section's rules (spec/validate.h): each member's scalars (errors name the key
// and the job), warmup within the steps.
using spec::ValidateOptimizer;

// Which members still train, on the training device: alive bool [K]; diverged_at int64 [K] =
// the step whose loss or gradient was first non-finite, -1 while alive.
struct MemberHealth {
  torch::Tensor alive;
  torch::Tensor diverged_at;
  static MemberHealth AllAlive(int64_t members, torch::Device device);
};

class EnsembleOptimizer {
 public:
  enum class Kernel { kAuto, kFusedCpu, kTensorOps };  // kAuto: fused on CPU, tensor ops else

  EnsembleOptimizer(const OptimizerSpec& spec, const std::vector<MemberOptimizerScalars>& scalars,
                    int64_t total_steps, ParamStore* params, Kernel kernel = Kernel::kAuto);

  // One update from the gradients in params->flat_grads() (left unchanged). `losses` [K] are this
  // step's per-member losses. Members found non-finite are marked in `health` with step
  // update_index + 1 and get no update.
  void Step(int64_t update_index, const torch::Tensor& losses, MemberHealth* health);

  // The per-member gradient norms of the last Step (before clipping): float64 [K], on the device.
  const torch::Tensor& grad_norms() const { return grad_norms_; }

  // Optimizer state by name ("adamw.m", "adamw.v" or "sgd.momentum"), flat like the parameters;
  // the checkpoint reads and overwrites these tensors in place.
  std::vector<std::pair<std::string, torch::Tensor>> StateTensors() const;

  bool fused() const { return fused_; }

 private:
  void StepFusedCpu(int64_t update_index, const torch::Tensor& losses, MemberHealth* health);
  void StepTensorOps(int64_t update_index, const torch::Tensor& losses, MemberHealth* health);

  OptimizerSpec spec_;
  std::vector<MemberOptimizerScalars> scalars_;
  int64_t total_steps_;
  ParamStore* params_;
  bool adamw_;
  bool fused_;
  torch::Tensor state_a_, state_b_;  // adamw: m, v; sgd: momentum buffer, undefined
  torch::Tensor grad_norms_;
  // Fused kernel: the flat buffers cut into fixed chunks of one member each.
  struct Chunk {
    int64_t begin, end, member;
  };
  std::vector<Chunk> chunks_;
};

}  // namespace phasesweep::worker
