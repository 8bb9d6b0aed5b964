// Scheduler overhead benchmark, run under `mpirun --oversubscribe -np 4`: the real pull-queue
// scheduler (orchestrator/scheduler/src/scheduler.cc) hands out packs whose "training" is sleeping, so the
// figures measure coordination alone, not LibTorch, and stay meaningful on a machine with fewer
// cores than ranks (a sleeping rank leaves its core to the others). Each fake pack sleeps its
// duration in `steps` slices and calls the scheduler's hooks between slices exactly as the
// trainer does between optimizer steps (service: rank 0 answers requests; progress; should_stop).
//
// Prints, on rank 0: wall time, the fraction of rank time spent inside packs (sum over ranks of
// time in PackExecutor::Run / (ranks x wall)), the coordination cost per pack (rank time not in
// a pack / packs), the gap between one pack ending and the next starting on a rank (mean, p99),
// and rank 0's time spent servicing others from inside its own packs.
//
//   bench/phasesweep_bench_scheduler [--packs 2000] [--pack-ms 50] [--steps 10]
#include <mpi.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "phasesweep/orchestrator/scheduler.h"

namespace {

using phasesweep::orchestrator::PackContext;
using phasesweep::orchestrator::PackExecutor;
using phasesweep::orchestrator::PackOutcome;
using phasesweep::orchestrator::PackOutcomeKind;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Sleeps until an absolute time: the pack lasts its nominal duration however late each wake-up
// is, so oversleeping is not counted as coordination.
void SleepUntil(Clock::time_point t) {
  for (;;) {
    const auto left = t - Clock::now();
    if (left <= Clock::duration::zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    nanosleep(&ts, nullptr);
  }
}

class SleepExecutor : public PackExecutor {
 public:
  SleepExecutor(double pack_s, int steps) : pack_s_(pack_s), steps_(steps) {}

  PackOutcome Run(const PackContext& c) override {
    const auto start = Clock::now();
    if (have_last_end_) gaps_.push_back(Seconds(last_end_, start));
    const auto slice = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(pack_s_ / steps_));
    auto next = start;
    for (int s = 0; s < steps_; ++s) {
      if (c.should_stop()) return {PackOutcomeKind::kInterrupted, s, ""};
      next += slice;
      SleepUntil(next);
      const auto t0 = Clock::now();
      c.service();
      c.progress(s + 1);
      service_s_ += Seconds(t0, Clock::now());
    }
    last_end_ = Clock::now();
    have_last_end_ = true;
    in_pack_s_ += Seconds(start, last_end_);
    return {PackOutcomeKind::kFinished, steps_, ""};
  }

  const std::vector<double>& gaps() const { return gaps_; }
  double in_pack_s() const { return in_pack_s_; }
  double service_s() const { return service_s_; }

 private:
  double pack_s_;
  int steps_;
  Clock::time_point last_end_;
  bool have_last_end_ = false;
  std::vector<double> gaps_;
  double in_pack_s_ = 0, service_s_ = 0;
};

long Flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long packs = Flag(argc, argv, "--packs", 2000);
  const long pack_ms = Flag(argc, argv, "--pack-ms", 50);
  const int steps = static_cast<int>(Flag(argc, argv, "--steps", 10));

  std::vector<size_t> pending(static_cast<size_t>(packs));
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  phasesweep::orchestrator::SchedulerOptions options;
  options.pack_members.assign(pending.size(), 1);
  options.pack_steps.assign(pending.size(), steps);
  SleepExecutor executor(static_cast<double>(pack_ms) / 1000.0, steps);

  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = Clock::now();
  auto summary = phasesweep::orchestrator::RunScheduler(MPI_COMM_WORLD, pending, executor, nullptr,
                                                        options, nullptr);
  const double wall_here = Seconds(start, Clock::now());
  if (!summary.ok()) {
    std::fprintf(stderr, "phasesweep: error: %s\n", summary.status().message().c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Rank time runs from the common start to the last rank's end: a rank released early (no
  // packs left) counts as idle, as it would hold its core in a real job.
  double wall = wall_here;
  MPI_Allreduce(MPI_IN_PLACE, &wall, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  double in_pack = executor.in_pack_s(), in_pack_total = 0;
  MPI_Reduce(&in_pack, &in_pack_total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  long run_here = static_cast<long>(summary->packs_run_here), run_total = 0, run_min = 0,
       run_max = 0;
  MPI_Reduce(&run_here, &run_total, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(&run_here, &run_min, 1, MPI_LONG, MPI_MIN, 0, MPI_COMM_WORLD);
  MPI_Reduce(&run_here, &run_max, 1, MPI_LONG, MPI_MAX, 0, MPI_COMM_WORLD);

  // Gaps between packs on each rank, gathered on rank 0.
  std::vector<double> gaps = executor.gaps();
  int n_gaps = static_cast<int>(gaps.size());
  std::vector<int> counts(static_cast<size_t>(size)), offsets(static_cast<size_t>(size));
  MPI_Gather(&n_gaps, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<double> all_gaps;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += counts[static_cast<size_t>(r)];
    }
    all_gaps.resize(static_cast<size_t>(total));
  }
  MPI_Gatherv(gaps.data(), n_gaps, MPI_DOUBLE, all_gaps.data(), counts.data(), offsets.data(),
              MPI_DOUBLE, 0, MPI_COMM_WORLD);

  if (rank == 0) {
    std::sort(all_gaps.begin(), all_gaps.end());
    double gap_sum = 0;
    for (double g : all_gaps) gap_sum += g;
    const double gap_mean = all_gaps.empty() ? 0 : gap_sum / static_cast<double>(all_gaps.size());
    const double gap_p99 =
        all_gaps.empty() ? 0 : all_gaps[static_cast<size_t>(0.99 * (all_gaps.size() - 1))];
    const double rank_time = wall * size;
    const double ideal = static_cast<double>(packs) * pack_ms / 1000.0 / size;
    std::printf(
        "| ranks | packs x ms | steps/pack | wall s | ideal s | in packs | coordination "
        "per pack | gap mean | gap p99 | packs per rank | rank 0 servicing |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::printf(
        "| %d | %ld x %ld | %d | %.2f | %.2f | %.2f%% | %.3f ms | %.3f ms | %.3f ms | "
        "%ld..%ld | %.3f s |\n",
        size, packs, pack_ms, steps, wall, ideal, 100.0 * in_pack_total / rank_time,
        1e3 * (rank_time - in_pack_total) / static_cast<double>(std::max(1L, run_total)),
        1e3 * gap_mean, 1e3 * gap_p99, run_min, run_max, executor.service_s());
    if (run_total != packs) {
      std::fprintf(stderr, "phasesweep: error: %ld packs ran, expected %ld\n", run_total, packs);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  MPI_Finalize();
  return 0;
}
