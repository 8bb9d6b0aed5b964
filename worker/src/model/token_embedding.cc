// EmbedTokens (see token_embedding.h): one gather loop forward, one scatter-add loop backward.
#include "model/token_embedding.h"

#include "model/fused_autograd.h"
#include "phasesweep/worker/kernel_policy.h"

namespace phasesweep::worker {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor Reference(const torch::Tensor& embed, const torch::Tensor& pos,
                        const torch::Tensor& tokens, int64_t from) {
  const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2), T = tokens.size(2);
  const torch::Tensor offset = (torch::arange(K, tokens.options()) * V).view({K, 1, 1});
  const torch::Tensor x =
      torch::embedding(embed.reshape({K * V, d}), tokens.narrow(2, from, T - from) + offset);
  const int64_t pd = pos.dim() - 2;  // the position dimension
  const torch::Tensor p = pos.narrow(pd, from, T - from);
  return pd == 1 ? x + p.unsqueeze(1) : x + p;
}

class EmbedTokensFn : public torch::autograd::Function<EmbedTokensFn> {
 public:
  // embed, pos contiguous float32 CPU; tokens contiguous int64.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& embed,
                               const torch::Tensor& pos, const torch::Tensor& tokens,
                               int64_t from) {
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), n = T - from;
    const int64_t pos_stride = pos.dim() == 3 ? T * d : 0;  // per member, or shared
    torch::Tensor x = torch::empty({K, B, n, d}, embed.options());
    const float* ep = embed.data_ptr<float>();
    const float* pp = pos.data_ptr<float>();
    const int64_t* tp = tokens.data_ptr<int64_t>();
    float* xp = x.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      const float* ek = ep + k * V * d;
      const float* pk = pp + k * pos_stride;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = from; t < T; ++t) {
          const int64_t tok = tp[(k * B + b) * T + t];
          TORCH_CHECK(tok >= 0 && tok < V, "EmbedTokens: token ", tok, " is not in [0, ", V, ")");
          const float* e = ek + tok * d;
          const float* p = pk + t * d;
          float* out = xp + ((k * B + b) * n + t - from) * d;
          for (int64_t i = 0; i < d; ++i) out[i] = e[i] + p[i];
        }
      }
    }
    ctx->save_for_backward({embed, pos, tokens});
    ctx->saved_data["from"] = from;
    return x;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &embed = saved[0], &pos = saved[1], &tokens = saved[2];
    const int64_t from = ctx->saved_data["from"].toInt();
    const bool need_embed = ctx->needs_input_grad(0), need_pos = ctx->needs_input_grad(1);
    torch::Tensor gx = grads[0].contiguous();
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: differentiate the tensor expression instead.
      // (Gradients are never needed for tokens; `from` is not a tensor.)
      return DifferentiableGrads(Reference(embed, pos, tokens, from), gx, {embed, pos},
                                 {need_embed, need_pos}, 2);
    }
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), n = T - from;
    torch::Tensor ge = need_embed ? torch::zeros_like(embed) : torch::Tensor();
    torch::Tensor gp = need_pos ? torch::zeros_like(pos) : torch::Tensor();
    const int64_t pos_stride = pos.dim() == 3 ? T * d : 0;
    const int64_t* tp = tokens.data_ptr<int64_t>();
    const float* gxp = gx.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {  // rows in order: the sums' order is fixed per member
      float* gek = need_embed ? ge.data_ptr<float>() + k * V * d : nullptr;
      float* gpk = need_pos ? gp.data_ptr<float>() + k * pos_stride : nullptr;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = from; t < T; ++t) {
          const float* g = gxp + ((k * B + b) * n + t - from) * d;
          if (gek != nullptr) {
            float* dst = gek + tp[(k * B + b) * T + t] * d;
            for (int64_t i = 0; i < d; ++i) dst[i] += g[i];
          }
          if (gpk != nullptr) {
            float* dst = gpk + t * d;
            for (int64_t i = 0; i < d; ++i) dst[i] += g[i];
          }
        }
      }
    }
    return {ge, gp, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor EmbedTokens(const torch::Tensor& embed, const torch::Tensor& pos,
                          const torch::Tensor& tokens, int64_t from, bool allow_fused) {
  TORCH_CHECK(from >= 0 && from < tokens.size(2), "EmbedTokens: from ", from, " is not in [0, ",
              tokens.size(2), ")");
  const bool fused = allow_fused && FusedCpuKernelsOn(embed.device()) &&
                     embed.scalar_type() == torch::kFloat32 &&
                     pos.scalar_type() == torch::kFloat32 && tokens.scalar_type() == torch::kInt64;
  if (!fused) return Reference(embed, pos, tokens, from);
  return EmbedTokensFn::apply(embed.contiguous(), pos.contiguous(), tokens.contiguous(), from);
}

}  // namespace phasesweep::worker
