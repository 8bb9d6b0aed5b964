// A linear layer applied to the transformer's input stream, computed per vocabulary row.
//
// ProjectTokens(embed, pos, w, b, tokens) = (embed[tok] + pos[t]) w + b for every position:
// embed [K, V, d], pos [K, T, d] (learned) or [T, d] (shared constant), w [K, d, o], b [K, 1, o],
// tokens int64 [K, B, T] in [0, V) → [K, B, T, o]. It is linear, so it equals
// (embed w)[tok] + (pos w)[t] + b: the products run over the V + T rows of embed and pos, not
// over the B T positions, and a gather assembles the result (a scatter-add runs backward). Use
// it when V + T < B T (the transformer's first block without layer norm). One custom autograd
// node per call, so it costs no more operators than the linear layer it replaces. Every member is
// computed on its own, in a fixed order, with BatchedLinear's per-member products. On other
// devices and dtypes, and under a double backward (create_graph), it is the tensor expression
// (embed[tok] + pos[t]) w + b, which equals it up to rounding.
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

torch::Tensor ProjectTokens(const torch::Tensor& embed, const torch::Tensor& pos,
                            const torch::Tensor& w, const torch::Tensor& b,
                            const torch::Tensor& tokens, bool allow_fused = true);

}  // namespace phasesweep::worker
