// Gradient probes on the fixed probe batch: the gradient norm and the two-batch gradient noise
// scale (McCandlish et al. 2018), and — opt-in, because each estimate costs up to
// probes.sharpness_iters Hessian-vector products — sharpness, the top Hessian eigenvalue.
//
// The probe batch (Pb examples per member) is split into C equal chunks (C = 4 when Pb >= 8,
// else 2; a remainder of Pb mod C examples is left out). With G_i the gradient of the mean loss
// over chunk i (b_small = Pb / C examples) and G = mean_i G_i the gradient over all C chunks
// (b_big = C b_small): grad_norm = |G|, and the noise scale uses |G_small|^2 = mean_i |G_i|^2,
// |G_big|^2 = |G|^2. One forward and backward pass over the probe batch in all; the training
// gradient buffers are not touched (torch::autograd::grad).
#include <algorithm>
#include <cmath>

#include "phasesweep/worker/representation_metrics.h"
#include "phasesweep/worker/rng.h"
#include "probes/builtin_probes.h"

namespace phasesweep::worker {
namespace {

class GradientProbe final : public Probe {
 public:
  explicit GradientProbe(std::vector<std::string> metrics) : metrics_(std::move(metrics)) {}

  std::string name() const override { return "gradient"; }

  void Measure(ProbeContext& ctx, TensorMap* out) override {
    const torch::Tensor& tokens = ctx.probe_batch->tokens;  // [K, Pb, T]
    const torch::Tensor& labels = ctx.probe_batch->labels;  // [K, Pb]
    const int64_t pb = tokens.size(1);
    const int64_t chunks = pb >= 8 ? 4 : 2;
    const int64_t b_small = pb / chunks;
    torch::AutoGradMode enable_grad(true);  // the trainer calls Measure under NoGradGuard
    std::vector<torch::Tensor> params = ctx.model->params().Parameters();
    std::vector<torch::Tensor> sum;  // sum over chunks of G_i, per parameter
    torch::Tensor small_sq;          // sum over chunks of |G_i|^2, [K]
    for (int64_t i = 0; i < chunks; ++i) {
      torch::Tensor losses = ctx.MemberLossesOn(tokens.narrow(1, i * b_small, b_small),
                                                labels.narrow(1, i * b_small, b_small));
      std::vector<torch::Tensor> grads =
          torch::autograd::grad({losses.sum()}, params, {}, /*retain_graph=*/false,
                                /*create_graph=*/false, /*allow_unused=*/true);
      torch::Tensor sq = BatchedGlobalNorm(grads).square();
      small_sq = small_sq.defined() ? small_sq + sq : sq;
      if (sum.empty()) {
        sum = grads;
      } else {
        for (size_t j = 0; j < grads.size(); ++j) {
          if (!grads[j].defined()) continue;
          sum[j] = sum[j].defined() ? sum[j] + grads[j] : grads[j];
        }
      }
    }
    for (torch::Tensor& g : sum) {
      if (g.defined()) g = g / static_cast<double>(chunks);
    }
    torch::Tensor big = BatchedGlobalNorm(sum);  // |G|, [K]
    if (Wants(metrics_, "grad_norm")) (*out)["grad_norm"] = big;
    if (Wants(metrics_, "grad_noise_scale")) {
      torch::Tensor small_host = (small_sq / static_cast<double>(chunks)).cpu();
      torch::Tensor big_host = big.square().cpu();
      (*out)["grad_noise_scale"] = ForEachAliveMember(ctx, big.device(), [&](int64_t k) {
        const double s = small_host[k].item<double>(), b = big_host[k].item<double>();
        if (!std::isfinite(s) || !std::isfinite(b)) return std::nan("");
        return EstimateGradientNoiseScale(s, b_small, b, chunks * b_small).b_simple;
      });
    }
  }

 private:
  std::vector<std::string> metrics_;
};

class SharpnessProbe final : public Probe {
 public:
  std::string name() const override { return "sharpness"; }

  void Measure(ProbeContext& ctx, TensorMap* out) override {
    SharpnessOptions options;
    options.max_iterations = ctx.spec->probes.sharpness_iters;
    options.tolerance = ctx.spec->probes.sharpness_tol;
    for (uint64_t seed : ctx.seeds) {
      options.member_seeds.push_back(
          DeriveSeed(seed, kProbeStream, static_cast<uint64_t>(ctx.step)));
    }
    std::vector<SharpnessEstimate> e = TopHessianEigenvaluePerMember(
        [&] { return ctx.MemberLossesOn(ctx.probe_batch->tokens, ctx.probe_batch->labels).sum(); },
        ctx.model->params().Parameters(), options);
    (*out)["sharpness"] = ForEachAliveMember(ctx, ctx.probe_batch->tokens.device(), [&](int64_t k) {
      return e[static_cast<size_t>(k)].eigenvalue;
    });
  }
};

}  // namespace

ProbeDescriptor GradientProbeDescriptor() {
  ProbeDescriptor d;
  d.name = "gradient";
  d.metrics = {"grad_norm", "grad_noise_scale"};
  d.create = [](const ProbeSetup& setup) -> std::unique_ptr<Probe> {
    return std::make_unique<GradientProbe>(setup.metrics);
  };
  return d;
}

ProbeDescriptor SharpnessProbeDescriptor() {
  ProbeDescriptor d;
  d.name = "sharpness";
  d.metrics = {"sharpness"};
  // probes.sharpness_iters and sharpness_tol are within the catalog's ranges
  // (spec::ValidatePack checked them): the probe applies to every task and model.
  d.create = [](const ProbeSetup&) -> std::unique_ptr<Probe> {
    return std::make_unique<SharpnessProbe>();
  };
  return d;
}

}  // namespace phasesweep::worker
