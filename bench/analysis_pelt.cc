// Benchmark: PELT (l2 cost) on n = 100,000 points against ruptures' loop as transcribed
// (internal::PeltReference, the baseline measured in the same run), and binary segmentation.
// Signals: 100 segments of 1,000 points with levels N(0, 3^2) plus N(0, 1) noise (the typical
// case: pruning works); no change at all (ruptures' pruning keeps every candidate, so its loop is
// quadratic; the l2 path skips whole blocks, analysis/src/statistics/pelt_l2.cc); a linear drift
// of 3 sd and a sine of 1 sd amplitude (period 20,000), where many candidates stay close to the
// minimum and neither prunes well. Default penalty; min_size 2 with jump 1 and ruptures' jump 5.
// The speed-up is the ratio of CPU times.
// Run: build/bench/phasesweep_bench_analysis_pelt [n]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <vector>

#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/analysis/random.h"
#include "statistics/segment_costs.h"  // internal::PeltReference, the baseline

using phasesweep::analysis::BinarySegmentation;
using phasesweep::analysis::CostKind;
using phasesweep::analysis::DefaultPenalty;
using phasesweep::analysis::MakeSegmentCost;
using phasesweep::analysis::Pelt;
using phasesweep::analysis::Rng;
using phasesweep::analysis::SegmentationParams;
using phasesweep::analysis::internal::PeltReference;

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Timing {
  double wall = 0.0, cpu = 0.0;  // medians
};

// Median wall and CPU time of `reps` runs of `fn` (single-threaded, so the CPU time is its own
// and less sensitive to a loaded machine); *out receives its result.
Timing MedianTime(int reps, const std::function<std::vector<std::size_t>()>& fn,
                  std::vector<std::size_t>* out) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    *out = fn();
    cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    wall.push_back(Seconds(t0));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  const double nd = static_cast<double>(n);
  Rng rng(2024);
  struct Signal {
    const char* name;
    std::vector<double> y;
  };
  std::vector<Signal> signals = {{"100 planted steps", std::vector<double>(n)},
                                 {"no change", std::vector<double>(n)},
                                 {"drift 3 sd", std::vector<double>(n)},
                                 {"sine 1 sd", std::vector<double>(n)}};
  double level = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 1000 == 0) level = 3.0 * rng.Normal();
    const double x = static_cast<double>(i);
    signals[0].y[i] = level + rng.Normal();
    signals[1].y[i] = rng.Normal();
    signals[2].y[i] = 3.0 * x / nd + rng.Normal();
    signals[3].y[i] = std::sin(x * 2.0 * M_PI / 20000.0) + rng.Normal();
  }
  std::printf("n = %zu; PELT l2, default penalty; time = median of 3 (baseline: 1 run)\n", n);
  std::printf("%-18s %-5s %17s %17s %8s %6s %s\n", "signal", "jump", "PELT wall / CPU",
              "loop wall / CPU", "speed-up", "bkps", "same");
  for (const Signal& s : signals) {
    auto cost = MakeSegmentCost(CostKind::kL2, s.y);
    const double pen = DefaultPenalty(CostKind::kL2, s.y);
    for (std::size_t jump : {std::size_t{1}, std::size_t{5}}) {
      std::vector<std::size_t> fast, ref;
      const Timing t_fast = MedianTime(
          3,
          [&] {
            return *Pelt(**cost, SegmentationParams{2, jump}, pen);
          },
          &fast);
      const Timing t_ref = MedianTime(
          1, [&] { return PeltReference(**cost, 2, jump, pen); }, &ref);
      std::printf("%-18s %-5zu %7.3fs /%6.3fs %7.3fs /%6.3fs %7.1fx %6zu %s\n", s.name, jump,
                  t_fast.wall, t_fast.cpu, t_ref.wall, t_ref.cpu, t_ref.cpu / t_fast.cpu,
                  fast.size() - 1, fast == ref ? "yes" : "NO");
    }
  }
  auto cost = MakeSegmentCost(CostKind::kL2, signals[0].y);
  std::vector<std::size_t> b;
  const Timing t = MedianTime(
      3,
      [&] {
        return *BinarySegmentation(**cost, {2, 1}, {std::size_t{99}, {}});
      },
      &b);
  std::printf("binary segmentation, 100 planted steps, n_bkps 99, jump 1: %.3f s\n", t.wall);
  return 0;
}
