// Single-query attention loops (see attention_kernels.h).
//
// The head size D is a compile-time constant for the usual sizes (4 to 64), so the per-head loops
// unroll into a few vector operations; other sizes run the same code with D at run time. Rows go
// in blocks: the logits of a block are computed first, then exponentiated in one vectorised pass
// (Exp, fast_exp.h), then normalised and applied. Dot products over a head sum their terms in a
// fixed pairwise order when D is a power of two, in ascending order otherwise.
#include "kernels/attention_kernels.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu_targets.h"
#include "kernels/fast_exp.h"

namespace phasesweep::worker::kernels {
namespace {

constexpr int64_t kBlockRows = 32;

// sum_i a[i] b[i] over one head.
template <int kD>
__attribute__((always_inline)) inline float Dot(const float* a, const float* b, int64_t D) {
  if constexpr (kD > 0 && (kD & (kD - 1)) == 0) {
    float p[kD];
    for (int i = 0; i < kD; ++i) p[i] = a[i] * b[i];
    for (int w = kD / 2; w >= 1; w /= 2) {
      for (int i = 0; i < w; ++i) p[i] = p[i] + p[i + w];
    }
    return p[0];
  } else {
    float s = 0;
    for (int64_t i = 0; i < D; ++i) s += a[i] * b[i];
    return s;
  }
}

// (Inlined into each target's clone below: a separate function would be built for the default
// target only.)
template <int kD>
__attribute__((always_inline)) inline void Forward(int64_t n0, int64_t n1, int64_t T, int64_t H,
                                                   int64_t D_, float scale,
                                                   const float* __restrict q,
                                                   const float* __restrict k,
                                                   const float* __restrict v, float* __restrict z,
                                                   float* __restrict a) {
  const int64_t D = kD > 0 ? kD : D_, d = H * D;
  for (int64_t b0 = n0; b0 < n1; b0 += kBlockRows) {
    const int64_t b1 = std::min(n1, b0 + kBlockRows);
    for (int64_t n = b0; n < b1; ++n) {  // logits minus their maximum, per head
      for (int64_t h = 0; h < H; ++h) {
        float* an = a + (n * H + h) * T;
        float mx = -INFINITY;
        for (int64_t t = 0; t < T; ++t) {
          an[t] = Dot<kD>(q + n * d + h * D, k + (n * T + t) * d + h * D, D) * scale;
          mx = std::max(mx, an[t]);
        }
        for (int64_t t = 0; t < T; ++t) an[t] -= mx;
      }
    }
    float* ab = a + b0 * H * T;
    const int64_t len = (b1 - b0) * H * T;
    for (int64_t i = 0; i < len; ++i) ab[i] = Exp(ab[i]);
    for (int64_t n = b0; n < b1; ++n) {  // normalise, then z = sum_t a_t v_t per head
      for (int64_t h = 0; h < H; ++h) {
        float* an = a + (n * H + h) * T;
        float sum = 0;
        for (int64_t t = 0; t < T; ++t) sum += an[t];
        for (int64_t t = 0; t < T; ++t) an[t] /= sum;
        float* zh = z + n * d + h * D;
        for (int64_t i = 0; i < D; ++i) zh[i] = 0;
        for (int64_t t = 0; t < T; ++t) {
          const float* vt = v + (n * T + t) * d + h * D;
          for (int64_t i = 0; i < D; ++i) zh[i] += an[t] * vt[i];
        }
      }
    }
  }
}

template <int kD>
__attribute__((always_inline)) inline void Backward(
    int64_t n0, int64_t n1, int64_t T, int64_t H, int64_t D_, float scale,
    const float* __restrict q, const float* __restrict k, const float* __restrict v,
    const float* __restrict a, const float* __restrict gz, float* __restrict gq,
    float* __restrict gk, float* __restrict gv, float* __restrict ga) {
  const int64_t D = kD > 0 ? kD : D_, d = H * D;
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t h = 0; h < H; ++h) {
      const float* an = a + (n * H + h) * T;
      const float* gzh = gz + n * d + h * D;
      float mean = 0;  // sum_t a_t ga_t
      for (int64_t t = 0; t < T; ++t) {
        const int64_t off = (n * T + t) * d + h * D;
        ga[t] = Dot<kD>(gzh, v + off, D);
        float* gvt = gv + off;
        for (int64_t i = 0; i < D; ++i) gvt[i] = an[t] * gzh[i];
        mean += an[t] * ga[t];
      }
      const float* qh = q + n * d + h * D;
      float* gqh = gq + n * d + h * D;
      for (int64_t i = 0; i < D; ++i) gqh[i] = 0;
      for (int64_t t = 0; t < T; ++t) {
        const float g = scale * an[t] * (ga[t] - mean);  // d loss / d logit
        const int64_t off = (n * T + t) * d + h * D;
        const float* kt = k + off;
        float* gkt = gk + off;
        for (int64_t i = 0; i < D; ++i) {
          gqh[i] += g * kt[i];
          gkt[i] = g * qh[i];
        }
      }
    }
  }
}

}  // namespace

PHASESWEEP_TARGET_CLONES void AttentionForward(int64_t n0, int64_t n1, int64_t T, int64_t H,
                                               int64_t D, float scale, const float* q,
                                               const float* k, const float* v, float* z, float* a) {
  switch (D) {
    case 4:
      return Forward<4>(n0, n1, T, H, D, scale, q, k, v, z, a);
    case 8:
      return Forward<8>(n0, n1, T, H, D, scale, q, k, v, z, a);
    case 12:
      return Forward<12>(n0, n1, T, H, D, scale, q, k, v, z, a);
    case 16:
      return Forward<16>(n0, n1, T, H, D, scale, q, k, v, z, a);
    case 32:
      return Forward<32>(n0, n1, T, H, D, scale, q, k, v, z, a);
    case 64:
      return Forward<64>(n0, n1, T, H, D, scale, q, k, v, z, a);
    default:
      return Forward<0>(n0, n1, T, H, D, scale, q, k, v, z, a);
  }
}

PHASESWEEP_TARGET_CLONES void AttentionBackward(int64_t n0, int64_t n1, int64_t T, int64_t H,
                                                int64_t D, float scale, const float* q,
                                                const float* k, const float* v, const float* a,
                                                const float* gz, float* gq, float* gk, float* gv,
                                                float* scratch) {
  switch (D) {
    case 4:
      return Backward<4>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    case 8:
      return Backward<8>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    case 12:
      return Backward<12>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    case 16:
      return Backward<16>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    case 32:
      return Backward<32>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    case 64:
      return Backward<64>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
    default:
      return Backward<0>(n0, n1, T, H, D, scale, q, k, v, a, gz, gq, gk, gv, scratch);
  }
}

}  // namespace phasesweep::worker::kernels
