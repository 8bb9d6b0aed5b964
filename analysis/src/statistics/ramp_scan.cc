// The transition statistic's ramp scan; see ramp_scan.h and phasesweep/analysis/surrogate.h.
#include "statistics/ramp_scan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

// AVX2 clones of the hot loop: GCC or Clang on x86-64 (the attribute and __builtin_cpu_supports).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PHASESWEEP_SCAN_AVX2 1
#else
#define PHASESWEEP_SCAN_AVX2 0
#endif

namespace phasesweep::analysis::internal {
namespace {

constexpr double kRhoMin = -0.9, kRhoMax = 0.98;
// The bias correction raises rho_e to at most max(rho_e, kCorrectionCap): above it the inverse of
// the bias table is steep (a small error in rho_e moves the LRV a lot) and a smooth misfit of a
// clean wide transition cannot be told from persistent noise.
constexpr double kCorrectionCap = 0.8;

// Sums of the ramp's values against 1 and t, in closed form (no pass over the data).
struct RampMoments {
  double sum_x = 0.0, sum_xx = 0.0, sum_xt = 0.0;
};

RampMoments Moments(std::size_t n, std::size_t a, std::size_t len) {
  const double nd = static_cast<double>(n), ad = static_cast<double>(a);
  const double L = static_cast<double>(len);
  const double ones = nd - ad - L;  // t >= a + len
  RampMoments m;
  m.sum_x = ones + (L - 1.0) / 2.0;
  m.sum_xx = ones + (L - 1.0) * (2.0 * L - 1.0) / (6.0 * L);
  // sum of t for t = a + len .. n - 1, plus sum_{j=1}^{len-1} (j / len) (a + j).
  m.sum_xt =
      (ad + L + nd - 1.0) * ones / 2.0 + ad * (L - 1.0) / 2.0 + (L - 1.0) * (2.0 * L - 1.0) / 6.0;
  return m;
}

// Prefix sums P0[k] = sum_{t<k} v_t and P1[k] = sum_{t<k} t v_t, so that x'v costs O(1).
void PrefixSums(const double* v, std::size_t n, std::vector<double>& p0, std::vector<double>& p1) {
  p0.resize(n + 1);
  p1.resize(n + 1);
  double s0 = 0.0, s1 = 0.0;  // running sums in registers (no reload of what was just stored)
  p0[0] = p1[0] = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    s0 += v[t];
    s1 += static_cast<double>(t) * v[t];
    p0[t + 1] = s0;
    p1[t + 1] = s1;
  }
}

double RampDot(const std::vector<double>& p0, const std::vector<double>& p1, std::size_t n,
               std::size_t a, std::size_t len) {
  const std::size_t b = a + len;
  const double plateau = p0[n] - p0[b];
  if (len == 1) return plateau;
  const double ramp = (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
  return plateau + ramp / static_cast<double>(len);
}

// Stride of the ramp's start for length len: features wider than 4 probes are tried every
// len / 4 probes, where a shift changes the fit by little.
std::size_t Stride(std::size_t len) { return std::max<std::size_t>(1, len / 4); }

// gains[i] = (x'e)^2 / |x~|^2 for the block's ramps (i < count), from the prefix sums p0, p1 of e;
// returns the largest (-inf for none). x'e for the ramp from a to b = a + len is the plateau
// sum(e[b..n)) plus sum_{t=a+1}^{b-1} (t - a)/len e_t, O(1) from the prefix sums. Gains first (a
// loop the compiler vectorises), then their maximum with four running maxima, so that the
// comparisons do not wait on each other.
[[gnu::always_inline]] inline double BlockGainsBody(const LengthBlock& blk,
                                                    const double* __restrict p0,
                                                    const double* __restrict p1, double total,
                                                    double* __restrict gains) {
  const double inv_len = 1.0 / static_cast<double>(blk.len);
  const std::size_t count = blk.inv_den.size(), len = blk.len, stride = blk.stride;
  const double* __restrict inv_den = blk.inv_den.data();
  if (stride == 1) {  // contiguous starts (the short ramps, most candidates): vectorised
    // int, not size_t, for the start: SSE2 converts 32-bit integers to doubles in vectors, not
    // 64-bit ones (traces have far fewer than 2^31 probes).
    const double* __restrict q0 = p0 + blk.a_lo;
    const double* __restrict q1 = p1 + blk.a_lo;
    const double a0 = static_cast<double>(blk.a_lo);
    const int m = static_cast<int>(count);
    for (int i = 0; i < m; ++i) {
      const double ramp =
          (q1[i + len] - q1[i + 1]) - (a0 + static_cast<double>(i)) * (q0[i + len] - q0[i + 1]);
      const double xr = (total - q0[i + len]) + ramp * inv_len;
      gains[i] = xr * xr * inv_den[i];
    }
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t a = blk.a_lo + i * stride, b = a + len;
      const double ramp = (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
      const double xr = (total - p0[b]) + ramp * inv_len;
      gains[i] = xr * xr * inv_den[i];
    }
  }
  double mx[4] = {
      -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4)
    for (int j = 0; j < 4; ++j) mx[j] = gains[i + j] > mx[j] ? gains[i + j] : mx[j];
  for (; i < count; ++i) mx[0] = gains[i] > mx[0] ? gains[i] : mx[0];
  return std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
}

// The same loop compiled for the default x86-64 (SSE2, 2 doubles a vector) and for AVX2 (4), the
// latter chosen at run time where the CPU has it. Each element sees the same operations in the
// same order (AVX2 alone does not enable FMA contraction) and the maximum of finite values does
// not depend on the order, so both give bit-identical results (analysis_ramp_scan_test).
double BlockGainsDefault(const LengthBlock& blk, const double* p0, const double* p1, double total,
                         double* gains) {
  return BlockGainsBody(blk, p0, p1, total, gains);
}
#if PHASESWEEP_SCAN_AVX2
[[gnu::target("avx2")]] double BlockGainsAvx2(const LengthBlock& blk, const double* p0,
                                              const double* p1, double total, double* gains) {
  return BlockGainsBody(blk, p0, p1, total, gains);
}
#endif

std::atomic<int> scan_isa{static_cast<int>(ScanIsa::kAuto)};

using BlockGainsFn = double (*)(const LengthBlock&, const double*, const double*, double, double*);

BlockGainsFn ChooseBlockGains() {
#if PHASESWEEP_SCAN_AVX2
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  const auto isa = static_cast<ScanIsa>(scan_isa.load(std::memory_order_relaxed));
  if (isa == ScanIsa::kAvx2 || (isa == ScanIsa::kAuto && has_avx2)) return BlockGainsAvx2;
#endif
  return BlockGainsDefault;
}

// Ramps fitted before the noise is estimated (the first is the tested feature).
constexpr std::size_t kFeatures = 3;
// The third ramp is fitted only where it explains at least kThirdRampGain * ln(n) times the mean
// energy of what the first two leave: about six times what the best of the ~4n candidate ramps
// explains in white noise, so that noise (even persistent noise up to rho ~ 0.7) does not earn it
// and a third real feature (two drops and a creep) does.
constexpr double kThirdRampGain = 12.0;

void BuildBlocks(std::size_t n, std::size_t min_size, const std::vector<std::size_t>& lengths,
                 ScanWorkspace& ws) {
  const double nd = static_cast<double>(n);
  const double tc = (nd - 1.0) / 2.0;
  const double stt = nd * (nd * nd - 1.0) / 12.0;
  ws.blocks.clear();
  for (std::size_t len : lengths) {
    if (len + 2 * min_size > n + 1) break;
    LengthBlock blk;
    blk.len = len;
    blk.a_lo = min_size - 1;
    blk.stride = Stride(len);
    blk.bonus = LengthBonus(n, len);
    for (std::size_t a = blk.a_lo; a <= n - min_size - len; a += blk.stride) {
      // Energy of the ramp orthogonal to [1, t].
      const RampMoments m = Moments(n, a, len);
      const double xt = m.sum_xt - tc * m.sum_x;
      const double den0 = m.sum_xx - m.sum_x * m.sum_x / nd - xt * xt / stt;
      blk.inv_den.push_back(den0 > 1e-12 ? 1.0 / den0 : 0.0);
    }
    ws.blocks.push_back(std::move(blk));
  }
  ws.block_best.assign(ws.blocks.size(), Ramp{});
  ws.blocks_n = n;
  ws.blocks_min_size = min_size;
}

}  // namespace

void SetScanIsaForTesting(ScanIsa isa) {
  scan_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
}

bool ScanHasAvx2() {
#if PHASESWEEP_SCAN_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

double CorrectedRho(double rho_e, const RhoTable& table) {
  if (table.size == 0) return rho_e;
  // The means, made non-decreasing (a running maximum: the simulated means of neighbouring
  // coefficients near 1 can cross by simulation error).
  double lo_mean = table.mean[0];
  if (!(rho_e > lo_mean)) return table.grid[0];
  for (std::size_t g = 1; g < table.size; ++g) {
    const double hi_mean = std::max(lo_mean, table.mean[g]);
    if (rho_e <= hi_mean) {
      if (!(hi_mean > lo_mean)) return table.grid[g - 1];
      const double w = (rho_e - lo_mean) / (hi_mean - lo_mean);
      return table.grid[g - 1] + w * (table.grid[g] - table.grid[g - 1]);
    }
    lo_mean = hi_mean;
  }
  return table.grid[table.size - 1];
}

double LengthBonus(std::size_t n, std::size_t len) {
  const double en = std::exp(1.0) * static_cast<double>(n);
  return std::sqrt(2.0 * std::log(en)) - std::sqrt(2.0 * std::log(en / static_cast<double>(len)));
}

double Statistic(const double* y, std::size_t n, std::size_t min_size,
                 const std::vector<std::size_t>& lengths, ScanWorkspace& ws, const RhoTable* table,
                 Ramp* principal, double* rho_out) {
  const double nd = static_cast<double>(n);
  const double tc = (nd - 1.0) / 2.0;
  const double stt = nd * (nd * nd - 1.0) / 12.0;  // sum of (t - tc)^2
  double ym = 0.0;
  for (std::size_t i = 0; i < n; ++i) ym += y[i];
  ym /= nd;
  double sty = 0.0, ss_y = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = y[i] - ym;
    sty += (static_cast<double>(i) - tc) * d;
    ss_y += d * d;
  }
  const double slope = sty / stt;
  ws.r.resize(n);
  double* r = ws.r.data();
  double ss_r = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = y[i] - ym - slope * (static_cast<double>(i) - tc);
    ss_r += r[i] * r[i];
  }
  if (rho_out) *rho_out = 0.0;
  if (principal) *principal = Ramp{};
  // Residual energy at rounding level (1e-10 of the trace's amplitude) means an exact line.
  if (!(ss_r > 1e-20 * ss_y)) return 0.0;

