// The evaluation probe: per-member loss and accuracy on the member's whole training set and
// whole test set (the grokking curves), in chunks that bound memory.
#include <algorithm>

#include "probes/builtin_probes.h"

namespace phasesweep::worker {
namespace {

// Tokens per forward chunk (K * examples * seq_len): bounds activation memory on big packs.
constexpr int64_t kEvalTokens = 1 << 16;

class EvalProbe final : public Probe {
 public:
  explicit EvalProbe(std::vector<std::string> metrics) : metrics_(std::move(metrics)) {}

  std::string name() const override { return "eval"; }

  void Measure(ProbeContext& ctx, TensorMap* out) override {
    auto wants = [&](const char* m) { return Wants(metrics_, m); };
    if (wants("train_loss") || wants("train_acc")) {
      auto [loss, acc] = Evaluate(ctx, ctx.data->train_tokens, ctx.data->train_labels);
      if (wants("train_loss")) (*out)["train_loss"] = loss;
      if (wants("train_acc")) (*out)["train_acc"] = acc;
    }
    if (wants("test_loss") || wants("test_acc")) {
      auto [loss, acc] = Evaluate(ctx, ctx.data->test_tokens, ctx.data->test_labels);
      if (wants("test_loss")) (*out)["test_loss"] = loss;
      if (wants("test_acc")) (*out)["test_acc"] = acc;
    }
  }

 private:
  // Mean loss and accuracy per member over all n examples: sums of chunk sums, divided by n.
  static std::pair<torch::Tensor, torch::Tensor> Evaluate(ProbeContext& ctx,
                                                          const torch::Tensor& tokens,
                                                          const torch::Tensor& labels) {
    const int64_t K = tokens.size(0), n = tokens.size(1), T = tokens.size(2);
    const int64_t chunk = std::max<int64_t>(1, kEvalTokens / (K * T));
    torch::Tensor loss_sum, correct;
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t len = std::min(chunk, n - start);
      torch::Tensor x = tokens.narrow(1, start, len), y = labels.narrow(1, start, len);
      torch::Tensor logits = ctx.model->Forward(x).logits.to(torch::kFloat64);
      torch::Tensor l = MemberLosses(logits, y) * static_cast<double>(len);
      torch::Tensor c = logits.argmax(2).eq(y).sum(1).to(torch::kFloat64);
      loss_sum = loss_sum.defined() ? loss_sum + l : l;
      correct = correct.defined() ? correct + c : c;
    }
    return {loss_sum / static_cast<double>(n), correct / static_cast<double>(n)};
  }

  std::vector<std::string> metrics_;
};

}  // namespace

ProbeDescriptor EvalProbeDescriptor() {
  ProbeDescriptor d;
  d.name = "eval";
  d.metrics = {"train_loss", "test_loss", "train_acc", "test_acc"};
  d.create = [](const ProbeSetup& setup) -> std::unique_ptr<Probe> {
    return std::make_unique<EvalProbe>(setup.metrics);
  };
  return d;
}

}  // namespace phasesweep::worker
