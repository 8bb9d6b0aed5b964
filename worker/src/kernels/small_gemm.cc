// Small matrix products (see small_gemm.h). GCC vector extensions, one vector type per target:
// 16 floats (one zmm) on AVX-512, 8 (one ymm) on AVX2, 4 (one xmm) on SSE2. Built with -O3
// -ffp-contract=fast (worker/CMakeLists.txt) so that acc += a * b is one FMA on the FMA targets;
// the vector width changes how many columns go at once, never how one element is computed.
#include "kernels/small_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace phasesweep::worker::kernels {
namespace {

typedef float V16 __attribute__((vector_size(64)));
typedef float V8 __attribute__((vector_size(32)));
typedef float V4 __attribute__((vector_size(16)));

// C[m, n] = init[n] + sum_k A(m, k) B[k, n] for m < rows, n < cols, where A(m, k) =
// a[m * a_row + k * a_inner], B is [inner x cols] with rows ldb apart and init is cols floats (or
// null: zero). Columns go one vector at a time (the last one partial), R rows at a time with
// one accumulator each.
struct Product {
  int64_t rows, inner, cols;
  const float* a;
  int64_t a_row, a_inner;
  const float* b;
  int64_t ldb;
  const float* init;
  float* c;
  int64_t ldc;
};

template <typename Vec>
constexpr int64_t kLanes = static_cast<int64_t>(sizeof(Vec) / sizeof(float));

// (Vectors go through pointers and references: by value they would change the ABI between
// targets.) Loads width floats (a full vector, or fewer at the right edge: the rest are zero).
template <typename Vec, bool kFull>
__attribute__((always_inline)) inline void Load(Vec* v, const float* p, int64_t width) {
  if (kFull) {
    std::memcpy(v, p, sizeof(*v));
  } else {
    float tmp[kLanes<Vec>] = {};
    std::memcpy(tmp, p, static_cast<size_t>(width) * sizeof(float));
    std::memcpy(v, tmp, sizeof(*v));
  }
}

template <typename Vec, bool kFull>
__attribute__((always_inline)) inline void Store(float* p, const Vec& v, int64_t width) {
  if (kFull) {
    std::memcpy(p, &v, sizeof(v));
  } else {
    float tmp[kLanes<Vec>];
    std::memcpy(tmp, &v, sizeof(v));
    // Element by element (a masked store where the target has one), not a memcpy call: a call
    // spills every accumulator of the tile.
    for (int64_t j = 0; j < kLanes<Vec>; ++j) {
      if (j < width) p[j] = tmp[j];
    }
  }
}

// R rows of C vectors of columns of the result from column n0 on; b points at column n0 of B's
// first row, rows ldb apart, always whole vectors readable (a padded panel for the last, partial
// vector: Columns). kFull: the last vector's columns are all stored (else cols - its first).
template <typename Vec, int R, int C, bool kFull>
__attribute__((always_inline)) inline void Rows(const Product& p, const float* b, int64_t ldb,
                                                int64_t m, int64_t n0, const Vec* init) {
  constexpr int64_t L = kLanes<Vec>;
  Vec acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = init[c];
  }
  const float* a = p.a + m * p.a_row;
  for (int64_t k = 0; k < p.inner; ++k) {
    Vec bk[C];
    for (int c = 0; c < C; ++c) std::memcpy(&bk[c], b + k * ldb + c * L, sizeof(Vec));
    const float* ak = a + k * p.a_inner;
    for (int r = 0; r < R; ++r) {
      const float ar = ak[r * p.a_row];
      for (int c = 0; c < C; ++c) acc[r][c] += ar * bk[c];
    }
  }
  for (int r = 0; r < R; ++r) {
    float* cr = p.c + (m + r) * p.ldc + n0;
    for (int c = 0; c + 1 < C; ++c) Store<Vec, true>(cr + c * L, acc[r][c], L);
    Store<Vec, kFull>(cr + (C - 1) * L, acc[r][C - 1], p.cols - n0 - (C - 1) * L);
  }
}

// Per-thread, zero-padded copy of the last partial vector of B's columns.
float* PanelScratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Every row of C vectors of columns from n0 on (kFull false: C = 1, a partial vector).
template <typename Vec, int R, int C, bool kFull>
__attribute__((always_inline)) inline void Columns(const Product& p, int64_t n0) {
  static_assert(kFull || C == 1, "only a single vector is partial");
  constexpr int64_t L = kLanes<Vec>;
  Vec init[C];
  for (int c = 0; c < C; ++c) {
    init[c] = Vec{};
    if (p.init != nullptr) Load<Vec, kFull>(&init[c], p.init + n0 + c * L, p.cols - n0 - c * L);
  }
  const float* b = p.b + n0;
  int64_t ldb = p.ldb;
  if (!kFull) {
    // The partial vector's columns, copied once (zeros beyond): the inner loop then loads whole
    // vectors. (Loading a partial vector through a buffer in every step of the inner loop cost
    // a call that spilled the whole tile.) The padding lanes are computed and never stored.
    const int64_t width = p.cols - n0;
    float* panel = PanelScratch(static_cast<size_t>(p.inner * L));
    for (int64_t k = 0; k < p.inner; ++k) {
      const float* src = p.b + k * p.ldb + n0;
      float* dst = panel + k * L;
      for (int64_t j = 0; j < L; ++j) dst[j] = j < width ? src[j] : 0.0f;
    }
    b = panel;
    ldb = L;
  }
  int64_t m = 0;
  for (; m + R <= p.rows; m += R) Rows<Vec, R, C, kFull>(p, b, ldb, m, n0, init);
  // The remaining rows in smaller tiles (one accumulator per row is latency-bound).
  if constexpr (R > 4) {
    if (m + 4 <= p.rows) {
      Rows<Vec, 4, C, kFull>(p, b, ldb, m, n0, init);
      m += 4;
    }
  }
  if constexpr (R > 2) {
    if (m + 2 <= p.rows) {
      Rows<Vec, 2, C, kFull>(p, b, ldb, m, n0, init);
      m += 2;
    }
  }
  for (; m < p.rows; ++m) Rows<Vec, 1, C, kFull>(p, b, ldb, m, n0, init);
}

