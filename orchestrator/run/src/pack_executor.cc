// Training a pack for the scheduler, and storing what it produced (see pack_executor.h).
#include "phasesweep/orchestrator/pack_executor.h"

#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "phasesweep/base/hash.h"
#include "phasesweep/collectives/gradient_sync.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/shard_writer.h"
#include "phasesweep/worker/trainer.h"

namespace phasesweep::orchestrator {
namespace fs = std::filesystem;

namespace {

// probes.snapshot_every: the member's embedding snapshots as snapshots/embed [S, rows, d] and
// snapshots/embed_steps [S] (float32 holds every step below 2^24 exactly; docs/FORMAT.md).
void AddSnapshots(const worker::EmbeddingSnapshots& snap, storage::JobRecord* r) {
  if (snap.steps.empty()) return;
  storage::Snapshot embed;
  embed.shape.assign(snap.embed.sizes().begin(), snap.embed.sizes().end());
  const float* data = snap.embed.data_ptr<float>();
  embed.data.assign(data, data + snap.embed.numel());
  storage::Snapshot steps;
  steps.shape = {static_cast<int64_t>(snap.steps.size())};
  for (int64_t s : snap.steps) steps.data.push_back(static_cast<float>(s));
  r->snapshots["embed"] = std::move(embed);
  r->snapshots["embed_steps"] = std::move(steps);
}

const Job& JobOf(const SweepPlan& plan, const Pack& pack, size_t member) {
  return plan.jobs[pack.job_index[member]];
}

storage::JobRecord RecordOf(const Job& job, const Pack& pack, int rank, int attempts) {
  storage::JobRecord r;
  r.job_id = job.id;
  r.seed = job.seed;
  r.grid_index = job.grid_index;
  r.hparams = job.hparams;
  r.attempts = attempts;
  r.rank = rank;
  r.pack_id = pack.id;
  return r;
}

// Whether an exception's message is an allocator refusing memory: LibTorch's CPU allocator
// (1.13: "can't allocate memory: you tried to allocate N bytes"; 2.x: "not enough memory: ..."),
// the CUDA caching allocator ("CUDA out of memory. Tried to allocate ..."), a CUDA runtime error,
// or std::bad_alloc.
bool IsOutOfMemory(const std::string& what) {
  for (const char* needle : {"out of memory", "not enough memory", "can't allocate memory",
                             "Cannot allocate memory", "bad_alloc", "OutOfMemory"}) {
    if (what.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string Gibibytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1LL << 30));
  return text;
}

// One line for a pack the device could not hold: what it needed (the plan's memory model), what
// the allocator said (its first line), and what to change. The pack's jobs are marked failed
// with it; every other pack's results are kept.
std::string OutOfMemoryError(const Pack& pack, const std::string& device, const std::string& what) {
  const int64_t members = static_cast<int64_t>(pack.spec.members.size());
  const int64_t per_member =
      std::max<int64_t>(pack.estimated_bytes / std::max<int64_t>(members, 1), 1);
  std::string said = what.substr(0, what.find('\n'));
  if (said.size() > 200) said = said.substr(0, 200) + "...";
  std::string out = "out of memory on " + device + ": " + pack.id + " (" + std::to_string(members) +
                    " member" + (members == 1 ? "" : "s") + ") needs about " +
                    Gibibytes(pack.estimated_bytes) + " (" + Gibibytes(per_member) +
                    " per member, the plan's memory model); the allocator said: " + said + "; ";
  // On the CPU the machine's memory says how many members could fit; a GPU's is not known here.
  int64_t capacity = 0;
  if (device == "cpu") {
    capacity = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  }
  if (capacity > 0 && per_member > capacity) {
    return out + "one member needs more than this machine's " + Gibibytes(capacity) +
           ": a smaller model or a machine with more memory";
  }
  if (members > 1) {
    std::string fit = "set training.pack below " + std::to_string(members);
    if (capacity > 0)
      fit += " (about " + std::to_string(capacity / per_member) + " fit in " + Gibibytes(capacity) +
             ")";
    return out + fit + " or train on a device with more memory";
  }
  return out + "one member does not fit: a smaller model or a device with more memory";
}

// The data-parallel side of a pack (see DataParallelGroup): the trainer's hooks, the checks at
// start and the broadcast of the root's parameters.
class GroupTraining {
 public:
  explicit GroupTraining(const DataParallelGroup& group)
      : group_(group), sync_(*group.communicator) {}

