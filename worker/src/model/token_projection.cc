// ProjectTokens (see token_projection.h).
#include "model/token_projection.h"

#include <cstring>

#include "kernels/small_gemm.h"
#include "model/batched_linear.h"
#include "model/fused_autograd.h"
#include "model/token_embedding.h"
#include "phasesweep/worker/kernel_policy.h"

namespace phasesweep::worker {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor Reference(const torch::Tensor& embed, const torch::Tensor& pos,
                        const torch::Tensor& w, const torch::Tensor& b,
                        const torch::Tensor& tokens) {
  const int64_t K = embed.size(0), d = embed.size(2), B = tokens.size(1), T = tokens.size(2);
  const torch::Tensor x = EmbedTokens(embed, pos, tokens, 0, /*allow_fused=*/false);
  return torch::baddbmm(b, x.reshape({K, B * T, d}), w).view({K, B, T, w.size(2)});
}

class ProjectTokensFn : public torch::autograd::Function<ProjectTokensFn> {
 public:
  // All contiguous CPU; float32 except tokens (int64).
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& embed,
                               const torch::Tensor& pos, const torch::Tensor& w,
                               const torch::Tensor& b, const torch::Tensor& tokens) {
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2), o = w.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), R = V + T;
    const int64_t pos_stride = pos.dim() == 3 ? T * d : 0;  // per member, or shared
    // Per member: rows [embed; pos] (kept for the weight gradient) and their products.
    torch::Tensor rows = torch::empty({K, R, d}, embed.options());
    torch::Tensor prod = torch::empty({K, R, o}, embed.options());
    torch::Tensor y = torch::empty({K, B, T, o}, embed.options());
    const float *ep = embed.data_ptr<float>(), *pp = pos.data_ptr<float>();
    const float *wp = w.data_ptr<float>(), *bp = b.data_ptr<float>();
    const int64_t* tp = tokens.data_ptr<int64_t>();
    float *rp = rows.data_ptr<float>(), *qp = prod.data_ptr<float>(), *yp = y.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      float* rk = rp + k * R * d;
      std::memcpy(rk, ep + k * V * d, static_cast<size_t>(V * d) * sizeof(float));
      std::memcpy(rk + V * d, pp + k * pos_stride, static_cast<size_t>(T * d) * sizeof(float));
      float* qk = qp + k * R * o;
      detail::MemberLinearForward(R, d, o, rk, wp + k * d * o, nullptr, qk);
      const float* bk = bp + k * o;
      for (int64_t bt = 0; bt < B * T; ++bt) {
        const int64_t tok = tp[k * B * T + bt];
        TORCH_CHECK(tok >= 0 && tok < V, "ProjectTokens: token ", tok, " is not in [0, ", V, ")");
        const float* e = qk + tok * o;
        const float* p = qk + (V + bt % T) * o;
        float* out = yp + (k * B * T + bt) * o;
        for (int64_t i = 0; i < o; ++i) out[i] = (e[i] + p[i]) + bk[i];
      }
    }
    ctx->save_for_backward({embed, pos, w, b, tokens, rows});
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &embed = saved[0], &pos = saved[1], &w = saved[2], &b = saved[3];
    const torch::Tensor &tokens = saved[4], &rows = saved[5];
    const bool need_embed = ctx->needs_input_grad(0), need_pos = ctx->needs_input_grad(1),
               need_w = ctx->needs_input_grad(2), need_b = ctx->needs_input_grad(3);
    torch::Tensor gy = grads[0].contiguous();
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: differentiate the tensor expression instead.
      return DifferentiableGrads(Reference(embed, pos, w, b, tokens), gy, {embed, pos, w, b},
                                 {need_embed, need_pos, need_w, need_b}, 1);
    }
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2), o = w.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), R = V + T;
    // Per member, the gradient of the products: a scatter-add of gy's rows in order.
    torch::Tensor gprod = torch::zeros({K, R, o}, embed.options());
    torch::Tensor ge = need_embed ? torch::empty_like(embed) : torch::Tensor();
    torch::Tensor gp = need_pos ? torch::empty_like(pos) : torch::Tensor();
    torch::Tensor gw = need_w ? torch::empty_like(w) : torch::Tensor();
    torch::Tensor gb = need_b ? torch::empty_like(b) : torch::Tensor();
    const int64_t* tp = tokens.data_ptr<int64_t>();
    const float *gyp = gy.data_ptr<float>(), *wp = w.data_ptr<float>(),
                *rp = rows.data_ptr<float>();
    float* gq = gprod.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      float* gk = gq + k * R * o;
      for (int64_t bt = 0; bt < B * T; ++bt) {
        const float* g = gyp + (k * B * T + bt) * o;
        float* ge_row = gk + tp[k * B * T + bt] * o;
        float* gp_row = gk + (V + bt % T) * o;
        for (int64_t i = 0; i < o; ++i) {
          ge_row[i] += g[i];
          gp_row[i] += g[i];
        }
      }
      if (need_b) {  // column sums of gy, as BatchedLinear's bias gradient
        kernels::LinearBiasGrad(B * T, o, gyp + k * B * T * o, gb.data_ptr<float>() + k * o);
      }
      const float* wk = wp + k * d * o;
      if (need_w) {
        detail::MemberLinearWeightGrad(R, d, o, rp + k * R * d, gk,
                                       gw.data_ptr<float>() + k * d * o);
      }
      if (need_embed) {
        detail::MemberLinearInputGrad(V, d, o, gk, wk, ge.data_ptr<float>() + k * V * d);
      }
      if (need_pos) {
        detail::MemberLinearInputGrad(T, d, o, gk + V * o, wk, gp.data_ptr<float>() + k * T * d);
      }
    }
    return {ge, gp, gw, gb, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ProjectTokens(const torch::Tensor& embed, const torch::Tensor& pos,
                            const torch::Tensor& w, const torch::Tensor& b,
                            const torch::Tensor& tokens, bool allow_fused) {
  const bool fused = allow_fused && FusedCpuKernelsOn(embed.device()) &&
                     embed.scalar_type() == torch::kFloat32 &&
                     pos.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
                     b.scalar_type() == torch::kFloat32 && tokens.scalar_type() == torch::kInt64;
  if (!fused) return Reference(embed, pos, w, b, tokens);
  return ProjectTokensFn::apply(embed.contiguous(), pos.contiguous(), w.contiguous(),
                                b.contiguous(), tokens.contiguous());
}

}  // namespace phasesweep::worker
