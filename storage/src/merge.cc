// ResultsWriter::Merge: shards -> results file, by copy, HDF5 append, fsync, rename.
//
// Why a copy rather than appending in place: HDF5 updates its metadata (B-trees, heaps,
// superblock) in place and has no journal, so a kill -9 during an in-place write can leave a
// file h5py cannot open. A renamed copy is always complete, and readers holding the old file
// keep a consistent snapshot. The copy is a kernel copy_file_range, and merges are spaced by
// MergePolicy so its cost stays a small fraction of the sweep (bench/README.md "## Storage").
#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "catalog.h"
#include "copy.h"
#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "results_writer_impl.h"
#include "storage_error.h"

namespace phasesweep::storage {

using detail::Handle;

namespace {

// Folds one shard into the open merge copy. Returns false (with *error) for an unreadable shard.
bool MergeShard(const std::string& shard_path, hid_t dst_jobs, detail::IndexTable* index,
                std::unordered_map<std::string, size_t>* rows, std::set<size_t>* changed,
                MergeStats* stats, std::string* error) {
  auto shard = detail::OpenShardReadOnly(shard_path);
  if (!shard.ok()) {
    *error = shard.status().message();
    return false;
  }
  detail::IndexTable in;
  Handle src_jobs;
  Status read = detail::Guard(shard_path, [&]() -> Status {
    in = detail::ReadIndex(shard->get());
    src_jobs = detail::GroupOpen(shard->get(), "jobs");
    return Status::Ok();
  });
  if (!read.ok()) {
    *error = read.message();
    return false;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& id = in.job_id[i];
    auto st = ParseJobStatus(in.status[i]);
    if (!st.ok()) {
      *error = shard_path + ": " + st.status().message();
      return false;
    }
    auto it = rows->find(id);
    size_t row;
    if (it == rows->end()) {
      row = index->size();
      index->Append(id, in.seed[i], in.grid_index[i], *st, in.attempts[i], in.hparams[i]);
      rows->emplace(id, row);
      ++stats->jobs_added;
    } else {
      row = it->second;
      auto stored = ParseJobStatus(index->status[row]);
      const JobStatus stored_status = stored.ok() ? *stored : JobStatus::kPending;
      if (!detail::Supersedes(*st, in.attempts[i], stored_status, index->attempts[row])) {
        ++stats->jobs_ignored;
        continue;
      }
      if (detail::LinkExists(dst_jobs, id)) {
        detail::LinkDelete(dst_jobs, id);
        ++stats->jobs_replaced;
      } else {
        ++stats->jobs_added;
      }
      if (index->seed[row] != in.seed[i] || index->grid_index[row] != in.grid_index[i] ||
          index->hparams[row] != in.hparams[i]) {
        changed->insert(row);  // the record disagrees with the plan: the record wins
        index->seed[row] = in.seed[i];
        index->grid_index[row] = in.grid_index[i];
        index->hparams[row] = in.hparams[i];
      }
      index->status[row] = in.status[i];
      index->attempts[row] = in.attempts[i];
    }
    detail::CopyJob(src_jobs.get(), dst_jobs, id);
  }
  return true;
}

}  // namespace

Result<MergeStats> ResultsWriter::Merge() {
  Impl& s = *impl_;
  const auto start = Impl::Clock::now();
  MergeStats stats;
  auto names = detail::ListShards(s.side.shards);
  if (!names.ok()) return names.status();
  if (names->empty() && !s.session_pending) {
    detail::Inspect(s.path, &stats.file_bytes);
    return stats;
  }
  PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(s.side.merge_tmp));
  std::vector<std::string> to_delete;
  Status merged = detail::Guard(s.path, [&]() -> Status {
    detail::Must(detail::CopyFile(s.path, s.side.merge_tmp));
    Handle file = detail::FileOpen(s.side.merge_tmp, /*writable=*/true);
    hid_t f = file.get();
    detail::IndexTable index = detail::ReadIndex(f);
    const size_t first_new_row = index.size();
    auto rows = index.RowMap();
    std::set<std::string> already;
    for (std::string& n : detail::ReadStrings(f, "merged_shards")) already.insert(std::move(n));
    Handle jobs = detail::GroupOpen(f, "jobs");
    std::vector<std::string> newly_merged;
    std::set<size_t> changed_rows;
    for (const std::string& name : *names) {
      const std::string shard_path = s.side.shards + "/" + name;
      if (already.count(name) != 0) {  // merged before; its deletion was interrupted
        to_delete.push_back(shard_path);
        continue;
      }
      std::string error;
      if (!MergeShard(shard_path, jobs.get(), &index, &rows, &changed_rows, &stats, &error)) {
        // Keep it for inspection but out of every future scan.
        (void)detail::RenameDurable(shard_path, shard_path + ".bad");
        stats.bad_shards.push_back(error);
        continue;
      }
      newly_merged.push_back(name);
      to_delete.push_back(shard_path);
      ++stats.shards_merged;
    }
    detail::UpdateIndex(f, index, first_new_row, changed_rows);
    detail::AppendVarStrings(f, "merged_shards", newly_merged);
    if (s.session_pending) detail::WriteSession(f, s.session);
    detail::WriteStringAttr(f, "last_merge_utc", UtcNow());
    jobs.Reset();
    file.CloseChecked(s.side.merge_tmp);
    detail::Must(detail::FsyncPath(s.side.merge_tmp));
    detail::Must(detail::RenameDurable(s.side.merge_tmp, s.path));
    return Status::Ok();
  });
  if (!merged.ok()) {
    (void)detail::RemoveFile(s.side.merge_tmp);
    std::string context = "merging " + std::to_string(names->size()) + " shard(s) failed";
    if (merged.code() == Status::Code::kIOError) {
      context +=
          " (results file and shards unchanged; a merge needs free space for a copy of "
          "the results file)";
    }
    return merged.WithContext(context);
  }
  s.session_pending = false;
  // The results file now holds these jobs; a kill before the deletions finish only leaves
  // shards that /merged_shards marks as done.
  for (const std::string& p : to_delete) (void)detail::RemoveFile(p);
  (void)detail::FsyncPath(s.side.shards);
  const auto end = Impl::Clock::now();
  stats.seconds = std::chrono::duration<double>(end - start).count();
  s.last_merge = end;
  s.last_merge_seconds = stats.seconds;
  detail::Inspect(s.path, &stats.file_bytes);
  return stats;
}

bool ResultsWriter::MergeDue() const {
  const Impl& s = *impl_;
  auto names = detail::ListShards(s.side.shards);
  if (!names.ok() || names->empty()) return false;
  // The shard cap is absolute: it bounds what the ledger must read (< 1 s for 10,000 jobs) and
  // the number of files, however fast packs finish.
  if (static_cast<int64_t>(names->size()) >= s.policy.max_pending_shards) return true;
  const double since = std::chrono::duration<double>(Impl::Clock::now() - s.last_merge).count();
  if (s.policy.max_time_fraction > 0 && since < s.last_merge_seconds / s.policy.max_time_fraction) {
    return false;
  }
  if (since >= s.policy.max_seconds_between) return true;
  int64_t file_bytes = 0;
  detail::Inspect(s.path, &file_bytes);
  int64_t pending = 0;
  for (const std::string& n : *names) {
    int64_t b = 0;
    detail::Inspect(s.side.shards + "/" + n, &b);
    pending += b;
  }
  return static_cast<double>(pending) >= s.policy.max_pending_fraction * file_bytes;
}

Result<MergeStats> ResultsWriter::MaybeMerge() {
  if (!MergeDue()) return MergeStats{};
  return Merge();
}

}  // namespace phasesweep::storage
