// LastQueryAttention (see attention.h): fused CPU loops behind a custom autograd function.
#include "attention.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

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
      for (int64_t n = n0; n < n1; ++n) {
        for (int64_t h = 0; h < H; ++h) {
          const float* qh = qp + (n * H + h) * D;
          float* at = ap + (n * H + h) * T;
          float mx = -INFINITY;
          for (int64_t t = 0; t < T; ++t) {
            const float* kt = kp + ((n * T + t) * H + h) * D;
            float dot = 0;
            for (int64_t d = 0; d < D; ++d) dot += qh[d] * kt[d];
            at[t] = dot * s;
            mx = std::max(mx, at[t]);
          }
          float sum = 0;
          for (int64_t t = 0; t < T; ++t) {
            at[t] = std::exp(at[t] - mx);
            sum += at[t];
          }
          float* zh = zp + (n * H + h) * D;
          for (int64_t d = 0; d < D; ++d) zh[d] = 0;
          for (int64_t t = 0; t < T; ++t) {
            at[t] /= sum;
            const float* vt = vp + ((n * T + t) * H + h) * D;
            for (int64_t d = 0; d < D; ++d) zh[d] += at[t] * vt[d];
          }
        }
      }
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
      std::vector<float> gs(static_cast<size_t>(T));
      for (int64_t n = n0; n < n1; ++n) {
        for (int64_t h = 0; h < H; ++h) {
          const float* at = ap + (n * H + h) * T;
          const float* gzh = gzp + (n * H + h) * D;
          float mean = 0;  // sum_t a_t ga_t
          for (int64_t t = 0; t < T; ++t) {
            const float* vt = vp + ((n * T + t) * H + h) * D;
            float* gvt = gvp + ((n * T + t) * H + h) * D;
            float ga = 0;
            for (int64_t d = 0; d < D; ++d) {
              ga += gzh[d] * vt[d];
              gvt[d] = at[t] * gzh[d];
            }
            gs[static_cast<size_t>(t)] = ga;
            mean += at[t] * ga;
          }
          const float* qh = qp + (n * H + h) * D;
          float* gqh = gqp + (n * H + h) * D;
          for (int64_t d = 0; d < D; ++d) gqh[d] = 0;
          for (int64_t t = 0; t < T; ++t) {
            const float g = s * at[t] * (gs[static_cast<size_t>(t)] - mean);  // d loss / d logit
            const float* kt = kp + ((n * T + t) * H + h) * D;
            float* gkt = gkp + ((n * T + t) * H + h) * D;
            for (int64_t d = 0; d < D; ++d) {
              gqh[d] += g * kt[d];
              gkt[d] = g * qh[d];
            }
          }
        }
      }
    });
    return {gq, gk, gv, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor LastQueryAttention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, double scale, bool allow_fused) {
  const bool fused = allow_fused && k.device().is_cpu() && q.scalar_type() == torch::kFloat32 &&
                     k.scalar_type() == torch::kFloat32 && v.scalar_type() == torch::kFloat32;
  if (!fused) return Reference(q, k, v, scale);
  return LastQueryAttentionFn::apply(q.contiguous(), k.contiguous(), v.contiguous(), scale);
}

}  // namespace phasesweep::worker