  if (ws.blocks_n != n || ws.blocks_min_size != min_size) BuildBlocks(n, min_size, lengths, ws);
  // Greedy fit of up to kFeatures ramps: each is the candidate explaining the most energy of what
  // the ones before it left (e), its energy taken orthogonal to [1, t] and to them.
  ws.e.assign(r, r + n);
  const std::size_t features = lengths.size() > 1 ? kFeatures : 1;
  if (ws.basis.size() < features) {
    ws.basis.resize(features);
    ws.q0.resize(features);
    ws.q1.resize(features);
  }
  double gain = 0.0;
  const BlockGainsFn block_gains = ChooseBlockGains();
  PrefixSums(ws.e.data(), n, ws.p0, ws.p1);  // then kept up to date as e changes
  for (std::size_t k = 0; k < features; ++k) {
    Ramp best;
    const double* p0 = ws.p0.data();
    const double* p1 = ws.p1.data();
    for (std::size_t bi = 0; bi < ws.blocks.size(); ++bi) {
      const LengthBlock& blk = ws.blocks[bi];
      // The noise-estimate features (k >= 1) try lengths 1, 4, 16, ... only: their exact width
      // matters little, and this halves their cost.
      if (k > 0 && blk.len > 1 && (blk.len & 0x5555555555555555ULL) == 0) continue;
      const std::size_t count = blk.inv_den.size(), len = blk.len, stride = blk.stride;
      ws.gains.resize(count);
      double* gains = ws.gains.data();
      const double total = p0[n];
      const double top = block_gains(blk, p0, p1, total, gains);
      // The principal pass keeps every length's best ramp (for the multiscale combination);
      // the others only the overall best.
      if (k > 0 && !(top > best.gain)) continue;
      if (k == 0) ws.block_best[bi] = Ramp{};
      if (!(top > 0.0)) continue;
      std::size_t i = 0;
      while (gains[i] != top) ++i;
      const std::size_t a = blk.a_lo + i * stride, b = a + len;
      const double ramp = (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
      const double inv_len = 1.0 / static_cast<double>(len);
      const Ramp found{a, len, top, (total - p0[b]) + ramp * inv_len, 1.0 / blk.inv_den[i]};
      if (k == 0) ws.block_best[bi] = found;
      if (top > best.gain) best = found;
    }
    if (!(best.gain > 0.0)) break;
    // The chosen ramp's energy orthogonal to the features before it (its exact gain on e).
    const double den0 = best.den;
    for (std::size_t j = 0; j < k; ++j) {
      const double gamma = RampDot(ws.q0[j], ws.q1[j], n, best.a, best.len);  // x'q_j = x~'q_j
      best.den -= gamma * gamma;
    }
    if (!(best.den > 1e-9 * den0)) break;
    best.gain = best.xr * best.xr / best.den;
    if (!(best.gain > 0.0)) break;
    if (k == 2) {
      double ss = 0.0;
      for (std::size_t t = 0; t < n; ++t) ss += ws.e[t] * ws.e[t];
      if (best.gain < kThirdRampGain * std::log(nd) * ss / nd) break;
    }
    if (k == 0) {
      gain = best.gain;
      if (principal) *principal = best;
    }
    // q = (x~ - sum_j gamma_j q_j) / sqrt(den); e loses its projection on q.
    const RampMoments m = Moments(n, best.a, best.len);
    const double mean = m.sum_x / nd, c = (m.sum_xt - tc * m.sum_x) / stt;
    std::vector<double>& q = ws.basis[k];
    q.resize(n);
    const double ad = static_cast<double>(best.a), inv_len = 1.0 / static_cast<double>(best.len);
    const int ni = static_cast<int>(n);  // int: vectorised conversion to double (see above)
    for (int t = 0; t < ni; ++t) {
      const double td = static_cast<double>(t);
      const double x = std::min(std::max((td - ad) * inv_len, 0.0), 1.0);
      q[t] = x - mean - c * (td - tc);
    }
    for (std::size_t j = 0; j < k; ++j) {
      const double gamma = RampDot(ws.q0[j], ws.q1[j], n, best.a, best.len);
      for (std::size_t t = 0; t < n; ++t) q[t] -= gamma * ws.basis[j][t];
    }
    const double norm = 1.0 / std::sqrt(best.den), beta = best.xr / std::sqrt(best.den);
    for (std::size_t t = 0; t < n; ++t) {
      q[t] *= norm;
      ws.e[t] -= beta * q[t];
    }
    if (k + 1 < features) {
      PrefixSums(q.data(), n, ws.q0[k], ws.q1[k]);
      for (std::size_t t = 0; t <= n; ++t) {  // prefix sums of the new e = e - beta q
        ws.p0[t] -= beta * ws.q0[k][t];
        ws.p1[t] -= beta * ws.q1[k][t];
      }
    }
  }
  if (!(gain > 0.0)) return 0.0;
  double ss_e = 0.0, lag = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    ss_e += ws.e[t] * ws.e[t];
    if (t > 0) lag += ws.e[t] * ws.e[t - 1];
  }
  if (!(ss_e > 1e-20 * ss_r)) return std::numeric_limits<double>::infinity();  // noise-free
  const double rho = std::clamp(lag / ss_e, kRhoMin, kRhoMax);
  if (rho_out) *rho_out = rho;
  // The long-run variance with the bias of rho_e removed (the fit absorbs part of the noise's
  // persistence; raised to at most max(rho_e, kCorrectionCap)), then each length's best ramp scored
  // by its studentised root gain plus the length's bonus; T is the best score, the principal
  // feature that length's ramp.
  const double rho_c =
      table ? std::min(CorrectedRho(rho, *table), std::max(rho, kCorrectionCap)) : rho;
  const double lrv = ss_e / nd * (1.0 + rho_c) / (1.0 - rho_c);
  double t_best = 0.0;
  const Ramp* pick = nullptr;
  for (std::size_t bi = 0; bi < ws.blocks.size(); ++bi) {
    const Ramp& cand = ws.block_best[bi];
    if (!(cand.gain > 0.0)) continue;
    const double score = std::sqrt(cand.gain / lrv) + ws.blocks[bi].bonus;
    if (pick == nullptr || score > t_best) {
      t_best = score;
      pick = &cand;
    }
  }
  if (principal && pick) *principal = *pick;
  return t_best;
}

}  // namespace phasesweep::analysis::internal
