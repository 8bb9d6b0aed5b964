// LastQueryAttention (see attention.h): the loops of attention_kernels.h behind a custom autograd
// function.
#include "model/attention.h"

#include <ATen/Parallel.h>

#include <vector>

#include "kernels/attention_kernels.h"
#include "phasesweep/worker/kernel_policy.h"

namespace phasesweep::worker {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor Reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        double scale) {
  torch::Tensor attn = torch::softmax((k * (q * scale).unsqueeze(1)).sum(3), 1);  // [N, T, H]
  return (v * attn.unsqueeze(3)).sum(1);
}

// Calls fn(n0, n1) over the sequences; a parallel region only when the work pays for it.
template <typename F>
void ForRows(int64_t n, int64_t work, const F& fn) {
  if (work < (int64_t{1} << 20)) {
    fn(0, n);
  } else {
    at::parallel_for(0, n, 64, fn);
  }
}

class LastQueryAttentionFn : public torch::autograd::Function<LastQueryAttentionFn> {
 public:
  // q, k, v contiguous float32 CPU.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale) {
    const int64_t N = k.size(0), T = k.size(1), H = k.size(2), D = k.size(3);
    torch::Tensor z = torch::empty({N, H, D}, q.options());
    torch::Tensor a = torch::empty({N, H, T}, q.options());  // attention weights, for backward
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    float *zp = z.data_ptr<float>(), *ap = a.data_ptr<float>();
    const float s = static_cast<float>(scale);
    ForRows(N, N * T * H * D, [&](int64_t n0, int64_t n1) {
      kernels::AttentionForward(n0, n1, T, H, D, s, qp, kp, vp, zp, ap);
    });
    ctx->save_for_backward({q, k, v, a});
    ctx->saved_data["scale"] = scale;
    return z;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &a = saved[3];
    const double scale = ctx->saved_data["scale"].toDouble();
    torch::Tensor gz = grads[0].contiguous();
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: differentiate the tensor expression instead.
      // (Saved inputs keep their history, so the result stays differentiable.)
      torch::Tensor z = Reference(q, k, v, scale);
      auto g = torch::autograd::grad({z}, {q, k, v}, {gz}, true, true, true);
      return {g[0], g[1], g[2], torch::Tensor()};
    }
    const int64_t N = k.size(0), T = k.size(1), H = k.size(2), D = k.size(3);
    torch::Tensor gq = torch::empty_like(q), gk = torch::empty_like(k), gv = torch::empty_like(v);
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    const float *ap = a.data_ptr<float>(), *gzp = gz.data_ptr<float>();
    float *gqp = gq.data_ptr<float>(), *gkp = gk.data_ptr<float>(), *gvp = gv.data_ptr<float>();
    const float s = static_cast<float>(scale);
    ForRows(N, 3 * N * T * H * D, [&](int64_t n0, int64_t n1) {
      std::vector<float> scratch(static_cast<size_t>(T));
      kernels::AttentionBackward(n0, n1, T, H, D, s, qp, kp, vp, ap, gzp, gqp, gkp, gvp,
                                 scratch.data());
    });
    return {gq, gk, gv, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor LastQueryAttention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, double scale, bool allow_fused) {
  const bool fused = allow_fused && FusedCpuKernelsOn(k.device()) && q.scalar_type() == torch::kFloat32 &&
                     k.scalar_type() == torch::kFloat32 && v.scalar_type() == torch::kFloat32;
  if (!fused) return Reference(q, k, v, scale);
  return LastQueryAttentionFn::apply(q.contiguous(), k.contiguous(), v.contiguous(), scale);
}

}  // namespace phasesweep::worker
