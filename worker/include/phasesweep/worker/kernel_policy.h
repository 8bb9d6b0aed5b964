// Which implementation the worker's hot operations take: the fused CPU kernels (hand-written
// loops, CBLAS, small_gemm.h behind custom autograd functions), or the generic tensor ops
// (torch::baddbmm, embedding, softmax, the tensor-op optimizer) that run on any device and are
// what a CUDA pack always takes.
//
// FOR TESTING. Forcing the generic path on the CPU exercises, without a GPU, exactly the code a
// CUDA pack runs (worker/src/kernels/generic_kernels_test.cc: the smoke sweep's trajectories match
// the fused kernels' within 1e-5 through step 80, where its chaotic phase begins, and losses and
// gradients from the same checkpoints match within 1e-5 after it). It is slower, never needed in
// production, and changes results in the last bits, so runs with and without it are not bitwise
// comparable.
//
// The switch is process-wide. Its initial value comes from the environment variable
// PHASESWEEP_FORCE_GENERIC_KERNELS ("1" forces the generic path; unset, empty or "0" does not;
// read once, at the first query), so a whole `phasesweep run` (every MPI rank) can be switched
// from the shell; tests use ScopedGenericKernels. The optimizer's kernel is chosen when a
// trainer is created: switch before PackTrainer::Create.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

// True when the generic tensor path is forced on the CPU.
bool GenericKernelsForced();

// Sets the switch for the whole process (overrides the environment variable).
void ForceGenericKernels(bool on);

// True when a fused CPU kernel may run for tensors on `device`: the device is the CPU and the
// generic path is not forced. Every fused/generic dispatch in the worker asks this.
inline bool FusedCpuKernelsOn(const torch::Device& device) {
  return device.is_cpu() && !GenericKernelsForced();
}

// Forces (or un-forces) the generic path for its lifetime, then restores the previous value.
class ScopedGenericKernels {
 public:
  explicit ScopedGenericKernels(bool on = true) : previous_(GenericKernelsForced()) {
    ForceGenericKernels(on);
  }
  ~ScopedGenericKernels() { ForceGenericKernels(previous_); }
  ScopedGenericKernels(const ScopedGenericKernels&) = delete;
  ScopedGenericKernels& operator=(const ScopedGenericKernels&) = delete;

 private:
  bool previous_;
};

}  // namespace phasesweep::worker
