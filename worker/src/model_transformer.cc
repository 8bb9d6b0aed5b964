// The ensemble-native transformer: pre-norm blocks (attention, then MLP), causal attention,
// learned or sinusoidal positions, tied or untied unembedding, read at the last position.
//
// The last block only computes what the answer position needs: keys and values for every
// position, but the query, the output projection and the MLP for the last position alone. The
// outputs are exactly those of the full computation (the other positions of the last block feed
// nothing), at a fraction of its cost.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "phasesweep/worker/model.h"

namespace phasesweep::worker {
namespace {

class Transformer final : public EnsembleModel {
 public:
  Transformer(const ModelSpec& spec, const TaskInfo& task, const std::vector<uint64_t>& seeds,
              torch::Device device)
      : spec_(spec), task_(task) {
    const int64_t d = spec.d_model, V = task.vocab, T = task.seq_len;
    const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
    const double inv_sqrt_mlp = 1.0 / std::sqrt(static_cast<double>(spec.d_mlp));
    ParamStore& ps = params_;
    ps.Declare("embed", {V, d}, ParamInit::Normal(inv_sqrt_d));
    if (spec.learned_positions) ps.Declare("pos", {T, d}, ParamInit::Normal(inv_sqrt_d));
    for (int64_t l = 0; l < spec.layers; ++l) {
      const std::string b = "blocks." + std::to_string(l) + ".";
      if (spec.layer_norm) {
        ps.Declare(b + "ln1.g", {1, d}, ParamInit::Ones());
        ps.Declare(b + "ln1.b", {1, d}, ParamInit::Zeros());
      }
      ps.Declare(b + "attn.w_qkv", {d, 3 * d}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "attn.b_qkv", {1, 3 * d}, ParamInit::Zeros());
      ps.Declare(b + "attn.w_o", {d, d}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "attn.b_o", {1, d}, ParamInit::Zeros());
      if (spec.layer_norm) {
        ps.Declare(b + "ln2.g", {1, d}, ParamInit::Ones());
        ps.Declare(b + "ln2.b", {1, d}, ParamInit::Zeros());
      }
      ps.Declare(b + "mlp.w_in", {d, spec.d_mlp}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "mlp.b_in", {1, spec.d_mlp}, ParamInit::Zeros());
      ps.Declare(b + "mlp.w_out", {spec.d_mlp, d}, ParamInit::Normal(inv_sqrt_mlp));
      ps.Declare(b + "mlp.b_out", {1, d}, ParamInit::Zeros());
    }
    if (spec.layer_norm) {
      ps.Declare("ln_f.g", {1, d}, ParamInit::Ones());
      ps.Declare("ln_f.b", {1, d}, ParamInit::Zeros());
    }
    if (!spec.tied_unembed) {
      ps.Declare("unembed", {d, task.n_classes}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare("unembed_b", {1, task.n_classes}, ParamInit::Zeros());
    }
    ps.Finalize(seeds, device);

    const int64_t K = ps.members();
    auto opts = torch::TensorOptions().device(device);
    member_offset_ = (torch::arange(K, opts.dtype(torch::kInt64)) * V).view({K, 1, 1});
    causal_mask_ =
        torch::full({T, T}, -std::numeric_limits<float>::infinity(), opts.dtype(torch::kFloat32))
            .triu(1);
    if (!spec.learned_positions) sinusoid_ = Sinusoid(T, d).to(device);
    for (int64_t l = 0; l < spec.layers; ++l) {
      Block blk;
      const std::string b = "blocks." + std::to_string(l) + ".";
      if (spec.layer_norm) {
        blk.ln1_g = ps.Get(b + "ln1.g");
        blk.ln1_b = ps.Get(b + "ln1.b");
        blk.ln2_g = ps.Get(b + "ln2.g");
        blk.ln2_b = ps.Get(b + "ln2.b");
      }
      blk.w_qkv = ps.Get(b + "attn.w_qkv");
      blk.b_qkv = ps.Get(b + "attn.b_qkv");
      blk.w_o = ps.Get(b + "attn.w_o");
      blk.b_o = ps.Get(b + "attn.b_o");
      blk.w_in = ps.Get(b + "mlp.w_in");
      blk.b_in = ps.Get(b + "mlp.b_in");
      blk.w_out = ps.Get(b + "mlp.w_out");
      blk.b_out = ps.Get(b + "mlp.b_out");
      blocks_.push_back(blk);
    }
    for (const std::string& n : RepresentationNames()) known_.insert(n);
  }

  ForwardOutput Forward(const torch::Tensor& tokens,
                        const std::vector<std::string>& capture) override {
    for (const std::string& n : capture) {
      TORCH_CHECK(known_.count(n), "transformer has no representation '", n, "'");
    }
    const int64_t K = members(), B = tokens.size(1), T = tokens.size(2);
    const int64_t d = spec_.d_model, V = task_.vocab, H = spec_.heads, dh = d / H;
    TORCH_CHECK(tokens.size(0) == K && T == task_.seq_len, "tokens must be [K, B, seq_len]");
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
    ForwardOutput out;
    auto want = [&](const std::string& n) {
      return std::find(capture.begin(), capture.end(), n) != capture.end();
    };
    auto keep = [&](const std::string& n, const torch::Tensor& t) {
      if (want(n)) out.hidden[n] = t;
    };

    const torch::Tensor& embed = params_.Get("embed");  // [K, V, d]
    torch::Tensor x = torch::embedding(embed.view({K * V, d}), tokens + member_offset_);
    x = spec_.learned_positions ? x + params_.Get("pos").unsqueeze(1) : x + sinusoid_;
    torch::Tensor resid = x.view({K, B * T, d});
    keep("embed_out", x.select(2, T - 1));

    for (size_t l = 0; l < blocks_.size(); ++l) {
      const Block& blk = blocks_[l];
      const bool last = l + 1 == blocks_.size();
      const std::string tag = "." + std::to_string(l);
      torch::Tensor h = LayerNorm(resid, blk.ln1_g, blk.ln1_b);
      torch::Tensor qkv = torch::baddbmm(blk.b_qkv, h, blk.w_qkv).view({K * B, T, 3, H, dh});
      // [K*B, T, H, dh] → [K*B*H, T, dh]
      auto heads = [&](int64_t i) {
        return qkv.select(2, i).permute({0, 2, 1, 3}).reshape({K * B * H, T, dh});
      };
      torch::Tensor k = heads(1), v = heads(2);
      if (!last) {
        torch::Tensor scores = torch::baddbmm(causal_mask_.expand({K * B * H, T, T}), heads(0),
                                              k.transpose(1, 2), 1.0, scale);
        torch::Tensor z = torch::bmm(torch::softmax(scores, 2), v)
                              .view({K * B, H, T, dh})
                              .permute({0, 2, 1, 3})
                              .reshape({K, B * T, d});
        resid = resid + torch::baddbmm(blk.b_o, z, blk.w_o);
        keep("resid_mid" + tag, resid.view({K, B, T, d}).select(2, T - 1));
        torch::Tensor m =
            Activation(torch::baddbmm(blk.b_in, LayerNorm(resid, blk.ln2_g, blk.ln2_b), blk.w_in));
        keep("mlp_hidden" + tag, m.view({K, B, T, spec_.d_mlp}).select(2, T - 1));
        resid = resid + torch::baddbmm(blk.b_out, m, blk.w_out);
        keep("resid_post" + tag, resid.view({K, B, T, d}).select(2, T - 1));
      } else {
        // Only the last query: [K*B*H, 1, dh]; no mask needed (it sees every position).
        torch::Tensor q = qkv.select(1, T - 1).select(1, 0).reshape({K * B * H, 1, dh});
        torch::Tensor scores = torch::bmm(q * scale, k.transpose(1, 2));
        torch::Tensor z = torch::bmm(torch::softmax(scores, 2), v).view({K, B, d});
        torch::Tensor r = resid.view({K, B, T, d}).select(2, T - 1);
        r = r + torch::baddbmm(blk.b_o, z, blk.w_o);
        keep("resid_mid" + tag, r);
        torch::Tensor m =
            Activation(torch::baddbmm(blk.b_in, LayerNorm(r, blk.ln2_g, blk.ln2_b), blk.w_in));
        keep("mlp_hidden" + tag, m);
        r = r + torch::baddbmm(blk.b_out, m, blk.w_out);
        keep("resid_post" + tag, r);
        keep("resid_final", r);
        resid = r;
      }
    }
    torch::Tensor h =
        spec_.layer_norm ? LayerNorm(resid, params_.Get("ln_f.g"), params_.Get("ln_f.b")) : resid;
    if (spec_.tied_unembed) {
      out.logits = torch::bmm(h, embed.transpose(1, 2)).narrow(2, 0, task_.n_classes);
    } else {
      out.logits = torch::baddbmm(params_.Get("unembed_b"), h, params_.Get("unembed"));
    }
    return out;
  }

  torch::Tensor TokenEmbedding() const override { return params_.Get("embed"); }

  std::vector<std::string> RepresentationNames() const override {
    std::vector<std::string> names{"embed_out"};
    for (int64_t l = 0; l < spec_.layers; ++l) {
      const std::string tag = "." + std::to_string(l);
      names.push_back("resid_mid" + tag);
      names.push_back("mlp_hidden" + tag);
      names.push_back("resid_post" + tag);
    }
    names.push_back("resid_final");
    return names;
  }

 private:
  struct Block {
    torch::Tensor ln1_g, ln1_b, ln2_g, ln2_b, w_qkv, b_qkv, w_o, b_o, w_in, b_in, w_out, b_out;
  };

  // Per-member affine layer norm: normalise over the last dim, then g[K,1,d] * x + b[K,1,d].
  torch::Tensor LayerNorm(const torch::Tensor& x, const torch::Tensor& g,
                          const torch::Tensor& b) const {
    if (!spec_.layer_norm) return x;
    return torch::addcmul(b, torch::layer_norm(x, {spec_.d_model}), g);
  }

  torch::Tensor Activation(const torch::Tensor& x) const {
    return spec_.activation == "gelu" ? torch::gelu(x) : torch::relu(x);
  }

  static torch::Tensor Sinusoid(int64_t T, int64_t d) {
    torch::Tensor pe = torch::zeros({T, d});
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < d; ++i) {
        const double freq = std::pow(10000.0, -2.0 * static_cast<double>(i / 2) / d);
        pe[t][i] = i % 2 == 0 ? std::sin(t * freq) : std::cos(t * freq);
      }
    }
    return pe;
  }

  ModelSpec spec_;
  TaskInfo task_;
  std::vector<Block> blocks_;
  torch::Tensor member_offset_, causal_mask_, sinusoid_;
  std::set<std::string> known_;
};

}  // namespace

std::unique_ptr<EnsembleModel> MakeTransformer(const ModelSpec& spec, const TaskInfo& task,
                                               const std::vector<uint64_t>& seeds,
                                               torch::Device device) {
  return std::make_unique<Transformer>(spec, task, seeds, device);
}

}  // namespace phasesweep::worker
