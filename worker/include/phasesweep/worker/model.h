// Ensemble-native models: K independent members evaluated in one pass.
//
// Every parameter has a leading member dimension K (ParamStore); linear layers are bmm/baddbmm
// over that dimension, embeddings gather per member, attention folds K into the batch. Nothing in
// a forward pass mixes members, so a member's outputs and gradients are those it would have
// alone (the loss is the SUM over members of each member's MEAN loss).
//
// Names a probe can read:
//  - TokenEmbedding(): the token embedding [K, vocab, d] (transformer), or for the mlp its first
//    layer [K, seq_len * vocab, width] (row t * vocab + v embeds token v at position t).
//  - Parameters by name through params() (e.g. "embed", "blocks.0.mlp.w_in").
//  - Hidden representations captured by Forward, all at the answer (last) position, [K, B, width]:
//      transformer: "embed_out" (token + position), "resid_mid.<l>" (after attention of layer l),
//                   "mlp_hidden.<l>" (after the activation), "resid_post.<l>",
//                   "resid_final" (= resid_post of the last layer, before the final layer norm)
//      mlp:         "hidden.<i>" (after activation i), "resid_final" (= the last hidden layer)
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/validate.h"
#include "phasesweep/worker/param_store.h"
#include "phasesweep/worker/spec.h"
#include "phasesweep/worker/tasks.h"

namespace phasesweep::worker {

struct ForwardOutput {
  torch::Tensor logits;                         // [K, B, n_classes] at the answer position
  std::map<std::string, torch::Tensor> hidden;  // the captured representations, [K, B, width]
};

class EnsembleModel {
 public:
  virtual ~EnsembleModel() = default;

  // tokens: int64 [K, B, seq_len] on the model's device. `capture` names representations to
  // return in ForwardOutput::hidden (unknown names throw). Differentiable unless called under
  // torch::NoGradGuard.
  virtual ForwardOutput Forward(const torch::Tensor& tokens,
                                const std::vector<std::string>& capture = {}) = 0;

  // See the file comment. A view of the parameter: no copy, requires grad.
  virtual torch::Tensor TokenEmbedding() const = 0;

  // The names Forward can capture.
  virtual std::vector<std::string> RepresentationNames() const = 0;

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  int64_t members() const { return params_.members(); }

 protected:
  ParamStore params_;
};

// The model section's rules (spec/validate.h): ranges and choices, heads dividing d_model, ...
using spec::ValidateModel;

// Builds and initialises a model for the task; seeds[k] is member k's job seed.
Result<std::unique_ptr<EnsembleModel>> MakeModel(const ModelSpec& spec, const TaskInfo& task,
                                                 const std::vector<uint64_t>& seeds,
                                                 torch::Device device);

// Per-member mean cross-entropy: logits [K, B, C], labels int64 [K, B] → [K].
torch::Tensor MemberLosses(const torch::Tensor& logits, const torch::Tensor& labels);

// Per-member accuracy (fraction of argmax == label): → [K] float.
torch::Tensor MemberAccuracy(const torch::Tensor& logits, const torch::Tensor& labels);

// Internal constructors (model_transformer.cc, model_mlp.cc); use MakeModel.
std::unique_ptr<EnsembleModel> MakeTransformer(const ModelSpec& spec, const TaskInfo& task,
                                               const std::vector<uint64_t>& seeds,
                                               torch::Device device);
std::unique_ptr<EnsembleModel> MakeMlp(const ModelSpec& spec, const TaskInfo& task,
                                       const std::vector<uint64_t>& seeds, torch::Device device);

}  // namespace phasesweep::worker
