// BatchedLinear: y[k] = x[k] w[k] + b[k] for every member k of an ensemble — the one operation
// every ensemble-native layer is made of.
//
// On CPU float32 it is a custom autograd function that loops over the members (spread over the
// intra-op threads when there is enough work). Each member's products run on the kernels of
// small_gemm.h where they beat the BLAS on this CPU (kernels::SmallGemmPreferred; always without
// CBLAS), else one cblas_sgemm call each; bias gradients are column sums in a fixed order.
// torch::bmm on the CPU pays several tensor constructions per member per call (it selects each
// batch item), and at small sizes a BLAS call costs more than its arithmetic; both dominated the
// step time of packs of small models. Results per member do not depend on K. When a double
// backward is requested (create_graph, e.g. Hessian-vector products) its backward switches to
// differentiable bmm formulas. Elsewhere (CUDA, other dtypes) it is torch::baddbmm.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

// x [K, M, I], w [K, I, O], b [K, 1, O] (b may be undefined: no bias) → [K, M, O].
// allow_blas = false forces the torch::baddbmm path (tests compare the two).
torch::Tensor BatchedLinear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool allow_blas = true);

// relu(BatchedLinear(x, w, b)) in one autograd node: the ReLU runs in place on the product (on
// blocks of rows still in cache where the kernels compute it) and its backward masks the
// gradient before the products' backward, with no tensors or operators of its own. The same
// bits as torch::relu(BatchedLinear(x, w, b)), forward and backward.
torch::Tensor BatchedLinearRelu(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& b, bool allow_blas = true);

// Whether this build has the CBLAS path.
bool BatchedLinearUsesBlas();

namespace detail {
// One member's row-major products, as BatchedLinear computes them, for other fused operations
// (token_projection.h): the kernels of small_gemm.h where MemberProductUsesKernels, else CBLAS.
bool MemberProductUsesKernels(int64_t M, int64_t I, int64_t O);
// y[M, O] = bias[O] + x[M, I] w[I, O]   (bias may be null)
void MemberLinearForward(int64_t M, int64_t I, int64_t O, const float* x, const float* w,
                         const float* bias, float* y);
// gx[M, I] = g[M, O] w[I, O]^T
void MemberLinearInputGrad(int64_t M, int64_t I, int64_t O, const float* g, const float* w,
                           float* gx);
// gw[I, O] = x[M, I]^T g[M, O]
void MemberLinearWeightGrad(int64_t M, int64_t I, int64_t O, const float* x, const float* g,
                            float* gw);
}  // namespace detail

}  // namespace phasesweep::worker
