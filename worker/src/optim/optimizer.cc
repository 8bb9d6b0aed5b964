// Schedule and the device-agnostic (tensor-op) optimizer step. The fused CPU step is
// in optimizer_cpu.cc.
#include "phasesweep/worker/optimizer.h"

#include <cmath>
#include <string>

#include "phasesweep/worker/kernel_policy.h"

namespace phasesweep::worker {
namespace {
constexpr int64_t kChunk = 16384;  // floats per fused-kernel work item
}  // namespace

double ScheduleFactor(const OptimizerSpec& spec, int64_t i, int64_t total_steps) {
  if (i < spec.warmup_steps) {
    return static_cast<double>(i + 1) / static_cast<double>(spec.warmup_steps);
  }
  if (spec.schedule == "cosine") {
    const double span = static_cast<double>(std::max<int64_t>(1, total_steps - spec.warmup_steps));
    return 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(i - spec.warmup_steps) / span));
  }
  return 1.0;
}

MemberHealth MemberHealth::AllAlive(int64_t members, torch::Device device) {
  MemberHealth h;
  h.alive = torch::ones({members}, torch::TensorOptions().dtype(torch::kBool).device(device));
  h.diverged_at =
      torch::full({members}, -1, torch::TensorOptions().dtype(torch::kInt64).device(device));
  return h;
}

EnsembleOptimizer::EnsembleOptimizer(const OptimizerSpec& spec,
                                     const std::vector<MemberOptimizerScalars>& scalars,
                                     int64_t total_steps, ParamStore* params, Kernel kernel)
    : spec_(spec),
      scalars_(scalars),
      total_steps_(total_steps),
      params_(params),
      adamw_(spec.name == "adamw") {
  TORCH_CHECK(static_cast<int64_t>(scalars.size()) == params->members(),
              "one MemberOptimizerScalars per member");
  const torch::Tensor& flat = params->flat_params();
  const bool cpu_float = flat.device().is_cpu() && flat.scalar_type() == torch::kFloat32;
  fused_ = kernel == Kernel::kFusedCpu ||
           (kernel == Kernel::kAuto && cpu_float && !GenericKernelsForced());
  TORCH_CHECK(!fused_ || cpu_float, "the fused optimizer kernel needs float32 CPU parameters");
  state_a_ = torch::zeros_like(flat);
  if (adamw_) state_b_ = torch::zeros_like(flat);
  grad_norms_ = torch::zeros({params->members()},
                             torch::TensorOptions().dtype(torch::kFloat64).device(flat.device()));
  const int64_t K = params->members();
  for (const ParamStore::Entry& e : params->entries()) {
    for (int64_t k = 0; k < K; ++k) {
      const int64_t start = e.offset + k * e.numel;
      for (int64_t b = 0; b < e.numel; b += kChunk) {
        chunks_.push_back({start + b, start + std::min(e.numel, b + kChunk), k});
      }
    }
  }
}

std::vector<std::pair<std::string, torch::Tensor>> EnsembleOptimizer::StateTensors() const {
  if (adamw_) return {{"adamw.m", state_a_}, {"adamw.v", state_b_}};
  return {{"sgd.momentum", state_a_}};
}

void EnsembleOptimizer::Step(int64_t update_index, const torch::Tensor& losses,
                             MemberHealth* health) {
  torch::NoGradGuard no_grad;
  if (fused_) {
    StepFusedCpu(update_index, losses, health);
  } else {
    StepTensorOps(update_index, losses, health);
  }
}

void EnsembleOptimizer::StepTensorOps(int64_t update_index, const torch::Tensor& losses,
                                      MemberHealth* health) {
  const int64_t K = params_->members();
  const torch::Device dev = params_->flat_params().device();
  const auto& entries = params_->entries();

  torch::Tensor sq = torch::zeros({K}, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
  for (const auto& e : entries) {
    torch::Tensor g = e.grad.view({K, e.numel}).to(torch::kFloat64);
    sq.add_((g * g).sum(1));
  }
  grad_norms_.copy_(sq.sqrt());
  torch::Tensor finite =
      torch::isfinite(losses.to(torch::kFloat64)).logical_and(torch::isfinite(grad_norms_));
  torch::Tensor newly = health->alive.logical_and(finite.logical_not());
  health->diverged_at.masked_fill_(newly, update_index + 1);
  health->alive.logical_and_(finite);

  // Per-member coefficients (host, double) → device [K, 1] columns, masked by `alive`.
  const double t = static_cast<double>(update_index + 1);
  const double factor = ScheduleFactor(spec_, update_index, total_steps_);
  std::vector<double> host(static_cast<size_t>(6 * K));
  for (int64_t k = 0; k < K; ++k) {
    const MemberOptimizerScalars& s = scalars_[static_cast<size_t>(k)];
    const double lr = s.lr * factor;
    double* c = host.data() + 6 * k;
    if (adamw_) {
      c[0] = 1.0 - s.beta1;                                // m ← m + c0 (g − m)
      c[1] = 1.0 - s.beta2;                                // v ← v + c1 (g² − v)
      c[2] = 1.0 / std::sqrt(1.0 - std::pow(s.beta2, t));  // 1 / sqrt(bias correction 2)
      c[3] = lr * s.weight_decay;                          // p ← p (1 − c3)
      c[4] = lr / (1.0 - std::pow(s.beta1, t));            // p ← p − c4 m / denom
    } else {
      c[0] = s.momentum;
      c[1] = s.weight_decay;
      c[2] = 0.0;
      c[3] = 0.0;
      c[4] = lr;
    }
    c[5] = s.grad_clip;
  }
  torch::Tensor coef = torch::tensor(host, torch::kFloat64).view({K, 6}).to(dev);
  torch::Tensor alive_f = health->alive.to(torch::kFloat64).view({K, 1});
  torch::Tensor clip = coef.select(1, 5).view({K, 1});
  torch::Tensor clip_scale =
      torch::where(clip > 0, torch::clamp_max(clip / (grad_norms_.view({K, 1}) + 1e-6), 1.0),
                   torch::ones_like(clip));
  torch::Tensor dead = health->alive.logical_not().view({K, 1});
  auto col = [&](int64_t i) { return coef.select(1, i).view({K, 1}).to(torch::kFloat32); };
  torch::Tensor live_f = alive_f.to(torch::kFloat32);
  torch::Tensor scale = clip_scale.to(torch::kFloat32);

  for (const auto& e : entries) {
    const int64_t n = e.numel;
    torch::Tensor p = params_->flat_params().narrow(0, e.offset, K * n).view({K, n});
    torch::Tensor g = e.grad.view({K, n}).masked_fill(dead, 0.0).mul_(scale);
    torch::Tensor a = state_a_.narrow(0, e.offset, K * n).view({K, n});
    if (adamw_) {
      torch::Tensor b = state_b_.narrow(0, e.offset, K * n).view({K, n});
      a.lerp_(g, col(0) * live_f);
      b.lerp_(g * g, col(1) * live_f);
      torch::Tensor denom = b.sqrt().mul_(col(2)).add_(spec_.eps);
      p.mul_(1.0 - col(3) * live_f);
      p.addcmul_(a / denom, -col(4) * live_f);
    } else {
      // d = g + wd p; buf ← momentum buf + d; p ← p − lr buf   (frozen when dead)
      torch::Tensor d = g.add(p * col(1)).mul_(live_f);
      a.mul_(torch::where(dead, torch::ones_like(col(0)), col(0))).add_(d);
      p.addcmul_(a, -col(4) * live_f);
    }
  }
}

}  // namespace phasesweep::worker
