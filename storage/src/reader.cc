// ResultsReader: the catalog plus trace loading from the results file or a shard (see reader.h).
#include "phasesweep/storage/reader.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog.h"
#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "storage_error.h"

namespace phasesweep::storage {

using detail::Handle;

bool MetricTraces::Rectangular() const {
  for (const auto& s : steps) {
    if (s != steps.front()) return false;
  }
  return true;
}

Result<std::vector<double>> MetricTraces::Matrix() const {
  if (!Rectangular()) {
    return Status::InvalidArgument("metric '" + metric +
                                   "': jobs have different probe steps, so "
                                   "they do not form one matrix; use steps/values per job");
  }
  std::vector<double> m;
  for (const auto& v : values) m.insert(m.end(), v.begin(), v.end());
  return m;
}

struct ResultsReader::Impl {
  std::string path;
  Handle file;  // the results file as opened
  Provenance provenance;
  std::vector<JobSummary> jobs;
  std::unordered_map<std::string, size_t> by_id;
  std::unordered_map<std::string, std::string> shard_of;  // job_id -> shard path
  int64_t unmerged_shards = 0;
  // Last shard opened (traces of one pack are read together), and the results file reopened
  // when a shard was merged away after we listed it.
  mutable std::string open_shard_path;
  mutable Handle open_shard;
  mutable Handle refreshed;