// R rows by C vectors at a time, then the remaining whole vectors one at a time, then the partial
// one.
template <typename Vec, int R, int C>
__attribute__((always_inline)) inline void Run(const Product& p) {
  constexpr int64_t L = kLanes<Vec>;
  int64_t n0 = 0;
  if constexpr (C > 1) {
    for (; n0 + C * L <= p.cols; n0 += C * L) Columns<Vec, R, C, true>(p, n0);
  }
  for (; n0 + L <= p.cols; n0 += L) Columns<Vec, R, 1, true>(p, n0);
  if (n0 < p.cols) Columns<Vec, R, 1, false>(p, n0);
}

struct Isa {
  void (*run)(const Product&);
  const char* name;
};

#if defined(__x86_64__) && defined(__GNUC__)
// Eight rows in flight on the FMA targets (two FMA pipes, four cycles of latency); on AVX-512
// (32 vector registers) eight rows by two vectors, so that each broadcast element of A and each
// vector of B loaded feeds two multiply-adds.
__attribute__((target("avx512f"))) void RunAvx512(const Product& p) { Run<V16, 8, 2>(p); }
__attribute__((target("avx2,fma"))) void RunAvx2(const Product& p) { Run<V8, 8, 1>(p); }
void RunSse2(const Product& p) { Run<V4, 4, 1>(p); }

const Isa& Chosen() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Isa{RunAvx512, "avx512"};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      return Isa{RunAvx2, "avx2"};
    }
    return Isa{RunSse2, "sse2"};
  }();
  return isa;
}

bool Preferred() { return Chosen().run == RunAvx512; }
#else
// Other architectures: 4-wide vectors (NEON on aarch64), never preferred over a BLAS.
void RunPortable(const Product& p) { Run<V4, 4, 1>(p); }

const Isa& Chosen() {
  static const Isa isa{RunPortable, "portable"};
  return isa;
}

bool Preferred() { return false; }
#endif

// Per-thread staging for a transposed operand.
float* Scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

}  // namespace

bool SmallGemmPreferred(int64_t I, int64_t O) {
  // Measured against OpenBLAS 0.3.21 (bench/README.md, "Worker"): with AVX-512 these kernels
  // were faster at every size of the benchmark models while B's 16-column panel (I x 16 floats,
  // 16 KiB at I = 256) stays in L1; with AVX2 or SSE2 they were not. The number of outputs only
  // sets how many panels there are: the grokking model's MLP input layer (128 -> 512, 2,823
  // rows) ran its full-batch step 13% faster on them than on the BLAS; its output layer
  // (512 -> 128, a 32 KiB panel) ran 5% slower, so I stays at 256.
  return Preferred() && I <= 256 && O <= 512;
}

void LinearForward(int64_t M, int64_t I, int64_t O, const float* x, const float* w,
                   const float* bias, float* y) {
  Chosen().run(Product{M, I, O, x, I, 1, w, O, bias, y, O});
}

void LinearInputGrad(int64_t M, int64_t I, int64_t O, const float* g, const float* w, float* gx) {
  float* wt = Scratch(static_cast<size_t>(O * I));  // B = w^T [O x I], in 16 x 16 tiles
  constexpr int64_t kTile = 16;
  for (int64_t o0 = 0; o0 < O; o0 += kTile) {
    for (int64_t i0 = 0; i0 < I; i0 += kTile) {
      const int64_t o1 = std::min(O, o0 + kTile), i1 = std::min(I, i0 + kTile);
      for (int64_t o = o0; o < o1; ++o) {
        for (int64_t i = i0; i < i1; ++i) wt[o * I + i] = w[i * O + o];
      }
    }
  }
  Chosen().run(Product{M, O, I, g, O, 1, wt, I, nullptr, gx, I});
}

void LinearWeightGrad(int64_t M, int64_t I, int64_t O, const float* x, const float* g, float* gw) {
  // Rows are inputs i, the inner index is the row m of x: A(i, m) = x[m * I + i].
  Chosen().run(Product{I, M, O, x, 1, I, g, O, nullptr, gw, O});
}

void LinearBiasGrad(int64_t M, int64_t O, const float* g, float* gb) {
  // One row, A = 1: each column summed in ascending row order (1 * g + acc rounds as g + acc).
  static const float kOne = 1.0f;
  Chosen().run(Product{1, M, O, &kOne, 0, 0, g, O, nullptr, gb, O});
}

const char* SmallGemmIsa() { return Chosen().name; }

}  // namespace phasesweep::worker::kernels
