// The memory-bound loops of the fused layers on raw float arrays: the ReLU of BatchedLinearRelu
// (batched_linear.h) and the gather and scatter-add of TokenLastQueryAttention's keys and values
// (token_attention.h). Kept free of LibTorch so that this file builds with its own flags and is
// compiled for several CPU targets (see worker/CMakeLists.txt). Each element is one comparison or
// a fixed sequence of additions, so every target gives the same bits as the scalar loops they
// replace.
#pragma once

#include <cstdint>

namespace phasesweep::worker::kernels {

// y[i] = y[i] < 0 ? 0 : y[i] (torch::relu: a NaN stays NaN, -0 stays -0).
void ReluInPlace(int64_t n, float* y);

// gm[i] = y[i] <= 0 ? 0 : g[i] (torch's threshold_backward(g, y, 0)).
void ReluBackward(int64_t n, const float* y, const float* g, float* gm);

// out[i, :] = (table[tok[i]] + table[V + i % T]) + bias for the n rows of whole sequences of T
// positions (n a multiple of T): table [V + T, d], bias [d], tok in [0, V) (the caller checks).
void GatherTokenRows(int64_t n, int64_t T, int64_t V, int64_t d, const float* table,
                     const float* bias, const int64_t* tok, float* out);

// For i = 0, 1, ..., n - 1 in this order: gtable[tok[i]] += g[i], gtable[V + i % T] += g[i],
// gbias += g[i] (g [n, d]; the rows as GatherTokenRows reads them).
void ScatterAddTokenRows(int64_t n, int64_t T, int64_t V, int64_t d, const float* g,
                         const int64_t* tok, float* gtable, float* gbias);

}  // namespace phasesweep::worker::kernels
