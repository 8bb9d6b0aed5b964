// MemberLosses (see model.h): the per-member mean cross-entropy every training step and loss
// probe computes.
//
// On the CPU in float32 it is a few fused loops per member behind a custom autograd function:
// forward keeps the softmax, backward writes (softmax - onehot) * g_k / B (loss_kernels.h: the
// exponentials in one vectorised pass). The composite log_softmax + nll_loss + mean it
// replaces costs about ten operators, each with its own allocation and dispatch per call, which
// in packs of small models was a per-member cost comparable to a matmul. Each member's rows are
// summed in row order by the same code whatever the pack size, so a member's loss does not depend
// on K. When a double backward is requested (create_graph, e.g. Hessian-vector products) its
// backward differentiates the composite instead.
#include <vector>

#include "kernels/loss_kernels.h"
#include "phasesweep/worker/kernel_policy.h"
#include "phasesweep/worker/model.h"

namespace phasesweep::worker {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor Reference(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t K = logits.size(0), B = logits.size(1), C = logits.size(2);
  torch::Tensor logp = torch::log_softmax(logits.reshape({K * B, C}), 1);
  torch::Tensor nll = torch::nll_loss(logp, labels.reshape({K * B}), {}, at::Reduction::None);
  return nll.view({K, B}).mean(1);
}

class MemberLossFn : public torch::autograd::Function<MemberLossFn> {
 public:
  // logits contiguous float32 CPU [K, B, C] with B >= 1; labels contiguous int64 [K, B].
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& labels) {
    const int64_t K = logits.size(0), B = logits.size(1), C = logits.size(2);
    torch::Tensor loss = torch::empty({K}, logits.options());
    torch::Tensor prob = torch::empty_like(logits);
    const float* x = logits.data_ptr<float>();
    const int64_t* y = labels.data_ptr<int64_t>();
    float* p = prob.data_ptr<float>();
    float* out = loss.data_ptr<float>();
    for (int64_t i = 0; i < K * B; ++i) {
      TORCH_CHECK(y[i] >= 0 && y[i] < C, "MemberLosses: label ", y[i], " is not in [0, ", C, ")");
    }
    std::vector<float> row_max(static_cast<size_t>(B));
    for (int64_t k = 0; k < K; ++k) {
      const double total = kernels::CrossEntropyForward(B, C, x + k * B * C, y + k * B,
                                                        p + k * B * C, row_max.data());
      out[k] = static_cast<float>(total / static_cast<double>(B));
    }
    ctx->save_for_backward({logits, labels, prob});
    return loss;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &logits = saved[0], &labels = saved[1], &prob = saved[2];
    torch::Tensor g = grads[0].contiguous();
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: differentiate the composite instead.
      torch::Tensor loss = Reference(logits, labels);
      return {torch::autograd::grad({loss}, {logits}, {g}, true, true)[0], torch::Tensor()};
    }
    const int64_t K = logits.size(0), B = logits.size(1), C = logits.size(2);
    torch::Tensor gx = torch::empty_like(logits);
    const float* p = prob.data_ptr<float>();
    const int64_t* y = labels.data_ptr<int64_t>();
    const float* gp = g.data_ptr<float>();
    float* out = gx.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      kernels::CrossEntropyBackward(B, C, p + k * B * C, y + k * B, gp[k] / static_cast<float>(B),
                                    out + k * B * C);
    }
    return {gx, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor MemberLosses(const torch::Tensor& logits, const torch::Tensor& labels) {
  const bool fused = FusedCpuKernelsOn(logits.device()) && logits.scalar_type() == torch::kFloat32 &&
                     labels.scalar_type() == torch::kInt64 && logits.size(1) > 0;
  if (!fused) return Reference(logits, labels);
  return MemberLossFn::apply(logits.contiguous(), labels.contiguous());
}

}  // namespace phasesweep::worker
