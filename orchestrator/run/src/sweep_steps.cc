// The steps of `phasesweep run` (see sweep_steps.h and run.h).
#include "sweep_steps.h"

#include <torch/version.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "phasesweep/collectives/communicator.h"
#include "phasesweep/orchestrator/pack_executor.h"
#include "phasesweep/orchestrator/progress.h"
#include "phasesweep/orchestrator/signals.h"
#include "phasesweep/storage/ledger.h"

#ifndef PHASESWEEP_VERSION
#define PHASESWEEP_VERSION "unknown"
#endif
#ifndef PHASESWEEP_GIT_COMMIT
#define PHASESWEEP_GIT_COMMIT "unknown"
#endif

namespace phasesweep::orchestrator {
namespace {

// Broadcasts a string from rank 0 of MPI_COMM_WORLD.
std::string Broadcast(const std::string& text) {
  long long n = static_cast<long long>(text.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = text;
  out.resize(static_cast<size_t>(n));
  if (n > 0) MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

std::string MpiLibraryVersion() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string v(version, static_cast<size_t>(len));
  const size_t nl = v.find_first_of("\n,");
  return v.substr(0, nl);
}

// Removes from each pack the jobs that are already finished; drops packs left empty.
std::vector<size_t> PendingPacks(SweepPlan& plan, const std::set<std::string>& finished) {
  std::vector<size_t> pending;
  for (size_t p = 0; p < plan.packs.size(); ++p) {
    Pack& pack = plan.packs[p];
    std::vector<size_t> keep_jobs;
    std::vector<spec::MemberSpec> keep_members;
    for (size_t m = 0; m < pack.job_index.size(); ++m) {
      if (finished.count(plan.jobs[pack.job_index[m]].id)) continue;
      keep_jobs.push_back(pack.job_index[m]);
      keep_members.push_back(pack.spec.members[m]);
    }
    pack.job_index = keep_jobs;
    pack.spec.members = keep_members;
    if (!keep_jobs.empty()) pending.push_back(p);
  }
  return pending;
}

// Rank 0: opens the results file, folds what earlier runs left and lists the finished jobs, one
// id per line.
Result<std::string> OpenOnRankZero(const RunRequest& request, const AgreedConfig& config,
                                   const SweepWork& work, RankLog& log,
                                   std::unique_ptr<storage::ResultsWriter>* writer) {
  if (request.shard.active()) {
    PHASESWEEP_RETURN_IF_ERROR(
        CheckSliceStart(work.sweep_output, request.shard, work.plan.config_hash));
  }
  storage::OpenOptions open = OpenOptionsFor(work.plan, config.resolved_yaml, request.command_line);
  if (request.shard.active()) {
    open.plan.clear();
    for (size_t p : work.slice_packs) {
      for (size_t j : work.plan.packs[p].job_index) {
        const Job& job = work.plan.jobs[j];
        open.plan.push_back({job.id, job.seed, job.grid_index, job.hparams});
      }
    }
  }
  open.existing = request.fresh                    ? storage::ExistingFile::kFresh
                  : request.accept_config_mismatch ? storage::ExistingFile::kAcceptMismatch
                                                   : storage::ExistingFile::kResume;
  auto opened = storage::ResultsWriter::Open(work.output, open);
  if (!opened.ok()) return opened.status();
  *writer = std::make_unique<storage::ResultsWriter>(std::move(*opened));
  if (!(*writer)->moved_aside_to().empty()) {
    log.Line("phasesweep: moved aside: " + (*writer)->moved_aside_to());
  }
  if (!(*writer)->stale_lock_holder().empty()) {
    log.Line("phasesweep: took over a stale lock (" + (*writer)->stale_lock_holder() + ")");
  }
  // Fold shards a killed run left behind first, so the ledger reads one file.
  auto folded = (*writer)->Merge();
  if (!folded.ok()) return folded.status();
  // An unsharded run folds the slices of `run --shard` (job arrays) into the file.
  if (!request.shard.active()) {
    auto slices = FoldSlices(**writer, open);
    if (!slices.ok()) return slices.status();
    if (slices->slices > 0) log.Line(DescribeFold(*slices, work.output));
  }
  auto ledger = storage::Ledger::Read(work.output);
  if (!ledger.ok()) return ledger.status();
  std::string finished_ids;
  for (const auto& e : ledger->entries()) {
    if (IsTerminal(e.status)) finished_ids += e.job_id + "\n";
  }
  return finished_ids;
}

}  // namespace

RankLog::RankLog(const std::string& dir, int rank, bool echo) : echo_(echo) {
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  file_.open(dir + "/rank-" + std::to_string(rank) + ".log", std::ios::app);
}

void RankLog::Line(const std::string& text) {
  FileLine(text);
  if (echo_) std::fprintf(stderr, "%s\n", text.c_str());
}

void RankLog::FileLine(const std::string& text) {
  if (file_) file_ << text << std::endl;
}

Status AgreeOnStatus(const Status& status_on_rank0, int rank) {
  std::string verdict;
  if (rank == 0 && !status_on_rank0.ok()) {
    verdict = std::to_string(status_on_rank0.ExitCode()) + "|" + status_on_rank0.message();
  }
  verdict = Broadcast(verdict);
  if (verdict.empty()) return Status::Ok();
  const std::string message = verdict.substr(verdict.find('|') + 1);
  return verdict[0] == '2' ? Status::InvalidArgument(message) : Status::Internal(message);
}

storage::OpenOptions OpenOptionsFor(const SweepPlan& plan, const std::string& resolved_yaml,
                                    const std::string& command_line) {
  storage::OpenOptions open;
  open.provenance.phasesweep_version = PHASESWEEP_VERSION;
  open.provenance.git_commit = PHASESWEEP_GIT_COMMIT;
  open.provenance.config_yaml = resolved_yaml;
  open.provenance.config_hash = plan.config_hash;
  open.provenance.command_line = command_line;
  open.provenance.libtorch_version = TORCH_VERSION;
  open.provenance.mpi_version = MpiLibraryVersion();
  for (const Job& j : plan.jobs) open.plan.push_back({j.id, j.seed, j.grid_index, j.hparams});
  return open;
}

Result<AgreedConfig> AgreeOnConfig(const RunRequest& request, const LaunchLayout& layout) {
  std::string resolved_yaml, output;
  Status config_status;
  if (layout.rank == 0) {
    auto sweep = LoadSweepSpec({request.args.config_path}, request.args.overrides);
    if (sweep.ok()) {
      resolved_yaml = ResolvedYaml(*sweep);
      output = request.output.empty() ? sweep->base.at("output.path").AsString() : request.output;
      const int64_t groups = sweep->base.at("training.data_parallel").AsInt();
      if (layout.size % groups != 0) {
        config_status = Status::InvalidArgument(
            "training.data_parallel = " + std::to_string(groups) + " does not divide the " +
            std::to_string(layout.size) + " MPI ranks; use a rank count that is a multiple of it");
      }
    } else {
      config_status = sweep.status();
    }
  }
  PHASESWEEP_RETURN_IF_ERROR(AgreeOnStatus(config_status, layout.rank));
  resolved_yaml = Broadcast(resolved_yaml);
  output = Broadcast(output);
  auto sweep = ParseSweepSpec(resolved_yaml, "resolved config", {});
  if (!sweep.ok()) return sweep.status();
  return AgreedConfig{resolved_yaml, output, std::move(*sweep)};
}

Result<RankGroup> SetUpGroups(const AgreedConfig& config, const LaunchLayout& layout) {
  const int group_size = static_cast<int>(config.sweep.base.at("training.data_parallel").AsInt());
  bool on_cuda = false;
  if (group_size > 1) {
    auto cuda = TrainsOnCuda(config.sweep.base.at("training.device").AsString(), layout.local_rank);
    if (!cuda.ok()) return cuda.status();
    on_cuda = *cuda;
  }
  return SetUpRankGroup(MPI_COMM_WORLD, group_size, on_cuda);
}

Result<SweepWork> PlanSweep(const RunRequest& request, const AgreedConfig& config,
                            int group_count) {
  PlanOptions plan_options;
  // A slice plans for the ranks of all slices together, so every slice (and one unsharded run on
  // as many ranks) packs the jobs the same way.
  plan_options.ranks = group_count * std::max(1, request.shard.count);
  auto planned = MakePlan(config.sweep, plan_options);
  if (!planned.ok()) return planned.status();
  SweepWork work{std::move(*planned), config.output, config.output, {}};
  // A slice writes a results file of its own (slices.h); only its packs' jobs are planned there.
  if (request.shard.active()) {
    work.output = SlicePath(work.sweep_output, request.shard);
    std::vector<size_t> all(work.plan.packs.size());
    for (size_t p = 0; p < all.size(); ++p) all[p] = p;
    work.slice_packs = PacksOfSlice(all, request.shard);
  }
  return Result<SweepWork>(std::move(work));
}

Result<OpenedResults> OpenResults(const RunRequest& request, const AgreedConfig& config,
                                  SweepWork& work, int rank, RankLog& log) {
  OpenedResults results;
  std::string finished_ids;
  Status open_status;
  if (rank == 0) {
    auto opened = OpenOnRankZero(request, config, work, log, &results.writer);
    if (opened.ok()) {
      finished_ids = std::move(*opened);
    } else {
      open_status = opened.status();
    }
  }
  PHASESWEEP_RETURN_IF_ERROR(AgreeOnStatus(open_status, rank));
  finished_ids = Broadcast(finished_ids);
  for (size_t a = 0, b; a < finished_ids.size(); a = b + 1) {
    b = finished_ids.find('\n', a);
    results.finished.insert(finished_ids.substr(a, b - a));
  }
  results.pending = PendingPacks(work.plan, results.finished);
  if (request.shard.active()) results.pending = PacksOfSlice(results.pending, request.shard);
  return Result<OpenedResults>(std::move(results));
}

void AnnounceStart(const RunRequest& request, const AgreedConfig& config, const SweepWork& work,
                   const OpenedResults& results, const LaunchLayout& layout, int64_t threads,
                   RankLog& log) {
  if (layout.rank != 0) return;
  int64_t pending_jobs = 0;
  for (size_t p : results.pending) {
    pending_jobs += static_cast<int64_t>(work.plan.packs[p].job_index.size());
  }
  const int size = layout.size;
  log.Line("phasesweep: " + config.sweep.base.at("name").Display() + ": " +
           std::to_string(work.plan.jobs.size()) + " jobs (" +
           std::to_string(results.finished.size()) + " already finished, " +
           std::to_string(pending_jobs) + " to run in " + std::to_string(results.pending.size()) +
           " packs) on " + std::to_string(size) + (size == 1 ? " rank" : " ranks") + " x " +
           std::to_string(threads) + " threads -> " + work.output +
           (request.shard.active() ? " (slice " + std::to_string(request.shard.index) + " of " +
                                         std::to_string(request.shard.count) + ")"
                                   : ""));
}

Result<SchedulerSummary> Train(const RunRequest& request, const AgreedConfig& config,
                               const SweepWork& work, OpenedResults& results, RankGroup& group,
                               const LaunchLayout& layout, int64_t threads, RankLog& log) {
  SchedulerOptions sched;
  sched.retries = static_cast<int>(config.sweep.base.at("training.retries").AsInt());
  sched.stop_timeout_s = request.stop_timeout_s;
  for (const Pack& p : work.plan.packs) {
    sched.pack_members.push_back(static_cast<int64_t>(p.job_index.size()));
    sched.pack_steps.push_back(p.spec.training.steps);
  }
  ExecutorSettings settings;
  settings.results_path = work.output;
  settings.world_rank = layout.rank;
  settings.local_rank = layout.local_rank;
  settings.threads = threads;
  settings.log = [&log](const std::string& line, bool echo) {
    if (echo) {
      log.Line(line);
    } else {
      log.FileLine(line);
    }
  };
  if (group.size() > 1) {
    settings.group = {group.group.communicator.get(), group.rank(), group.size()};
  }
  const ExecutorFactory make =
      request.make_executor ? request.make_executor : TrainerExecutorFactory();
  std::unique_ptr<PackExecutor> executor = make(work.plan, settings);
  std::unique_ptr<ShardCollector> collector;
  if (results.writer) collector = std::make_unique<ShardCollector>(work.plan, *results.writer);
  ProgressPrinter printer(request.quiet ? ProgressPrinter::Mode::kQuiet
                                        : ProgressPrinter::Mode::kAuto);
  const ProgressSink sink = [&](const ProgressSnapshot& s) { printer(s); };
  if (group.size() == 1) {
    return RunScheduler(group.roots.get(), results.pending, *executor, collector.get(), sched,
                        sink);
  }
  // Inside a group every rank stops at the same step: stop when any rank wants to.
  collectives::Communicator& comm = *group.group.communicator;
  const StopAgreement agree = [&comm](bool stop_here) {
    float votes = stop_here ? 1.0f : 0.0f;
    Status s = comm.Allreduce(&votes, 1, collectives::ReduceOp::kSum);
    if (!s.ok()) comm.Abort(s);
    return votes > 0;
  };
  if (group.rank() != 0) return FollowGroupRoot(group.group.group.get(), *executor, agree);
  GroupRootExecutor root(group.group.group.get(), *executor, agree);
  Result<SchedulerSummary> trained =
      RunScheduler(group.roots.get(), results.pending, root, collector.get(), sched, sink);
  root.ReleaseGroup();
  return trained;
}

SweepResult Finish(const RunRequest& request, const SweepWork& work, OpenedResults& results,
                   const Result<SchedulerSummary>& trained, RankLog& log) {
  const std::string& output = work.output;
  SweepResult end;
  if (!trained.ok()) {
    // A stop that timed out: keep what is durable, then abort the ranks that did not answer.
    (void)results.writer->Merge();
    if (request.report_fatal) {
      request.report_fatal(
          Status::Internal(trained.status().message() + "; finished packs are saved in " + output));
    }
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  auto merged = results.writer->Merge();
  if (!merged.ok()) return {merged.status(), SweepOutcome::kFinished, true};
  auto ledger = storage::Ledger::Read(output);
  if (!ledger.ok()) return {ledger.status(), SweepOutcome::kFinished, true};
  const storage::LedgerCounts c = ledger->Totals();
  char line[512];
  std::snprintf(line, sizeof(line),
                "phasesweep: %lld/%lld jobs done, %lld diverged, %lld failed, %lld pending -> %s",
                static_cast<long long>(c.done), static_cast<long long>(c.total()),
                static_cast<long long>(c.diverged), static_cast<long long>(c.failed),
                static_cast<long long>(c.pending + c.running), output.c_str());
  log.Line(line);
  const SweepOutcome finished =
      c.failed > 0 ? SweepOutcome::kSomeJobsFailed : SweepOutcome::kFinished;
  if (trained->stopped) {
    const int sig = StopSignal();
    log.Line(std::string("phasesweep: stopped by ") +
             (sig == SIGUSR1  ? "SIGUSR1"
              : sig == SIGINT ? "SIGINT"
                              : "SIGTERM") +
             "; running packs are checkpointed. The sweep can be requeued: rerun the same command "
             "to resume "
             "(exit status 75).");
    return {Status::Ok(), SweepOutcome::kStopped, true};
  }
  if (request.shard.active()) {
    log.Line("phasesweep: slice " + std::to_string(request.shard.index) + " of " +
             std::to_string(request.shard.count) + " finished; `phasesweep merge` with the same " +
             "config (or a run without --shard) folds the slices into " + work.sweep_output);
    return {Status::Ok(), finished, true};
  }
  log.Line("phasesweep: look at it: phasesweep status " + output + " | phasesweep analyze " +
           output + " | phasesweep export " + output +
           " --csv traces.csv | h5py recipes in docs/FORMAT.md");
  if (request.after_finish) {
    results.writer.reset();  // release the results file (and its lock) for the analysis to write
    Status analysed = request.after_finish(output);
    if (!analysed.ok()) return {std::move(analysed), finished, true};
  }
  return {Status::Ok(), finished, true};
}

}  // namespace phasesweep::orchestrator
