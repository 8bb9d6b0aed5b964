// Deterministic random numbers for resampling, surrogates and simulations in analysis/.
// xoshiro256** seeded through SplitMix64, with our own uniform, integer and normal transforms:
// std::normal_distribution and friends are implementation-defined, and an analysis must give the
// same p-values on every platform and standard library for the same seed.
#pragma once

#include <cstdint>
#include <string_view>

namespace phasesweep::analysis {

// SplitMix64 step; also used to derive independent seeds from (seed, tag) pairs.
inline std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A seed for one named stream (e.g. "job-id/metric") under a user seed: results for one trace
// do not depend on which other traces were analysed or in which order (or on how many threads).
inline std::uint64_t StreamSeed(std::uint64_t seed, std::string_view tag) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a over the tag
  for (unsigned char c : tag) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::uint64_t s = seed ^ (h + 0x632BE59BD9B4E019ULL);
  return SplitMix64(s);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& word : s_) word = SplitMix64(s);
  }

  std::uint64_t NextU64() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n >= 1, without modulo bias: draws in the incomplete top block
  // [2^64 - (2^64 mod n), 2^64) are rejected.
  std::uint64_t UniformInt(std::uint64_t n) {
    const std::uint64_t max = ~std::uint64_t{0};
    const std::uint64_t r = (max % n + 1) % n;  // 2^64 mod n
    std::uint64_t x;
    do {
      x = NextU64();
    } while (r != 0 && x > max - r);
    return x % n;
  }

  // Standard normal by the ziggurat method (Marsaglia & Tsang 2000, in Doornik's 2005 ZIGNOR
  // form with 128 strips): one 64-bit draw per value on the fast path (~99% of draws), the
  // top 53 bits for the position and the low 7 bits for the strip.
  double Normal() {
    const std::uint64_t bits = NextU64();
    const int strip = static_cast<int>(bits & 127);
    const double u = 2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0;  // [-1, 1)
    if (u < zig_ratio_[strip] && -u < zig_ratio_[strip]) return u * zig_x_[strip];
    return NormalSlowPath(u, strip);
  }

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double NormalSlowPath(double u, int strip);
  static const double* ZigguratX();      // 129 strip edges
  static const double* ZigguratRatio();  // 128 ratios x[i+1] / x[i]
  std::uint64_t s_[4];
  const double* zig_x_ = ZigguratX();
  const double* zig_ratio_ = ZigguratRatio();
};

}  // namespace phasesweep::analysis
