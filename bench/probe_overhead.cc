// Probe overhead: training time of the default study's pack with its probes at its schedule,
// relative to the same pack with (almost) no probes; and the cost of opt-in sharpness.
//
//   phasesweep_probe_overhead steps=400 reps=3 threads=1 [seeds=8] [config=path.yaml] [breakdown=1]
//
// Each variant is the default config (or config=) planned as `phasesweep run` plans it, one pack
// of `seeds` members, trained for `steps` updates with PackTrainer::Run (set-up excluded):
//   bare      probes.metrics=[train_loss], probed only at the first and last step
//   default   the config's own probes.metrics and schedule
//   +sharp    the config's probes plus sharpness (probes.sharpness_iters, default 20)
//   <metric>  with breakdown=1: each of the config's probes alone, at its schedule
// Variants run interleaved `reps` times and the fastest run of each counts (this machine is
// shared; both sides of every ratio are measured the same way). Prints one line per variant and
// one JSON line with the ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "bench_args.h"
#include "phasesweep/orchestrator/config.h"
#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/worker/trainer.h"

namespace {

using phasesweep::worker::PackSpec;
using phasesweep::worker::PackTrainer;

PackSpec Plan(const std::string& config, const std::vector<std::string>& overrides) {
  auto spec = phasesweep::orchestrator::LoadSweepSpec({config}, overrides);
  if (!spec.ok()) {
    std::fprintf(stderr, "probe_overhead: %s\n", spec.status().message().c_str());
    std::exit(2);
  }
  auto plan = phasesweep::orchestrator::MakePlan(*spec, {});
  if (!plan.ok() || plan->packs.empty()) {
    std::fprintf(stderr, "probe_overhead: %s\n",
                 plan.ok() ? "the config plans no pack" : plan.status().message().c_str());
    std::exit(2);
  }
  return plan->packs[0].spec;  // the first grid point's pack of `seeds` members
}

double TimeRun(const PackSpec& spec) {
  auto t = PackTrainer::Create(spec, torch::kCPU);
  if (!t.ok()) {
    std::fprintf(stderr, "probe_overhead: %s\n", t.status().message().c_str());
    std::exit(1);
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = (*t)->Run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) {
    std::fprintf(stderr, "probe_overhead: %s\n", r.status().message().c_str());
    std::exit(1);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const phasesweep::bench::BenchArgs args(
      argc, argv,
      "[steps=N] [reps=N] [threads=N] [seeds=N] [config=F] [breakdown=1] [sharpness=0]");
  auto get = [&](const std::string& k, const std::string& def) { return args.Get(k, def); };
  const std::string steps = get("steps", "400"), threads = get("threads", "1");
  const int reps = std::stoi(get("reps", "3"));
  const std::vector<std::string> common = {"training.steps=" + steps, "training.threads=" + threads,
                                           "sweep.seeds=range(" + get("seeds", "8") + ")",
                                           "training.pack=" + get("seeds", "8")};
  const std::string config = get("config", "");
  PackSpec with_probes = Plan(config, common);
  PackSpec bare = with_probes;
  bare.probes.metrics = {"train_loss"};
  bare.probes.schedule = "linear";
  bare.probes.every = bare.training.steps;
  PackSpec sharp = with_probes;
  sharp.probes.metrics.push_back("sharpness");
  // sharpness=0 skips the +sharp variant (bench/run's quick figures).
  const bool with_sharp = get("sharpness", "1") != "0";
  std::vector<std::pair<std::string, PackSpec>> variants = {{"bare", bare},
                                                            {"default", with_probes}};
  if (with_sharp) variants.push_back({"+sharp", sharp});
  if (get("breakdown", "0") == "1") {  // each probe alone at the default schedule
    for (const std::string& m : with_probes.probes.metrics) {
      PackSpec one = with_probes;
      one.probes.metrics = {m};
      variants.push_back({m, one});
    }
  }

  std::vector<double> best(variants.size(), std::numeric_limits<double>::infinity());
  for (int r = 0; r < reps; ++r) {
    for (size_t v = 0; v < variants.size(); ++v) {
      best[v] = std::min(best[v], TimeRun(variants[v].second));
    }
  }
  std::string metrics;
  for (const std::string& m : with_probes.probes.metrics)
    metrics += (metrics.empty() ? "" : " ") + m;
  const size_t probe_steps =
      phasesweep::worker::ProbeSteps(with_probes.probes, with_probes.training.steps).size();
  std::printf("pack of %zu members, %s steps, %zu probe steps (%s every %lld), probes: %s\n",
              with_probes.members.size(), steps.c_str(), probe_steps,
              with_probes.probes.schedule.c_str(), static_cast<long long>(with_probes.probes.every),
              metrics.c_str());
  for (size_t v = 0; v < variants.size(); ++v) {
    std::printf("%-14s %8.3f s  (%.3f x bare)\n", variants[v].first.c_str(), best[v],
                best[v] / best[0]);
  }
  std::string sharp_s = "null", sharp_per_probe = "null";
  if (with_sharp) {
    sharp_s = std::to_string(best[2]);
    sharp_per_probe = std::to_string((best[2] - best[1]) / static_cast<double>(probe_steps));
  }
  std::printf(
      "{\"members\":%zu,\"steps\":%s,\"probe_steps\":%zu,\"bare_s\":%.4f,\"default_s\":%.4f,"
      "\"sharpness_s\":%s,\"overhead\":%.4f,\"sharpness_per_probe_step_s\":%s}\n",
      with_probes.members.size(), steps.c_str(), probe_steps, best[0], best[1], sharp_s.c_str(),
      best[1] / best[0] - 1.0, sharp_per_probe.c_str());
  return 0;
}
