// `phasesweep run`: one sweep over every rank of MPI_COMM_WORLD. Rank 0 validates the config and
// broadcasts the resolved YAML (so no rank can disagree about the sweep), opens the results file,
// reads the ledger, and everybody trains through the scheduler. See commands.h for exit codes.
#include <mpi.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "pack_executor.h"
#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/process_group.h"
#include "phasesweep/orchestrator/commands.h"
#include "phasesweep/orchestrator/launch.h"
#include "phasesweep/orchestrator/progress.h"
#include "phasesweep/orchestrator/signals.h"
#include "phasesweep/orchestrator/slices.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/results_writer.h"

#ifndef PHASESWEEP_VERSION
#define PHASESWEEP_VERSION "unknown"
#endif
#ifndef PHASESWEEP_GIT_COMMIT
#define PHASESWEEP_GIT_COMMIT "unknown"
#endif

namespace phasesweep::orchestrator {
namespace {

constexpr int kExitFailedJobs = 3;

int WorldRank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// Broadcasts a string from rank 0.
std::string Broadcast(const std::string& text) {
  long long n = static_cast<long long>(text.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = text;
  out.resize(static_cast<size_t>(n));
  if (n > 0) MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

// Rank 0's verdict on a setup step, shared with every rank: "" for OK, else "<exit>|<message>".
Status AgreeOnStatus(const Status& status_on_rank0) {
  std::string verdict;
  if (WorldRank() == 0 && !status_on_rank0.ok()) {
    verdict = std::to_string(status_on_rank0.ExitCode()) + "|" + status_on_rank0.message();
  }
  verdict = Broadcast(verdict);
  if (verdict.empty()) return Status::Ok();
  const std::string message = verdict.substr(verdict.find('|') + 1);
  return verdict[0] == '2' ? Status::InvalidArgument(message) : Status::Internal(message);
}

// One log per rank under --log-dir, plus (rank 0, not quiet) the terminal.
class RankLog {
 public:
  RankLog(const std::string& dir, int rank, bool echo) : echo_(echo) {
    if (dir.empty()) return;
    std::filesystem::create_directories(dir);
    file_.open(dir + "/rank-" + std::to_string(rank) + ".log", std::ios::app);
  }
  void Line(const std::string& text) {
    FileLine(text);
    if (echo_) std::fprintf(stderr, "%s\n", text.c_str());
  }
  // Only into the log file (per-pack detail that would flood the terminal).
  void FileLine(const std::string& text) {
    if (file_) file_ << text << std::endl;
  }

 private:
  bool echo_;
  std::ofstream file_;
};

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
    std::vector<worker::MemberSpec> keep_members;
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

}  // namespace

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
  for (const Job& j : plan.jobs) open.plan.push_back({j.id, j.seed, j.grid_index, j.hparams_json});
  return open;
}

int RunSweep(const RunCommandOptions& options) {
  const int rank = WorldRank();
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
  LaunchLayout mpi_layout;
  mpi_layout.rank = rank;
  mpi_layout.size = size;
  MPI_Comm_rank(local, &mpi_layout.local_rank);
  MPI_Comm_size(local, &mpi_layout.local_size);
  MPI_Comm_free(&local);
  // Local rank (hence the device) and threads per rank: mpirun's, srun's or MPI's (launch.h).
  const LaunchLayout layout =
      DetectLaunch([](const char* n) { return std::getenv(n); }, mpi_layout);
  const int local_rank = layout.local_rank;
  InstallStopHandlers();
  RankLog log(options.log_dir, rank, rank == 0);
  auto fail = [&](const Status& s) {
    if (rank == 0) std::fprintf(stderr, "phasesweep: error: %s\n", s.message().c_str());
    return s.ExitCode();
  };

  // 1. Rank 0 validates; every rank gets the same resolved config.
  std::string resolved_yaml, output;
  Status config_status;
  if (rank == 0) {
    auto sweep = LoadSweepSpec({options.args.config_path}, options.args.overrides);
    if (sweep.ok()) {
      resolved_yaml = ResolvedYaml(*sweep);
      output = options.output.empty() ? sweep->base.at("output.path").AsString() : options.output;
      const int64_t groups = sweep->base.at("training.data_parallel").AsInt();
      if (size % groups != 0) {
        config_status = Status::InvalidArgument(
            "training.data_parallel = " + std::to_string(groups) + " does not divide the " +
            std::to_string(size) + " MPI ranks; use a rank count that is a multiple of it");
      }
    } else {
      config_status = sweep.status();
    }
  }
  if (Status s = AgreeOnStatus(config_status); !s.ok()) return fail(s);
  resolved_yaml = Broadcast(resolved_yaml);
  output = Broadcast(output);
  auto sweep = ParseSweepSpec(resolved_yaml, "resolved config", {});
  if (!sweep.ok()) return fail(sweep.status());
  // Data-parallel groups of G ranks (G divides the rank count: checked by rank 0 above). Packs
  // are spread over the groups, not the ranks.
  const int group_size = static_cast<int>(sweep->base.at("training.data_parallel").AsInt());
  std::unique_ptr<collectives::ProcessGroup> group;
  MPI_Comm roots = MPI_COMM_NULL;  // the group roots, over which the scheduler runs
  if (group_size > 1) {
    collectives::GroupOptions group_options;
    group_options.group_size = group_size;
    auto cuda = TrainsOnCuda(sweep->base.at("training.device").AsString(), local_rank);
    if (!cuda.ok()) return fail(cuda.status());
    group_options.backend = *cuda ? collectives::Backend::kNccl : collectives::Backend::kMpi;
    auto set_up = collectives::SetUpProcessGroup(MPI_COMM_WORLD, group_options);
    if (!set_up.ok()) return fail(set_up.status());
    group = std::make_unique<collectives::ProcessGroup>(std::move(*set_up));
    MPI_Comm_split(MPI_COMM_WORLD, group->layout.group_rank == 0 ? 0 : MPI_UNDEFINED, rank, &roots);
  }
  PlanOptions plan_options;
  // A slice plans for the ranks of all slices together, so every slice (and one unsharded run on
  // as many ranks) packs the jobs the same way.
  plan_options.ranks = size / group_size * std::max(1, options.shard.count);
  auto planned = MakePlan(*sweep, plan_options);
  if (!planned.ok()) return fail(planned.status());
  SweepPlan plan = std::move(*planned);
  // A slice writes a results file of its own (slices.h); only its packs' jobs are planned there.
  const std::string sweep_output = output;
  std::vector<size_t> slice_packs;
  if (options.shard.active()) {
    output = SlicePath(sweep_output, options.shard);
    std::vector<size_t> all(plan.packs.size());
    for (size_t p = 0; p < all.size(); ++p) all[p] = p;
    slice_packs = PacksOfSlice(all, options.shard);
  }

  // 2. Rank 0 opens (or creates) the results file and reads which jobs are finished.
  std::unique_ptr<storage::ResultsWriter> writer;
  std::string finished_ids;
  Status open_status;
  if (rank == 0 && options.shard.active()) {
    open_status = CheckSliceStart(sweep_output, options.shard, plan.config_hash);
  }
  if (rank == 0 && open_status.ok()) {
    storage::OpenOptions open = OpenOptionsFor(plan, resolved_yaml, options.command_line);
    if (options.shard.active()) {
      open.plan.clear();
      for (size_t p : slice_packs) {
        for (size_t j : plan.packs[p].job_index) {
          const Job& job = plan.jobs[j];
          open.plan.push_back({job.id, job.seed, job.grid_index, job.hparams_json});
        }
      }
    }
    open.existing = options.fresh                    ? storage::ExistingFile::kFresh
                    : options.accept_config_mismatch ? storage::ExistingFile::kAcceptMismatch
                                                     : storage::ExistingFile::kResume;
    auto opened = storage::ResultsWriter::Open(output, open);
    if (opened.ok()) {
      writer = std::make_unique<storage::ResultsWriter>(std::move(*opened));
      if (!writer->moved_aside_to().empty())
        log.Line("phasesweep: moved aside: " + writer->moved_aside_to());
      if (!writer->stale_lock_holder().empty()) {
        log.Line("phasesweep: took over a stale lock (" + writer->stale_lock_holder() + ")");
      }
      // Fold shards a killed run left behind first, so the ledger reads one file.
      auto folded = writer->Merge();
      if (!folded.ok()) open_status = folded.status();
      // An unsharded run folds the slices of `run --shard` (job arrays) into the file.
      if (open_status.ok() && !options.shard.active()) {
        auto slices = FoldSlices(*writer, open);
        if (!slices.ok()) {
          open_status = slices.status();
        } else if (slices->slices > 0) {
          log.Line(DescribeFold(*slices, output));
        }
      }
      auto ledger = storage::Ledger::Read(output);
      if (ledger.ok() && open_status.ok()) {
        for (const auto& e : ledger->entries()) {
          if (IsTerminal(e.status)) finished_ids += e.job_id + "\n";
        }
      } else {
        open_status = ledger.status();
      }
    } else {
      open_status = opened.status();
    }
  }
  if (Status s = AgreeOnStatus(open_status); !s.ok()) return fail(s);
  finished_ids = Broadcast(finished_ids);
  std::set<std::string> finished;
  for (size_t a = 0, b; a < finished_ids.size(); a = b + 1) {
    b = finished_ids.find('\n', a);
    finished.insert(finished_ids.substr(a, b - a));
  }
  std::vector<size_t> pending = PendingPacks(plan, finished);
  if (options.shard.active()) pending = PacksOfSlice(pending, options.shard);

  const int64_t threads =
      ThreadsPerRank(layout, std::max<unsigned>(1, std::thread::hardware_concurrency()));
  if (rank == 0) {
    int64_t pending_jobs = 0;
    for (size_t p : pending) pending_jobs += static_cast<int64_t>(plan.packs[p].job_index.size());
    log.Line("phasesweep: " + sweep->base.at("name").Display() + ": " +
             std::to_string(plan.jobs.size()) + " jobs (" + std::to_string(finished.size()) +
             " already finished, " + std::to_string(pending_jobs) + " to run in " +
             std::to_string(pending.size()) + " packs) on " + std::to_string(size) +
             (size == 1 ? " rank" : " ranks") + " x " + std::to_string(threads) + " threads -> " +
             output +
             (options.shard.active() ? " (slice " + std::to_string(options.shard.index) + " of " +
                                           std::to_string(options.shard.count) + ")"
                                     : ""));
  }

  // 3. Train.
  SchedulerOptions sched;
  sched.retries = static_cast<int>(sweep->base.at("training.retries").AsInt());
  sched.stop_timeout_s = options.stop_timeout_s;
  for (const Pack& p : plan.packs) {
    sched.pack_members.push_back(static_cast<int64_t>(p.job_index.size()));
    sched.pack_steps.push_back(p.spec.training.steps);
  }
  ExecutorSettings settings;
  settings.results_path = output;
  settings.world_rank = rank;
  settings.local_rank = local_rank;
  settings.threads = threads;
  settings.log = [&log](const std::string& line, bool echo) {
    if (echo) {
      log.Line(line);
    } else {
      log.FileLine(line);
    }
  };
  if (group) {
    settings.group = {group->communicator.get(), group->layout.group_rank, group_size};
  }
  TrainerExecutor executor(plan, settings);
  std::unique_ptr<ShardCollector> collector;
  if (writer) collector = std::make_unique<ShardCollector>(plan, *writer);
  ProgressPrinter printer(options.quiet ? ProgressPrinter::Mode::kQuiet
                                        : ProgressPrinter::Mode::kAuto);
  const ProgressSink sink = [&](const ProgressSnapshot& s) { printer(s); };
  Result<SchedulerSummary> result = SchedulerSummary{};
  if (!group) {
    result = RunScheduler(MPI_COMM_WORLD, pending, executor, collector.get(), sched, sink);
  } else {
    // Inside a group every rank stops at the same step: stop when any rank wants to.
    collectives::Communicator& comm = *group->communicator;
    const StopAgreement agree = [&comm](bool stop_here) {
      float votes = stop_here ? 1.0f : 0.0f;
      Status s = comm.Allreduce(&votes, 1, collectives::ReduceOp::kSum);
      if (!s.ok()) comm.Abort(s);
      return votes > 0;
    };
    if (group->layout.group_rank == 0) {
      GroupRootExecutor root(group->group.get(), executor, agree);
      result = RunScheduler(roots, pending, root, collector.get(), sched, sink);
      root.ReleaseGroup();
      MPI_Comm_free(&roots);
    } else {
      result = FollowGroupRoot(group->group.get(), executor, agree);
    }
  }
  if (rank != 0 && result.ok() && result->packs_run_here == 0 && !pending.empty()) {
    log.Line("phasesweep: rank " + std::to_string(rank) +
             ": no pack was left for this rank; it stayed idle");
  }

  // 4. Rank 0 merges what finished and reports.
  if (rank != 0) return result.ok() ? 0 : 1;
  if (!result.ok()) {
    // A stop that timed out: keep what is durable, then abort the ranks that did not answer.
    (void)writer->Merge();
    std::fprintf(stderr, "phasesweep: error: %s; finished packs are saved in %s\n",
                 result.status().message().c_str(), output.c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  auto merged = writer->Merge();
  if (!merged.ok()) return fail(merged.status());
  auto ledger = storage::Ledger::Read(output);
  if (!ledger.ok()) return fail(ledger.status());
  const storage::LedgerCounts c = ledger->Totals();
  char line[512];
  std::snprintf(line, sizeof(line),
                "phasesweep: %lld/%lld jobs done, %lld diverged, %lld failed, %lld pending -> %s",
                static_cast<long long>(c.done), static_cast<long long>(c.total()),
                static_cast<long long>(c.diverged), static_cast<long long>(c.failed),
                static_cast<long long>(c.pending + c.running), output.c_str());
  log.Line(line);
  if (result->stopped) {
    const int sig = StopSignal();
    log.Line(std::string("phasesweep: stopped by ") +
             (sig == SIGUSR1  ? "SIGUSR1"
              : sig == SIGINT ? "SIGINT"
                              : "SIGTERM") +
             "; running packs are checkpointed. The sweep can be requeued: rerun the same command "
             "to resume "
             "(exit status 75).");
    return kExitRequeue;
  }
  if (options.shard.active()) {
    log.Line("phasesweep: slice " + std::to_string(options.shard.index) + " of " +
             std::to_string(options.shard.count) + " finished; `phasesweep merge` with the same " +
             "config (or a run without --shard) folds the slices into " + sweep_output);
    return c.failed > 0 ? kExitFailedJobs : 0;
  }
  log.Line("phasesweep: look at it: phasesweep status " + output + " | phasesweep analyze " +
           output + " | phasesweep export " + output +
           " --csv traces.csv | h5py recipes in docs/FORMAT.md");
  if (options.after_finish) {
    collector.reset();  // release the results file (and its lock) for the analysis to write
    writer.reset();
    const int rc = options.after_finish(output);
    if (rc != 0) return rc;
  }
  return c.failed > 0 ? kExitFailedJobs : 0;
}

void AddRunCommand(CLI::App& app, const std::string& command_line,
                   std::function<int(const std::string& results_path)> analyze) {
  auto options = std::make_shared<RunCommandOptions>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  options->command_line = command_line;
  CLI::App* run = app.add_subcommand("run",
                                     "Run a sweep on every MPI rank (alone, or under mpirun/srun); "
                                     "rerun the same command to resume");
  run->add_option("config_and_overrides", *positionals,
                  "[CONFIG.yaml] [key=value ...]; no file: the embedded default study");
  run->add_option("-o,--output", options->output,
                  "results file (default: output.path of the config)");
  run->add_flag("--fresh", options->fresh,
                "move an existing results file aside and start a new one");
  run->add_flag("--accept-config-mismatch", options->accept_config_mismatch,
                "continue a results file written for a different config");
  run->add_flag("-q,--quiet", options->quiet, "no progress line");
  run->add_option("--log-dir", options->log_dir, "write one log per rank into this folder");
  run->add_option("--stop-timeout", options->stop_timeout_s,
                  "seconds rank 0 waits for every rank to checkpoint after a stop signal")
      ->check(CLI::PositiveNumber);
  auto shard_text = std::make_shared<std::string>();
  run->add_option("--shard", *shard_text,
                  "i/n: train only slice i of n of the plan's packs (job arrays), into "
                  "<results>.slice-i-of-n.h5; `phasesweep merge` folds the slices");
  auto with_analysis = std::make_shared<bool>(false);
  if (analyze) {
    run->add_flag("--analyze", *with_analysis,
                  "when the sweep has finished, analyse the results file and print the summary "
                  "(as `phasesweep analyze`)");
  }
  run->callback([options, positionals, with_analysis, analyze, shard_text]() {
    options->args = SplitConfigArgs(*positionals);
    if (!shard_text->empty()) {
      auto shard = ParseShard(*shard_text);
      if (!shard.ok()) {
        std::cerr << "phasesweep: error: " << shard.status().message() << "\n";
        throw CLI::RuntimeError(2);
      }
      options->shard = *shard;
    }
    if (*with_analysis) options->after_finish = analyze;
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    const int rc = RunSweep(*options);
    MPI_Finalize();
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace phasesweep::orchestrator
