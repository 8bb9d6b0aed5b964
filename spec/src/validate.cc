// The rule set of each section (validate.h): the catalog's ranges and choices, then the rules
// between keys.
#include "phasesweep/spec/validate.h"

#include <algorithm>
#include <string>

#include "phasesweep/spec/catalog.h"

namespace phasesweep::spec {
namespace {

// Every bound key of `section` that all members share, against its catalog row.
Status CheckSection(const std::string& section, const PackSpec& pack) {
  for (const KeySpec* k : SectionKeys(section)) {
    if (!k->get || k->role == KeyRole::kMemberScalar) continue;
    PHASESWEEP_RETURN_IF_ERROR(CheckValue(*k, k->get(pack, {})));
  }
  return Status::Ok();
}

std::string Str(int64_t v) { return std::to_string(v); }

}  // namespace

Status ValidateModel(const ModelSpec& model, const TaskInfo& task) {
  PackSpec pack;
  pack.model = model;
  PHASESWEEP_RETURN_IF_ERROR(CheckSection("model", pack));
  if (model.name != "transformer") return Status::Ok();
  if (model.d_model % model.heads != 0) {
    return Status::InvalidArgument("model.heads (" + Str(model.heads) +
                                   ") must divide model.d_model (" + Str(model.d_model) + ")");
  }
  if (model.tied_unembed && task.n_classes > task.vocab) {
    return Status::InvalidArgument("model.tied_unembed: the task has " + Str(task.n_classes) +
                                   " classes but only " + Str(task.vocab) +
                                   " tokens to tie them to; use tied_unembed: false");
  }
  return Status::Ok();
}

Status ValidateOptimizer(const OptimizerSpec& optimizer, const std::vector<MemberSpec>& members,
                         int64_t total_steps) {
  PackSpec pack;
  pack.optimizer = optimizer;
  PHASESWEEP_RETURN_IF_ERROR(CheckSection("optimizer", pack));
  for (const MemberSpec& m : members) {
    for (const KeySpec* k : SectionKeys("optimizer")) {
      if (k->role != KeyRole::kMemberScalar) continue;
      Status s = CheckValue(*k, k->get(pack, m.scalars));
      if (!s.ok()) return Status::InvalidArgument(s.message() + " (job " + m.job_id + ")");
    }
  }
  if (optimizer.warmup_steps > total_steps) {
    return Status::InvalidArgument("optimizer.warmup_steps (" + Str(optimizer.warmup_steps) +
                                   ") exceeds training.steps (" + Str(total_steps) + ")");
  }
  return Status::Ok();
}

Status ValidateTraining(const TrainingSpec& training, const TaskInfo& task) {
  PackSpec pack;
  pack.training = training;
  PHASESWEEP_RETURN_IF_ERROR(CheckSection("training", pack));
  if (training.batch_size > task.n_train) {
    return Status::InvalidArgument(
        "training.batch_size (" + Str(training.batch_size) + ") exceeds the " + Str(task.n_train) +
        " training examples; use at most " + Str(task.n_train) + ", or 0 = full batch");
  }
  return Status::Ok();
}

Status ValidateProbes(const ProbeSpec& probes, const TaskInfo& task) {
  PackSpec pack;
  pack.probes = probes;
  PHASESWEEP_RETURN_IF_ERROR(CheckSection("probes", pack));
  const int64_t smallest = task.n_test > 0 ? std::min(task.n_train, task.n_test) : task.n_train;
  if (probes.batch > smallest) {
    return Status::InvalidArgument(
        "probes.batch (" + Str(probes.batch) + ") is larger than the data (" + Str(task.n_train) +
        " train, " + Str(task.n_test) + " test examples); use at most " + Str(smallest));
  }
  return Status::Ok();
}

Status ValidateProbeMetrics(const PackSpec& pack, const TaskInfo& task) {
  for (const std::string& metric : pack.probes.metrics) {
    for (const ProbeInfo& p : ProbeCatalog()) {
      if (p.name != metric || p.applies == nullptr) continue;
      Status s = p.applies(pack, task);
      if (!s.ok()) return s.WithContext("probes.metrics: '" + metric + "'");
    }
  }
  return Status::Ok();
}

Result<TaskInfo> ValidatePack(const PackSpec& pack) {
  if (pack.members.empty()) {
    return Status::InvalidArgument("pack " + pack.pack_id + " has no members");
  }
  Result<TaskInfo> task = DescribeTask(pack.task);
  if (!task.ok()) return task.status();
  PHASESWEEP_RETURN_IF_ERROR(ValidateModel(pack.model, *task));
  if (pack.task.name == "in_context_copy" && pack.model.name != "transformer") {
    return Status::InvalidArgument(
        "task.name = in_context_copy needs model.name = transformer (it reads token sequences)");
  }
  PHASESWEEP_RETURN_IF_ERROR(ValidateTraining(pack.training, *task));
  PHASESWEEP_RETURN_IF_ERROR(ValidateOptimizer(pack.optimizer, pack.members, pack.training.steps));
  PHASESWEEP_RETURN_IF_ERROR(ValidateProbes(pack.probes, *task));
  PHASESWEEP_RETURN_IF_ERROR(ValidateProbeMetrics(pack, *task));
  return task;
}

}  // namespace phasesweep::spec
