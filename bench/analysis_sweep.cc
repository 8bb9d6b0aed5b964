// Benchmark: AnalyzeSweep on 10,000 traces x 500 probe steps (2,500 synthetic jobs: 10 weight
// decays x 125 seeds, each also as a random-label control, with 4 metrics), default options
// (199 surrogates per trace, 2,000 bootstrap resamples per interval), with 1 and 2 threads, and
// two reduced runs that show where the time goes.
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
  // Each thread count with the default options, then (first thread count) two reduced runs that
  // split the time: without surrogates, and without surrogates or bootstrap intervals.
  struct Run {
    int threads;
    int surrogates;
    int bootstrap;
    const char* what;
  };
  std::vector<Run> runs;
  for (int th : threads) runs.push_back({th, 199, 2000, "default"});
  runs.push_back({threads[0], 0, 2000, "no surrogates"});
  runs.push_back({threads[0], 0, 0, "no surrogates, no bootstrap"});
  for (const Run& run : runs) {
    AnalysisOptions o;
    o.threads = run.threads;
    o.surrogates = run.surrogates;
    o.bootstrap = run.bootstrap;
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
        "threads %d, %s: %.2f s wall, %.2f s CPU for %zu traces (%.2f ms CPU/trace), %zu tests\n",
        run.threads, run.what, s, cpu, r->traces.size(), 1e3 * cpu / r->traces.size(),
        r->tests.size());
  }
  return 0;
}
