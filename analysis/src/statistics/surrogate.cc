// Surrogate significance of a transition; see surrogate.h for the statistic and the null.
#include "phasesweep/analysis/surrogate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <utility>

#include "phasesweep/analysis/random.h"
#include "statistics/increment_scan.h"
#include "statistics/ramp_scan.h"

namespace phasesweep::analysis {

using internal::IncrementStatistic;
using internal::IncrementWorkspace;
using internal::Ramp;
using internal::RhoTable;
using internal::ScanWorkspace;
using internal::Statistic;

std::vector<std::size_t> RampLengths(std::size_t n) {
  std::vector<std::size_t> lengths{1};
  if (n < MinSmoothLength()) return lengths;
  for (std::size_t len = 2; len <= n / 2; len *= 2) lengths.push_back(len);
  return lengths;
}

std::size_t MinSmoothLength() { return 16; }

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

// The increment scan's share of the level: p = min(1, p_level / (1 - w), p_increments / w)
// (weighted Bonferroni), and its null draws (sequential: stop at kIncrementStop exceedances).
constexpr double kIncrementWeight = 0.1;
constexpr int kIncrementDraws = 999;
constexpr int kIncrementStop = 10;

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
constexpr double kRhoGrid[] = {-0.9, -0.6, -0.3, 0.0, 0.2,  0.4,  0.5,  0.6,
                               0.7,  0.8,  0.85, 0.9, 0.93, 0.95, 0.97, 0.98};
constexpr std::size_t kRhoGridSize = std::size(kRhoGrid);
constexpr int kRhoMapTraces = 256;

struct RhoMap {
  double mean[kRhoGridSize];
  double sd[kRhoGridSize];
};

RhoMap SimulateRhoMap(std::size_t n, std::size_t min_size) {
  const std::vector<std::size_t> lengths = RampLengths(n);
  Rng rng(StreamSeed(n * 1000003ULL + min_size, "ar1-null-rho-map"));
  ScanWorkspace ws;
  std::vector<double> s(n);
  RhoMap map;
  for (std::size_t g = 0; g < kRhoGridSize; ++g) {
    double sum = 0.0, sum2 = 0.0;
    for (int k = 0; k < kRhoMapTraces; ++k) {
      Ar1Draw(s, kRhoGrid[g], rng);
      double r = 0.0;
      Statistic(s.data(), n, min_size, lengths, ws, nullptr, nullptr, &r);
      sum += r;
      sum2 += r * r;
    }
    map.mean[g] = sum / kRhoMapTraces;
    map.sd[g] = std::sqrt(std::max(sum2 / kRhoMapTraces - map.mean[g] * map.mean[g], 0.0));
  }
  return map;
}

const RhoMap& CachedRhoMap(std::size_t n, std::size_t min_size) {  // stable reference
  static std::mutex mu;
  static std::map<std::pair<std::size_t, std::size_t>, RhoMap> maps;  // never erased
  std::lock_guard<std::mutex> lock(mu);
  auto it = maps.find({n, min_size});
  if (it == maps.end())
    it = maps.emplace(std::make_pair(n, min_size), SimulateRhoMap(n, min_size)).first;
  return it->second;
}

// The bias table of rho_e for traces of length n (see internal::CorrectedRho).
RhoTable TableOf(const RhoMap& map) { return RhoTable{kRhoGrid, map.mean, kRhoGridSize}; }

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
  ScanWorkspace ws;
  double rho = 0.0;
  Statistic(y.data(), y.size(), min_size, RampLengths(y.size()), ws, nullptr, nullptr, &rho);
  return rho;
}

