// PackTrainer::SaveCheckpoint / LoadCheckpoint: the trainer's state to and from CheckpointData,
// with every field checked against this trainer before anything is overwritten.
#include <algorithm>
#include <set>

#include "phasesweep/worker/trainer.h"

namespace phasesweep::worker {
namespace {
const char kParams[] = "params";
const char kOptimPrefix[] = "optim.";
const char kProbePrefix[] = "probe.";
const char kSnapshotSteps[] = "snapshot.steps";
const char kSnapshotEmbed[] = "snapshot.embed";
}  // namespace

Status PackTrainer::SaveCheckpoint(const std::string& path) const {
  torch::NoGradGuard no_grad;
  CheckpointData d;
  d.fingerprint = fingerprint_;
  d.step = step_;
  d.total_steps = spec_.training.steps;
  d.members = model_->members();
  DataPosition(step_, &d.epoch, &d.batch_in_epoch);
  torch::Tensor div = health_.diverged_at.to(torch::kCPU);
  d.diverged_at.assign(div.data_ptr<int64_t>(), div.data_ptr<int64_t>() + div.numel());
  d.tensors[kParams] = model_->params().flat_params().to(torch::kCPU, /*non_blocking=*/false,
                                                         /*copy=*/true);
  for (const auto& [name, t] : optimizer_->StateTensors()) {
    d.tensors[kOptimPrefix + name] = t.to(torch::kCPU, false, true);
  }
  for (const auto& p : probes_) {
    TensorMap state;
    p->SaveState(&state);
    for (const auto& [key, t] : state) {
      d.tensors[kProbePrefix + p->name() + "." + key] = t.detach().to(torch::kCPU, false, true);
    }
  }
  if (!snapshot_steps_.empty()) {
    d.tensors[kSnapshotSteps] = torch::tensor(snapshot_steps_, torch::kInt64);
    d.tensors[kSnapshotEmbed] = torch::stack(snapshots_);
  }
  d.traces = traces_;
  return WriteCheckpoint(path, d);
}

Status PackTrainer::LoadCheckpoint(const std::string& path) {
  Result<CheckpointData> read = ReadCheckpoint(path);
  if (!read.ok()) return read.status();
  CheckpointData& d = *read;
  const std::string where = "checkpoint " + path + ": ";
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(where + what + "; delete it to restart this pack from scratch");
  };
  if (d.fingerprint != fingerprint_) {
    return Status::FailedPrecondition(
        where + "written for a different configuration of pack " + spec_.pack_id +
        " (fingerprint " + d.fingerprint + ", this config " + fingerprint_ +
        "); rerun the config that wrote it, or delete the checkpoint to restart the pack");
  }
  const int64_t K = model_->members();
  if (d.members != K || d.total_steps != spec_.training.steps) {
    return corrupt("has " + std::to_string(d.members) + " members and " +
                   std::to_string(d.total_steps) + " steps, the pack " + std::to_string(K) +
                   " and " + std::to_string(spec_.training.steps));
  }
  int64_t epoch, batch;
  DataPosition(d.step, &epoch, &batch);
  if (epoch != d.epoch || batch != d.batch_in_epoch) {
    return corrupt("data-order position (epoch " + std::to_string(d.epoch) + ", batch " +
                   std::to_string(d.batch_in_epoch) + ") does not match step " +
                   std::to_string(d.step));
  }
  for (int64_t v : d.diverged_at) {
    if (v < -1 || v > d.step) return corrupt("member status out of range");
  }
  const std::set<std::string> metrics(spec_.probes.metrics.begin(), spec_.probes.metrics.end());
  for (const Trace& tr : d.traces) {
    if (!std::is_sorted(tr.steps.begin(), tr.steps.end()) ||
        (!tr.steps.empty() && tr.steps.back() > d.step)) {
      return corrupt("trace steps out of order or beyond step " + std::to_string(d.step));
    }
    for (const auto& [name, v] : tr.metrics) {
      if (!metrics.count(name)) return corrupt("trace of unknown metric '" + name + "'");
    }
  }
  // Tensors: parameters and optimizer state must match this trainer's buffers exactly.
  auto check = [&](const std::string& name, const torch::Tensor& like) -> Status {
    auto it = d.tensors.find(name);
    if (it == d.tensors.end()) return corrupt("tensor '" + name + "' is missing");
    if (it->second.sizes() != like.sizes() || it->second.scalar_type() != like.scalar_type()) {
      return corrupt("tensor '" + name + "' has shape " + c10::str(it->second.sizes()) +
                     ", expected " + c10::str(like.sizes()));
    }
    return Status::Ok();
  };
  PHASESWEEP_RETURN_IF_ERROR(check(kParams, model_->params().flat_params()));
  const auto state = optimizer_->StateTensors();
  for (const auto& [name, t] : state) PHASESWEEP_RETURN_IF_ERROR(check(kOptimPrefix + name, t));
  // Snapshots: steps sorted, within the run, and one [K, rows, d] embedding per step.
  std::vector<int64_t> snapshot_steps;
  std::vector<torch::Tensor> snapshots;
  const auto steps_it = d.tensors.find(kSnapshotSteps);
  const auto embed_it = d.tensors.find(kSnapshotEmbed);
  if ((steps_it == d.tensors.end()) != (embed_it == d.tensors.end())) {
    return corrupt("embedding snapshots are incomplete");
  }
  if (steps_it != d.tensors.end()) {
    const torch::Tensor st = steps_it->second.to(torch::kInt64).contiguous();
    snapshot_steps.assign(st.data_ptr<int64_t>(), st.data_ptr<int64_t>() + st.numel());
    std::vector<int64_t> expected{static_cast<int64_t>(snapshot_steps.size())};
    for (int64_t size : model_->TokenEmbedding().sizes()) expected.push_back(size);
    if (embed_it->second.sizes() != c10::IntArrayRef(expected) ||
        !std::is_sorted(snapshot_steps.begin(), snapshot_steps.end()) ||
        (!snapshot_steps.empty() && snapshot_steps.back() > d.step)) {
      return corrupt("embedding snapshots do not match the model or the step");
    }
    for (int64_t i = 0; i < embed_it->second.size(0); ++i) {
      snapshots.push_back(embed_it->second[i].to(torch::kFloat32).contiguous());
    }
  }
  std::map<std::string, TensorMap> probe_state;
  for (const auto& [name, t] : d.tensors) {
    if (name == kSnapshotSteps || name == kSnapshotEmbed) continue;
    if (name == kParams || name.rfind(kOptimPrefix, 0) == 0) {
      if (name != kParams && std::none_of(state.begin(), state.end(), [&](const auto& s) {
            return kOptimPrefix + s.first == name;
          })) {
        return corrupt("optimizer state '" + name + "' does not belong to optimizer " +
                       spec_.optimizer.name);
      }
      continue;
    }
    if (name.rfind(kProbePrefix, 0) != 0) return corrupt("unexpected tensor '" + name + "'");
    const std::string rest = name.substr(sizeof(kProbePrefix) - 1);
    const size_t dot = rest.find('.');
    const std::string probe = rest.substr(0, dot);
    if (dot == std::string::npos ||
        std::none_of(probes_.begin(), probes_.end(),
                     [&](const auto& p) { return p->name() == probe; })) {
      return corrupt("state of unknown probe '" + probe + "'");
    }
    probe_state[probe][rest.substr(dot + 1)] = t;
  }

  // Everything checked: apply.
  torch::NoGradGuard no_grad;
  model_->params().flat_params().copy_(d.tensors.at(kParams));
  model_->params().flat_grads().zero_();
  for (const auto& [name, t] : state) t.copy_(d.tensors.at(kOptimPrefix + name));
  health_.diverged_at.copy_(torch::tensor(d.diverged_at, torch::kInt64));
  health_.alive.copy_(health_.diverged_at.lt(0));
  traces_ = d.traces;
  snapshot_steps_ = std::move(snapshot_steps);
  snapshots_ = std::move(snapshots);
  step_ = d.step;
  probed_initial_ = step_ > 0 || std::any_of(traces_.begin(), traces_.end(),
                                             [](const Trace& t) { return !t.steps.empty(); });
  order_epoch_ = -1;
  finished_ = step_ >= spec_.training.steps || !health_.alive.any().item<bool>();
  for (const auto& p : probes_) {
    Status s = p->LoadState(probe_state[p->name()]);
    if (!s.ok()) return s.WithContext(where + "probe " + p->name());
  }
  return Status::Ok();
}

}  // namespace phasesweep::worker
