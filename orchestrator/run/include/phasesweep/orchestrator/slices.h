// Slices of a sweep for job arrays: `phasesweep run ... --shard i/n` trains only the packs p with
// p % n == i, into a results file of its own next to the sweep's,
//
//   results.h5  ->  results.slice-<i>-of-<n>.h5  (+ its sidecar .d folder: lock, checkpoints)
//
// so slices never write one file concurrently, and each slice resumes like any run (its own lock,
// checkpoints and config-hash check). A later `phasesweep run` of the same sweep without --shard,
// or `phasesweep merge`, folds every slice file into results.h5 (FoldSlices) and deletes the slice
// files it emptied. The traces are bitwise those of one unsharded run with as many ranks as all
// slices together: every slice plans with ranks = (its ranks) x n, so the packing is the same.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/orchestrator/plan_listing.h"
#include "phasesweep/storage/results_writer.h"

namespace phasesweep::orchestrator {

// One slice of a sweep's packs (`run --shard i/n`); count == 0 means "not sliced".
struct Shard {
  int index = 0;
  int count = 0;
  bool active() const { return count > 0; }
};

// Parses "i/n" (0 <= i < n). InvalidArgument, one line naming --shard and what is valid.
Result<Shard> ParseShard(const std::string& text);

// "results" for "results.h5", else the whole path.
std::string ResultsStem(const std::string& results_path);

// results.h5 -> results.slice-<i>-of-<n>.h5 (".h5" kept at the end when present).
std::string SlicePath(const std::string& results_path, const Shard& shard);

// The packs of `pending` (indices into the plan's packs) that belong to `shard`.
std::vector<size_t> PacksOfSlice(const std::vector<size_t>& pending, const Shard& shard);

// Slice files of `results_path` that exist, sorted, with the shard each one names.
struct SliceFile {
  std::string path;
  Shard shard;
};
std::vector<SliceFile> FindSlices(const std::string& results_path);

// Before a slice starts: InvalidArgument when slice files of the same results file were run with
// another n (naming both), or when the results file itself was written for another config
// (naming both hashes, as a plain run refuses it).
Status CheckSliceStart(const std::string& results_path, const Shard& shard,
                       const std::string& config_hash);

struct FoldStats {
  int slices = 0;          // slice files read
  int64_t jobs = 0;        // finished jobs copied into the results file
  int slices_removed = 0;  // slice files whose every job was finished (deleted afterwards)
  std::vector<std::string> unfinished;  // "path: k of m jobs unfinished" (kept)
};

// Folds every slice file of writer.path() into it: each slice is opened with its writer lock (a
// slice still running is refused, FailedPrecondition naming it), its finished jobs are written as
// one shard of the results file and merged. InvalidArgument, before anything is written, when a
// slice was written for another config (naming the file and both hashes) or slices disagree on n.
Result<FoldStats> FoldSlices(storage::ResultsWriter& writer, const storage::OpenOptions& options);

// The options every writer of a sweep's results file opens it with: this build's provenance and
// the plan's jobs (defined in sweep_steps.cc).
struct SweepPlan;
storage::OpenOptions OpenOptionsFor(const SweepPlan& plan, const std::string& resolved_yaml,
                                    const std::string& command_line);

// One line for the log, e.g. "folded 3 slice files (12 jobs) into r.h5".
std::string DescribeFold(const FoldStats& stats, const std::string& results_path);

// `phasesweep merge [CONFIG] [overrides] [-o results]`: creates the results file when missing,
// folds the slices into it and writes the job counts to `out`. Errors: InvalidArgument for invalid
// input (including no slices, or slices of another config); others as the storage calls say.
struct MergeRequest {
  ConfigArgs args;
  std::string output;
  std::string command_line;
};
Status MergeSlices(const MergeRequest& request, std::ostream& out);

}  // namespace phasesweep::orchestrator
