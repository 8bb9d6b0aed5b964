// Rank 0's side of the results file: open or create it (with the config-hash check and the
// writer lock), and merge finished shards into it.
//
// Crash safety. The results file is never modified in place. A merge copies it to
// <results>.d/merge.tmp (a kernel copy), adds the shards' jobs there with HDF5, fsyncs, and
// renames it over the results file; only then are the merged shards deleted. A kill -9 at any
// instant therefore leaves the previous or the next complete results file, never a mixture,
// and every job whose shard was durable is either in the results file or still in its shard.
// Readers that have the old file open keep reading the old, complete file.
//
// Usage on rank 0: Open (before any rank writes shards), Merge() once to fold shards a killed
// run left, Ledger::Read to skip finished jobs, MaybeMerge() after each finished pack, Merge()
// at the end (also on SIGTERM, after the last shard). The destructor releases the lock and
// does not merge. One thread at a time per ResultsWriter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage {

// What to do when the results file already exists.
enum class ExistingFile {
  // Continue it when its config_hash matches (or matched a session that accepted a mismatch);
  // FailedPrecondition otherwise, with a message naming --fresh and --accept-config-mismatch.
  kResume,
  // Start a new file. The existing file and its sidecar are moved aside, never deleted, to
  // <stem>.prev-<UTC time>.h5 (+ .d); moved_aside_to() says where.
  kFresh,
  // Continue it even though the config hash differs; the session is recorded under /sessions.
  kAcceptMismatch,
};

struct OpenOptions {
  Provenance provenance;         // config_hash must be non-empty
  std::vector<PlannedJob> plan;  // stored in /index when the file is created (may be empty)
  ExistingFile existing = ExistingFile::kResume;
};

// When MaybeMerge() merges. Shards are durable already; merging only makes them visible to
// plain HDF5 readers of the results file and bounds the number of shard files. Each merge costs
// a copy of the results file, so merges are spaced to keep that cost a small fraction of time —
// except that max_pending_shards always triggers a merge: it bounds how many shards the ledger
// reads (bench/README.md "## Storage": 10,000 jobs with 128 unmerged shards in well under 1 s).
struct MergePolicy {
  int64_t max_pending_shards = 128;    // merge when this many shards wait (always)
  double max_pending_fraction = 0.25;  // ... or shard bytes >= this fraction of the file
  double max_seconds_between = 600;    // ... or this long since the last merge (any shard)
  double max_time_fraction = 0.05;     // the last two: never sooner than last merge time / this
};

struct MergeStats {
  int64_t shards_merged = 0;
  int64_t jobs_added = 0;               // new job groups
  int64_t jobs_replaced = 0;            // a newer record replaced an older one (retry, resume)
  int64_t jobs_ignored = 0;             // an older record than the one already stored
  std::vector<std::string> bad_shards;  // unreadable shards, renamed to *.bad (one line each)
  double seconds = 0;
  int64_t file_bytes = 0;  // size of the results file afterwards
};

class ResultsWriter {
 public:
  // Opens `path` for writing, creating it if missing (atomically: a kill leaves no file or a
  // complete empty one). Takes the writer lock first, so a second sweep on the same file gets
  // FailedPrecondition naming the holder's pid and host; a lock left by a dead process is taken
  // over. Removes temporary files left by a killed writer. Errors, each one line naming `path`:
  // InvalidArgument (path is a directory, empty config_hash, bad plan), NotFound (parent
  // directory missing), IOError (directory not writable, disk full), Corruption (not HDF5,
  // truncated, not a phasesweep file — with kFresh these are moved aside instead),
  // FailedPrecondition (config hash differs under kResume, newer format_version, locked).
  // Call it before any rank writes shards: it removes every ".tmp-" shard it finds.
  static Result<ResultsWriter> Open(const std::string& path, const OpenOptions& options);

  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;
  ~ResultsWriter();  // releases the lock; does not merge

  const std::string& path() const;
  // The provenance stored in the file (its creator's; see /sessions for later opens).
  const Provenance& provenance() const;
  bool created() const;                   // Open created a new file
  bool config_mismatch_accepted() const;  // kAcceptMismatch was needed
  // Where Open moved something aside ("" if nothing): the old file under kFresh
  // (<stem>.prev-<UTC>.h5, its sidecar next to it), or shards found without a results file
  // (<results>.d/orphaned-shards-<UTC>; they belong to a deleted or moved file).
  const std::string& moved_aside_to() const;
  // The lock text ("pid=... host=... since=...") of a writer that died holding the lock, which
  // Open took over; "" when the lock was free. Worth a log line.
  const std::string& stale_lock_holder() const;

  // Merges every complete shard now (no-op when none and nothing else to record). After OK the
  // results file holds the jobs and the shards are gone. On failure (disk full: it needs free
  // space for a second copy of the results file) the results file and the shards are untouched.
  Result<MergeStats> Merge();
  // True when the policy says a merge is worth its cost now (one directory scan).
  bool MergeDue() const;
  // Merge() if MergeDue(), else an empty MergeStats.
  Result<MergeStats> MaybeMerge();
  void set_merge_policy(const MergePolicy& policy);

 private:
  struct Impl;
  explicit ResultsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phasesweep::storage
