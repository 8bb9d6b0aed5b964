// The ensemble-native transformer: pre-norm blocks (attention, then MLP), causal attention,
// learned or sinusoidal positions, tied or untied unembedding, read at the last position.
//
// The last block only computes what the answer position needs: keys and values for every
// position, but the query, the output projection and the MLP for the last position alone.
// Queries, keys and values have separate weights (w_q, w_k, w_v, each [d, d]) for that reason. The
// outputs are exactly those of the full computation (the other positions of the last block feed
// nothing), at a fraction of its cost. Without layer norm, block 0's projections of the input
// stream are computed per vocabulary row and position (token_projection.h) when those are fewer
// than the batch's positions: the same function, rounded differently. With a single block the
// keys and values are gathered from those rows inside the attention (token_attention.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "model/attention.h"
#include "model/batched_linear.h"
#include "model/token_attention.h"
#include "model/token_embedding.h"
#include "model/token_projection.h"
#include "phasesweep/spec/task.h"
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
      ps.Declare(b + "attn.w_q", {d, d}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "attn.b_q", {1, d}, ParamInit::Zeros());
      ps.Declare(b + "attn.w_k", {d, d}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "attn.b_k", {1, d}, ParamInit::Zeros());
      ps.Declare(b + "attn.w_v", {d, d}, ParamInit::Normal(inv_sqrt_d));
      ps.Declare(b + "attn.b_v", {1, d}, ParamInit::Zeros());
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

    auto opts = torch::TensorOptions().device(device);
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
      blk.w_q = ps.Get(b + "attn.w_q");
      blk.b_q = ps.Get(b + "attn.b_q");
      blk.w_k = ps.Get(b + "attn.w_k");
      blk.b_k = ps.Get(b + "attn.b_k");
      blk.w_v = ps.Get(b + "attn.w_v");
      blk.b_v = ps.Get(b + "attn.b_v");
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
    const int64_t d = spec_.d_model, H = spec_.heads, dh = d / H;
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
    const torch::Tensor& pos = spec_.learned_positions ? params_.Get("pos") : sinusoid_;
    // Without layer norm, block 0's queries, keys and values are linear in the embedding stream:
    // when the vocabulary and the positions have fewer rows than the batch has positions, they
    // are computed per vocabulary row (token_projection.h).
    const bool project = spec::FirstBlockPerToken(spec_, task_, B);
    const bool single = blocks_.size() == 1;
    torch::Tensor resid;  // [K, B*T, d]: every position's stream, unless no block reads it
    if (!(single && project)) resid = EmbedTokens(embed, pos, tokens).view({K, B * T, d});
    // The last position's stream as a tensor of its own: the answer-position path never slices
    // the full stream (a slice's backward zero-fills a full-size gradient).
    torch::Tensor r;
    if (single || want("embed_out")) r = EmbedTokens(embed, pos, tokens, T - 1).view({K, B, d});
    keep("embed_out", r);
    // x W + b over every position of block l's input.
    auto project_or = [&](size_t l, const torch::Tensor& x, const torch::Tensor& w,
                          const torch::Tensor& b) {
      if (l > 0 || !project) return BatchedLinear(x, w, b);
      return ProjectTokens(embed, pos, w, b, tokens).view({K, B * T, w.size(2)});
    };

    // [K, B*T, d] → [K*B*H, T, dh]
    auto heads = [&](const torch::Tensor& t) {
      return t.view({K * B, T, H, dh}).transpose(1, 2).reshape({K * B * H, T, dh});
    };
    for (size_t l = 0; l < blocks_.size(); ++l) {
      const Block& blk = blocks_[l];
      const std::string tag = "." + std::to_string(l);
      torch::Tensor h = LayerNorm(resid, blk.ln1_g, blk.ln1_b);
      if (l + 1 < blocks_.size()) {
        // A full causal block over every position.
        torch::Tensor q = heads(project_or(l, h, blk.w_q, blk.b_q));
        torch::Tensor k = heads(project_or(l, h, blk.w_k, blk.b_k));
        torch::Tensor v = heads(project_or(l, h, blk.w_v, blk.b_v));
        torch::Tensor scores = torch::baddbmm(causal_mask_.expand({K * B * H, T, T}), q,
                                              k.transpose(1, 2), 1.0, scale);
        torch::Tensor z = torch::bmm(torch::softmax(scores, 2), v)
                              .view({K * B, H, T, dh})
                              .permute({0, 2, 1, 3})
                              .reshape({K, B * T, d});
        resid = resid + BatchedLinear(z, blk.w_o, blk.b_o);
        keep("resid_mid" + tag, resid.view({K, B, T, d}).select(2, T - 1));
        torch::Tensor m = MlpHidden(LayerNorm(resid, blk.ln2_g, blk.ln2_b), blk);
        keep("mlp_hidden" + tag, m.view({K, B, T, spec_.d_mlp}).select(2, T - 1));
        resid = resid + BatchedLinear(m, blk.w_out, blk.b_out);
        keep("resid_post" + tag, resid.view({K, B, T, d}).select(2, T - 1));
        continue;
      }
      // The last block: keys and values of every position, the rest at the last one. With a
      // single query per head the attention is a fused loop (attention.h) over contiguous
      // views — no head transposes, no tiny per-head matmuls.
      if (l > 0) r = resid.view({K, B, T, d}).select(2, T - 1);
      torch::Tensor z;
      if (spec::KeysValuesPerToken(spec_, task_, B)) {
        // Keys and values per vocabulary row, gathered inside the attention (token_attention.h).
        torch::Tensor q = BatchedLinear(r, blk.w_q, blk.b_q).view({K * B, H, dh});
        z = TokenLastQueryAttention(q, embed, pos, blk.w_k, blk.b_k, blk.w_v, blk.b_v, tokens,
                                    scale)
                .view({K, B, d});
      } else {
        torch::Tensor k = project_or(l, h, blk.w_k, blk.b_k).view({K * B, T, H, dh});
        torch::Tensor v = project_or(l, h, blk.w_v, blk.b_v).view({K * B, T, H, dh});
        torch::Tensor q = BatchedLinear(LayerNorm(r, blk.ln1_g, blk.ln1_b), blk.w_q, blk.b_q)
                              .view({K * B, H, dh});
        z = LastQueryAttention(q, k, v, scale).view({K, B, d});
      }
      r = r + BatchedLinear(z, blk.w_o, blk.b_o);
      keep("resid_mid" + tag, r);
      torch::Tensor m = MlpHidden(LayerNorm(r, blk.ln2_g, blk.ln2_b), blk);
      keep("mlp_hidden" + tag, m);
      r = r + BatchedLinear(m, blk.w_out, blk.b_out);
      keep("resid_post" + tag, r);
      keep("resid_final", r);
      resid = r;
    }
    torch::Tensor h =
        spec_.layer_norm ? LayerNorm(resid, params_.Get("ln_f.g"), params_.Get("ln_f.b")) : resid;
    if (spec_.tied_unembed) {
      out.logits = torch::bmm(h, embed.transpose(1, 2)).narrow(2, 0, task_.n_classes);
    } else {
      out.logits = BatchedLinear(h, params_.Get("unembed"), params_.Get("unembed_b"));
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
    torch::Tensor ln1_g, ln1_b, ln2_g, ln2_b, w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o, w_in, b_in,
        w_out, b_out;
  };

  // Per-member affine layer norm: normalise over the last dim, then g[K,1,d] * x + b[K,1,d].
  torch::Tensor LayerNorm(const torch::Tensor& x, const torch::Tensor& g,
                          const torch::Tensor& b) const {
    if (!spec_.layer_norm) return x;
    return torch::addcmul(b, torch::layer_norm(x, {spec_.d_model}), g);
  }

  // The MLP's hidden layer: activation(x w_in + b_in), the ReLU fused with the product.
  torch::Tensor MlpHidden(const torch::Tensor& x, const Block& blk) const {
    if (spec_.activation == "gelu") return torch::gelu(BatchedLinear(x, blk.w_in, blk.b_in));
    return BatchedLinearRelu(x, blk.w_in, blk.b_in);
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
  torch::Tensor causal_mask_, sinusoid_;
  std::set<std::string> known_;
};

}  // namespace

std::unique_ptr<EnsembleModel> MakeTransformer(const ModelSpec& spec, const TaskInfo& task,
                                               const std::vector<uint64_t>& seeds,
                                               torch::Device device) {
  return std::make_unique<Transformer>(spec, task, seeds, device);
}

}  // namespace phasesweep::worker
