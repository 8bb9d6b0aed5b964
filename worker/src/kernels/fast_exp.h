// kernels::Exp: a vectorisable e^x for softmax arguments (x <= 0), on plain float arithmetic.
#pragma once

#include <cstdint>
#include <cstring>

namespace phasesweep::worker::kernels {

// e^x for x <= 0 (softmax arguments): Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, then
// Cephes' degree-6 polynomial for e^r (relative error about 1e-7) scaled by 2^n through the
// exponent bits. Plain float arithmetic, so it vectorises and gives the same bits on every target.
// Arguments below -87 give e^-87 (~1.6e-38) rather than a smaller number; NaN stays NaN.
__attribute__((always_inline)) inline float Exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float t = x * 1.44269504088896341f;
  float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest (1.5 * 2^23 trick)
  n = n == n ? n : 0.0f;                      // NaN: keep the conversion below defined
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return er * scale;
}

}  // namespace phasesweep::worker::kernels
