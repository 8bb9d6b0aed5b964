// The loops of MemberLosses' fused cross-entropy (member_loss.cc) on raw float arrays, one member
// at a time. Kept free of LibTorch so that this file builds with its own flags (see
// worker/CMakeLists.txt); like the attention loops, every CPU target gives the same bits.
#pragma once

#include <cstdint>

namespace phasesweep::worker::kernels {

// One member's B rows of C logits x and labels y (each in [0, C): the caller checks): writes the
// softmax to prob [B, C] and returns the sum over rows of -log softmax_label, in row order, in
// double. row_max is scratch for B floats.
double CrossEntropyForward(int64_t B, int64_t C, const float* x, const int64_t* y, float* prob,
                           float* row_max);

// gx [B, C] = (prob - onehot(y)) * scale.
void CrossEntropyBackward(int64_t B, int64_t C, const float* prob, const int64_t* y, float scale,
                          float* gx);

}  // namespace phasesweep::worker::kernels
