// Stable, platform-independent hashing for identities that end up in files: job ids, config
// hashes, pack keys. FNV-1a over bytes, 64-bit, then MurmurHash3's fmix64 finaliser so that
// inputs differing only in their last byte (seed 1 vs seed 2) give unrelated-looking digests.
// Not cryptographic, only stable: changing it changes every stored job id.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace phasesweep {

inline uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

inline uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// 16 lowercase hex digits of Fmix64(Fnv1a64(bytes)).
inline std::string HexDigest64(std::string_view bytes) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(Fmix64(Fnv1a64(bytes))));
  return std::string(buf, 16);
}

}  // namespace phasesweep
