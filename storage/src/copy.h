// Copies one job group between files (shard -> results) without HDF5's H5Ocopy, which in 1.10
// crashes on variable-length string attributes in dense storage and inside its own error path
// (seen on a full disk). Chunks are copied raw, still compressed, so a merge costs I/O, not
// compression.
#pragma once

#include <string>

#include "h5.h"

namespace phasesweep::storage::detail {

// Copies <src_jobs>/<job_id> to <dst_jobs>/<job_id> (which must not exist): its attributes, its
// datasets, and the datasets of its "snapshots" group. Throws StorageError.
void CopyJob(hid_t src_jobs, hid_t dst_jobs, const std::string& job_id);

}  // namespace phasesweep::storage::detail
