// Probes of a hidden representation (probes.representation, default the residual stream at the
// answer position after the last layer) on the fixed probe batch: CKA against the previous probe
// step and initialisation, spectral ranks, and how the representation clusters by label
// (cosine silhouette, neural-collapse NC1). At the first probe step there is no previous probe:
// cka_prev is NaN there.
#include <algorithm>

#include "phasesweep/worker/representation_metrics.h"
#include "probes/builtin_probes.h"

namespace phasesweep::worker {
namespace {

const char kInit[] = "init";
const char kPrev[] = "prev";

class RepresentationProbe final : public Probe {
 public:
  RepresentationProbe(std::vector<std::string> metrics, std::string representation,
                      CkaEstimator estimator)
      : metrics_(std::move(metrics)),
        representation_(std::move(representation)),
        estimator_(estimator) {}

  std::string name() const override { return "representation"; }
  std::vector<std::string> Representations() const override { return {representation_}; }

  void Measure(ProbeContext& ctx, TensorMap* out) override {
    const torch::Tensor& h = ctx.ProbeForward().hidden.at(representation_);  // [K, B, width]
    const torch::Tensor& labels = ctx.probe_batch->labels;                   // [K, B]
    if (!init_.defined()) init_ = h.clone();
    const bool first = !prev_.defined();
    if (first) prev_ = h.clone();
    auto put = [&](const char* metric, const std::function<torch::Tensor()>& value) {
      PutIfWanted(metrics_, metric, value, out);
    };
    // CKA pairs two representations: run it on the alive members of both, stacked.
    auto cka_vs = [&](const torch::Tensor& other) {
      return ForAliveMembers(ctx, torch::stack({h, other}, 1), [&](const torch::Tensor& pair) {
        return BatchedCka(pair.select(1, 0), pair.select(1, 1), estimator_);
      });
    };
    put("cka_prev", [&] { return first ? NoPreviousProbe(h.size(0), h.device()) : cka_vs(prev_); });
    put("cka_init", [&] { return cka_vs(init_); });
    put("eff_rank", [&] { return ForAliveMembers(ctx, h, BatchedEffectiveRank); });
    put("stable_rank", [&] { return ForAliveMembers(ctx, h, BatchedStableRank); });
    put("participation_ratio", [&] { return ForAliveMembers(ctx, h, BatchedParticipationRatio); });
    put("silhouette", [&] {
      return ForEachAliveMember(ctx, h.device(), [&](int64_t k) {
        return Silhouette(h[k], labels[k], SilhouetteMetric::kCosine);
      });
    });
    put("nc1", [&] {
      return ForEachAliveMember(ctx, h.device(), [&](int64_t k) { return Nc1(h[k], labels[k]); });
    });
    prev_.copy_(h);
  }

  void SaveState(TensorMap* state) const override {
    if (init_.defined()) (*state)[kInit] = init_;
    if (prev_.defined()) (*state)[kPrev] = prev_;
  }

  Status LoadState(const TensorMap& state) override {
    init_ = prev_ = torch::Tensor();
    for (const auto& [key, t] : state) {
      if (key == kInit) {
        init_ = t.clone();
      } else if (key == kPrev) {
        prev_ = t.clone();
      } else {
        return Status::Corruption("unexpected state '" + key + "'");
      }
    }
    if (init_.defined() != prev_.defined() || (init_.defined() && init_.sizes() != prev_.sizes())) {
      return Status::Corruption("representation state is incomplete or inconsistent");
    }
    return Status::Ok();
  }

 private:
  std::vector<std::string> metrics_;
  std::string representation_;
  CkaEstimator estimator_;
  torch::Tensor init_, prev_;
};

}  // namespace

ProbeDescriptor RepresentationProbeDescriptor() {
  ProbeDescriptor d;
  d.name = "representation";
  d.metrics = {"cka_prev",   "cka_init", "eff_rank", "stable_rank", "participation_ratio",
               "silhouette", "nc1"};
  d.create = [](const ProbeSetup& setup) -> std::unique_ptr<Probe> {
    return std::make_unique<RepresentationProbe>(
        setup.metrics, setup.spec->probes.representation,
        CkaEstimatorFromName(setup.spec->probes.cka).value_or(CkaEstimator::kLinear));
  };
  return d;
}

}  // namespace phasesweep::worker
