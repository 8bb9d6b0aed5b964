// Single-query attention: the attention of the answer position in the transformer's last block.
//
// q [N, H, dh] (one query per sequence and head), k and v [N, T, H, dh] → z [N, H, dh], with
// z[n,h] = sum_t softmax_t(scale q[n,h] . k[n,t,h]) v[n,t,h]. On CPU float32 a custom autograd
// function computes forward and backward in one pass each over the rows (attention_kernels.h,
// vectorised, with a polynomial exponential; the equivalent tensor expression costs a dozen
// small broadcasting kernels per step, which dominated packs of small models);
// everything per (n, h) is independent, so results do not depend on the pack. Under a double
// backward (create_graph) and on other devices it is the tensor expression.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

torch::Tensor LastQueryAttention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, double scale, bool allow_fused = true);

}  // namespace phasesweep::worker
