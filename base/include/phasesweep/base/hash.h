// Stable, platform-independent hashing for identities that end up in files: job ids, config
// hashes, pack keys. FNV-1a over bytes, 64-bit; not cryptographic, only stable.
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

// 16 lowercase hex digits of Fnv1a64(bytes).
inline std::string HexDigest64(std::string_view bytes) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Fnv1a64(bytes)));
  return std::string(buf, 16);
}

}  // namespace phasesweep
