// Benchmark: PELT and binary segmentation (l2 cost) on n = 100,000 points.
// Signal: 100 segments of 1,000 points with levels drawn from N(0, 3^2) plus N(0, 1) noise, the
// typical case (change points are dense enough for PELT's pruning to work). Also reports the
// worst case, a signal without any change, where nothing can be pruned and PELT is quadratic
// (as in ruptures), on smaller n.
// Run: build/bench/phasesweep_bench_analysis_pelt [n]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/analysis/random.h"

using phasesweep::analysis::BinarySegmentation;
using phasesweep::analysis::CostKind;
using phasesweep::analysis::DefaultPenalty;
using phasesweep::analysis::MakeSegmentCost;
using phasesweep::analysis::Pelt;
using phasesweep::analysis::Rng;
using phasesweep::analysis::SegmentationParams;

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median wall time of `reps` runs of `fn`, which returns the number of breakpoints.
template <class Fn>
double MedianTime(int reps, Fn fn, std::size_t* bkps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    *bkps = fn();
    t.push_back(Seconds(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  Rng rng(2024);
  std::vector<double> y(n);
  double level = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 1000 == 0) level = 3.0 * rng.Normal();
    y[i] = level + rng.Normal();
  }
  auto t0 = std::chrono::steady_clock::now();
  auto cost = MakeSegmentCost(CostKind::kL2, y);
  const double fit = Seconds(t0);
  const double pen = DefaultPenalty(CostKind::kL2, y);
  std::printf("n = %zu, 100 planted segments, default penalty %.3f (cost fit %.4f s)\n", n, pen,
              fit);
  std::size_t k = 0;
  double t = MedianTime(
      3,
      [&] {
        return Pelt(**cost, {2, 1}, pen)->size();
      },
      &k);
  std::printf("PELT l2 min_size 2 jump 1:            %.3f s  (%zu breakpoints incl. n)\n", t, k);
  t = MedianTime(
      3,
      [&] {
        return Pelt(**cost, {2, 5}, pen)->size();
      },
      &k);
  std::printf("PELT l2 ruptures defaults (2, jump 5): %.3f s  (%zu breakpoints incl. n)\n", t, k);
  t = MedianTime(
      3,
      [&] {
        return BinarySegmentation(**cost, {2, 1}, {std::size_t{99}, {}})->size();
      },
      &k);
  std::printf("Binseg l2 n_bkps 99, jump 1:           %.3f s  (%zu breakpoints incl. n)\n", t, k);
  for (std::size_t m : {std::size_t{5000}, std::size_t{20000}}) {
    std::vector<double> noise(m);
    for (double& v : noise) v = rng.Normal();
    auto c = MakeSegmentCost(CostKind::kL2, noise);
    const double p = DefaultPenalty(CostKind::kL2, noise);
    t = MedianTime(
        1,
        [&] {
          return Pelt(**c, {2, 1}, p)->size();
        },
        &k);
    std::printf("worst case, no change, n = %5zu:      %.3f s  (%zu breakpoints incl. n)\n", m, t,
                k);
  }
  return 0;
}
