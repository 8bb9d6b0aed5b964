// PELT for the l2 cost without the quadratic worst case of ruptures' loop on change-free data.
//
// Why the loop is quadratic there: ruptures keeps a candidate t at step s unless
// F(t) + C(t, s) > F(s) (Killick et al.'s pruning with K = 0). For the l2 cost
// C(u, t) + C(t, s) <= C(u, s), so without a change every candidate survives and each step
// evaluates all of them: about 5e9 evaluations at n = 100,000.
//
// What is done instead, with the same candidate set, minimum and pruning (see segment_costs.h):
// let u = prev(t) be the last segment start of t's own optimal partition, so that
// F(t) = F(u) + C(u, t) + pen. With v_x(s) = F(x) + C(x, s) + pen the value ruptures minimises,
//   v_t(s) = v_u(s) + pen - G(u, t, s),   G(u, t, s) = C(u, s) - C(u, t) - C(t, s) >= 0,
// the gain of splitting [u, s) at t, and G = L D^2 / (L1 L2) with L = s - u, L1 = t - u,
// L2 = s - t and D = S1(t) - S1(u) - L1 (S1(s) - S1(u)) / L (the CUSUM bridge at t). Candidates
// sit in blocks of consecutive entries sharing one prev u; for a block an upper bound Gmax of G
// over its members (interval arithmetic on D from the block's min/max of S1 and the t range;
// L / (L1 L2) is largest at an end of the range) gives
//   * a lower bound v_u(s) + pen - Gmax of every member's value: above the best value found so
//     far (blocks visited in order), no member is the minimum or ties it: skip the block;
//   * if u is this step's minimiser, v_t(s) <= v_u(s) + pen = F(s) + pen for every member, which
//     is exactly ruptures' condition to keep them: no member is pruned.
// A block skipped for the minimum whose prev is not the minimiser is evaluated for pruning.
// Without changes every block (but the first and the newest) is skipped, so a step costs about
// (candidates / block size) bound evaluations.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "statistics/segment_costs.h"

