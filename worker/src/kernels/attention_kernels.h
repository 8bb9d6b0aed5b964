// The loops of single-query attention (attention.h) on raw float arrays. Kept free of LibTorch
// so that this file builds with its own flags (see worker/CMakeLists.txt).
//
// Layouts: q [N, d], k and v [N, T, d], z [N, d], a [N, H, T], with d = H * D and head h owning
// the elements [h D, (h + 1) D) of each row. Each row n is computed on its own, in an order that
// depends only on (T, H, D), with no fused multiply-adds, so every code path (the functions are
// compiled for several CPU targets) gives the same bits. The exponential is a polynomial of
// relative error about 1e-7 (attention_kernels.cc), not the C library's.
#pragma once

#include <cstdint>

namespace phasesweep::worker::kernels {

// z[n] = sum_t a[n, h, t] v[n, t] per head, a = softmax_t(scale q[n] . k[n, t]) per head;
// rows [n0, n1).
void AttentionForward(int64_t n0, int64_t n1, int64_t T, int64_t H, int64_t D, float scale,
                      const float* q, const float* k, const float* v, float* z, float* a);

// Gradients of the above given gz [N, d] and the saved a; rows [n0, n1). scratch holds T floats.
void AttentionBackward(int64_t n0, int64_t n1, int64_t T, int64_t H, int64_t D, float scale,
                       const float* q, const float* k, const float* v, const float* a,
                       const float* gz, float* gq, float* gk, float* gv, float* scratch);

}  // namespace phasesweep::worker::kernels
