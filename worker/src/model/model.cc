// Model validation, the factory, and the per-member accuracy shared by every model (the loss is
// in member_loss.cc).
#include "phasesweep/worker/model.h"

#include <string>

namespace phasesweep::worker {

Status ValidateModel(const ModelSpec& spec, const TaskInfo& task) {
  auto positive = [](const char* key, int64_t v) -> Status {
    if (v >= 1) return Status::Ok();
    return Status::InvalidArgument(std::string(key) + ": " + std::to_string(v) + " must be >= 1");
  };
  if (spec.activation != "relu" && spec.activation != "gelu") {
    return Status::InvalidArgument("model.activation: '" + spec.activation +
                                   "' is not an activation; valid: relu, gelu");
  }
  if (spec.name == "transformer") {
    PHASESWEEP_RETURN_IF_ERROR(positive("model.layers", spec.layers));
    PHASESWEEP_RETURN_IF_ERROR(positive("model.d_model", spec.d_model));
    PHASESWEEP_RETURN_IF_ERROR(positive("model.heads", spec.heads));
    PHASESWEEP_RETURN_IF_ERROR(positive("model.d_mlp", spec.d_mlp));
    if (spec.d_model % spec.heads != 0) {
      return Status::InvalidArgument("model.heads: d_model " + std::to_string(spec.d_model) +
                                     " is not divisible by heads " + std::to_string(spec.heads) +
                                     "; choose heads dividing d_model");
    }
    if (spec.tied_unembed && task.n_classes > task.vocab) {
      return Status::InvalidArgument("model.tied_unembed: the task has " +
                                     std::to_string(task.n_classes) + " classes but only " +
                                     std::to_string(task.vocab) +
                                     " tokens to tie them to; use tied_unembed: false");
    }
    return Status::Ok();
  }
  if (spec.name == "mlp") {
    PHASESWEEP_RETURN_IF_ERROR(positive("model.depth", spec.depth));
    PHASESWEEP_RETURN_IF_ERROR(positive("model.width", spec.width));
    return Status::Ok();
  }
  return Status::InvalidArgument("model.name: '" + spec.name +
                                 "' is not a model; valid: transformer, mlp");
}

Result<std::unique_ptr<EnsembleModel>> MakeModel(const ModelSpec& spec, const TaskInfo& task,
                                                 const std::vector<uint64_t>& seeds,
                                                 torch::Device device) {
  PHASESWEEP_RETURN_IF_ERROR(ValidateModel(spec, task));
  if (seeds.empty()) return Status::InvalidArgument("pack has no members");
  if (spec.name == "transformer") return MakeTransformer(spec, task, seeds, device);
  return MakeMlp(spec, task, seeds, device);
}

torch::Tensor MemberAccuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(2).eq(labels).to(torch::kFloat32).mean(1);
}

}  // namespace phasesweep::worker