  void Configure(worker::TrainerOptions* options) {
    options->data_parallel.group_size = group_.size;
    options->data_parallel.share = [this](int64_t rows, int64_t* begin, int64_t* end,
                                          double* scale) -> Status {
      auto shard = collectives::SplitGlobalBatch(rows, group_.rank, group_.size);
      if (!shard.ok()) {
        return Status::InvalidArgument("training.data_parallel = " + std::to_string(group_.size) +
                                       ": " + shard.status().message());
      }
      *begin = shard->begin;
      *end = shard->end;
      *scale = shard->mean_loss_scale;
      return Status::Ok();
    };
    options->data_parallel.average = [this](const torch::Tensor& grads,
                                            const torch::Tensor& losses) {
      std::vector<torch::Tensor> both = {grads, losses};
      return Collective(sync_.AllreduceAverage(both));
    };
  }

  // Same parameter shapes on every rank (checksum), the same step (the root's checkpoint, or
  // none), then the root's parameters everywhere. Errors are the same on every rank.
  Status Start(worker::PackTrainer& t) {
    std::vector<torch::Tensor> params;
    for (const auto& e : t.model().params().entries()) params.push_back(e.param);
    PHASESWEEP_RETURN_IF_ERROR(Collective(sync_.VerifyParameters(params)));
    const double step = static_cast<double>(t.step());
    double moments[2] = {step, step * step};
    PHASESWEEP_RETURN_IF_ERROR(
        Collective(group_.communicator->Allreduce(moments, 2, collectives::ReduceOp::kSum)));
    if (moments[0] * moments[0] != moments[1] * group_.size) {
      return Status::FailedPrecondition(
          "the ranks of " + group_.communicator->name() + " resumed pack " + t.spec().pack_id +
          " from different steps (this rank: " + std::to_string(t.step()) +
          "); every rank of a group must see the group root's "
          "checkpoint folder (a shared file system)");
    }
    std::vector<torch::Tensor> flat = {t.model().params().flat_params()};
    return Collective(sync_.BroadcastFromRoot(flat));
  }

 private:
  // A collective that failed for want of a peer (deadline, MPI error) leaves peers stuck in it:
  // only ending the job frees them (Communicator::Abort prints one line). Disagreements that
  // every rank detected (shapes) come back as errors.
  Status Collective(Status s) {
    if (s.code() == Status::Code::kInternal) group_.communicator->Abort(s);
    return s;
  }

