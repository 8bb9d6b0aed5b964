// Ziggurat normal sampler for Rng (random.h), after J. A. Doornik, "An Improved Ziggurat Method
// to Generate Normal Random Samples" (2005), ZIGNOR with 128 strips.
#include "phasesweep/analysis/random.h"

#include <cmath>

namespace phasesweep::analysis {
namespace {

constexpr int kStrips = 128;
constexpr double kR = 3.442619855899;       // start of the right tail
constexpr double kV = 9.91256303526217e-3;  // area of each strip

struct ZigguratTables {
  double x[kStrips + 1];
  double ratio[kStrips];  // x[i+1] / x[i]
  ZigguratTables() {
    double f = std::exp(-0.5 * kR * kR);
    x[0] = kV / f;  // base strip includes the tail
    x[1] = kR;
    x[kStrips] = 0.0;
    for (int i = 2; i < kStrips; ++i) {
      x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f));
      f = std::exp(-0.5 * x[i] * x[i]);
    }
    for (int i = 0; i < kStrips; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

const ZigguratTables& Tables() {
  static const ZigguratTables tables;
  return tables;
}

}  // namespace

const double* Rng::ZigguratX() { return Tables().x; }
const double* Rng::ZigguratRatio() { return Tables().ratio; }

double Rng::NormalSlowPath(double u, int strip) {
  const ZigguratTables& z = Tables();
  for (;;) {
    if (strip == 0) {
      // Tail beyond kR (Marsaglia 1964).
      double x, y;
      do {
        x = std::log(1.0 - Uniform()) / kR;  // 1 - U in (0, 1]
        y = std::log(1.0 - Uniform());
      } while (-2.0 * y < x * x);
      return u < 0.0 ? x - kR : kR - x;
    }
    const double x = u * z.x[strip];
    const double f0 = std::exp(-0.5 * (z.x[strip] * z.x[strip] - x * x));
    const double f1 = std::exp(-0.5 * (z.x[strip + 1] * z.x[strip + 1] - x * x));
    if (f1 + Uniform() * (f0 - f1) < 1.0) return x;
    // Rejected: draw again.
    const std::uint64_t bits = NextU64();
    strip = static_cast<int>(bits & (kStrips - 1));
    u = 2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0;
    if (std::fabs(u) < z.ratio[strip]) return u * z.x[strip];
  }
}

}  // namespace phasesweep::analysis
