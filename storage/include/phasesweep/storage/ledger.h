// The resume ledger: the state of every job of a sweep, read quickly from the results file's
// /index and the /index of each shard not yet merged (no job group is opened), so 10,000 jobs
// take milliseconds (bench/README.md "## Storage").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage {

struct LedgerEntry {
  std::string job_id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;
  JobStatus status = JobStatus::kPending;  // kPending: planned, no record yet
  int32_t attempts = 0;
  bool in_shard = false;  // the newest record is in a shard not yet merged
};

struct LedgerCounts {
  int64_t pending = 0, running = 0, done = 0, failed = 0, diverged = 0;
  int64_t in_shards = 0;  // of the above, records still in unmerged shards
  int64_t total() const { return pending + running + done + failed + diverged; }
};

class Ledger {
 public:
  // Reads the ledger of `results_path` (and its unmerged shards). Errors as
  // ResultsReader::Open: NotFound, Corruption (not a phasesweep file, truncated),
  // FailedPrecondition (newer format_version). Unreadable shards are skipped and listed in
  // bad_shards() rather than failing the read.
  static Result<Ledger> Read(const std::string& results_path);

  // Planned jobs first (in /index order: grid_index, seed, job_id), then recorded jobs that were
  // not planned, in merge/shard order.
  const std::vector<LedgerEntry>& entries() const { return entries_; }
  const LedgerEntry* Find(std::string_view job_id) const;
  // Ids with this status, in entries() order. JobIds(kPending) lists planned jobs with no
  // record; jobs the caller plans that the file never heard of are not in the ledger at all.
  std::vector<std::string> JobIds(JobStatus status) const;
  // Of `planned`, the ids that still need to run: absent from the ledger, pending or running.
  std::vector<std::string> Unfinished(const std::vector<std::string>& planned) const;

  LedgerCounts Totals() const;
  std::map<int64_t, LedgerCounts> ByGridPoint() const;
  int64_t unmerged_shards() const { return unmerged_shards_; }
  const std::vector<std::string>& bad_shards() const { return bad_shards_; }

 private:
  std::vector<LedgerEntry> entries_;
  std::unordered_map<std::string, size_t> by_id_;
  int64_t unmerged_shards_ = 0;
  std::vector<std::string> bad_shards_;
};

}  // namespace phasesweep::storage
