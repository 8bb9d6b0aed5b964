// Small, fast pack specs shared by the worker tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/worker/spec.h"

namespace phasesweep::worker::testing {

// A tiny transformer on modular addition (p = 23), minibatches of 32, AdamW.
inline PackSpec SmallModularPack(std::vector<uint64_t> seeds, int64_t steps = 200) {
  PackSpec s;
  s.pack_id = "test";
  s.task.name = "modular_arithmetic";
  s.task.p = 23;
  s.task.op = "add";
  s.task.train_fraction = 0.5;
  s.model.name = "transformer";
  s.model.layers = 1;
  s.model.d_model = 32;
  s.model.heads = 4;
  s.model.d_mlp = 64;
  s.optimizer.name = "adamw";
  s.optimizer.warmup_steps = 10;
  s.training.steps = steps;
  s.training.batch_size = 32;
  s.training.checkpoint_every = 0;
  s.training.device = "cpu";
  s.probes.metrics = {"train_loss", "test_loss", "train_acc", "test_acc"};
  s.probes.schedule = "linear";
  s.probes.every = 25;
  s.probes.batch = 64;
  for (size_t i = 0; i < seeds.size(); ++i) {
    MemberSpec m;
    m.job_id = "job" + std::to_string(seeds[i]);
    m.seed = seeds[i];
    m.scalars.lr = 3e-3;
    m.scalars.weight_decay = 0.5;
    s.members.push_back(m);
  }
  return s;
}

// An MLP on sparse parity (n = 8, k = 2).
inline PackSpec SmallParityPack(std::vector<uint64_t> seeds, int64_t steps = 200) {
  PackSpec s = SmallModularPack(std::move(seeds), steps);
  s.task.name = "sparse_parity";
  s.task.n_bits = 8;
  s.task.k = 2;
  s.task.n_train = 256;
  s.task.n_test = 256;
  s.model.name = "mlp";
  s.model.depth = 2;
  s.model.width = 64;
  s.training.batch_size = 32;
  for (MemberSpec& m : s.members) m.scalars.weight_decay = 0.01;
  return s;
}

}  // namespace phasesweep::worker::testing
