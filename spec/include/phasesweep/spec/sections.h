// The typed configuration sections (task, model, optimizer, training, probes) and the pack that
// bundles them: the resolved description of one pack of training runs.
//
// Each member is bound to its config key in the catalog (catalog.h; docs/CONFIG.md's key tables
// are its rows), and the defaults below are the catalog's defaults (catalog_test checks it).
// validate.h holds the one rule set: the orchestrator calls it on every grid point before
// planning, the worker again before training. String-valued choices (task name, activation, ...)
// use exactly the spellings of the config.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace phasesweep::spec {

struct TaskSpec {
  std::string name = "modular_arithmetic";  // modular_arithmetic | sparse_parity | in_context_copy
  // modular_arithmetic: (a op b) mod p over all pairs, split per member by its seed.
  int64_t p = 59;
  std::string op = "add";  // add | sub | mul | div (div needs p prime; b = 0 excluded)
  double train_fraction = 0.3;
  // sparse_parity: n_bits random bits, label = parity of k fixed bits (chosen by the seed).
  int64_t n_bits = 30;
  int64_t k = 3;
  int64_t n_train = 1000;
  int64_t n_test = 1000;
  // in_context_copy: sequences over `vocab` tokens of length seq_len; the answer must be copied
  // from earlier in the sequence (n_train / n_test sequences).
  int64_t vocab = 16;
  int64_t seq_len = 12;
  // Control: the training labels are a seeded permutation of the true labels.
  bool random_labels = false;
};

struct ModelSpec {
  std::string name = "transformer";  // transformer | mlp
  // transformer
  int64_t layers = 1;
  int64_t d_model = 128;
  int64_t heads = 4;
  int64_t d_mlp = 512;
  std::string activation = "relu";  // relu | gelu (mlp too)
  bool layer_norm = false;
  bool learned_positions = true;
  bool tied_unembed = false;
  // mlp
  int64_t depth = 2;
  int64_t width = 256;
};

// Scalars that may differ between members of one pack (become K-vectors inside the optimizer).
struct MemberOptimizerScalars {
  double lr = 1e-3;
  double weight_decay = 1.0;
  double beta1 = 0.9;
  double beta2 = 0.98;
  double momentum = 0.9;
  double grad_clip = 0.0;  // 0 = off; else the member's gradient is clipped to this global L2 norm
};

struct OptimizerSpec {
  std::string name = "adamw";  // adamw | sgd
  double eps = 1e-8;
  std::string schedule = "constant";  // constant | cosine (decays to 0 at training.steps)
  int64_t warmup_steps = 0;           // linear warmup from 0 to lr
};

struct TrainingSpec {
  int64_t steps = 3000;
  int64_t batch_size = 0;  // 0 = full batch; else minibatches with per-member seeded shuffling
  int64_t checkpoint_every = 500;  // 0 = only on demand
  std::string device = "auto";     // auto | cpu | cuda
  int64_t threads = 0;             // intra-op threads; 0 = chosen from cores / local ranks
  // Not a config key (no catalog row; programs set it): let CUDA matmuls use TF32. Off by default:
  // TF32 rounds to 10 mantissa bits, which breaks the "same trace in any pack" guarantee and
  // changes probe values.
  bool allow_tf32 = false;
};

struct ProbeSpec {
  std::vector<std::string> metrics = {"train_loss", "test_loss", "train_acc",
                                      "test_acc",   "emb_norm",  "emb_cos_prev"};
  std::string schedule = "linear";  // linear | log ; first and last step always probed
  int64_t every = 50;               // linear: probe every N steps
  int64_t count = 100;              // log: about this many probe steps, log-spaced
  int64_t batch = 512;              // fixed probe batch size (deterministic from the seed)
  std::string cka = "linear";       // linear | debiased
  std::string representation = "resid_final";  // named hidden representation the probes read
  int64_t snapshot_every = 0;                  // 0 = no embedding snapshots
  int64_t sharpness_iters = 20;
  double sharpness_tol = 1e-3;
};

struct MemberSpec {
  std::string job_id;
  uint64_t seed = 0;
  MemberOptimizerScalars scalars;
};

// K members that share every structural parameter; the unit of work a rank (or group) trains.
struct PackSpec {
  std::string pack_id;
  TaskSpec task;
  ModelSpec model;
  OptimizerSpec optimizer;
  TrainingSpec training;
  ProbeSpec probes;
  std::vector<MemberSpec> members;
};

}  // namespace phasesweep::spec
