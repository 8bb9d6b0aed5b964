// The inner loops of the fused CPU optimizer step, on raw float arrays. Kept free of LibTorch
// so this one file can be compiled with -O3 -fno-math-errno (vectorised sqrt) without the
// precompiled header, whose flags it would no longer match.
#pragma once

#include <cstdint>

namespace phasesweep::worker::kernels {

// Sum of squares of g[0..n) in double, in an order fixed by n alone.
double SumSquares(const float* g, int64_t n);

struct AdamCoef {
  float clip;          // gradient scale (per-member clipping)
  float c1, c2;        // 1 - beta1, 1 - beta2
  float inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
  float decay;         // 1 - lr * weight_decay
  float step;          // lr / (1 - beta1^t)
  float eps;
};

// AdamW on n elements: m += c1 (g - m); v += c2 (g² - v); p = p decay - step m / (sqrt(v)
// inv_sqrt_bc2 + eps), with g scaled by clip.
void AdamW(float* p, float* m, float* v, const float* g, int64_t n, const AdamCoef& c);

struct SgdCoef {
  float clip, weight_decay, momentum, lr;
};

// SGD with momentum (PyTorch semantics, dampening 0): d = g clip + wd p; buf = momentum buf + d;
// p -= lr buf.
void Sgd(float* p, float* buf, const float* g, int64_t n, const SgdCoef& c);

}  // namespace phasesweep::worker::kernels
