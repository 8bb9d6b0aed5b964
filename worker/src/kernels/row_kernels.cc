// The memory-bound loops of the fused layers (see row_kernels.h). Built with -O3 and without FMA
// contraction; PHASESWEEP_TARGET_CLONES picks the AVX-512 or AVX2 clone on CPUs that have them
// (before, these loops were compiled with the rest of their files for the baseline x86-64: 4-wide
// SSE, and a division per row for the position).
#include "kernels/row_kernels.h"

#include "kernels/cpu_targets.h"

namespace phasesweep::worker::kernels {

PHASESWEEP_TARGET_CLONES void ReluInPlace(int64_t n, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = y[i];
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

PHASESWEEP_TARGET_CLONES void ReluBackward(int64_t n, const float* __restrict y,
                                           const float* __restrict g, float* __restrict gm) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = y[i], u = g[i];
    gm[i] = v <= 0.0f ? 0.0f : u;
  }
}

PHASESWEEP_TARGET_CLONES void GatherTokenRows(int64_t n, int64_t T, int64_t V, int64_t d,
                                              const float* __restrict table,
                                              const float* __restrict bias,
                                              const int64_t* __restrict tok,
                                              float* __restrict out) {
  for (int64_t s = 0; s < n; s += T) {  // one sequence
    for (int64_t t = 0; t < T; ++t) {
      const float* __restrict e = table + tok[s + t] * d;
      const float* __restrict p = table + (V + t) * d;
      float* __restrict o = out + (s + t) * d;
      for (int64_t j = 0; j < d; ++j) o[j] = (e[j] + p[j]) + bias[j];
    }
  }
}

PHASESWEEP_TARGET_CLONES void ScatterAddTokenRows(int64_t n, int64_t T, int64_t V, int64_t d,
                                                  const float* __restrict g,
                                                  const int64_t* __restrict tok, float* gtable,
                                                  float* __restrict gbias) {
  for (int64_t s = 0; s < n; s += T) {
    for (int64_t t = 0; t < T; ++t) {
      const float* __restrict gi = g + (s + t) * d;
      // Different rows of gtable: tok < V <= V + t.
      float* __restrict ge = gtable + tok[s + t] * d;
      float* __restrict gp = gtable + (V + t) * d;
      for (int64_t j = 0; j < d; ++j) {
        ge[j] += gi[j];
        gp[j] += gi[j];
        gbias[j] += gi[j];
      }
    }
  }
}

}  // namespace phasesweep::worker::kernels
