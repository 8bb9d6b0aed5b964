// Inner loops of the fused CPU optimizer step (see optimizer_kernels.h). Compiled with
// -O3 -fno-math-errno so that they vectorise (see worker/CMakeLists.txt), and for several targets
// (target_clones, chosen at load time). Without FMA contraction (-ffp-contract=off) and with
// IEEE sqrt and division, every target computes the same bits.
#include "kernels/optimizer_kernels.h"

#include <cmath>

#include "kernels/cpu_targets.h"

namespace phasesweep::worker::kernels {

PHASESWEEP_TARGET_CLONES double SumSquares(const float* __restrict g, int64_t n) {
  // Four independent accumulators: vectorisable, and the order is fixed by n alone.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(g[i]) * g[i];
    s1 += static_cast<double>(g[i + 1]) * g[i + 1];
    s2 += static_cast<double>(g[i + 2]) * g[i + 2];
    s3 += static_cast<double>(g[i + 3]) * g[i + 3];
  }
  for (; i < n; ++i) s0 += static_cast<double>(g[i]) * g[i];
  return (s0 + s1) + (s2 + s3);
}

PHASESWEEP_TARGET_CLONES void AdamW(float* __restrict p, float* __restrict m, float* __restrict v,
                                    const float* __restrict g, int64_t n, const AdamCoef& c) {
  const AdamCoef k = c;  // locals: no aliasing with the arrays
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * k.clip;
    const float mi = m[i] + k.c1 * (gi - m[i]);
    const float vi = v[i] + k.c2 * (gi * gi - v[i]);
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) * k.inv_sqrt_bc2 + k.eps;
    p[i] = p[i] * k.decay - k.step * (mi / denom);
  }
}

PHASESWEEP_TARGET_CLONES void Sgd(float* __restrict p, float* __restrict buf,
                                  const float* __restrict g, int64_t n, const SgdCoef& c) {
  const SgdCoef k = c;
  for (int64_t i = 0; i < n; ++i) {
    const float d = g[i] * k.clip + k.weight_decay * p[i];
    const float b = k.momentum * buf[i] + d;
    buf[i] = b;
    p[i] = p[i] - k.lr * b;
  }
}

}  // namespace phasesweep::worker::kernels
