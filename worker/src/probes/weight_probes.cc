// Parameter-space probes: the embedding's norms, its cosine stability against the previous probe
// step and initialisation (the tracker of the post that started the project), relative updates,
// the global weight norm, the embedding's spectral ranks and its Fourier sparsity.
//
// "The embedding" is EnsembleModel::TokenEmbedding(): [K, vocab, d] for the transformer (every
// token, '=' included), the first layer [K, seq_len * vocab, width] for the mlp. At the first
// probe step there is no previous probe: emb_cos_prev, emb_rel_update and rel_update are NaN
// there (docs/METRICS.md).
#include <algorithm>

#include "phasesweep/worker/representation_metrics.h"
#include "probes/builtin_probes.h"

namespace phasesweep::worker {
namespace {

const char kInitEmbed[] = "init_embed";
const char kPrevEmbed[] = "prev_embed";
const char kPrevParams[] = "prev_params";

class WeightProbe final : public Probe {
 public:
  explicit WeightProbe(std::vector<std::string> metrics, int64_t fourier_rows)
      : metrics_(std::move(metrics)), fourier_rows_(fourier_rows) {}

  std::string name() const override { return "weights"; }

  void Measure(ProbeContext& ctx, TensorMap* out) override {
    const int64_t K = ctx.model->members();
    torch::Tensor embed = ctx.model->TokenEmbedding().detach();
    const bool first = !prev_embed_.defined();
    if (!init_embed_.defined()) init_embed_ = embed.clone();
    if (first) prev_embed_ = embed.clone();
    std::vector<torch::Tensor> params, previous;
    if (Wants(metrics_, "rel_update")) {
      if (!prev_params_.defined()) prev_params_ = ctx.model->params().flat_params().clone();
      for (const ParamStore::Entry& e : ctx.model->params().entries()) {
        params.push_back(e.param.detach().reshape({K, e.numel}));
        previous.push_back(prev_params_.narrow(0, e.offset, K * e.numel).view({K, e.numel}));
      }
    }
    auto put = [&](const char* metric, const std::function<torch::Tensor()>& value) {
      PutIfWanted(metrics_, metric, value, out);
    };
    put("emb_norm", [&] { return BatchedFrobeniusNorm(embed); });
    put("emb_row_norm_mean", [&] { return BatchedMeanRowNorm(embed); });
    const torch::Device device = embed.device();
    put("emb_cos_prev",
        [&] { return first ? NoPreviousProbe(K, device) : BatchedCosine(embed, prev_embed_); });
    put("emb_cos_init", [&] { return BatchedCosine(embed, init_embed_); });
    put("emb_rel_update", [&] {
      return first ? NoPreviousProbe(K, device) : BatchedRelativeUpdate(embed, prev_embed_);
    });
    put("rel_update", [&] {
      return first ? NoPreviousProbe(K, device) : BatchedRelativeUpdate(params, previous);
    });
    put("weight_norm", [&] { return BatchedGlobalNorm(ctx.model->params().Parameters()); });
    put("emb_eff_rank", [&] { return ForAliveMembers(ctx, embed, BatchedEffectiveRank); });
    put("emb_stable_rank", [&] { return ForAliveMembers(ctx, embed, BatchedStableRank); });
    put("emb_participation_ratio",
        [&] { return ForAliveMembers(ctx, embed, BatchedParticipationRatio); });
    put("fourier_gini", [&] {
      return ForAliveMembers(ctx, embed.narrow(1, 0, fourier_rows_), BatchedFourierGini);
    });
    prev_embed_.copy_(embed);
    if (prev_params_.defined()) prev_params_.copy_(ctx.model->params().flat_params());
  }

  void SaveState(TensorMap* state) const override {
    if (init_embed_.defined()) (*state)[kInitEmbed] = init_embed_;
    if (prev_embed_.defined()) (*state)[kPrevEmbed] = prev_embed_;
    if (prev_params_.defined()) (*state)[kPrevParams] = prev_params_;
  }

  Status LoadState(const TensorMap& state) override {
    init_embed_ = prev_embed_ = prev_params_ = torch::Tensor();
    for (const auto& [key, t] : state) {
      if (key == kInitEmbed) {
        init_embed_ = t.clone();
      } else if (key == kPrevEmbed) {
        prev_embed_ = t.clone();
      } else if (key == kPrevParams) {
        prev_params_ = t.clone();
      } else {
        return Status::Corruption("unexpected state '" + key + "'");
      }
    }
    if (init_embed_.defined() != prev_embed_.defined() ||
        (init_embed_.defined() && init_embed_.sizes() != prev_embed_.sizes())) {
      return Status::Corruption("embedding state is incomplete or inconsistent");
    }
    return Status::Ok();
  }

 private:
  std::vector<std::string> metrics_;
  int64_t fourier_rows_;
  torch::Tensor init_embed_, prev_embed_, prev_params_;
};

}  // namespace

ProbeDescriptor WeightProbeDescriptor() {
  ProbeDescriptor d;
  d.name = "weights";
  d.metrics = {"emb_norm",        "emb_row_norm_mean",
               "emb_cos_prev",    "emb_cos_init",
               "emb_rel_update",  "rel_update",
               "weight_norm",     "emb_eff_rank",
               "emb_stable_rank", "emb_participation_ratio",
               "fourier_gini"};
  d.create = [](const ProbeSetup& setup) -> std::unique_ptr<Probe> {
    // The residues 0..p-1 are the first p rows of the embedding for both models (for the mlp:
    // its first input position).
    return std::make_unique<WeightProbe>(setup.metrics, setup.spec->task.p);
  };
  return d;
}

}  // namespace phasesweep::worker
