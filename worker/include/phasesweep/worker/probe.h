// Probes: what the trainer measures about every member at probe steps, and how probes plug in.
//
// A Probe produces one or more named metrics (e.g. "train_loss") as one value per member. At a
// probe step the trainer builds a ProbeContext — the model (tensors by name), the pack's data,
// the fixed probe batch, a lazily computed forward pass of that batch with the representations
// the probes asked for, the last gradient — and calls Measure on each probe in registry order.
// Probes that compare with earlier probe steps (embedding cosine vs the previous probe, CKA vs
// init, ...) keep that state themselves and export it through SaveState/LoadState so a resumed
// run continues bitwise.
//
// Adding a probe: implement Probe, add a ProbeDescriptor to the registry in probe_registry.cc
// (RegisterBuiltinProbes) and a row for each of its metrics to spec::ProbeCatalog() (spec/
// catalog.h), with the rule that refuses it where it does not apply: config validation reads
// the catalog, the registry checks at start-up that both name the same metrics.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/worker/model.h"
#include "phasesweep/worker/spec.h"
#include "phasesweep/worker/tasks.h"

namespace phasesweep::worker {

// Named tensors (probe state, checkpoint sections).
using TensorMap = std::map<std::string, torch::Tensor>;

// The fixed probe batch: min(probes.batch, n_train) training examples per member, chosen by a
// seeded permutation (stream kProbeBatchStream) once per run.
struct ProbeBatch {
  torch::Tensor tokens;  // int64 [K, Pb, seq_len]
  torch::Tensor labels;  // int64 [K, Pb]
};

class ProbeContext {
 public:
  int64_t step = 0;  // optimizer updates taken (0 = initialisation)
  const PackSpec* spec = nullptr;
  EnsembleModel* model = nullptr;
  const PackData* data = nullptr;
  const ProbeBatch* probe_batch = nullptr;
  // Members to measure (alive); values of other members are ignored.
  std::vector<bool> measure;
  // The gradient of the last update (flat, like params().flat_params(); zeros at step 0) and the
  // per-member gradient norms of that update (float64 [K]).
  torch::Tensor last_grad;
  torch::Tensor last_grad_norms;
  // Member k's seed, for randomness a probe needs: derive it as
  // DeriveSeed(seeds[k], kProbeStream, step) (counter-based: nothing to checkpoint).
  std::vector<uint64_t> seeds;

  // The model's forward pass on the probe batch (no autograd), with every representation some
  // probe listed in Probe::Representations() captured. Computed on first use, once per step.
  const ForwardOutput& ProbeForward();

  // Differentiable per-member mean losses [K] on (tokens [K,B,T], labels [K,B]): for probes that
  // need gradients (grad_norm, grad_noise_scale, sharpness).
  torch::Tensor MemberLossesOn(const torch::Tensor& tokens, const torch::Tensor& labels);

  std::vector<std::string> capture;  // set by the trainer: the union of Representations()

 private:
  bool forward_done_ = false;
  ForwardOutput forward_;
};

class Probe {
 public:
  virtual ~Probe() = default;
  // Name of the probe (for state keys and messages), e.g. "eval".
  virtual std::string name() const = 0;
  // Representations this probe reads from ctx.ProbeForward() (see model.h for names).
  virtual std::vector<std::string> Representations() const { return {}; }
  // Computes this probe's metrics: one [K] tensor (any float dtype, any device) per metric name
  // it was created for. Called under torch::NoGradGuard (take your own guard to differentiate).
  virtual void Measure(ProbeContext& ctx, TensorMap* metrics) = 0;
  // State carried between probe steps, for checkpoints. LoadState gets exactly what SaveState
  // produced (same keys) and returns an error if it cannot use it.
  virtual void SaveState(TensorMap* state) const {}
  virtual Status LoadState(const TensorMap& state) { return Status::Ok(); }
};

// What a probe factory gets.
struct ProbeSetup {
  const PackSpec* spec = nullptr;
  TaskInfo task;
  std::vector<std::string> metrics;  // the requested metrics this probe must produce
  torch::Device device = torch::kCPU;
};

struct ProbeDescriptor {
  std::string name;                  // probe name
  std::vector<std::string> metrics;  // metric names it can produce (globally unique)
  std::function<std::unique_ptr<Probe>(const ProbeSetup&)> create;
};

class ProbeRegistry {
 public:
  // The registry with every built-in probe.
  static const ProbeRegistry& Builtin();

  void Add(ProbeDescriptor descriptor);  // throws on a duplicate metric name
  std::vector<std::string> MetricNames() const;

  // Checks that this registry produces spec.probes.metrics: unknown names (the error lists the
  // valid ones), duplicates. Whether a metric applies to the task and model is the catalog's
  // rule (spec::ValidateProbeMetrics), checked by ValidatePackSpec.
  Status Validate(const PackSpec& spec) const;

  // The probes that produce spec.probes.metrics, in registry order.
  Result<std::vector<std::unique_ptr<Probe>>> Create(const PackSpec& spec, const TaskInfo& task,
                                                     torch::Device device) const;

 private:
  std::vector<ProbeDescriptor> descriptors_;
};

// Registers the built-in probes (probe_registry.cc).
void RegisterBuiltinProbes(ProbeRegistry* registry);

// The steps at which probes run for a run of `total_steps` updates: always 0 and total_steps;
// linear: every `every` steps; log: about `count` steps spaced evenly in log(step), dense early.
// Sorted, unique.
std::vector<int64_t> ProbeSteps(const ProbeSpec& spec, int64_t total_steps);

}  // namespace phasesweep::worker
