// PackTrainer: the training loop, probe steps and checkpoint save/restore.
#include "phasesweep/worker/trainer.h"

#include <algorithm>
#include <mutex>

#include "phasesweep/spec/validate.h"
#include "phasesweep/worker/rng.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace phasesweep::worker {

Result<torch::Device> ResolveDevice(const std::string& name, int64_t local_rank) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name != "cuda" && name != "auto") {
    return Status::InvalidArgument("training.device: '" + name +
                                   "' is not a device; valid: auto, cpu, cuda");
  }
  const bool compiled = at::hasCUDA();
  const int64_t count = compiled ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (count == 0) {
    if (name == "auto") return torch::Device(torch::kCPU);
    if (!compiled) {
      return Status::Unimplemented(
          "training.device: cuda requested, but this phasesweep is built with a CPU-only "
          "LibTorch; rebuild against a CUDA LibTorch (CMAKE_PREFIX_PATH) or use device: cpu");
    }
    return Status::FailedPrecondition(
        "training.device: cuda requested, but no CUDA device is visible (check "
        "CUDA_VISIBLE_DEVICES and the driver) ; use device: cpu or auto");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % count));
}

void TuneAllocatorForTraining() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
#endif
}

Status ValidatePackSpec(const PackSpec& spec, const ProbeRegistry& probes) {
  Result<TaskInfo> task = spec::ValidatePack(spec);
  if (!task.ok()) return task.status();
  return probes.Validate(spec);
}

PackTrainer::PackTrainer(PackSpec spec, torch::Device device, TrainerOptions options)
    : spec_(std::move(spec)), device_(device), options_(std::move(options)) {}

Result<std::unique_ptr<PackTrainer>> PackTrainer::Create(const PackSpec& spec, torch::Device device,
                                                         TrainerOptions options) {
  const ProbeRegistry& registry =
      options.probes != nullptr ? *options.probes : ProbeRegistry::Builtin();
  PHASESWEEP_RETURN_IF_ERROR(ValidatePackSpec(spec, registry));
  if (device.is_cuda()) {
    Result<torch::Device> usable = ResolveDevice("cuda", device.has_index() ? device.index() : 0);
    if (!usable.ok()) return usable.status();
  } else if (!device.is_cpu()) {
    return Status::InvalidArgument("training.device: " + device.str() +
                                   " is not supported; valid: cpu, cuda");
  }
  std::unique_ptr<PackTrainer> t(new PackTrainer(spec, device, std::move(options)));
  PHASESWEEP_RETURN_IF_ERROR(t->Init());
  return t;
}

Status PackTrainer::Init() {
  if (spec_.training.threads > 0) at::set_num_threads(static_cast<int>(spec_.training.threads));
  if (options_.tune_allocator && device_.is_cpu()) TuneAllocatorForTraining();
  if (device_.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(spec_.training.allow_tf32);
    at::globalContext().setAllowTF32CuDNN(spec_.training.allow_tf32);
  }
  const int64_t K = static_cast<int64_t>(spec_.members.size());
  for (const MemberSpec& m : spec_.members) seeds_.push_back(m.seed);
  fingerprint_ = SpecFingerprint(spec_);

  Result<PackData> data = MakePackData(spec_.task, seeds_, device_);
  if (!data.ok()) return data.status();
  data_ = std::move(*data);
  Result<std::unique_ptr<EnsembleModel>> model =
      MakeModel(spec_.model, data_.info, seeds_, device_);
  if (!model.ok()) return model.status();
  model_ = std::move(*model);

  std::vector<MemberOptimizerScalars> scalars;
  for (const MemberSpec& m : spec_.members) scalars.push_back(m.scalars);
  optimizer_ = std::make_unique<EnsembleOptimizer>(spec_.optimizer, scalars, spec_.training.steps,
                                                   &model_->params(), options_.optimizer_kernel);
  health_ = MemberHealth::AllAlive(K, device_);

  const ProbeRegistry& registry =
      options_.probes != nullptr ? *options_.probes : ProbeRegistry::Builtin();
  Result<std::vector<std::unique_ptr<Probe>>> probes = registry.Create(spec_, data_.info, device_);
  if (!probes.ok()) return probes.status();
  probes_ = std::move(*probes);
  const std::vector<std::string> known = model_->RepresentationNames();
  for (const auto& p : probes_) {
    for (const std::string& r : p->Representations()) {
      if (std::find(known.begin(), known.end(), r) == known.end()) {
        std::string valid;
        for (const std::string& n : known) valid += (valid.empty() ? "" : ", ") + n;
        return Status::InvalidArgument("probes.representation: '" + r + "' (read by probe " +
                                       p->name() + ") is not a representation of model " +
                                       spec_.model.name + "; valid: " + valid);
      }
      if (std::find(capture_.begin(), capture_.end(), r) == capture_.end()) capture_.push_back(r);
    }
  }

  // The fixed probe batch: the first Pb examples of a seeded permutation of each member's
  // training set.
  const int64_t n = data_.info.n_train;
  const int64_t pb = std::min(spec_.probes.batch, n);
  std::vector<int64_t> rows;
  for (int64_t k = 0; k < K; ++k) {
    Rng rng(DeriveSeed(seeds_[static_cast<size_t>(k)], kProbeBatchStream));
    std::vector<int64_t> perm = rng.Permutation(n);
    for (int64_t i = 0; i < pb; ++i) rows.push_back(k * n + perm[static_cast<size_t>(i)]);
  }
  torch::Tensor idx = torch::tensor(rows, torch::kInt64).to(device_);
  const int64_t T = data_.info.seq_len;
  probe_batch_.tokens = data_.train_tokens.view({K * n, T}).index_select(0, idx).view({K, pb, T});
  probe_batch_.labels = data_.train_labels.view({K * n}).index_select(0, idx).view({K, pb});

  probe_steps_ = ProbeSteps(spec_.probes, spec_.training.steps);
  traces_.assign(static_cast<size_t>(K), Trace{});

  const TrainerOptions::DataParallel& dp = options_.data_parallel;
  if (dp.group_size > 1) {
    if (!dp.share || !dp.average) {
      return Status::InvalidArgument(
          "data parallelism over " + std::to_string(dp.group_size) +
          " ranks needs both TrainerOptions::data_parallel.share and .average");
    }
    const int64_t B = spec_.training.batch_size;
    const int64_t global_rows = (B == 0 || B >= n) ? n : B;
    PHASESWEEP_RETURN_IF_ERROR(
        dp.share(global_rows, &share_begin_, &share_end_, &share_loss_scale_));
  }
  return Status::Ok();
}

