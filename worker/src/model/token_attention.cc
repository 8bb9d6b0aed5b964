// TokenLastQueryAttention (see token_attention.h).
//
// Bitwise equal to the composition it replaces because every number is computed by the same
// code in the same order: the products per vocabulary row and position by MemberLinearForward
// (as ProjectTokens), each gathered key and value as (table[tok] + table[V + t]) + bias (as
// ProjectTokens), the attention by the kernels of attention_kernels.h (a row's result does not
// depend on the rows around it), the scatter-add of the keys' and values' gradients and their
// bias gradients in ascending position order (as ProjectTokens and LinearBiasGrad), and the
// products' gradients by the same MemberLinear* calls. The one new operation is the sum of the
// keys' and the values' contributions to the embedding (and position) gradients, which autograd
// formed from two nodes before, in the same order.
#include "model/token_attention.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/attention_kernels.h"
#include "kernels/row_kernels.h"
#include "model/attention.h"
#include "model/batched_linear.h"
#include "model/fused_autograd.h"
#include "model/token_projection.h"
#include "phasesweep/worker/kernel_policy.h"

namespace phasesweep::worker {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Sequences per block: their keys and values (2 x 32 x T x d floats) stay in L1/L2.
constexpr int64_t kBlock = 32;

torch::Tensor Composite(const torch::Tensor& q, const torch::Tensor& embed,
                        const torch::Tensor& pos, const torch::Tensor& w_k,
                        const torch::Tensor& b_k, const torch::Tensor& w_v,
                        const torch::Tensor& b_v, const torch::Tensor& tokens, double scale) {
  const int64_t N = q.size(0), H = q.size(1), D = q.size(2), T = tokens.size(2);
  const torch::Tensor k = ProjectTokens(embed, pos, w_k, b_k, tokens).view({N, T, H, D});
  const torch::Tensor v = ProjectTokens(embed, pos, w_v, b_v, tokens).view({N, T, H, D});
  return LastQueryAttention(q, k, v, scale);
}

// Refuses a token outside [0, V) before any row is gathered.
void CheckTokens(const int64_t* tok, int64_t n, int64_t V) {
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(tok[i] >= 0 && tok[i] < V, "TokenLastQueryAttention: token ", tok[i],
                " is not in [0, ", V, ")");
  }
}

// The per-vocabulary-row key and value products of all members (tk, tv: [K, V + T, d]), their
// biases and the tokens, from which each block of sequences gathers its keys and values.
struct TokenRows {
  const float *tk, *tv, *bk, *bv;
  const int64_t* tokens;
  int64_t V, T, d;

  // Keys and values of sequences [row, row + m) of member k (rows of the flat [K * B] batch)
  // into kb and vb ([m * T, d] each).
  void Gather(int64_t k, int64_t row, int64_t m, float* kb, float* vb) const {
    const int64_t R = V + T;
    kernels::GatherTokenRows(m * T, T, V, d, tk + k * R * d, bk + k * d, tokens + row * T, kb);
    kernels::GatherTokenRows(m * T, T, V, d, tv + k * R * d, bv + k * d, tokens + row * T, vb);
  }
};

