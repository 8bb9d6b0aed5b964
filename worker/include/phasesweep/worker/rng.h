// Counter-based randomness for everything the worker draws outside model initialisation: data
// splits, label permutations, minibatch order, probe batches.
//
// Every stream is a pure function of (member seed, stream id, index) — e.g. the minibatch order of
// epoch e is DeriveSeed(seed, kOrderStream, e) — so a member's data never depends on its pack,
// and a checkpoint needs only the seed and the step to reproduce every later draw. The generator
// is SplitMix64 (Steele et al. 2014): plain integer arithmetic, identical on every platform and
// LibTorch version.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace phasesweep::worker {

// Stream ids: one per use, never reused for something else (changing one changes every trace).
enum RandomStream : uint64_t {
  kInitStream = 1,        // torch::Generator that initialises a member's parameters
  kDataStream = 2,        // task examples and the train/test split
  kOrderStream = 3,       // minibatch order; index = epoch
  kLabelStream = 4,       // random_labels permutation
  kProbeBatchStream = 5,  // the fixed probe batch
  kProbeStream = 6,       // randomness a probe needs; index = step (see ProbeContext)
};

inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The seed of stream `stream`, element `index`, of a member with job seed `seed`.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t stream, uint64_t index = 0) {
  uint64_t s = seed;
  uint64_t a = SplitMix64(&s);
  s = a ^ (stream * 0xD1B54A32D192ED03ULL);
  uint64_t b = SplitMix64(&s);
  s = b ^ (index * 0xABC98388FB8FAC03ULL);
  return SplitMix64(&s);
}

// A small deterministic generator over SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return SplitMix64(&state_); }
  // Uniform in [0, n), n > 0, without modulo bias (rejection).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }
  // Fisher–Yates shuffle.
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) {
      size_t j = static_cast<size_t>(Below(i));
      std::swap((*v)[i - 1], (*v)[j]);
    }
  }
  // A permutation of 0..n-1.
  std::vector<int64_t> Permutation(int64_t n) {
    std::vector<int64_t> p(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
    Shuffle(&p);
    return p;
  }

 private:
  uint64_t state_;
};

}  // namespace phasesweep::worker