double TransitionStatistic(const std::vector<double>& y, std::size_t min_size, std::size_t* split,
                           double* rho) {
  min_size = std::max<std::size_t>(min_size, 1);
  if (y.size() < MinSignificanceLength(min_size)) return std::numeric_limits<double>::quiet_NaN();
  ScanWorkspace ws;
  Ramp ramp;
  const RhoTable table = TableOf(CachedRhoMap(y.size(), min_size));
  const double t =
      Statistic(y.data(), y.size(), min_size, RampLengths(y.size()), ws, &table, &ramp, rho);
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
  ScanWorkspace ws;
  Ramp ramp;
  double rho = 0.0;
  const RhoTable table = TableOf(CachedRhoMap(n, min_size));
  result.statistic = Statistic(y.data(), n, min_size, lengths, ws, &table, &ramp, &rho);
  result.split = ramp.a + (ramp.len + 1) / 2;
  result.width = ramp.len;
  result.height = ramp.den > 0.0 ? ramp.xr / ramp.den : 0.0;
  result.rho = rho;
  if (result.statistic == 0.0) {
    result.pvalue = result.level_pvalue = result.increment_pvalue = 1.0;
    result.note = "trace is exactly linear or constant: no transition";
    return result;
  }
  const std::vector<double> residuals = ws.r;  // the detrended trace, source of the block bootstrap
  const double nd = static_cast<double>(n);
  const std::vector<std::pair<double, double>> rho_weights = Ar1NullRhoWeights(rho, n, min_size);
  const auto block = static_cast<std::size_t>(std::ceil(std::cbrt(nd)));
  // One null trace into s: AR(1) noise whose coefficient is drawn from the posterior (so the null
  // averages over the uncertainty of the dependence instead of trusting a point estimate), or a
  // circular block bootstrap of the detrended trace.
  auto draw = [&](std::vector<double>& s, Rng& rng) {
    if (options.method == SurrogateMethod::kAr1) {
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
  };
  Rng rng(options.seed);
  ScanWorkspace sws;
  std::vector<double> s(n);
  result.null_splits.reserve(static_cast<std::size_t>(options.count));
  int exceed = 0;
  for (int b = 0; b < options.count; ++b) {
    draw(s, rng);
    Ramp sr;
    const double tb = Statistic(s.data(), n, min_size, lengths, sws, &table, &sr, nullptr);
    if (tb >= result.statistic) ++exceed;
    result.null_splits.push_back(sr.a + (sr.len + 1) / 2);
  }
  result.count = options.count;
  result.exceed = exceed;
  result.level_pvalue = (1.0 + exceed) / (options.count + 1.0);

  // The increment scan against its own null traces, drawn the same way from a separate stream:
  // sequential (Besag and Clifford), stopping at kIncrementStop exceedances, so that an ordinary
  // trace costs a few dozen cheap draws and an extreme one reaches p = 1 / (kIncrementDraws + 1).
  // Where the ramp scan's share alone is below anything the increment scan can give
  // (1 / (kIncrementDraws + 1) / w), the combined p-value is the ramp scan's and the draws are
  // skipped: increment_pvalue stays NaN ("not needed").
  IncrementWorkspace iws;
  result.increment_statistic = IncrementStatistic(y.data(), n, lengths, iws);
  Rng irng(StreamSeed(options.seed, "increments"));
  int iexceed = 0, draws = 0;
  const double level_share = result.level_pvalue / (1.0 - kIncrementWeight);
  const bool needed = level_share > 1.0 / (kIncrementDraws + 1.0) / kIncrementWeight;
  result.increment_pvalue = needed ? 1.0 : std::numeric_limits<double>::quiet_NaN();
  if (needed && result.increment_statistic > 0.0) {
    for (draws = 1; draws <= kIncrementDraws; ++draws) {
      draw(s, irng);
      if (IncrementStatistic(s.data(), n, lengths, iws) >= result.increment_statistic &&
          ++iexceed == kIncrementStop)
        break;
    }
    result.increment_pvalue = draws <= kIncrementDraws ? static_cast<double>(kIncrementStop) / draws
                                                       : (1.0 + iexceed) / (kIncrementDraws + 1.0);
  }
  result.pvalue = needed ? std::min({1.0, level_share, result.increment_pvalue / kIncrementWeight})
                         : level_share;
  return result;
}

}  // namespace phasesweep::analysis
