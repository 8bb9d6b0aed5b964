// The fused CPU optimizer step: one pass computes every member's gradient norm, one pass applies
// clipping, the moment updates, weight decay and the parameter update. Work is split into fixed
// chunks that each belong to one member (EnsembleOptimizer::chunks_), and each member's norm is
// summed chunk by chunk in a fixed order, so the result is the same for any thread count and a
// member's numbers do not depend on its neighbours. The loops are in optimizer_kernels.cc.
#include <ATen/Parallel.h>

#include <cmath>

#include "kernels/optimizer_kernels.h"
#include "phasesweep/worker/optimizer.h"

namespace phasesweep::worker {

void EnsembleOptimizer::StepFusedCpu(int64_t update_index, const torch::Tensor& losses,
                                     MemberHealth* health) {
  const int64_t K = params_->members();
  const int64_t n_chunks = static_cast<int64_t>(chunks_.size());
  float* p = params_->flat_params().data_ptr<float>();
  const float* g = params_->flat_grads().data_ptr<float>();
  float* a = state_a_.data_ptr<float>();
  float* b = adamw_ ? state_b_.data_ptr<float>() : nullptr;

  // Parallel regions only for large packs: waking a second thread for a small model costs more
  // than the whole update (and stalls badly on busy machines).
  const bool parallel = params_->flat_params().numel() >= (int64_t{1} << 18);
  auto for_chunks = [&](const auto& fn) {
    if (parallel) {
      at::parallel_for(0, n_chunks, 1, fn);
    } else {
      fn(0, n_chunks);
    }
  };
  std::vector<double> partial(static_cast<size_t>(n_chunks));
  for_chunks([&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Chunk& ch = chunks_[static_cast<size_t>(c)];
      partial[static_cast<size_t>(c)] = kernels::SumSquares(g + ch.begin, ch.end - ch.begin);
    }
  });
  std::vector<double> sq(static_cast<size_t>(K), 0.0);
  for (int64_t c = 0; c < n_chunks; ++c) {
    sq[static_cast<size_t>(chunks_[static_cast<size_t>(c)].member)] +=
        partial[static_cast<size_t>(c)];
  }

  torch::Tensor loss_cpu = losses.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* loss = loss_cpu.data_ptr<double>();
  double* norms = grad_norms_.data_ptr<double>();
  bool* alive = health->alive.data_ptr<bool>();
  int64_t* diverged_at = health->diverged_at.data_ptr<int64_t>();
  const double t = static_cast<double>(update_index + 1);
  const double factor = ScheduleFactor(spec_, update_index, total_steps_);
  std::vector<kernels::AdamCoef> adam(static_cast<size_t>(K));
  std::vector<kernels::SgdCoef> sgd(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    const size_t ks = static_cast<size_t>(k);
    norms[k] = std::sqrt(sq[ks]);
    if (alive[k] && !(std::isfinite(loss[k]) && std::isfinite(norms[k]))) {
      alive[k] = false;
      diverged_at[k] = update_index + 1;
    }
    const MemberOptimizerScalars& s = scalars_[ks];
    const double clip = s.grad_clip > 0 ? std::min(1.0, s.grad_clip / (norms[k] + 1e-6)) : 1.0;
    const double lr = s.lr * factor;
    adam[ks] = {static_cast<float>(clip),
                static_cast<float>(1.0 - s.beta1),
                static_cast<float>(1.0 - s.beta2),
                static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(s.beta2, t))),
                static_cast<float>(1.0 - lr * s.weight_decay),
                static_cast<float>(lr / (1.0 - std::pow(s.beta1, t))),
                static_cast<float>(spec_.eps)};
    sgd[ks] = {static_cast<float>(clip), static_cast<float>(s.weight_decay),
               static_cast<float>(s.momentum), static_cast<float>(lr)};
  }

  for_chunks([&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Chunk& ch = chunks_[static_cast<size_t>(c)];
      if (!alive[ch.member]) continue;  // diverged: parameters and state stay frozen
      const int64_t n = ch.end - ch.begin;
      if (adamw_) {
        kernels::AdamW(p + ch.begin, a + ch.begin, b + ch.begin, g + ch.begin, n,
                       adam[static_cast<size_t>(ch.member)]);
      } else {
        kernels::Sgd(p + ch.begin, a + ch.begin, g + ch.begin, n,
                     sgd[static_cast<size_t>(ch.member)]);
      }
    }
  });
}

}  // namespace phasesweep::worker
