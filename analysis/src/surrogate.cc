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
};

// Computes T for y (size n >= MinSignificanceLength) using ws.r / ws.e as scratch.
double Statistic(const double* y, std::size_t n, std::size_t min_size, Workspace& ws,
                 std::size_t* split_out, double* rho_out) {
  const double nd = static_cast<double>(n);
  const double tc = (nd - 1.0) / 2.0;
  double ym = 0.0;
  for (std::size_t i = 0; i < n; ++i) ym += y[i];
  ym /= nd;
  double sty = 0.0;
  for (std::size_t i = 0; i < n; ++i) sty += (static_cast<double>(i) - tc) * (y[i] - ym);
  const double stt = nd * (nd * nd - 1.0) / 12.0;  // sum of (i - tc)^2
  const double slope = sty / stt;
  ws.r.resize(n);
  double ss_r = 0.0, ss_y = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    ws.r[i] = y[i] - ym - slope * (static_cast<double>(i) - tc);
    ss_r += ws.r[i] * ws.r[i];
    ss_y += (y[i] - ym) * (y[i] - ym);
  }
  // Best single split of the detrended trace.
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) total += ws.r[i];
  double s = 0.0, best = -1.0;
  std::size_t split = min_size;
  for (std::size_t t = 1; t < n; ++t) {
    s += ws.r[t - 1];
    if (t < min_size || t > n - min_size) continue;
    const double td = static_cast<double>(t);
    const double g = s * s / td + (total - s) * (total - s) / (nd - td) - total * total / nd;
    if (g > best) {
      best = g;
      split = t;
    }
  }
  if (split_out) *split_out = split;
  // Residual energy at rounding level (1e-10 of the trace's amplitude) means an exact line.
  if (!(ss_r > 1e-20 * ss_y) || !(best > 0.0)) {
    if (rho_out) *rho_out = 0.0;
    return 0.0;  // exactly linear: nothing to detect
  }
  // Residuals of r on the step D = 1(t >= split) after D is made orthogonal to [1, t]
  // (Frisch-Waugh): e = r - delta * (D - d_mean - c (t - tc)).
  const double d_mean = (nd - static_cast<double>(split)) / nd;
  // sum over t >= split of (t - tc)
  const double a = static_cast<double>(split), last = nd - 1.0;
  const double sum_t = (a + last) * (nd - a) / 2.0 - tc * (nd - a);
  const double c = sum_t / stt;
  double dr = 0.0, dd = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dt = (i >= split ? 1.0 : 0.0) - d_mean - c * (static_cast<double>(i) - tc);
    dr += dt * ws.r[i];
    dd += dt * dt;
  }
  const double delta = dd > 0.0 ? dr / dd : 0.0;
  ws.e.resize(n);
  double ss_e = 0.0, lag = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dt = (i >= split ? 1.0 : 0.0) - d_mean - c * (static_cast<double>(i) - tc);
    ws.e[i] = ws.r[i] - delta * dt;
    ss_e += ws.e[i] * ws.e[i];
    if (i > 0) lag += ws.e[i] * ws.e[i - 1];
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
      s[0] = rng.Normal() / std::sqrt(1.0 - rb * rb);
      for (std::size_t i = 1; i < n; ++i) s[i] = rb * s[i - 1] + rng.Normal();
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
