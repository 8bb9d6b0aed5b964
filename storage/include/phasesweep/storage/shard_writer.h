// Workers' side of the results file: each finished pack becomes one shard file, written so that
// it is either absent or complete whatever happens to the process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage {

struct ShardInfo {
  std::string pack_id;
  int32_t rank = 0;
  std::string config_hash;  // of the sweep writing it (recorded, shown by `status`)
};

// Writes `records` (one pack's jobs, usually) as a new shard in SidecarFor(results_path).shards:
// the HDF5 file is written under a ".tmp-" name, closed, fsync'ed, renamed to its final "*.h5"
// name, and the directory fsync'ed. When this returns OK the jobs are durable: they survive
// kill -9 and power loss, the Ledger and ResultsReader see them at once, and the next
// ResultsWriter::Merge() moves them into the results file. Returns the shard's path.
//
// Any rank may call this, concurrently with other ranks and with a merge on rank 0; it needs no
// lock. (Threads: Debian's HDF5 is built thread-safe, so concurrent calls are correct but
// serialised inside HDF5.) The shards directory must exist (ResultsWriter::Open creates it):
// NotFound otherwise. Errors: InvalidArgument for a record failing ValidateJobRecord or duplicate
// job ids; IOError (disk full, permission) with nothing left behind.
Result<std::string> WriteShard(const std::string& results_path, const ShardInfo& info,
                               const std::vector<JobRecord>& records);

}  // namespace phasesweep::storage
