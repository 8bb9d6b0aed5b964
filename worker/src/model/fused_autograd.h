// Shared by the fused custom autograd functions (token_embedding.cc, token_projection.cc).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace phasesweep::worker {

// The double-backward fallback of a fused function: the gradients of `reference` (the tensor
// expression the function computes, built from its saved inputs) along `grad_out`, with respect
// to the inputs whose `need` flag is set, recorded so that they are themselves differentiable.
// Returns one slot per input (plus `extra_slots` undefined ones for non-tensor arguments);
// inputs not needed stay undefined.
inline torch::autograd::tensor_list DifferentiableGrads(const torch::Tensor& reference,
                                                        const torch::Tensor& grad_out,
                                                        const std::vector<torch::Tensor>& inputs,
                                                        const std::vector<bool>& need,
                                                        size_t extra_slots) {
  std::vector<torch::Tensor> wanted;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (need[i]) wanted.push_back(inputs[i]);
  }
  torch::autograd::tensor_list out(inputs.size() + extra_slots);
  if (wanted.empty()) return out;
  const torch::autograd::tensor_list g =
      torch::autograd::grad({reference}, wanted, {grad_out}, true, true);
  for (size_t i = 0, j = 0; i < inputs.size(); ++i) {
    if (need[i]) out[i] = g[j++];
  }
  return out;
}

}  // namespace phasesweep::worker
