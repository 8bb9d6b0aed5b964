// The catalog's tables, one per section: adding a key means adding one row here (bound to its
// member in sections.h when the worker reads it) and its DocRow line in docs/CONFIG.md (a test
// checks both agree).
#include "keys.h"

namespace phasesweep::spec {
namespace {

Value ToValue(bool v) { return Value(v); }
Value ToValue(int64_t v) { return Value(v); }
Value ToValue(double v) { return Value(v); }
Value ToValue(const std::string& v) { return Value(v); }
Value ToValue(const std::vector<std::string>& v) { return Value(v); }
void FromValue(const Value& v, bool* out) { *out = v.AsBool(); }
void FromValue(const Value& v, int64_t* out) { *out = v.AsInt(); }
void FromValue(const Value& v, double* out) { *out = v.AsDouble(); }
void FromValue(const Value& v, std::string* out) { *out = v.AsString(); }
void FromValue(const Value& v, std::vector<std::string>* out) { *out = v.AsStringList(); }

// Binds a key to member `field` of section `section` of a pack.
template <class S, class F>
KeySpec Bind(S PackSpec::*section, F S::*field, KeySpec k) {
  k.get = [section, field](const PackSpec& p, const MemberOptimizerScalars&) {
    return ToValue((p.*section).*field);
  };
  k.set = [section, field](const Value& v, PackSpec* p, MemberOptimizerScalars*) {
    FromValue(v, &((p->*section).*field));
  };
  return k;
}
// Binds a key to a member scalar (may differ inside a pack).
KeySpec Member(double MemberOptimizerScalars::*field, KeySpec k) {
  k.get = [field](const PackSpec&, const MemberOptimizerScalars& m) { return ToValue(m.*field); };
  k.set = [field](const Value& v, PackSpec*, MemberOptimizerScalars* m) {
    FromValue(v, &(m->*field));
  };
  return k;
}

}  // namespace

std::vector<KeySpec> NameKeys() {
  return {Fixed(
      Key("name", T::kString, "phasesweep", R::kRuntime, "name of the study, shown in reports"))};
}

std::vector<KeySpec> TaskKeys() {
  return {
      Bind(&PackSpec::task, &TaskSpec::name,
           Choice("task.name", "modular_arithmetic", R::kStructural,
                  {"modular_arithmetic", "sparse_parity", "in_context_copy"}, "synthetic task")),
      Bind(&PackSpec::task, &TaskSpec::p,
           Ranged(Key("task.p", T::kInt, "59", R::kStructural,
                      "modular_arithmetic: modulus p (tokens 0..p-1, '=' is token p)"),
                  2, 1000)),
      Bind(&PackSpec::task, &TaskSpec::op,
           Choice("task.op", "add", R::kStructural, {"add", "sub", "mul", "div"},
                  "modular_arithmetic: the operation (div needs a prime p)")),
      Bind(&PackSpec::task, &TaskSpec::train_fraction,
           Ranged(Key("task.train_fraction", T::kDouble, "0.3", R::kStructural,
                      "modular_arithmetic: fraction of all pairs used for training"),
                  0, 1, /*min_exclusive=*/true)),
      Bind(&PackSpec::task, &TaskSpec::n_bits,
           Ranged(Key("task.n_bits", T::kInt, "30", R::kStructural, "sparse_parity: input bits n"),
                  1, 4096)),
      Bind(&PackSpec::task, &TaskSpec::k,
           Ranged(Key("task.k", T::kInt, "3", R::kStructural,
                      "sparse_parity: bits in the parity (k <= n_bits)"),
                  1, 4096)),
      Bind(&PackSpec::task, &TaskSpec::n_train,
           Ranged(Key("task.n_train", T::kInt, "1000", R::kStructural,
                      "sparse_parity, in_context_copy: training examples"),
                  1, 1e8)),
      Bind(&PackSpec::task, &TaskSpec::n_test,
           Ranged(Key("task.n_test", T::kInt, "1000", R::kStructural,
                      "sparse_parity, in_context_copy: test examples"),
                  1, 1e8)),
      Bind(&PackSpec::task, &TaskSpec::vocab,
           Ranged(Key("task.vocab", T::kInt, "16", R::kStructural,
                      "in_context_copy: token vocabulary"),
                  2, 100000)),
      Bind(&PackSpec::task, &TaskSpec::seq_len,
           Ranged(Key("task.seq_len", T::kInt, "12", R::kStructural,
                      "in_context_copy: sequence length"),
                  3, 4096)),
      Bind(&PackSpec::task, &TaskSpec::random_labels,
           Key("task.random_labels", T::kBool, "false", R::kStructural,
               "control: training labels permuted by the seed, so no real structure can be "
               "learned")),
  };
}

std::vector<KeySpec> ModelKeys() {
  return {
      Bind(&PackSpec::model, &ModelSpec::name,
           Choice("model.name", "transformer", R::kStructural, {"transformer", "mlp"},
                  "model family")),
      Bind(&PackSpec::model, &ModelSpec::layers,
           Ranged(Key("model.layers", T::kInt, "1", R::kStructural, "transformer: blocks"), 1, 64)),
      Bind(&PackSpec::model, &ModelSpec::d_model,
           Ranged(
               Key("model.d_model", T::kInt, "128", R::kStructural, "transformer: residual width"),
               1, 16384)),
      Bind(&PackSpec::model, &ModelSpec::heads,
           Ranged(Key("model.heads", T::kInt, "4", R::kStructural,
                      "transformer: attention heads (must divide d_model)"),
                  1, 1024)),
      Bind(&PackSpec::model, &ModelSpec::d_mlp,
           Ranged(
               Key("model.d_mlp", T::kInt, "512", R::kStructural, "transformer: MLP hidden width"),
               1, 65536)),
      Bind(
          &PackSpec::model, &ModelSpec::activation,
          Choice("model.activation", "relu", R::kStructural, {"relu", "gelu"}, "MLP nonlinearity")),
      Bind(&PackSpec::model, &ModelSpec::layer_norm,
           Key("model.layer_norm", T::kBool, "false", R::kStructural,
               "transformer: pre-LayerNorm on/off")),
      Bind(&PackSpec::model, &ModelSpec::learned_positions,
           Key("model.learned_positions", T::kBool, "true", R::kStructural,
               "transformer: learned position embedding")),
      Bind(&PackSpec::model, &ModelSpec::tied_unembed,
           Key("model.tied_unembed", T::kBool, "false", R::kStructural,
               "transformer: unembedding tied to the token embedding")),
      Bind(&PackSpec::model, &ModelSpec::depth,
           Ranged(Key("model.depth", T::kInt, "2", R::kStructural, "mlp: hidden layers"), 1, 64)),
      Bind(&PackSpec::model, &ModelSpec::width,
           Ranged(Key("model.width", T::kInt, "256", R::kStructural, "mlp: hidden width"), 1,
                  65536)),
  };
}

std::vector<KeySpec> OptimizerKeys() {
  using M = MemberOptimizerScalars;
  return {
      Bind(&PackSpec::optimizer, &OptimizerSpec::name,
           Choice("optimizer.name", "adamw", R::kStructural, {"adamw", "sgd"}, "optimizer")),
      Member(&M::lr, Ranged(Key("optimizer.lr", T::kDouble, "0.001", R::kMemberScalar,
                                "peak learning rate"),
                            0, 10, true)),
      Member(&M::weight_decay,
             Ranged(Key("optimizer.weight_decay", T::kDouble, "1.0", R::kMemberScalar,
                        "decoupled weight decay (AdamW) / L2 decay (SGD)"),
                    0, 1e6)),
      Member(&M::beta1,
             Ranged(Key("optimizer.beta1", T::kDouble, "0.9", R::kMemberScalar, "AdamW beta1"), 0,
                    0.999999)),
      Member(&M::beta2,
             Ranged(Key("optimizer.beta2", T::kDouble, "0.98", R::kMemberScalar, "AdamW beta2"), 0,
                    0.999999)),
      Member(&M::momentum,
             Ranged(Key("optimizer.momentum", T::kDouble, "0.9", R::kMemberScalar, "SGD momentum"),
                    0, 0.999999)),
      Member(&M::grad_clip,
             Ranged(Key("optimizer.grad_clip", T::kDouble, "0", R::kMemberScalar,
                        "clip each member's gradient to this global L2 norm; 0 = off"),
                    0, 1e12)),
      Bind(&PackSpec::optimizer, &OptimizerSpec::eps,
           Ranged(Key("optimizer.eps", T::kDouble, "1e-8", R::kStructural, "AdamW epsilon"), 0, 1,
                  true)),
      Bind(&PackSpec::optimizer, &OptimizerSpec::schedule,
           Choice("optimizer.schedule", "constant", R::kStructural, {"constant", "cosine"},
                  "learning-rate schedule after warmup (cosine decays to 0 at the last "
                  "step)")),
      Bind(&PackSpec::optimizer, &OptimizerSpec::warmup_steps,
           Ranged(Key("optimizer.warmup_steps", T::kInt, "0", R::kStructural,
                      "linear warmup steps from 0 to lr"),
                  0, 1e9)),
  };
}

std::vector<KeySpec> TrainingKeys() {
  return {
      Bind(&PackSpec::training, &TrainingSpec::steps,
           Ranged(Key("training.steps", T::kInt, "3000", R::kStructural, "optimizer steps per job"),
                  1, 1e9)),
      Bind(&PackSpec::training, &TrainingSpec::batch_size,
           Ranged(Key("training.batch_size", T::kInt, "0", R::kStructural,
                      "minibatch size; 0 = full batch"),
                  0, 1e9)),
      Ranged(Key("training.pack", T::kIntOrAuto, "auto", R::kRuntime,
                 "members per pack (ensemble size K); auto = from a memory estimate, spread over "
                 "ranks"),
             1, 4096),
      Bind(&PackSpec::training, &TrainingSpec::device,
           Fixed(Choice("training.device", "auto", R::kRuntime, {"auto", "cpu", "cuda"},
                        "auto = CUDA when present, else CPU"))),
      Bind(&PackSpec::training, &TrainingSpec::threads,
           Fixed(Ranged(Key("training.threads", T::kInt, "0", R::kRuntime,
                            "intra-op threads per rank; 0 = cores / local ranks"),
                        0, 1024))),
      Bind(&PackSpec::training, &TrainingSpec::checkpoint_every,
           Ranged(Key("training.checkpoint_every", T::kInt, "500", R::kRuntime,
                      "steps between checkpoints; 0 = only on SIGTERM/SIGUSR1"),
                  0, 1e9)),
      Ranged(Key("training.retries", T::kInt, "1", R::kRuntime,
                 "times a pack that threw an error is retried before its jobs are failed"),
             0, 100),
      Fixed(Ranged(Key("training.data_parallel", T::kInt, "1", R::kRuntime,
                       "ranks per group training one pack together (must divide the rank count)"),
                   1, 65536)),
  };
}

std::vector<KeySpec> ProbeKeys() {
  std::vector<std::string> probe_names;
  for (const auto& p : ProbeCatalog()) probe_names.push_back(p.name);
  KeySpec metrics =
      Key("probes.metrics", T::kStringList,
          "[train_loss, test_loss, train_acc, test_acc, emb_norm, emb_cos_prev]", R::kStructural,
          "probes computed at every probe step (see docs/METRICS.md)");
  metrics.choices = probe_names;
  metrics.valid_doc = "see docs/METRICS.md";
  return {
      Bind(&PackSpec::probes, &ProbeSpec::metrics, metrics),
      Bind(&PackSpec::probes, &ProbeSpec::schedule,
           Choice("probes.schedule", "linear", R::kStructural, {"linear", "log"},
                  "probe steps: every N, or log-spaced (dense early); first and last step "
                  "always")),
      Bind(&PackSpec::probes, &ProbeSpec::every,
           Ranged(Key("probes.every", T::kInt, "50", R::kStructural,
                      "linear schedule: probe every N steps"),
                  1, 1e9)),
      Bind(&PackSpec::probes, &ProbeSpec::count,
           Ranged(Key("probes.count", T::kInt, "100", R::kStructural,
                      "log schedule: about N probe steps"),
                  2, 1e6)),
      Bind(&PackSpec::probes, &ProbeSpec::batch,
           Ranged(Key("probes.batch", T::kInt, "512", R::kStructural,
                      "examples in the fixed probe batch (<= the smaller of train and test "
                      "set)"),
                  1, 1e8)),
      Bind(&PackSpec::probes, &ProbeSpec::cka,
           Choice("probes.cka", "linear", R::kStructural, {"linear", "debiased"}, "CKA estimator")),
      Bind(&PackSpec::probes, &ProbeSpec::representation,
           Choice("probes.representation", "resid_final", R::kStructural, {"resid_final"},
                  "hidden representation read by cka/rank/clustering probes")),
      Bind(&PackSpec::probes, &ProbeSpec::snapshot_every,
           Ranged(Key("probes.snapshot_every", T::kInt, "0", R::kStructural,
                      "store the embedding matrix every N steps; 0 = never"),
                  0, 1e9)),
      Bind(&PackSpec::probes, &ProbeSpec::sharpness_iters,
           Ranged(Key("probes.sharpness_iters", T::kInt, "20", R::kStructural,
                      "sharpness: power-iteration steps"),
                  1, 10000)),
      Bind(&PackSpec::probes, &ProbeSpec::sharpness_tol,
           Ranged(Key("probes.sharpness_tol", T::kDouble, "0.001", R::kStructural,
                      "sharpness: relative tolerance to stop early"),
                  0, 1, true)),
  };
}

std::vector<KeySpec> OutputKeys() {
  return {Fixed(Key("output.path", T::kString, "results.h5", R::kRuntime,
                    "results file (-o on the command line wins)"))};
}

}  // namespace phasesweep::spec
