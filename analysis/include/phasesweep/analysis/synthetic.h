// Synthetic sweeps with known transitions, for tests, benchmarks and demonstrations of
// AnalyzeSweep without training anything. Shapes (t = fraction of the run, tc = transition):
//   emb_cos_prev  volatile (sd 0.1 around 0.6) until tc - 0.1, then a sigmoid rise to 0.99 with
//                 moderate noise, then stable (sd 0.002): three phases, change point near tc - 0.1
//   cka_prev      the same shape, 0.02 later
//   test_acc      sigmoid from 0.1 to 0.95 at tc (after the embedding transition)
//   train_loss    2.3 falling to a 0.05 plateau reached around tc + 0.05
//   test_loss     falls early, creeps up until tc (so patience stops too soon), drops after tc
// tc = 0.45 + level_index * level_shift + N(0, 0.015) per seed. Controls (random labels) have no
// transition: noisy flat embedding stability, chance accuracy, slowly falling train loss.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/analysis/trace_set.h"

namespace phasesweep::analysis {

struct SyntheticSweepSpec {
  std::string axis = "optimizer.weight_decay";
  std::vector<std::string> levels = {"0", "0.1"};
  double level_shift = -0.08;  // tc moves by this per level index
  int seeds = 8;
  int probes = 200;
  std::int64_t step_every = 10;
  bool controls = true;  // one extra grid point per level with task.random_labels=true
  std::vector<std::string> metrics = {"emb_cos_prev", "cka_prev", "test_acc", "train_loss",
                                      "test_loss"};
  std::uint64_t seed = 1;
};

TraceSet MakeSyntheticSweep(const SyntheticSweepSpec& spec);

}  // namespace phasesweep::analysis
