// Benchmark: AnalyzeSweep on 10,000 traces x 500 probe steps (2,500 synthetic jobs: 10 weight
// decays x 125 seeds, each also as a random-label control, with 4 metrics), default options
// (199 surrogates per trace, 2,000 bootstrap resamples per interval), with 1 and 2 threads.
// Wall time depends on what else runs on the machine; CPU time (all threads) is reported too.
// Run: build/bench/phasesweep_bench_analysis_sweep [threads...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "phasesweep/analysis/analyze.h"
#include "phasesweep/analysis/synthetic.h"

using namespace phasesweep::analysis;  // NOLINT: a benchmark main

int main(int argc, char** argv) {
  SyntheticSweepSpec spec;
  spec.levels = {"0", "0.01", "0.02", "0.03", "0.05", "0.1", "0.2", "0.3", "0.5", "1"};
  spec.level_shift = -0.02;
  spec.seeds = 125;
  spec.probes = 500;
  spec.metrics = {"emb_cos_prev", "test_acc", "train_loss", "test_loss"};
  auto t0 = std::chrono::steady_clock::now();
  const TraceSet set = MakeSyntheticSweep(spec);
  const double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%zu jobs x %zu metrics x %d steps generated in %.2f s\n", set.jobs.size(),
              spec.metrics.size(), spec.probes, gen);
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1, 2};
  for (int th : threads) {
    AnalysisOptions o;
    o.threads = th;
    t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    auto r = AnalyzeSweep(set, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      return 1;
    }
    std::printf(
        "threads %d: %.2f s wall, %.2f s CPU for %zu traces (%.2f ms CPU/trace), %zu tests\n", th,
        s, cpu, r->traces.size(), 1e3 * cpu / r->traces.size(), r->tests.size());
  }
  return 0;
}
