// The plain data that goes into a phasesweep results file: one JobRecord per finished (or
// interrupted) training run, the Provenance of the sweep, and the planned jobs. No HDF5 and no
// LibTorch here, so every library can include it. docs/FORMAT.md maps each field to the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "phasesweep/base/hparams.h"
#include "phasesweep/base/status.h"
#include "phasesweep/base/trace.h"

namespace phasesweep::storage {

// The version of the layout in docs/FORMAT.md that this code writes. Readers refuse files with a
// larger format_version (written by a newer phasesweep) and read every version up to this one.
inline constexpr int kFormatVersion = 1;

// A float32 tensor captured during training (e.g. the embedding matrix at probe steps), stored
// as /jobs/<id>/snapshots/<name>. `data` is row-major; its size is the product of `shape`.
struct Snapshot {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Everything stored about one job. Invariants checked by the writers (InvalidArgument otherwise):
// job_id, metric and snapshot names are non-empty and contain no '/' (they become HDF5 link
// names), metric names are not "step" or "snapshots", every metric has trace.steps.size() values,
// status is not kPending.
struct JobRecord {
  std::string job_id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;  // the grid point's swept values, e.g. {"lr":0.001,"weight_decay":1}
  JobStatus status = JobStatus::kDone;
  int32_t attempts = 1;  // 1 for a job that ran once
  double wall_seconds = 0.0;
  int32_t rank = 0;
  std::string device;  // "cpu", "cuda:3"
  std::string pack_id;
  std::string error;  // empty unless failed/diverged
  Trace trace;        // the probe steps and one value per step for each metric
  std::map<std::string, Snapshot> snapshots;
};

// A job the sweep plans to run. Stored in /index at creation so that `phasesweep status` can
// count pending jobs without knowing how to expand a config.
struct PlannedJob {
  std::string job_id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;
};

// Root attributes of a results file. format_version is always kFormatVersion when written;
// created_utc and hdf5_version are filled in by the writer when empty.
struct Provenance {
  int format_version = kFormatVersion;
  std::string phasesweep_version;
  std::string git_commit;
  std::string config_yaml;  // the resolved config, as YAML
  std::string config_hash;  // required: identifies the sweep for resume
  std::string command_line;
  std::string libtorch_version;
  std::string mpi_version;
  std::string hdf5_version;
  std::string created_utc;  // ISO 8601, e.g. 2024-05-01T12:00:00Z
  std::string last_merge_utc;  // read only: set by each merge, empty before the first
};

// Checks the invariants above; InvalidArgument naming the job and field otherwise.
Status ValidateJobRecord(const JobRecord& record);

// The current time as ISO 8601 UTC with seconds, e.g. "2024-05-01T12:00:00Z".
std::string UtcNow();

}  // namespace phasesweep::storage
