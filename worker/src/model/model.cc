// The model factory (its rules are spec/validate.h's ValidateModel) and the per-member accuracy
// shared by every model (the loss is in member_loss.cc).
#include "phasesweep/worker/model.h"

namespace phasesweep::worker {

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
