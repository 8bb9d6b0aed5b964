// BatchedLinear: y[k] = x[k] w[k] + b[k] for every member k of an ensemble — the one operation
// every ensemble-native layer is made of.
//
// On CPU float32 (when built with CBLAS) it is a custom autograd function that calls
// cblas_sgemm once per member, members spread over the intra-op threads, and sums bias
// gradients in a fixed order. torch::bmm on the CPU pays several tensor constructions per
// member per call (it selects each batch item), which dominated the step time of packs of small
// models; this keeps the per-member cost at one BLAS call. Results per member do not depend on
// K. When a double backward is requested (create_graph, e.g. Hessian-vector products) its
// backward switches to differentiable bmm formulas. Elsewhere (CUDA, other dtypes, no CBLAS)
// it is torch::baddbmm.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

// x [K, M, I], w [K, I, O], b [K, 1, O] (b may be undefined: no bias) → [K, M, O].
// allow_blas = false forces the torch::baddbmm path (tests compare the two).
torch::Tensor BatchedLinear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool allow_blas = true);

// Whether this build has the CBLAS path.
bool BatchedLinearUsesBlas();

}  // namespace phasesweep::worker