namespace phasesweep::analysis::internal {
namespace {

constexpr std::size_t kBlockSize = 256;  // best of 128, 256, 512 at n = 10^5
constexpr std::size_t kNoPrev = std::numeric_limits<std::size_t>::max();

struct Block {
  std::size_t begin = 0, end = 0;  // indices into the candidate list
  std::size_t prev = kNoPrev;      // common prev of the members (kNoPrev: the block of t = 0)
  double s1_min = 0.0, s1_max = 0.0;
  bool evaluated = false;
  double max_value = 0.0;  // of the members' values, when evaluated this step
};

// Minimum and maximum of v[0..n), n >= 1. Min and max are exact, so the order of the
// reduction does not matter; with SSE2 (every x86-64) it runs two lanes x two accumulators.
void MinMax(const double* v, std::size_t n, double* lo, double* hi) {
  double mn = v[0], mx = v[0];
  std::size_t i = 0;
#if defined(__SSE2__)
  if (n >= 4) {
    __m128d mn0 = _mm_loadu_pd(v), mn1 = _mm_loadu_pd(v + 2);
    __m128d mx0 = mn0, mx1 = mn1;
    for (i = 4; i + 4 <= n; i += 4) {
      const __m128d a = _mm_loadu_pd(v + i), b = _mm_loadu_pd(v + i + 2);
      mn0 = _mm_min_pd(mn0, a);
      mn1 = _mm_min_pd(mn1, b);
      mx0 = _mm_max_pd(mx0, a);
      mx1 = _mm_max_pd(mx1, b);
    }
    double m[2], x[2];
    _mm_storeu_pd(m, _mm_min_pd(mn0, mn1));
    _mm_storeu_pd(x, _mm_max_pd(mx0, mx1));
    mn = std::min(m[0], m[1]);
    mx = std::max(x[0], x[1]);
  }
#endif
  for (; i < n; ++i) {
    mn = std::min(mn, v[i]);
    mx = std::max(mx, v[i]);
  }
  *lo = mn;
  *hi = mx;
}

}  // namespace

std::vector<std::size_t> PeltL2(const L2Cost& cost, std::size_t min_size, std::size_t jump,
                                double pen) {
  const std::size_t n = cost.size();
  const PrefixMoments& pm = cost.moments();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> F(n + 1, 0.0);
  std::vector<std::size_t> prev(n + 1, kNoPrev);
  std::vector<char> has(n + 1, 0);
  has[0] = 1;
  std::vector<std::size_t> ind;
  for (std::size_t k = 0; k < n; k += jump)
    if (k >= min_size) ind.push_back(k);
  ind.push_back(n);

  std::vector<std::size_t> cand;  // admissible t with a partition of [0, t), ascending
  // Per candidate, contiguous for the evaluation loop: F(t), S1(t), S2(t) and t.
  std::vector<double> cand_f, cand_s1, cand_s2, cand_t;
  std::vector<double> val;  // v_t(s) of evaluated candidates
  std::vector<Block> blocks;
  auto append_block_member = [&](std::size_t i) {
    const std::size_t t = cand[i];
    const double s1 = pm.S1(t);
    // A new block at a change of prev keeps blocks homogeneous: prev(t) is piecewise constant
    // in t, so this adds few blocks.
    if (blocks.empty() || blocks.back().end - blocks.back().begin >= kBlockSize ||
        blocks.back().prev != prev[t]) {
      blocks.push_back({i, i + 1, prev[t], s1, s1, false});
      return;
    }
    Block& b = blocks.back();
    b.end = i + 1;
    b.s1_min = std::min(b.s1_min, s1);
    b.s1_max = std::max(b.s1_max, s1);
  };
  auto value = [&](std::size_t t, std::size_t s) { return F[t] + (cost.Error(t, s) + pen); };
  // val[i] = value(cand[i], s) for i in [begin, end): the same operations as L2Cost::Error in
  // the same order (so the same doubles), on contiguous arrays the compiler can vectorise.
  auto evaluate = [&](std::size_t begin, std::size_t end, std::size_t s) {
    const double s1_s = pm.S1(s), s2_s = pm.S2(s), sd = static_cast<double>(s);
    const double* f = cand_f.data();
    const double* c1 = cand_s1.data();
    const double* c2 = cand_s2.data();
    const double* ct = cand_t.data();
    double* out = val.data();
    for (std::size_t i = begin; i < end; ++i) {
      const double a = s1_s - c1[i];
      const double q = s2_s - c2[i];
      const double sse = q - a * a / (sd - ct[i]);
      out[i] = f[i] + ((sse > 0.0 ? sse : 0.0) + pen);
    }
  };
  auto push_candidate = [&](std::size_t t) {
    cand.push_back(t);
    cand_f.push_back(F[t]);
    cand_s1.push_back(pm.S1(t));
    cand_s2.push_back(pm.S2(t));
    cand_t.push_back(static_cast<double>(t));
  };

  for (std::size_t bkp : ind) {
    // ruptures appends the new admissible point every step; one without a partition is dropped
    // at once, and a repeat of the last one (possible only at bkp = n) ties with it and loses.
    const std::size_t t_new = (bkp - min_size) / jump * jump;
    if (has[t_new] && (cand.empty() || cand.back() != t_new)) {
      push_candidate(t_new);
      append_block_member(cand.size() - 1);
    }
    val.resize(cand.size());
    const double s1_s = pm.S1(bkp);

    // Pass 1: the minimum (first of equal values, as Python's min).
    double best = inf;
    std::size_t best_t = 0;
    bool any = false;
    std::size_t last_u = kNoPrev;  // blocks mostly share their prev: v_u(s) once per run
    double vu = 0.0;
    for (Block& b : blocks) {
      b.evaluated = false;
      if (any && b.prev != kNoPrev) {
        const std::size_t u = b.prev;
        if (u != last_u) {
          vu = value(u, bkp);
          last_u = u;
        }
        const auto ta = static_cast<double>(cand[b.begin]);
        const auto tb = static_cast<double>(cand[b.end - 1]);
        const double uu = static_cast<double>(u), s = static_cast<double>(bkp);
        const double len = s - uu;
        const double m = (s1_s - pm.S1(u)) / len;
        const double lin_a = (ta - uu) * m, lin_b = (tb - uu) * m;
        const double d_lo = b.s1_min - pm.S1(u) - std::max(lin_a, lin_b);
        const double d_hi = b.s1_max - pm.S1(u) - std::min(lin_a, lin_b);
        const double d2 = std::max(d_lo * d_lo, d_hi * d_hi);
        const double factor = std::max(len / ((ta - uu) * (s - ta)), len / ((tb - uu) * (s - tb)));
        const double gain_max = d2 * factor;
        const double lower = vu + pen - gain_max;
        // Rounding of prefix sums and of F is far below 1e-9 of these magnitudes.
        const double tol = 1e-9 * (std::fabs(vu) + pen + gain_max + std::fabs(best));
        if (std::isfinite(lower) && lower - tol > best) continue;
      }
      evaluate(b.begin, b.end, bkp);
      // The block's minimum, then its first position (Python's min keeps the first of equals).
      double block_min = 0.0;
      MinMax(val.data() + b.begin, b.end - b.begin, &block_min, &b.max_value);
      if (!any || block_min < best) {
        std::size_t i = b.begin;
        while (!(val[i] == block_min)) ++i;
        best = block_min;
        best_t = cand[i];
        any = true;
      }
      b.evaluated = true;
    }
    F[bkp] = best;
    prev[bkp] = best_t;
    has[bkp] = 1;

    // Pass 2: ruptures' pruning, keep t iff v_t(s) <= F(s) + pen.
    const double limit = best + pen;
    bool removed = false;
    for (Block& b : blocks) {
      if (!b.evaluated) {
        if (b.prev == best_t) continue;  // every member kept (see the top of the file)
        evaluate(b.begin, b.end, bkp);
        double ignored = 0.0;
        MinMax(val.data() + b.begin, b.end - b.begin, &ignored, &b.max_value);
        b.evaluated = true;
      }
      removed = removed || !(b.max_value <= limit);
    }
    if (!removed) continue;
    std::size_t w = 0;
    for (const Block& b : blocks) {
      for (std::size_t i = b.begin; i < b.end; ++i) {
        if (b.evaluated && !(val[i] <= limit)) continue;
        cand[w] = cand[i];
        cand_f[w] = cand_f[i];
        cand_s1[w] = cand_s1[i];
        cand_s2[w] = cand_s2[i];
        cand_t[w] = cand_t[i];
        ++w;
      }
    }
    cand.resize(w);
    cand_f.resize(w);
    cand_s1.resize(w);
    cand_s2.resize(w);
    cand_t.resize(w);
    blocks.clear();
    for (std::size_t i = 0; i < cand.size(); ++i) append_block_member(i);
  }
  std::vector<std::size_t> bkps;
  for (std::size_t e = n; e > 0; e = prev[e]) bkps.push_back(e);
  std::reverse(bkps.begin(), bkps.end());
  return bkps;
}

}  // namespace phasesweep::analysis::internal
