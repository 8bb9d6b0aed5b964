// The answer position's attention over keys and values projected per vocabulary row.
//
// TokenLastQueryAttention(q, embed, pos, w_k, b_k, w_v, b_v, tokens, scale) is
//   LastQueryAttention(q, ProjectTokens(embed, pos, w_k, b_k, tokens),
//                         ProjectTokens(embed, pos, w_v, b_v, tokens), scale)
// (attention.h, token_projection.h; keys and values viewed as [K B, T, H, dh]) with the same
// bits, forward and backward: q [K B, H, dh], embed [K, V, d], pos [K, T, d] or [T, d], w_k, w_v
// [K, d, d], b_k, b_v [K, 1, d], tokens int64 [K, B, T] → z [K B, H, dh]. The keys and values
// of every position are never stored: the products run over the V + T rows of embed and pos, and
// each block of sequences gathers its keys and values into a cache-sized buffer just before the
// attention loops read it (forward) or writes their gradients there just before they are
// scatter-added into the products' gradients (backward). Without it the full-batch step of the
// grokking model (2,823 sequences) wrote, and read back four times, key and value tensors of
// 4.3 MB each per step. On other devices and dtypes, and under a double backward, it is the
// composition above.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

torch::Tensor TokenLastQueryAttention(const torch::Tensor& q, const torch::Tensor& embed,
                                      const torch::Tensor& pos, const torch::Tensor& w_k,
                                      const torch::Tensor& b_k, const torch::Tensor& w_v,
                                      const torch::Tensor& b_v, const torch::Tensor& tokens,
                                      double scale, bool allow_fused = true);

}  // namespace phasesweep::worker
