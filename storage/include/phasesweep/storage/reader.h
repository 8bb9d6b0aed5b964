// Reading a results file: jobs, one metric across jobs, grid points. This is what analysis,
// `phasesweep status` and `phasesweep export` use. Safe while a sweep is writing the file: the
// reader works on the file it opened (a merge replaces the file by rename, never in place) plus
// the shards that existed when it opened. One thread at a time per ResultsReader (open one
// reader per thread to read in parallel).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage {

struct ReaderOptions {
  // Also read jobs from <results>.d/shards that are not merged yet (a running or killed sweep).
  bool include_shards = true;
};

// One recorded job (no traces). Planned jobs without a record are not listed (see Ledger).
struct JobSummary {
  std::string job_id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;
  JobStatus status = JobStatus::kDone;
  int32_t attempts = 0;
  bool in_shard = false;
};

// Selects jobs. Empty fields select everything.
struct JobFilter {
  std::optional<int64_t> grid_index;
  std::vector<JobStatus> statuses;  // e.g. {kDone}
};

// One metric for many jobs. Row i belongs to job_ids[i]; traces may differ in length (a
// diverged job stops early).
struct MetricTraces {
  std::string metric;
  std::vector<std::string> job_ids;
  std::vector<uint64_t> seeds;
  std::vector<int64_t> grid_index;
  std::vector<std::vector<int64_t>> steps;
  std::vector<std::vector<double>> values;

  // True when every row has the same steps (then Matrix() is the seeds x steps array).
  bool Rectangular() const;
  // Row-major rows x steps[0].size() values; InvalidArgument when !Rectangular().
  Result<std::vector<double>> Matrix() const;
};

// The recorded jobs of one grid point: what the results file holds for it (not the sweep
// definition's GridPoint, which is the swept values of a point).
struct GridPointJobs {
  int64_t grid_index = 0;
  Hparams hparams;                   // of its first job
  std::vector<std::string> job_ids;  // sorted by seed
};

struct LoadOptions {
  std::vector<std::string> metrics;  // empty = all
  bool snapshots = false;
};

class ResultsReader {
 public:
  // Opens a results file read-only. One-line errors naming the path: NotFound (missing),
  // InvalidArgument (a directory), Corruption (not HDF5, truncated, not a phasesweep results
  // file), FailedPrecondition (format_version newer than this phasesweep reads).
  static Result<ResultsReader> Open(const std::string& path, const ReaderOptions& options = {});

  ResultsReader(ResultsReader&&) noexcept;
  ResultsReader& operator=(ResultsReader&&) noexcept;
  ~ResultsReader();

  const std::string& path() const;
  const Provenance& provenance() const;
  // Every recorded job, sorted by (grid_index, seed, job_id).
  const std::vector<JobSummary>& jobs() const;
  const JobSummary* FindJob(const std::string& job_id) const;
  std::vector<JobSummary> SelectJobs(const JobFilter& filter) const;
  // Grid points that have at least one recorded job, by grid_index.
  std::vector<GridPointJobs> GridPoints() const;
  int64_t unmerged_shards() const;

  // Loads one job's traces. NotFound for an unknown job or a metric it does not have.
  Result<JobRecord> LoadJob(const std::string& job_id, const LoadOptions& options = {}) const;
  // Metric names stored for a job.
  Result<std::vector<std::string>> MetricNames(const std::string& job_id) const;
  // `metric` for every job the filter selects, in jobs() order. Jobs lacking the metric are
  // skipped (a failed job may have no traces); NotFound if no selected job has it.
  Result<MetricTraces> LoadMetric(const std::string& metric, const JobFilter& filter = {}) const;

 private:
  struct Impl;
  explicit ResultsReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phasesweep::storage
