// The HDF5 layout of docs/FORMAT.md in code: names of groups, datasets and attributes, and the
// functions that write and read provenance, job groups and the /index table. Used by the results
// file, the shards (same /jobs and /index layout) and the readers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "h5.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage::detail {

inline constexpr char kResultsFormat[] = "phasesweep-results";
inline constexpr char kShardFormat[] = "phasesweep-shard";
inline constexpr size_t kStatusWidth = 8;  // fixed-width /index/status ("diverged")

// /index: one row per planned or recorded job. Rows of planned jobs are written at creation in
// (grid_index, seed, job_id) order; jobs outside the plan are appended when merged. A merge
// rewrites status and attempts in place and appends new rows, so the table never moves.
struct IndexTable {
  std::vector<std::string> job_id;
  std::vector<uint64_t> seed;
  std::vector<int64_t> grid_index;
  std::vector<std::string> status;  // JobStatusName()
  std::vector<int32_t> attempts;    // 0 while pending
  std::vector<Hparams> hparams;  // stored as HparamsJson text; read back typed

  size_t size() const { return job_id.size(); }
  void Append(const std::string& id, uint64_t s, int64_t g, JobStatus st, int32_t a,
              const Hparams& hp);
  // job_id -> row, built on demand.
  std::unordered_map<std::string, size_t> RowMap() const;
};

// Root attributes.
void WriteProvenance(hid_t file, const Provenance& p);
Provenance ReadProvenance(hid_t file);

// Index table under `loc` (the file root): create whole, read whole, or update in place:
// status/attempts of all rows, seed/grid_index/hparams of `changed_rows` (a record that
// disagrees with the plan), and every column of rows >= first_new_row.
void CreateIndex(hid_t loc, const IndexTable& t);
IndexTable ReadIndex(hid_t loc);
void UpdateIndex(hid_t loc, const IndexTable& t, size_t first_new_row,
                 const std::set<size_t>& changed_rows);

// /jobs/<job_id>: attributes and datasets of one record. `jobs` is the /jobs group.
void WriteJob(hid_t jobs, const JobRecord& r);
// Reads a job group. `metrics` empty means all; snapshots only when `snapshots`.
JobRecord ReadJob(hid_t jobs, const std::string& job_id, const std::vector<std::string>& metrics,
                  bool snapshots);
// Metric names stored for a job (every dataset except "step").
std::vector<std::string> JobMetricNames(hid_t jobs, const std::string& job_id);

// Opens a results file read-only after checking, in order: it exists and is a regular file, it
// starts with the HDF5 signature, HDF5 opens it, its root says format "phasesweep-results", and
// its format_version is one this code reads. Each failure is one line naming `path`.
struct OpenedResults {
  Handle file;
  Provenance provenance;
};
Result<OpenedResults> OpenResultsReadOnly(const std::string& path);

// Opens a shard read-only; Corruption if it is not a phasesweep shard.
Result<Handle> OpenShardReadOnly(const std::string& path);

}  // namespace phasesweep::storage::detail