  // The /jobs group that holds job_id's newest record.
  Handle JobsGroupFor(const std::string& job_id) const {
    auto it = shard_of.find(job_id);
    if (it == shard_of.end()) return detail::GroupOpen(file.get(), "jobs");
    if (open_shard_path != it->second) {
      auto shard = detail::OpenShardReadOnly(it->second);
      if (!shard.ok()) {
        if (detail::Inspect(it->second) != detail::PathKind::kMissing)
          detail::Throw(shard.status());
        // Merged since we opened: the current results file has the job.
        if (!refreshed.valid()) {
          auto again = detail::OpenResultsReadOnly(path);
          if (!again.ok()) detail::Throw(again.status());
          refreshed = std::move(again->file);
        }
        return detail::GroupOpen(refreshed.get(), "jobs");
      }
      open_shard = std::move(*shard);
      open_shard_path = it->second;
    }
    return detail::GroupOpen(open_shard.get(), "jobs");
  }
};

ResultsReader::ResultsReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsReader::ResultsReader(ResultsReader&&) noexcept = default;
ResultsReader& ResultsReader::operator=(ResultsReader&&) noexcept = default;
ResultsReader::~ResultsReader() = default;

Result<ResultsReader> ResultsReader::Open(const std::string& path, const ReaderOptions& options) {
  auto cat = detail::BuildCatalog(path, options.include_shards);
  if (!cat.ok()) return cat.status();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = std::move(cat->file);
  impl->provenance = std::move(cat->provenance);
  impl->unmerged_shards = cat->unmerged_shards;
  for (detail::CatalogEntry& e : cat->entries) {
    if (e.status == JobStatus::kPending) continue;
    if (!e.shard.empty()) impl->shard_of.emplace(e.job_id, e.shard);
    impl->jobs.push_back(JobSummary{std::move(e.job_id), e.seed, e.grid_index,
                                    std::move(e.hparams), e.status, e.attempts,
                                    !e.shard.empty()});
  }
  std::sort(impl->jobs.begin(), impl->jobs.end(), [](const JobSummary& a, const JobSummary& b) {
    return std::tie(a.grid_index, a.seed, a.job_id) < std::tie(b.grid_index, b.seed, b.job_id);
  });
  for (size_t i = 0; i < impl->jobs.size(); ++i) impl->by_id.emplace(impl->jobs[i].job_id, i);
  return ResultsReader(std::move(impl));
}

const std::string& ResultsReader::path() const { return impl_->path; }
const Provenance& ResultsReader::provenance() const { return impl_->provenance; }
const std::vector<JobSummary>& ResultsReader::jobs() const { return impl_->jobs; }
int64_t ResultsReader::unmerged_shards() const { return impl_->unmerged_shards; }

const JobSummary* ResultsReader::FindJob(const std::string& job_id) const {
  auto it = impl_->by_id.find(job_id);
  return it == impl_->by_id.end() ? nullptr : &impl_->jobs[it->second];
}

std::vector<JobSummary> ResultsReader::SelectJobs(const JobFilter& filter) const {
  std::vector<JobSummary> out;
  for (const JobSummary& j : impl_->jobs) {
    if (filter.grid_index && j.grid_index != *filter.grid_index) continue;
    if (!filter.statuses.empty() && std::find(filter.statuses.begin(), filter.statuses.end(),
                                              j.status) == filter.statuses.end()) {
      continue;
    }
    out.push_back(j);
  }
  return out;
}

std::vector<GridPointJobs> ResultsReader::GridPoints() const {
  std::map<int64_t, GridPointJobs> points;
  for (const JobSummary& j : impl_->jobs) {  // already sorted by (grid_index, seed)
    GridPointJobs& p = points[j.grid_index];
    if (p.job_ids.empty()) {
      p.grid_index = j.grid_index;
      p.hparams = j.hparams;
    }
    p.job_ids.push_back(j.job_id);
  }
  std::vector<GridPointJobs> out;
  for (auto& [g, p] : points) out.push_back(std::move(p));
  return out;
}

Result<JobRecord> ResultsReader::LoadJob(const std::string& job_id,
                                         const LoadOptions& options) const {
  if (FindJob(job_id) == nullptr) {
    return Status::NotFound(impl_->path + ": no recorded job '" + job_id + "'");
  }
  return detail::Guard(impl_->path, [&]() -> Result<JobRecord> {
    Handle jobs = impl_->JobsGroupFor(job_id);
    return detail::ReadJob(jobs.get(), job_id, options.metrics, options.snapshots);
  });
}

Result<std::vector<std::string>> ResultsReader::MetricNames(const std::string& job_id) const {
  if (FindJob(job_id) == nullptr) {
    return Status::NotFound(impl_->path + ": no recorded job '" + job_id + "'");
  }
  return detail::Guard(impl_->path, [&]() -> Result<std::vector<std::string>> {
    Handle jobs = impl_->JobsGroupFor(job_id);
    return detail::JobMetricNames(jobs.get(), job_id);
  });
}

Result<MetricTraces> ResultsReader::LoadMetric(const std::string& metric,
                                               const JobFilter& filter) const {
  if (metric.empty() || metric == "step" || metric.find('/') != std::string::npos) {
    return Status::InvalidArgument("'" + metric + "' is not a metric name");
  }
  return detail::Guard(impl_->path, [&]() -> Result<MetricTraces> {
    MetricTraces t;
    t.metric = metric;
    for (const JobSummary& j : SelectJobs(filter)) {
      Handle jobs = impl_->JobsGroupFor(j.job_id);
      Handle g = detail::GroupOpen(jobs.get(), j.job_id);
      if (!detail::LinkExists(g.get(), metric)) continue;
      std::vector<int64_t> steps = detail::ReadVector<int64_t>(g.get(), "step");
      std::vector<double> values = detail::ReadVector<double>(g.get(), metric);
      if (values.size() != steps.size()) {
        return Status::Corruption("job " + j.job_id + " metric '" + metric + "' has " +
                                  std::to_string(values.size()) + " values for " +
                                  std::to_string(steps.size()) + " steps");
      }
      t.job_ids.push_back(j.job_id);
      t.seeds.push_back(j.seed);
      t.grid_index.push_back(j.grid_index);
      t.steps.push_back(std::move(steps));
      t.values.push_back(std::move(values));
    }
    if (t.job_ids.empty()) {
      return Status::NotFound(impl_->path + ": no selected job has metric '" + metric + "'");
    }
    return t;
  });
}

}  // namespace phasesweep::storage
