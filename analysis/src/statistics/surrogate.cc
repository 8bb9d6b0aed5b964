// Surrogate significance of a transition; see surrogate.h for the statistic and the null.
#include "phasesweep/analysis/surrogate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <utility>

#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

constexpr double kRhoMin = -0.9, kRhoMax = 0.98;

// One candidate transition: x(t) = clamp((t - a) / len, 0, 1), t = 0..n-1 (len = 1: a step at
// a + 1). `xr` is x'v for the vector being fitted, `den` the energy of x orthogonal to [1, t]
// (and to the first feature, for the second).
struct Ramp {
  std::size_t a = 0, len = 1;
  double gain = -1.0, xr = 0.0, den = 0.0;
};

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
  m.sum_xt = (ad + L + nd - 1.0) * ones / 2.0 + ad * (L - 1.0) / 2.0 + (L - 1.0) * (2.0 * L - 1.0) / 6.0;
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
  const double ramp =
      (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
  return plateau + ramp / static_cast<double>(len);
}

// Buffers reused across the B + 1 evaluations of one trace. basis[j] is the j-th fitted feature
// made orthonormal to [1, t] and to the features before it; q0/q1 its prefix sums.
// The admissible ramps of one length: starts a_lo, a_lo + stride, ... (count of them), with
// 1 / |x~|^2 per start (0 where the ramp has no energy orthogonal to [1, t]). The same for every
// trace of length n, so built once per (n, min_size) and reused by every evaluation.
struct LengthBlock {
  std::size_t len = 1, a_lo = 0, stride = 1;
  std::vector<double> inv_den;
};
struct Workspace {
  std::vector<double> r, e, p0, p1, gains;
  std::vector<std::vector<double>> basis, q0, q1;
  std::vector<LengthBlock> blocks;
  std::size_t blocks_n = 0, blocks_min_size = 0;
};

}  // namespace

std::vector<std::size_t> RampLengths(std::size_t n) {
  std::vector<std::size_t> lengths{1};
  if (n < MinSmoothLength()) return lengths;
  for (std::size_t len = 2; len <= n / 2; len *= 2) lengths.push_back(len);
  return lengths;
}

std::size_t MinSmoothLength() { return 16; }

