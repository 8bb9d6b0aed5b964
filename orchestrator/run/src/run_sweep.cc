// `phasesweep run` as a composition of the steps in sweep_steps.h (see run.h).
#include <algorithm>
#include <thread>

#include "phasesweep/orchestrator/run.h"
#include "phasesweep/orchestrator/signals.h"
#include "sweep_steps.h"

namespace phasesweep::orchestrator {

SweepResult RunSweep(const RunRequest& request) {
  auto started = StartRank(MPI_COMM_WORLD);
  if (!started.ok()) return {started.status(), SweepOutcome::kFinished, true};
  const LaunchLayout& layout = *started;
  const int rank = layout.rank;
  const auto failed = [rank](const Status& s) {
    return SweepResult{s, SweepOutcome::kFinished, rank == 0};
  };
  InstallStopHandlers();
  RankLog log(request.log_dir, rank, rank == 0);

  auto config = AgreeOnConfig(request, layout);
  if (!config.ok()) return failed(config.status());
  auto group = SetUpGroups(*config, layout);
  if (!group.ok()) return failed(group.status());
  auto work = PlanSweep(request, *config, group->group.layout.group_count);
  if (!work.ok()) return failed(work.status());
  auto results = OpenResults(request, *config, *work, rank, log);
  if (!results.ok()) return failed(results.status());
  const int64_t threads =
      ThreadsPerRank(layout, std::max<unsigned>(1, std::thread::hardware_concurrency()));
  AnnounceStart(request, *config, *work, *results, layout, threads, log);

  const Result<SchedulerSummary> trained =
      Train(request, *config, *work, *results, *group, layout, threads, log);
  if (rank != 0) {
    if (trained.ok() && trained->packs_run_here == 0 && !results->pending.empty()) {
      log.Line("phasesweep: rank " + std::to_string(rank) +
               ": no pack was left for this rank; it stayed idle");
    }
    // Rank 0 reports a failed scheduler (and aborts the job); here it is only an exit status.
    if (trained.ok()) return SweepResult{};
    return SweepResult{Status::Internal(trained.status().message()), SweepOutcome::kFinished,
                       false};
  }
  return Finish(request, *work, *results, trained, log);
}

}  // namespace phasesweep::orchestrator
