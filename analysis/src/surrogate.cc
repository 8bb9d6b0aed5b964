// Surrogate significance of a transition; see surrogate.h for the statistic and the null.
#include "phasesweep/analysis/surrogate.h"

#include <algorithm>
#include <cmath>

#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

constexpr double kRhoMin = -0.9, kRhoMax = 0.98;

// Lag-1 autocorrelation estimated after removing a trend and a fitted step is biased by about
// -(5 + 10 rho) / n (measured by simulation for n = 50..400, rho = 0..0.9).
double BiasCorrected(double rho_hat, double n) {
  return std::clamp(rho_hat + (5.0 + 10.0 * rho_hat) / n, kRhoMin, kRhoMax);
}

// Buffers reused across the B surrogate evaluations of one trace.
struct Workspace {
  std::vector<double> r, e, s;
  std::vector<double> inv_t, inv_rest;  // 1 / t and 1 / (n - t), for the split scan
  std::size_t n = 0;
  void Prepare(std::size_t size) {
    if (n == size) return;
    n = size;
    r.resize(n);
    e.resize(n);
    inv_t.resize(n);
    inv_rest.resize(n);
    for (std::size_t t = 1; t < n; ++t) {
      inv_t[t] = 1.0 / static_cast<double>(t);
      inv_rest[t] = 1.0 / static_cast<double>(n - t);
    }
  }
};

// Computes T for y (size n >= MinSignificanceLength); five passes over the data, no division in
// the loops (this runs B + 1 times per trace).
double Statistic(const double* y, std::size_t n, std::size_t min_size, Workspace& ws,
                 std::size_t* split_out, double* rho_out) {
  ws.Prepare(n);
  const double nd = static_cast<double>(n);
  const double tc = (nd - 1.0) / 2.0;
  double ym = 0.0;
  for (std::size_t i = 0; i < n; ++i) ym += y[i];
  ym /= nd;
  double sty = 0.0, ss_y = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = y[i] - ym;
    sty += (static_cast<double>(i) - tc) * d;
    ss_y += d * d;
  }
  const double stt = nd * (nd * nd - 1.0) / 12.0;  // sum of (i - tc)^2
  const double slope = sty / stt;
  double* r = ws.r.data();
  double total = 0.0, ss_r = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = y[i] - ym - slope * (static_cast<double>(i) - tc);
    total += r[i];
    ss_r += r[i] * r[i];
  }
  // Best single split of the detrended trace: G(t) = S^2/t + (T-S)^2/(n-t) - T^2/n.
  const double base = total * total / nd;
  double s = 0.0, best = -1.0, split_sum = 0.0;
  std::size_t split = min_size;
  for (std::size_t t = 1; t < n; ++t) {
    s += r[t - 1];
    if (t < min_size || t > n - min_size) continue;
    const double rest = total - s;
    const double g = s * s * ws.inv_t[t] + rest * rest * ws.inv_rest[t] - base;
    if (g > best) {
      best = g;
      split = t;
      split_sum = s;
    }
  }
  if (split_out) *split_out = split;
  // Residual energy at rounding level (1e-10 of the trace's amplitude) means an exact line.
  if (!(ss_r > 1e-20 * ss_y) || !(best > 0.0)) {
    if (rho_out) *rho_out = 0.0;
    return 0.0;  // exactly linear: nothing to detect
  }
  // Residuals of r on the step D = 1(t >= split) made orthogonal to [1, t] (Frisch-Waugh):
  // e = r - delta * (D - d_mean - c (t - tc)), delta = D'r / |D~|^2 with D'r = T - S(split) and
  // |D~|^2 = (n - a) - n d_mean^2 - c^2 stt.
  const double a = static_cast<double>(split);
  const double d_mean = (nd - a) / nd;
  const double sum_t = (a + nd - 1.0) * (nd - a) / 2.0 - tc * (nd - a);  // sum_{t >= a} (t - tc)
  const double c = sum_t / stt;
  const double dd = (nd - a) - nd * d_mean * d_mean - c * c * stt;
  const double delta = dd > 0.0 ? (total - split_sum) / dd : 0.0;
  double* e = ws.e.data();
  double ss_e = 0.0, lag = 0.0, prev = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dt = (i >= split ? 1.0 : 0.0) - d_mean - c * (static_cast<double>(i) - tc);
    const double v = r[i] - delta * dt;
    e[i] = v;
    ss_e += v * v;
    lag += v * prev;
    prev = v;
  }
  if (!(ss_e > 1e-20 * ss_r)) {
    if (rho_out) *rho_out = 0.0;
    return std::numeric_limits<double>::infinity();  // a noise-free step
  }
  const double rho = BiasCorrected(lag / ss_e, nd);
  if (rho_out) *rho_out = rho;
  const double lrv = ss_e / nd * (1.0 + rho) / (1.0 - rho);
  return best / lrv;
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

double TransitionStatistic(const std::vector<double>& y, std::size_t min_size, std::size_t* split,
                           double* rho) {
  min_size = std::max<std::size_t>(min_size, 1);
  if (y.size() < MinSignificanceLength(min_size)) return std::numeric_limits<double>::quiet_NaN();
  Workspace ws;
  return Statistic(y.data(), y.size(), min_size, ws, split, rho);
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
  Workspace ws;
  double rho = 0.0;
  result.statistic = Statistic(y.data(), n, min_size, ws, &result.split, &rho);
  result.rho = rho;
  if (result.statistic == 0.0) {
    result.pvalue = 1.0;
    result.note = "trace is exactly linear or constant: no transition";
    return result;
  }
  const std::vector<double> residuals = ws.r;  // the detrended trace, source of the block bootstrap
  const double nd = static_cast<double>(n);
  // Centre of the surrogate dependence: a second, deliberately conservative correction (the
  // first-order one is too small as rho approaches 1; see docs/STATISTICS.md for the calibration).
  const double rho_s = BiasCorrected(rho, nd);
  const double rho_sd = std::sqrt((1.0 - rho_s * rho_s) / nd);
  const auto block = static_cast<std::size_t>(std::ceil(std::cbrt(nd)));
  Rng rng(options.seed);
  Workspace sws;
  std::vector<double> s(n);
  int exceed = 0;
  for (int b = 0; b < options.count; ++b) {
    if (options.method == SurrogateMethod::kAr1) {
      // Each surrogate draws its own rho from the sampling spread of the estimate, so the null
      // averages over the uncertainty of the dependence instead of trusting a point estimate.
      const double rb = std::clamp(rho_s + rho_sd * rng.Normal(), kRhoMin, kRhoMax);
      for (std::size_t i = 0; i < n; ++i) s[i] = rng.Normal();  // innovations, then the recursion
      s[0] /= std::sqrt(1.0 - rb * rb);
      for (std::size_t i = 1; i < n; ++i) s[i] += rb * s[i - 1];
    } else {
      for (std::size_t i = 0; i < n;) {
        const std::size_t start = rng.UniformInt(n);
        for (std::size_t k = 0; k < block && i < n; ++k, ++i) s[i] = residuals[(start + k) % n];
      }
    }
    const double tb = Statistic(s.data(), n, min_size, sws, nullptr, nullptr);
    if (tb >= result.statistic) ++exceed;
  }
  result.count = options.count;
  result.exceed = exceed;
  result.pvalue = (1.0 + exceed) / (options.count + 1.0);
  return result;
}

}  // namespace phasesweep::analysis
