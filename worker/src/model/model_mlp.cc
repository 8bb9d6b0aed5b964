// The ensemble-native MLP: one-hot tokens (position-specific) → `depth` hidden layers of `width`
// with the activation → class logits. For sparse parity the one-hot of a bit is an affine
// function of the bit, so this is the usual MLP on the bits.
#include <algorithm>
#include <cmath>

#include "model/batched_linear.h"
#include "phasesweep/worker/model.h"

namespace phasesweep::worker {
namespace {

class Mlp final : public EnsembleModel {
 public:
  Mlp(const ModelSpec& spec, const TaskInfo& task, const std::vector<uint64_t>& seeds,
      torch::Device device)
      : spec_(spec), task_(task) {
    const int64_t in = task.seq_len * task.vocab;
    // The one-hot input has exactly seq_len ones: scale as for fan-in seq_len.
    int64_t fan_in = task.seq_len;
    for (int64_t i = 0; i < spec.depth; ++i) {
      const std::string n = std::to_string(i);
      const int64_t rows = i == 0 ? in : spec.width;
      params_.Declare("layers." + n + ".w", {rows, spec.width},
                      ParamInit::Normal(1.0 / std::sqrt(static_cast<double>(fan_in))));
      params_.Declare("layers." + n + ".b", {1, spec.width}, ParamInit::Zeros());
      fan_in = spec.width;
    }
    params_.Declare("out.w", {spec.width, task.n_classes},
                    ParamInit::Normal(1.0 / std::sqrt(static_cast<double>(spec.width))));
    params_.Declare("out.b", {1, task.n_classes}, ParamInit::Zeros());
    params_.Finalize(seeds, device);
    position_offset_ =
        (torch::arange(task.seq_len, torch::TensorOptions().device(device).dtype(torch::kInt64)) *
         task.vocab)
            .view({1, 1, task.seq_len});
  }

  ForwardOutput Forward(const torch::Tensor& tokens,
                        const std::vector<std::string>& capture) override {
    const std::vector<std::string> names = RepresentationNames();
    for (const std::string& n : capture) {
      TORCH_CHECK(std::find(names.begin(), names.end(), n) != names.end(),
                  "mlp has no representation '", n, "'");
    }
    const int64_t K = members(), B = tokens.size(1);
    TORCH_CHECK(tokens.size(0) == K && tokens.size(2) == task_.seq_len,
                "tokens must be [K, B, seq_len]");
    torch::Tensor h =
        torch::zeros({K, B, task_.seq_len * task_.vocab},
                     torch::TensorOptions().device(tokens.device()).dtype(torch::kFloat32))
            .scatter_(2, tokens + position_offset_, 1.0);
    ForwardOutput out;
    for (int64_t i = 0; i < spec_.depth; ++i) {
      const std::string n = std::to_string(i);
      const torch::Tensor &w = params_.Get("layers." + n + ".w"),
                          &b = params_.Get("layers." + n + ".b");
      h = spec_.activation == "gelu" ? torch::gelu(BatchedLinear(h, w, b))
                                     : BatchedLinearRelu(h, w, b);
      const std::string name = "hidden." + n;
      if (std::find(capture.begin(), capture.end(), name) != capture.end()) out.hidden[name] = h;
    }
    if (std::find(capture.begin(), capture.end(), "resid_final") != capture.end()) {
      out.hidden["resid_final"] = h;
    }
    out.logits = BatchedLinear(h, params_.Get("out.w"), params_.Get("out.b"));
    return out;
  }

  torch::Tensor TokenEmbedding() const override { return params_.Get("layers.0.w"); }

  std::vector<std::string> RepresentationNames() const override {
    std::vector<std::string> names;
    for (int64_t i = 0; i < spec_.depth; ++i) names.push_back("hidden." + std::to_string(i));
    names.push_back("resid_final");
    return names;
  }

 private:
  ModelSpec spec_;
  TaskInfo task_;
  torch::Tensor position_offset_;
};

}  // namespace

std::unique_ptr<EnsembleModel> MakeMlp(const ModelSpec& spec, const TaskInfo& task,
                                       const std::vector<uint64_t>& seeds, torch::Device device) {
  return std::make_unique<Mlp>(spec, task, seeds, device);
}

}  // namespace phasesweep::worker
