// Synthetic sweeps with planted transitions; see synthetic.h.
#include "phasesweep/analysis/synthetic.h"

#include <cmath>

#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double Value(const std::string& metric, double t, double tc, bool control, Rng& rng) {
  if (control) {
    if (metric == "emb_cos_prev" || metric == "cka_prev") return 0.9 + 0.05 * rng.Normal();
    if (metric == "test_acc") return 0.1 + 0.01 * rng.Normal();
    if (metric == "train_loss") return 2.3 - 1.0 * t + 0.01 * rng.Normal();
    if (metric == "test_loss") return 2.3 + 0.01 * rng.Normal();
    return rng.Normal();
  }
  if (metric == "emb_cos_prev" || metric == "cka_prev") {
    const double te = tc - 0.1 + (metric == "cka_prev" ? 0.02 : 0.0);
    if (t < te) return 0.6 + 0.1 * rng.Normal();
    const double rise = Sigmoid((t - te - 0.03) / 0.01);
    const double sd = t < te + 0.1 ? 0.02 : 0.002;
    return 0.6 + 0.39 * rise + sd * rng.Normal();
  }
  if (metric == "test_acc") return 0.1 + 0.85 * Sigmoid((t - tc) / 0.01) + 0.01 * rng.Normal();
  if (metric == "train_loss") {
    return 0.05 + 2.25 * (1.0 - Sigmoid((t - tc + 0.02) / 0.015)) + 0.005 * rng.Normal();
  }
  if (metric == "test_loss") {
    double base;
    if (t < 0.1) {
      base = 2.3 - 8.0 * t;
    } else if (t < tc) {
      base = 1.5 + 0.5 * (t - 0.1) / (tc - 0.1);
    } else {
      base = 0.2;
    }
    return base + 0.005 * rng.Normal();
  }
  return rng.Normal();
}

}  // namespace

TraceSet MakeSyntheticSweep(const SyntheticSweepSpec& spec) {
  TraceSet set;
  std::int64_t grid = 0;
  for (int control = 0; control <= (spec.controls ? 1 : 0); ++control) {
    for (std::size_t level = 0; level < spec.levels.size(); ++level, ++grid) {
      for (int s = 0; s < spec.seeds; ++s) {
        TraceJob job;
        job.job_id = "g" + std::to_string(grid) + "s" + std::to_string(s);
        job.seed = static_cast<std::uint64_t>(s);
        job.grid_index = grid;
        job.hparams[spec.axis] = spec.levels[level];
        job.hparams["task.random_labels"] = control ? "true" : "false";
        Rng rng(StreamSeed(spec.seed, job.job_id));
        const double tc =
            0.45 + static_cast<double>(level) * spec.level_shift + 0.015 * rng.Normal();
        for (int i = 0; i < spec.probes; ++i) job.trace.steps.push_back(i * spec.step_every);
        for (const std::string& metric : spec.metrics) {
          std::vector<double> v(static_cast<std::size_t>(spec.probes));
          for (int i = 0; i < spec.probes; ++i) {
            const double t = static_cast<double>(i) / spec.probes;
            v[static_cast<std::size_t>(i)] = Value(metric, t, tc, control == 1, rng);
          }
          job.trace.metrics[metric] = std::move(v);
        }
        set.jobs.push_back(std::move(job));
      }
    }
  }
  return set;
}

}  // namespace phasesweep::analysis
