// The transformer's input: token embeddings plus positions, per member.
//
// embed [K, V, d], pos [K, T, d] (learned, per member) or [T, d] (a constant shared by the
// members), tokens int64 [K, B, T] in [0, V) → x [K, B, T, d] with
// x[k,b,t] = embed[k, tokens[k,b,t]] + pos[k,t]. On CPU float32 a custom autograd function
// gathers forward and scatter-adds backward in one loop each, in a fixed order per member,
// replacing a gather, a broadcasting add and their backwards (a sort-based embedding backward, a
// reduction over the batch); results do not depend on the pack. Under a double backward
// (create_graph) and on other devices it is the tensor expression.
//
// The same operation projects tokens: with embed = E W + b and pos = P W it gives
// (E[tok] + P[t]) W + b without multiplying every position's row (see model_transformer.cc).
#pragma once

#include <torch/torch.h>

namespace phasesweep::worker {

torch::Tensor EmbedTokens(const torch::Tensor& embed, const torch::Tensor& pos,
                          const torch::Tensor& tokens, int64_t from = 0, bool allow_fused = true);

}  // namespace phasesweep::worker
