// The catalog: every job a results file knows about, merged with the shards not yet merged
// into it, resolved by one supersession rule. The Ledger and the ResultsReader are views of it;
// ResultsWriter::Merge applies the same rule, so all three always agree on a job's state.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "h5.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage::detail {

// True when a record (incoming_status, incoming_attempts) replaces the stored one: more
// attempts win; at equal attempts a terminal status beats "running"; otherwise the later record
// (the one merged or listed later, i.e. the newer shard) wins.
inline bool Supersedes(JobStatus incoming, int32_t incoming_attempts, JobStatus stored,
                       int32_t stored_attempts) {
  if (stored == JobStatus::kPending) return true;
  if (incoming_attempts != stored_attempts) return incoming_attempts > stored_attempts;
  if (IsTerminal(incoming) != IsTerminal(stored)) return IsTerminal(incoming);
  return true;
}

struct CatalogEntry {
  std::string job_id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;
  JobStatus status = JobStatus::kPending;
  int32_t attempts = 0;
  bool planned = false;  // a row of the results file's /index (from the plan or merged)
  std::string shard;     // path of the shard holding the newest record; "" = the results file
};

struct Catalog {
  Handle file;  // the results file, open read-only
  Provenance provenance;
  std::vector<CatalogEntry> entries;  // /index order, then jobs only in shards (shard order)
  std::unordered_map<std::string, size_t> by_id;
  int64_t unmerged_shards = 0;          // shards whose jobs are listed from the shard
  std::vector<std::string> bad_shards;  // one line each: unreadable shards (skipped)
};

// Builds the catalog of `results_path`; shards are included when `include_shards`. A shard that
// disappears while it is read (a merge finished) restarts the scan against the new file.
Result<Catalog> BuildCatalog(const std::string& results_path, bool include_shards);

// Shard file names ("*.h5", not ".tmp-*") in `dir`, sorted (= creation order); empty when the
// directory does not exist.
Result<std::vector<std::string>> ListShards(const std::string& dir);

}  // namespace phasesweep::storage::detail
