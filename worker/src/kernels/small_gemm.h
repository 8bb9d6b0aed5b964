// Matrix products for BatchedLinear's per-member work, on raw float arrays.
//
// Packs of small models multiply many small matrices (e.g. 96 x 16 by 16 x 16 per member). At
// these sizes a BLAS call costs more in entry, packing and edge handling than in arithmetic.
// These kernels keep a panel of B (one or two vectors of columns, all its rows) in L1 and
// accumulate C's vectors in registers, eight rows at a time (by two vectors on AVX-512). Every
// element is computed in one fixed order — the bias (or zero) first, then the products in
// ascending inner index, one fused multiply-add each where the CPU has FMA — so a result depends
// only on its own operands: not on the row's position, its column's position, the matrix height
// or width, the vector width or the pack size. The code path is chosen once
// per process from the CPU (AVX-512, AVX2+FMA, SSE2 without FMA; 4-wide vectors on other
// architectures); like the BLAS they replace, results are bitwise reproducible on one kind of
// CPU. Kept free of LibTorch so that this file builds with its own flags (see
// worker/CMakeLists.txt).
#pragma once

#include <cstdint>

namespace phasesweep::worker::kernels {

// Whether these kernels are expected to beat a BLAS on a linear layer with I inputs and O outputs
// on this CPU (any number of rows). Without a BLAS they are the fast path at every size.
bool SmallGemmPreferred(int64_t I, int64_t O);

// y[M, O] = bias[O] + x[M, I] w[I, O]   (bias may be null: zero)
void LinearForward(int64_t M, int64_t I, int64_t O, const float* x, const float* w,
                   const float* bias, float* y);

// gx[M, I] = g[M, O] w[I, O]^T
void LinearInputGrad(int64_t M, int64_t I, int64_t O, const float* g, const float* w, float* gx);

// gw[I, O] = x[M, I]^T g[M, O]
void LinearWeightGrad(int64_t M, int64_t I, int64_t O, const float* x, const float* g, float* gw);

// gb[O] = sum over rows of g[M, O], each column in ascending row order. (Adds only: every code
// path gives the same bits.)
void LinearBiasGrad(int64_t M, int64_t O, const float* g, float* gb);

// The code path in use: "avx512", "avx2" or "sse2" on x86-64, "portable" elsewhere.
const char* SmallGemmIsa();

}  // namespace phasesweep::worker::kernels