void PackTrainer::DataPosition(int64_t step, int64_t* epoch, int64_t* batch) const {
  const int64_t B = spec_.training.batch_size;
  if (B == 0 || B >= data_.info.n_train) {
    *epoch = step;
    *batch = 0;
    return;
  }
  const int64_t per_epoch = data_.info.n_train / B;  // the incomplete last batch is dropped
  *epoch = step / per_epoch;
  *batch = step % per_epoch;
}

void PackTrainer::Batch(int64_t update_index, torch::Tensor* tokens, torch::Tensor* labels) {
  const int64_t B = spec_.training.batch_size, n = data_.info.n_train;
  if (B == 0 || B >= n) {
    *tokens = data_.train_tokens;
    *labels = data_.train_labels;
    return;
  }
  const int64_t K = model_->members(), T = data_.info.seq_len;
  int64_t epoch, batch;
  DataPosition(update_index, &epoch, &batch);
  if (epoch != order_epoch_) {
    std::vector<int64_t> rows(static_cast<size_t>(K * n));
    for (int64_t k = 0; k < K; ++k) {
      Rng rng(
          DeriveSeed(seeds_[static_cast<size_t>(k)], kOrderStream, static_cast<uint64_t>(epoch)));
      std::vector<int64_t> perm = rng.Permutation(n);
      for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(k * n + i)] = k * n + perm[i];
    }
    order_ = torch::tensor(rows, torch::kInt64).view({K, n}).to(device_);
    order_epoch_ = epoch;
  }
  torch::Tensor idx = order_.narrow(1, batch * B, B).reshape({K * B});
  *tokens = data_.train_tokens.view({K * n, T}).index_select(0, idx).view({K, B, T});
  *labels = data_.train_labels.view({K * n}).index_select(0, idx).view({K, B});
}

Status PackTrainer::Step() {
  if (finished_) {
    return Status::FailedPrecondition("pack " + spec_.pack_id + " already finished at step " +
                                      std::to_string(step_));
  }
  if (step_ == 0 && !probed_initial_) {
    ProbeInitial();
    if (finished_) return Status::Ok();
  }
  torch::Tensor tokens, labels;
  Batch(step_, &tokens, &labels);
  const bool data_parallel = options_.data_parallel.group_size > 1;
  if (data_parallel) {  // this rank's rows of the minibatch (TrainerOptions::data_parallel)
    tokens = tokens.narrow(1, share_begin_, share_end_ - share_begin_).contiguous();
    labels = labels.narrow(1, share_begin_, share_end_ - share_begin_).contiguous();
  }
  model_->params().flat_grads().zero_();
  torch::Tensor losses = MemberLosses(model_->Forward(tokens).logits, labels);
  if (share_loss_scale_ != 1.0) losses = losses * share_loss_scale_;
  losses.sum().backward();
  losses = losses.detach();
  if (data_parallel) {
    PHASESWEEP_RETURN_IF_ERROR(
        options_.data_parallel.average(model_->params().flat_grads(), losses));
  }
  optimizer_->Step(step_, losses, &health_);
  ++step_;
  if (std::binary_search(probe_steps_.begin(), probe_steps_.end(), step_)) RunProbes();
  if (step_ >= spec_.training.steps) finished_ = true;
  MaybeSnapshot();
  const int64_t every = spec_.training.checkpoint_every;
  if (every > 0 && step_ % every == 0 && !options_.checkpoint_path.empty()) {
    PHASESWEEP_RETURN_IF_ERROR(SaveCheckpoint(options_.checkpoint_path));
  }
  return Status::Ok();
}

