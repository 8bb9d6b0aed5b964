// Training a pack for the scheduler, and storing what it produced (see pack_executor.h).
#include "pack_executor.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "phasesweep/base/hash.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/shard_writer.h"
#include "phasesweep/worker/trainer.h"

namespace phasesweep::orchestrator {
namespace fs = std::filesystem;

namespace {

const Job& JobOf(const SweepPlan& plan, const Pack& pack, size_t member) {
  return plan.jobs[pack.job_index[member]];
}

storage::JobRecord RecordOf(const Job& job, const Pack& pack, int rank, int attempts) {
  storage::JobRecord r;
  r.job_id = job.id;
  r.seed = job.seed;
  r.grid_index = job.grid_index;
  r.hparams_json = job.hparams_json;
  r.attempts = attempts;
  r.rank = rank;
  r.pack_id = pack.id;
  return r;
}

[[noreturn]] void Fail(const Status& s) { throw std::runtime_error(s.message()); }

// Fault injection for tests: PHASESWEEP_INJECT_PACK_FAILURES="pack-0001=2,pack-0003=1" makes
// the first N attempts of those packs throw, as a crashing pack would.
void MaybeInjectFailure(const std::string& pack_id, int attempt) {
  const char* spec = std::getenv("PHASESWEEP_INJECT_PACK_FAILURES");
  if (!spec) return;
  const std::string text = spec, key = pack_id + "=";
  const size_t at = text.find(key);
  if (at == std::string::npos || (at > 0 && text[at - 1] != ',')) return;
  if (attempt <= std::atoi(text.c_str() + at + key.size())) {
    throw std::runtime_error("injected failure (PHASESWEEP_INJECT_PACK_FAILURES) in " + pack_id +
                             ", attempt " + std::to_string(attempt));
  }
}

}  // namespace

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
    r.status = storage::JobStatus::kFailed;
    r.error = error.empty() ? "failed (no error text)" : error;
    records.push_back(std::move(r));
  }
  return records;
}

PackOutcome TrainerExecutor::Run(const PackContext& context) {
  const Pack& pack = plan_.packs[context.pack];
  MaybeInjectFailure(pack.id, context.attempt);
  const auto start = std::chrono::steady_clock::now();
  auto device = worker::ResolveDevice(pack.spec.training.device, settings_.local_rank);
  if (!device.ok()) Fail(device.status());
  worker::PackSpec spec = pack.spec;
  if (spec.training.threads <= 0) spec.training.threads = settings_.threads;

  worker::TrainerOptions trainer_options;
  trainer_options.checkpoint_path = CheckpointPathFor(settings_.results_path, spec);
  fs::create_directories(fs::path(trainer_options.checkpoint_path).parent_path());
  auto trainer = worker::PackTrainer::Create(spec, *device, trainer_options);
  if (!trainer.ok()) Fail(trainer.status());
  worker::PackTrainer& t = **trainer;
  if (fs::exists(trainer_options.checkpoint_path)) {
    // A checkpoint that cannot be loaded is an error the user must see, never a silent restart.
    Status loaded = t.LoadCheckpoint(trainer_options.checkpoint_path);
    if (!loaded.ok()) Fail(loaded);
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
  if (!outcome.ok()) Fail(outcome.status());
  const int64_t members = static_cast<int64_t>(spec.members.size());
  const int64_t member_steps = members * (t.step() - first_step);
  if (*outcome == worker::RunOutcome::kStopped) {
    Status saved = t.SaveCheckpoint(trainer_options.checkpoint_path);
    if (!saved.ok()) Fail(saved);
    return {PackOutcomeKind::kInterrupted, member_steps, ""};
  }

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto statuses = t.statuses();
  std::vector<storage::JobRecord> records;
  for (size_t m = 0; m < spec.members.size(); ++m) {
    storage::JobRecord r =
        RecordOf(JobOf(plan_, pack, m), pack, settings_.world_rank, context.attempt);
    r.wall_seconds = wall;
    r.device = device->str();
    r.steps = t.traces()[m].steps;
    r.metrics = t.traces()[m].metrics;
    if (statuses[m].state == worker::MemberState::kDiverged) {
      r.status = storage::JobStatus::kDiverged;
      r.error = "diverged at step " + std::to_string(statuses[m].diverged_at) +
                " (NaN/Inf loss or parameters)";
    } else {
      r.status = storage::JobStatus::kDone;
    }
    records.push_back(std::move(r));
  }
  storage::ShardInfo info{pack.id, settings_.world_rank, plan_.config_hash};
  auto shard = storage::WriteShard(settings_.results_path, info, records);
  if (!shard.ok()) Fail(shard.status());
  // The shard is durable: the checkpoint is no longer needed.
  std::error_code ec;
  fs::remove(trainer_options.checkpoint_path, ec);
  return {PackOutcomeKind::kFinished, member_steps, ""};
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