namespace {

// Stride of the ramp's start for length len: features wider than 4 probes are tried every
// len / 4 probes, where a shift changes the fit by little.
std::size_t Stride(std::size_t len) { return std::max<std::size_t>(1, len / 4); }

// gains[i] = (x'e)^2 / |x~|^2 for the ramps starting at a0 + i (i < count) of length len, with
// p0, p1 the prefix sums offset to a0 (the same formula as the strided loop in Statistic).
void GainsContiguous(const double* __restrict p0, const double* __restrict p1, std::size_t len,
                     double a0, double total, double inv_len, const double* __restrict inv_den,
                     std::size_t count, double* __restrict gains) {
  // int, not size_t, for the start: SSE2 converts 32-bit integers to doubles in vectors, not
  // 64-bit ones (traces have far fewer than 2^31 probes).
  const int n = static_cast<int>(count);
  for (int i = 0; i < n; ++i) {
    const double ramp =
        (p1[i + len] - p1[i + 1]) - (a0 + static_cast<double>(i)) * (p0[i + len] - p0[i + 1]);
    const double xr = (total - p0[i + len]) + ramp * inv_len;
    gains[i] = xr * xr * inv_den[i];
  }
}

// The largest of v[0..count) (count >= 1; -inf for none), four running maxima so that the
// comparisons do not wait on each other.
double MaxOf(const double* v, std::size_t count) {
  double m[4] = {-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                 -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4)
    for (int j = 0; j < 4; ++j) m[j] = v[i + j] > m[j] ? v[i + j] : m[j];
  for (; i < count; ++i) m[0] = v[i] > m[0] ? v[i] : m[0];
  return std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
}

// Ramps fitted before the noise is estimated (the first is the tested feature).
constexpr std::size_t kFeatures = 3;

// The statistic for y (n >= MinSignificanceLength(min_size)). See surrogate.h.
double Statistic(const double* y, std::size_t n, std::size_t min_size,
                 const std::vector<std::size_t>& lengths, Workspace& ws, Ramp* principal,
                 double* rho_out) {
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

  if (ws.blocks_n != n || ws.blocks_min_size != min_size) {
    ws.blocks.clear();
    for (std::size_t len : lengths) {
      if (len + 2 * min_size > n + 1) break;
      LengthBlock blk;
      blk.len = len;
      blk.a_lo = min_size - 1;
      blk.stride = Stride(len);
      for (std::size_t a = blk.a_lo; a <= n - min_size - len; a += blk.stride) {
        // Energy of the ramp orthogonal to [1, t].
        const RampMoments m = Moments(n, a, len);
        const double xt = m.sum_xt - tc * m.sum_x;
        const double den0 = m.sum_xx - m.sum_x * m.sum_x / nd - xt * xt / stt;
        blk.inv_den.push_back(den0 > 1e-12 ? 1.0 / den0 : 0.0);
      }
      ws.blocks.push_back(std::move(blk));
    }
    ws.blocks_n = n;
    ws.blocks_min_size = min_size;
  }
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
  PrefixSums(ws.e.data(), n, ws.p0, ws.p1);  // then kept up to date as e changes
  for (std::size_t k = 0; k < features; ++k) {
    Ramp best;
    const double* p0 = ws.p0.data();
    const double* p1 = ws.p1.data();
    for (const LengthBlock& blk : ws.blocks) {
      // The noise-estimate features (k >= 1) try lengths 1, 4, 16, ... only: their exact width
      // matters little, and this halves their cost.
      if (k > 0 && blk.len > 1 && (blk.len & 0x5555555555555555ULL) == 0) continue;
      // x'e for the ramp from a to b = a + len: the plateau sum(e[b..n)) plus
      // sum_{t=a+1}^{b-1} (t - a)/len e_t, from the prefix sums in O(1).
      // Gains first (a loop the compiler vectorises), then the first largest.
      const double inv_len = 1.0 / static_cast<double>(blk.len);
      const std::size_t count = blk.inv_den.size(), len = blk.len, stride = blk.stride;
      const double* inv_den = blk.inv_den.data();
      ws.gains.resize(count);
      double* gains = ws.gains.data();
      const double total = p0[n];
      if (stride == 1) {  // contiguous starts (the short ramps, most candidates): vectorised
        GainsContiguous(p0 + blk.a_lo, p1 + blk.a_lo, len, static_cast<double>(blk.a_lo), total,
                        inv_len, inv_den, count, gains);
      } else {
        for (std::size_t i = 0; i < count; ++i) {
          const std::size_t a = blk.a_lo + i * stride, b = a + len;
          const double ramp = (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
          const double xr = (total - p0[b]) + ramp * inv_len;
          gains[i] = xr * xr * inv_den[i];
        }
      }
      const double top = std::max(best.gain, MaxOf(gains, count));
      if (!(top > best.gain)) continue;
      std::size_t i = 0;
      while (gains[i] != top) ++i;
      const std::size_t a = blk.a_lo + i * stride, b = a + len;
      const double ramp = (p1[b] - p1[a + 1]) - static_cast<double>(a) * (p0[b] - p0[a + 1]);
      best = Ramp{a, len, top, (total - p0[b]) + ramp * inv_len, 1.0 / inv_den[i]};
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
  const double lrv = ss_e / nd * (1.0 + rho) / (1.0 - rho);
  return gain / lrv;
}

}  // namespace

Result<SurrogateMethod> ParseSurrogateMethod(std::string_view name) {
  if (name == "ar1") return SurrogateMethod::kAr1;
  if (name == "block") return SurrogateMethod::kBlockBootstrap;
  return Status::InvalidArgument("unknown surrogate method '" + std::string(name) +
                                 "' (valid: ar1, block)");
}

std::string_view SurrogateMethodName(SurrogateMethod method) {
  return method == SurrogateMethod::kAr1 ? "ar1" : "block";
}

std::size_t MinSignificanceLength(std::size_t min_size) {
  return 2 * std::max<std::size_t>(min_size, 1) + 4;
}

namespace {

double Ar1Draw(std::vector<double>& s, double rho, Rng& rng) {
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n; ++i) s[i] = rng.Normal();
  s[0] /= std::sqrt(1.0 - rho * rho);
  for (std::size_t i = 1; i < n; ++i) s[i] += rho * s[i - 1];
  return rho;
}

}  // namespace

namespace {

// For each rho on a fixed grid, the mean and standard deviation of rho_e over kRhoMapTraces
// seeded AR(1) traces of length n.
constexpr double kRhoGrid[] = {-0.9, -0.6, -0.3, 0.0,  0.2,  0.4,  0.5,  0.6,  0.7,
                               0.8,  0.85, 0.9,  0.93, 0.95, 0.97, 0.98};
constexpr std::size_t kRhoGridSize = std::size(kRhoGrid);
constexpr int kRhoMapTraces = 256;

struct RhoMap {
  double mean[kRhoGridSize];
  double sd[kRhoGridSize];
};

RhoMap SimulateRhoMap(std::size_t n, std::size_t min_size) {
  const std::vector<std::size_t> lengths = RampLengths(n);
  Rng rng(StreamSeed(n * 1000003ULL + min_size, "ar1-null-rho-map"));
  Workspace ws;
  std::vector<double> s(n);
  RhoMap map;
  for (std::size_t g = 0; g < kRhoGridSize; ++g) {
    double sum = 0.0, sum2 = 0.0;
    for (int k = 0; k < kRhoMapTraces; ++k) {
      Ar1Draw(s, kRhoGrid[g], rng);
      double r = 0.0;
      Statistic(s.data(), n, min_size, lengths, ws, nullptr, &r);
      sum += r;
      sum2 += r * r;
    }
    map.mean[g] = sum / kRhoMapTraces;
    map.sd[g] = std::sqrt(std::max(sum2 / kRhoMapTraces - map.mean[g] * map.mean[g], 0.0));
  }
  return map;
}

const RhoMap& CachedRhoMap(std::size_t n, std::size_t min_size) {
  static std::mutex mu;
  static std::map<std::pair<std::size_t, std::size_t>, RhoMap> maps;  // never erased
  std::lock_guard<std::mutex> lock(mu);
  auto it = maps.find({n, min_size});
  if (it == maps.end()) it = maps.emplace(std::make_pair(n, min_size), SimulateRhoMap(n, min_size)).first;
  return it->second;
}

}  // namespace

std::vector<std::pair<double, double>> Ar1NullRhoWeights(double rho_e, std::size_t n,
                                                        std::size_t min_size) {
  const RhoMap& map = CachedRhoMap(n, min_size);
  std::vector<std::pair<double, double>> weights;
  double total = 0.0;
  for (std::size_t g = 0; g < kRhoGridSize; ++g) {
    const double sd = std::max(map.sd[g], 1e-3);
    const double z = (rho_e - map.mean[g]) / sd;
    // Likelihood of rho_e (normal, with the simulated mean and spread) times the prior: uniform
    // over the grid points (denser towards 1) and tilted by (1 - rho)^(-1/2), so that where rho_e
    // cannot tell persistent coefficients apart (short traces) the null leans to the persistent
    // ones, whose surrogates produce the larger statistics.
    const double w = std::exp(-0.5 * z * z) / sd / std::sqrt(1.0 - kRhoGrid[g]);
    weights.emplace_back(kRhoGrid[g], w);
    total += w;
  }
  if (!(total > 0.0)) {  // rho_e far outside every simulated range: the nearest end of the grid
    const bool low = rho_e < map.mean[0];
    return {{low ? kRhoGrid[0] : kRhoGrid[kRhoGridSize - 1], 1.0}};
  }
  for (auto& [rho, w] : weights) w /= total;
  return weights;
}

double RawResidualRho(const std::vector<double>& y, std::size_t min_size) {
  min_size = std::max<std::size_t>(min_size, 1);
  if (y.size() < MinSignificanceLength(min_size)) return std::numeric_limits<double>::quiet_NaN();
  Workspace ws;
  double rho = 0.0;
  Statistic(y.data(), y.size(), min_size, RampLengths(y.size()), ws, nullptr, &rho);
  return rho;
}

double TransitionStatistic(const std::vector<double>& y, std::size_t min_size, std::size_t* split,
                           double* rho) {
  min_size = std::max<std::size_t>(min_size, 1);
  if (y.size() < MinSignificanceLength(min_size)) return std::numeric_limits<double>::quiet_NaN();
  Workspace ws;
  Ramp ramp;
  const double t =
      Statistic(y.data(), y.size(), min_size, RampLengths(y.size()), ws, &ramp, rho);
  if (split) *split = ramp.a + (ramp.len + 1) / 2;
  return t;
}

Result<SignificanceResult> TransitionSignificance(const std::vector<double>& y,
                                                  const SurrogateOptions& options) {
  for (double v : y) {
    if (!std::isfinite(v)) return Status::InvalidArgument("significance needs finite values");
  }
  if (options.count < 1) {
    return Status::InvalidArgument("surrogate count must be >= 1, got " +
                                   std::to_string(options.count));
  }
  SignificanceResult result;
  const std::size_t min_size = std::max<std::size_t>(options.min_size, 1);
  const std::size_t n = y.size();
  if (n < MinSignificanceLength(min_size)) {
    result.note = "too short for a significance test: " + std::to_string(n) +
                  " finite probes, needs " + std::to_string(MinSignificanceLength(min_size));
    return result;
  }
  const std::vector<std::size_t> lengths = RampLengths(n);
  if (lengths.size() == 1) {
    result.note = "too short for smooth transitions (" + std::to_string(n) + " finite probes, " +
                  "needs " + std::to_string(MinSmoothLength()) + "): tested for a step only";
  }
  Workspace ws;
  Ramp ramp;
  double rho = 0.0;
  result.statistic = Statistic(y.data(), n, min_size, lengths, ws, &ramp, &rho);
  result.split = ramp.a + (ramp.len + 1) / 2;
  result.width = ramp.len;
  result.rho = rho;
  if (result.statistic == 0.0) {
    result.pvalue = 1.0;
    result.note = "trace is exactly linear or constant: no transition";
    return result;
  }
  const std::vector<double> residuals = ws.r;  // the detrended trace, source of the block bootstrap
  const double nd = static_cast<double>(n);
  const std::vector<std::pair<double, double>> rho_weights = Ar1NullRhoWeights(rho, n, min_size);
  const auto block = static_cast<std::size_t>(std::ceil(std::cbrt(nd)));
  Rng rng(options.seed);
  Workspace sws;
  std::vector<double> s(n);
  result.null_splits.reserve(static_cast<std::size_t>(options.count));
  int exceed = 0;
  for (int b = 0; b < options.count; ++b) {
    if (options.method == SurrogateMethod::kAr1) {
      // Each surrogate draws its own rho from the sampling spread of the estimate, so the null
      // averages over the uncertainty of the dependence instead of trusting a point estimate.
      double u = rng.Uniform(), rho_b = rho_weights.back().first;
      for (const auto& [rho_g, w] : rho_weights) {
        if (u < w) {
          rho_b = rho_g;
          break;
        }
        u -= w;
      }
      Ar1Draw(s, rho_b, rng);
    } else {
      for (std::size_t i = 0; i < n;) {
        const std::size_t start = rng.UniformInt(n);
        for (std::size_t k = 0; k < block && i < n; ++k, ++i) s[i] = residuals[(start + k) % n];
      }
    }
    Ramp sr;
    const double tb = Statistic(s.data(), n, min_size, lengths, sws, &sr, nullptr);
    if (tb >= result.statistic) ++exceed;
    result.null_splits.push_back(sr.a + (sr.len + 1) / 2);
  }
  result.count = options.count;
  result.exceed = exceed;
  result.pvalue = (1.0 + exceed) / (options.count + 1.0);
  return result;
}

}  // namespace phasesweep::analysis