class TokenAttentionFn : public torch::autograd::Function<TokenAttentionFn> {
 public:
  // All contiguous float32 CPU except tokens (int64); pos [K, T, d] or [T, d].
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q,
                               const torch::Tensor& embed, const torch::Tensor& pos,
                               const torch::Tensor& w_k, const torch::Tensor& b_k,
                               const torch::Tensor& w_v, const torch::Tensor& b_v,
                               const torch::Tensor& tokens, double scale) {
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), R = V + T;
    const int64_t H = q.size(1), D = q.size(2);
    const int64_t pos_stride = pos.dim() == 3 ? T * d : 0;
    torch::Tensor rows = torch::empty({K, R, d}, embed.options());
    torch::Tensor tk = torch::empty({K, R, d}, embed.options());
    torch::Tensor tv = torch::empty({K, R, d}, embed.options());
    torch::Tensor z = torch::empty({K * B, H, D}, q.options());
    torch::Tensor a = torch::empty({K * B, H, T}, q.options());
    std::vector<float> kb(static_cast<size_t>(kBlock * T * d)), vb(kb.size());
    const float *ep = embed.data_ptr<float>(), *pp = pos.data_ptr<float>();
    const float *qp = q.data_ptr<float>(), *wkp = w_k.data_ptr<float>(),
                *wvp = w_v.data_ptr<float>();
    const float *bkp = b_k.data_ptr<float>(), *bvp = b_v.data_ptr<float>();
    const int64_t* tp = tokens.data_ptr<int64_t>();
    float *rp = rows.data_ptr<float>(), *tkp = tk.data_ptr<float>(), *tvp = tv.data_ptr<float>();
    float *zp = z.data_ptr<float>(), *ap = a.data_ptr<float>();
    const float s = static_cast<float>(scale);
    CheckTokens(tp, K * B * T, V);
    const TokenRows table{tkp, tvp, bkp, bvp, tp, V, T, d};
    for (int64_t k = 0; k < K; ++k) {
      float* rk = rp + k * R * d;
      std::memcpy(rk, ep + k * V * d, static_cast<size_t>(V * d) * sizeof(float));
      std::memcpy(rk + V * d, pp + k * pos_stride, static_cast<size_t>(T * d) * sizeof(float));
      detail::MemberLinearForward(R, d, d, rk, wkp + k * d * d, nullptr, tkp + k * R * d);
      detail::MemberLinearForward(R, d, d, rk, wvp + k * d * d, nullptr, tvp + k * R * d);
      for (int64_t n0 = 0; n0 < B; n0 += kBlock) {
        const int64_t m = std::min(kBlock, B - n0), row = k * B + n0;
        table.Gather(k, row, m, kb.data(), vb.data());
        kernels::AttentionForward(0, m, T, H, D, s, qp + row * d, kb.data(), vb.data(),
                                  zp + row * d, ap + row * H * T);
      }
    }
    ctx->save_for_backward({q, embed, pos, w_k, b_k, w_v, b_v, tokens, rows, tk, tv, a});
    ctx->saved_data["scale"] = scale;
    return z;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &embed = saved[1], &pos = saved[2], &w_k = saved[3],
                        &b_k = saved[4], &w_v = saved[5], &b_v = saved[6], &tokens = saved[7];
    const torch::Tensor &rows = saved[8], &tk = saved[9], &tv = saved[10], &a = saved[11];
    const double scale = ctx->saved_data["scale"].toDouble();
    std::vector<bool> need(7);
    for (size_t i = 0; i < need.size(); ++i) need[i] = ctx->needs_input_grad(i);
    const torch::Tensor gz = grads[0].contiguous();
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: differentiate the composition instead.
      return DifferentiableGrads(Composite(q, embed, pos, w_k, b_k, w_v, b_v, tokens, scale), gz,
                                 {q, embed, pos, w_k, b_k, w_v, b_v}, need, 2);
    }
    const int64_t K = embed.size(0), V = embed.size(1), d = embed.size(2);
    const int64_t B = tokens.size(1), T = tokens.size(2), R = V + T;
    const int64_t H = q.size(1), D = q.size(2);
    torch::Tensor gq = torch::empty_like(q);
    torch::Tensor gtk = torch::zeros({K, R, d}, embed.options());
    torch::Tensor gtv = torch::zeros({K, R, d}, embed.options());
    torch::Tensor gbk = torch::zeros({K, 1, d}, embed.options());
    torch::Tensor gbv = torch::zeros({K, 1, d}, embed.options());
    const size_t block = static_cast<size_t>(kBlock * T * d);
    std::vector<float> kb(block), vb(block), gkb(block), gvb(block), scratch(T);
    const float *qp = q.data_ptr<float>(), *ap = a.data_ptr<float>(), *gzp = gz.data_ptr<float>();
    const float *tkp = tk.data_ptr<float>(), *tvp = tv.data_ptr<float>();
    const float *bkp = b_k.data_ptr<float>(), *bvp = b_v.data_ptr<float>();
    const int64_t* tp = tokens.data_ptr<int64_t>();
    float *gqp = gq.data_ptr<float>(), *gtkp = gtk.data_ptr<float>(), *gtvp = gtv.data_ptr<float>();
    float *gbkp = gbk.data_ptr<float>(), *gbvp = gbv.data_ptr<float>();
    const float s = static_cast<float>(scale);
    const TokenRows table{tkp, tvp, bkp, bvp, tp, V, T, d};
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t n0 = 0; n0 < B; n0 += kBlock) {
        const int64_t m = std::min(kBlock, B - n0), row = k * B + n0;
        table.Gather(k, row, m, kb.data(), vb.data());
        kernels::AttentionBackward(0, m, T, H, D, s, qp + row * d, kb.data(), vb.data(),
                                   ap + row * H * T, gzp + row * d, gqp + row * d, gkb.data(),
                                   gvb.data(), scratch.data());
        kernels::ScatterAddTokenRows(m * T, T, V, d, gkb.data(), tp + row * T, gtkp + k * R * d,
                                     gbkp + k * d);
        kernels::ScatterAddTokenRows(m * T, T, V, d, gvb.data(), tp + row * T, gtvp + k * R * d,
                                     gbvp + k * d);
      }
    }
    // The products' gradients, as ProjectTokens computes them for the keys and the values.
    const bool need_embed = need[1], need_pos = need[2];
    torch::Tensor ge = need_embed ? torch::empty_like(embed) : torch::Tensor();
    torch::Tensor gp = need_pos ? torch::empty_like(pos) : torch::Tensor();
    torch::Tensor gwk = need[3] ? torch::empty_like(w_k) : torch::Tensor();
    torch::Tensor gwv = need[5] ? torch::empty_like(w_v) : torch::Tensor();
    std::vector<float> from_v(static_cast<size_t>(std::max(V, T) * d));
    const float *wkp = w_k.data_ptr<float>(), *wvp = w_v.data_ptr<float>(),
                *rp = rows.data_ptr<float>();
    // rows x d input gradient of both tables' rows [r0, r0 + n): keys' into out, then the
    // values' added (the order autograd summed the two nodes' gradients in).
    auto input_grad = [&](int64_t k, int64_t r0, int64_t n, float* out) {
      const float* gk = gtkp + k * R * d + r0 * d;
      const float* gv = gtvp + k * R * d + r0 * d;
      detail::MemberLinearInputGrad(n, d, d, gk, wkp + k * d * d, out);
      detail::MemberLinearInputGrad(n, d, d, gv, wvp + k * d * d, from_v.data());
      for (int64_t i = 0; i < n * d; ++i) out[i] = out[i] + from_v[i];
    };
    for (int64_t k = 0; k < K; ++k) {
      if (gwk.defined()) {
        detail::MemberLinearWeightGrad(R, d, d, rp + k * R * d, gtkp + k * R * d,
                                       gwk.data_ptr<float>() + k * d * d);
      }
      if (gwv.defined()) {
        detail::MemberLinearWeightGrad(R, d, d, rp + k * R * d, gtvp + k * R * d,
                                       gwv.data_ptr<float>() + k * d * d);
      }
      if (need_embed) input_grad(k, 0, V, ge.data_ptr<float>() + k * V * d);
      if (need_pos) input_grad(k, V, T, gp.data_ptr<float>() + k * T * d);
    }
    return {gq,
            ge,
            gp,
            gwk,
            need[4] ? gbk : torch::Tensor(),
            gwv,
            need[6] ? gbv : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor TokenLastQueryAttention(const torch::Tensor& q, const torch::Tensor& embed,
                                      const torch::Tensor& pos, const torch::Tensor& w_k,
                                      const torch::Tensor& b_k, const torch::Tensor& w_v,
                                      const torch::Tensor& b_v, const torch::Tensor& tokens,
                                      double scale, bool allow_fused) {
  bool fused = allow_fused && FusedCpuKernelsOn(embed.device()) &&
               tokens.scalar_type() == torch::kInt64 && q.size(1) * q.size(2) == embed.size(2) &&
               (pos.dim() == 3 || !pos.requires_grad());
  for (const torch::Tensor* t : {&q, &embed, &pos, &w_k, &b_k, &w_v, &b_v}) {
    fused = fused && t->scalar_type() == torch::kFloat32;
  }
  if (!fused) return Composite(q, embed, pos, w_k, b_k, w_v, b_v, tokens, scale);
  return TokenAttentionFn::apply(q.contiguous(), embed.contiguous(), pos.contiguous(),
                                 w_k.contiguous(), b_k.contiguous(), w_v.contiguous(),
                                 b_v.contiguous(), tokens.contiguous(), scale);
}

}  // namespace phasesweep::worker