Result<RunOutcome> PackTrainer::Run(const RunHooks& hooks) {
  while (!finished_) {
    if (hooks.should_stop && hooks.should_stop()) return RunOutcome::kStopped;
    if (step_ == 0 && !probed_initial_) {
      ProbeInitial();
      if (hooks.after_probe) hooks.after_probe(0);
      if (finished_) break;
    }
    PHASESWEEP_RETURN_IF_ERROR(Step());
    if (hooks.after_probe && std::binary_search(probe_steps_.begin(), probe_steps_.end(), step_)) {
      hooks.after_probe(step_);
    }
    if (hooks.after_step) PHASESWEEP_RETURN_IF_ERROR(hooks.after_step(step_));
  }
  return RunOutcome::kFinished;
}

void PackTrainer::ProbeInitial() {
  RunProbes();
  probed_initial_ = true;
  MaybeSnapshot();
}

void PackTrainer::MaybeSnapshot() {
  const int64_t every = spec_.probes.snapshot_every;
  if (every <= 0 || (step_ % every != 0 && step_ != spec_.training.steps)) return;
  if (!snapshot_steps_.empty() && snapshot_steps_.back() == step_) return;
  torch::NoGradGuard no_grad;
  snapshot_steps_.push_back(step_);
  snapshots_.push_back(
      model_->TokenEmbedding().detach().to(torch::kCPU, torch::kFloat32, false, /*copy=*/true));
}

EmbeddingSnapshots PackTrainer::snapshots(int64_t member) const {
  EmbeddingSnapshots out;
  const int64_t diverged = health_.diverged_at[member].item<int64_t>();
  std::vector<torch::Tensor> rows;
  for (size_t i = 0; i < snapshot_steps_.size(); ++i) {
    if (diverged >= 0 && snapshot_steps_[i] >= diverged) break;
    out.steps.push_back(snapshot_steps_[i]);
    rows.push_back(snapshots_[i][member]);
  }
  if (!rows.empty()) out.embed = torch::stack(rows).contiguous();
  return out;
}

void PackTrainer::CheckParamsFinite() {
  const int64_t K = model_->members();
  torch::Tensor finite =
      torch::ones({K}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  for (const ParamStore::Entry& e : model_->params().entries()) {
    finite.logical_and_(torch::isfinite(e.param.detach().view({K, e.numel})).all(1));
  }
  torch::Tensor newly = health_.alive.logical_and(finite.logical_not());
  health_.diverged_at.masked_fill_(newly, step_);
  health_.alive.logical_and_(finite);
}

void PackTrainer::RunProbes() {
  torch::NoGradGuard no_grad;
  CheckParamsFinite();
  const int64_t K = model_->members();
  torch::Tensor alive = health_.alive.to(torch::kCPU);
  ProbeContext ctx;
  ctx.step = step_;
  ctx.spec = &spec_;
  ctx.model = model_.get();
  ctx.data = &data_;
  ctx.probe_batch = &probe_batch_;
  for (int64_t k = 0; k < K; ++k) ctx.measure.push_back(alive[k].item<bool>());
  ctx.last_grad = model_->params().flat_grads();
  ctx.last_grad_norms = optimizer_->grad_norms();
  ctx.seeds = seeds_;
  ctx.capture = capture_;
  TensorMap metrics;
  for (const auto& p : probes_) p->Measure(ctx, &metrics);
  std::vector<std::vector<double>> values;
  for (const std::string& name : spec_.probes.metrics) {
    auto it = metrics.find(name);
    TORCH_CHECK(it != metrics.end(), "probe did not produce metric ", name);
    torch::Tensor v = it->second.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    TORCH_CHECK(v.numel() == K, "metric ", name, " has ", v.numel(), " values for ", K, " members");
    values.emplace_back(v.data_ptr<double>(), v.data_ptr<double>() + K);
  }
  bool any_alive = false;
  for (int64_t k = 0; k < K; ++k) {
    if (!ctx.measure[static_cast<size_t>(k)]) continue;
    any_alive = true;
    Trace& tr = traces_[static_cast<size_t>(k)];
    tr.steps.push_back(step_);
    for (size_t m = 0; m < values.size(); ++m) {
      tr.metrics[spec_.probes.metrics[m]].push_back(values[m][static_cast<size_t>(k)]);
    }
  }
  if (!any_alive) finished_ = true;
}

std::vector<MemberStatus> PackTrainer::statuses() const {
  torch::Tensor div = health_.diverged_at.to(torch::kCPU);
  std::vector<MemberStatus> out(static_cast<size_t>(div.numel()));
  for (int64_t k = 0; k < div.numel(); ++k) {
    MemberStatus& s = out[static_cast<size_t>(k)];
    s.diverged_at = div[k].item<int64_t>();
    s.state = s.diverged_at >= 0 ? JobStatus::kDiverged
              : finished_        ? JobStatus::kDone
                                 : JobStatus::kRunning;
  }
  return out;
}

}  // namespace phasesweep::worker
