// Descriptors of the built-in probes, one function per probe source file; probe_registry.cc
// registers them in this order (which is also the order metrics are computed in).
#pragma once

#include <functional>

#include "phasesweep/worker/probe.h"

namespace phasesweep::worker {

// train_loss, test_loss, train_acc, test_acc on the full train and test sets (eval_probe.cc).
ProbeDescriptor EvalProbeDescriptor();

// Parameter-space probes (weight_probes.cc): emb_norm, emb_row_norm_mean, emb_cos_prev,
// emb_cos_init, emb_rel_update, rel_update, weight_norm, emb_eff_rank, emb_stable_rank,
// emb_participation_ratio, fourier_gini.
ProbeDescriptor WeightProbeDescriptor();

// Probes of the hidden representation probes.representation on the probe batch
// (representation_probe.cc): cka_prev, cka_init, eff_rank, stable_rank, participation_ratio,
// silhouette, nc1.
ProbeDescriptor RepresentationProbeDescriptor();

// Gradient probes on the probe batch (gradient_probes.cc): grad_norm, grad_noise_scale; and
// sharpness (opt-in: power iteration on Hessian-vector products).
ProbeDescriptor GradientProbeDescriptor();
ProbeDescriptor SharpnessProbeDescriptor();

// Whether `metric` is among `wanted` (the metrics a probe was created for).
bool Wants(const std::vector<std::string>& wanted, const char* metric);

// Sets (*out)[metric] = value() when `metric` is wanted (value is computed only then).
void PutIfWanted(const std::vector<std::string>& wanted, const char* metric,
                 const std::function<torch::Tensor()>& value, TensorMap* out);

// float64 [K] of NaN on `device`: a metric against the previous probe step at the first probe
// step, where there is none (docs/METRICS.md).
torch::Tensor NoPreviousProbe(int64_t members, torch::Device device);


// Applies `fn` ([A, ...] -> [A]) to the members ctx measures (alive ones) only, and returns a
// float64 [K] on x's device with NaN for the others: a diverged member's NaN weights never reach
// a decomposition that could throw on them.
torch::Tensor ForAliveMembers(const ProbeContext& ctx, const torch::Tensor& x,
                              const std::function<torch::Tensor(const torch::Tensor&)>& fn);

// The same for a per-member scalar function of member k (called only for alive members).
torch::Tensor ForEachAliveMember(const ProbeContext& ctx, torch::Device device,
                                 const std::function<double(int64_t k)>& fn);

}  // namespace phasesweep::worker