  const DataParallelGroup& group_;
  collectives::GradientSynchronizer sync_;
};

}  // namespace

Result<bool> TrainsOnCuda(const std::string& device_name, int local_rank) {
  auto device = worker::ResolveDevice(device_name, local_rank);
  if (!device.ok()) return device.status();
  return device->is_cuda();
}

std::string CheckpointPathFor(const std::string& results_path, const worker::PackSpec& pack) {
  std::string members;
  for (const auto& m : pack.members) members += m.job_id + "\n";
  return storage::SidecarFor(results_path).dir + "/checkpoints/" + HexDigest64(members) + ".ckpt";
}

std::vector<storage::JobRecord> FailedRecords(const SweepPlan& plan, const Pack& pack, int rank,
                                              int attempts, const std::string& error) {
  std::vector<storage::JobRecord> records;
  for (size_t m = 0; m < pack.job_index.size(); ++m) {
    storage::JobRecord r = RecordOf(JobOf(plan, pack, m), pack, rank, attempts);
    r.status = JobStatus::kFailed;
    r.error = error.empty() ? "failed (no error text)" : error;
    records.push_back(std::move(r));
  }
  return records;
}

PackOutcome TrainerExecutor::Run(const PackContext& context) {
  const Pack& pack = plan_.packs[context.pack];
  Result<PackOutcome> outcome = Status::Internal("pack " + pack.id + " did not run");
  try {
    outcome = RunPack(context);
  } catch (const std::exception& e) {
    if (!IsOutOfMemory(e.what())) throw;
    auto device = worker::ResolveDevice(pack.spec.training.device, settings_.local_rank);
    outcome = Status::FailedPrecondition(
        OutOfMemoryError(pack, device.ok() ? device->str() : pack.spec.training.device, e.what()));
  }
  if (!outcome.ok()) return {PackOutcomeKind::kError, 0, outcome.status().message()};
  return *outcome;
}

Result<PackOutcome> TrainerExecutor::RunPack(const PackContext& context) {
  const Pack& pack = plan_.packs[context.pack];
  const auto start = std::chrono::steady_clock::now();
  auto device = worker::ResolveDevice(pack.spec.training.device, settings_.local_rank);
  if (!device.ok()) return device.status();
  worker::PackSpec spec = pack.spec;
  if (spec.training.threads <= 0) spec.training.threads = settings_.threads;
  const std::string checkpoint = CheckpointPathFor(settings_.results_path, spec);

  worker::TrainerOptions trainer_options;
  // In a data-parallel group only the root writes checkpoints (the others read them).
  if (is_group_root()) trainer_options.checkpoint_path = checkpoint;
  fs::create_directories(fs::path(checkpoint).parent_path());
  std::unique_ptr<GroupTraining> group;
  if (settings_.group.size > 1) {
    group = std::make_unique<GroupTraining>(settings_.group);
    group->Configure(&trainer_options);
  }
  auto trainer = worker::PackTrainer::Create(spec, *device, trainer_options);
  if (!trainer.ok()) return trainer.status();
  worker::PackTrainer& t = **trainer;
  if (fs::exists(checkpoint)) {
    // A checkpoint that cannot be loaded is an error the user must see, never a silent restart.
    Status loaded = t.LoadCheckpoint(checkpoint);
    if (!loaded.ok()) return loaded;
    Log("phasesweep: rank " + std::to_string(settings_.world_rank) + ": " + pack.id +
        " resumes from its checkpoint at step " + std::to_string(t.step()));
  }
  if (group) {
    Status started = group->Start(t);
    if (!started.ok()) return started;
  }
  const int64_t first_step = t.step();
  worker::RunHooks hooks;
  hooks.should_stop = context.should_stop;
  hooks.after_step = [&](int64_t step) {
    context.service();
    context.progress(step);
    return Status::Ok();
  };
  auto outcome = t.Run(hooks);
  if (!outcome.ok()) return outcome.status();
  const int64_t members = static_cast<int64_t>(spec.members.size());
  const int64_t member_steps = members * (t.step() - first_step);
  if (*outcome == worker::RunOutcome::kStopped) {
    if (!is_group_root()) return PackOutcome{PackOutcomeKind::kInterrupted, member_steps, ""};
    Status saved = t.SaveCheckpoint(checkpoint);
    if (!saved.ok()) return saved;
    Log("phasesweep: rank " + std::to_string(settings_.world_rank) + ": " + pack.id +
        " stopped at step " + std::to_string(t.step()) + " of " + std::to_string(t.total_steps()) +
        "; checkpoint saved");
    return PackOutcome{PackOutcomeKind::kInterrupted, member_steps, ""};
  }

  if (!is_group_root()) return PackOutcome{PackOutcomeKind::kFinished, member_steps, ""};
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto statuses = t.statuses();
  std::vector<storage::JobRecord> records;
  for (size_t m = 0; m < spec.members.size(); ++m) {
    storage::JobRecord r =
        RecordOf(JobOf(plan_, pack, m), pack, settings_.world_rank, context.attempt);
    r.wall_seconds = wall;
    r.device = device->str();
    r.trace = t.traces()[m];
    AddSnapshots(t.snapshots(static_cast<int64_t>(m)), &r);
    if (statuses[m].state == JobStatus::kDiverged) {
      r.status = JobStatus::kDiverged;
      r.error = "diverged at step " + std::to_string(statuses[m].diverged_at) +
                " (NaN/Inf loss or parameters)";
    } else {
      r.status = JobStatus::kDone;
    }
    records.push_back(std::move(r));
  }
  storage::ShardInfo info{pack.id, settings_.world_rank, plan_.config_hash};
  auto shard = storage::WriteShard(settings_.results_path, info, records);
  if (!shard.ok()) return shard.status();
  // The shard is durable: the checkpoint is no longer needed.
  std::error_code ec;
  fs::remove(checkpoint, ec);
  Log("phasesweep: rank " + std::to_string(settings_.world_rank) + ": " + pack.id + " finished (" +
          std::to_string(members) + " jobs, " + std::to_string(wall) + " s)",
      false);
  return PackOutcome{PackOutcomeKind::kFinished, member_steps, ""};
}

ExecutorFactory TrainerExecutorFactory() {
  return [](const SweepPlan& plan, const ExecutorSettings& settings) {
    return std::make_unique<TrainerExecutor>(plan, settings);
  };
}

Status ShardCollector::PackDone(size_t pack_index, int rank, int attempts,
                                const PackOutcome& outcome) {
  if (outcome.kind == PackOutcomeKind::kError) {
    const Pack& pack = plan_.packs[pack_index];
    storage::ShardInfo info{pack.id, rank, plan_.config_hash};
    auto shard = storage::WriteShard(writer_.path(), info,
                                     FailedRecords(plan_, pack, rank, attempts, outcome.error));
    if (!shard.ok()) return shard.status();
  }
  auto merged = writer_.MaybeMerge();
  return merged.ok() ? Status::Ok() : merged.status();
}

}  // namespace phasesweep::orchestrator
