// Atomic, durable shard files for finished packs (see shard_writer.h).
#include "phasesweep/storage/shard_writer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "phasesweep/storage/paths.h"
#include "storage_error.h"

namespace phasesweep::storage {
namespace {

// "<ns since epoch, 20 digits>-r<rank>-<pid>-<n>": unique across ranks, retries and hosts, and
// sorting by name approximates creation order (the merge's tie-break).
std::string ShardName(int32_t rank) {
  static std::atomic<uint64_t> counter{0};
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%020lld-r%d-%ld-%llu", static_cast<long long>(ns), rank,
                static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buf;
}

}  // namespace

Result<std::string> WriteShard(const std::string& results_path, const ShardInfo& info,
                               const std::vector<JobRecord>& records) {
  std::set<std::string> ids;
  for (const JobRecord& r : records) {
    PHASESWEEP_RETURN_IF_ERROR(ValidateJobRecord(r));
    if (!ids.insert(r.job_id).second) {
      return Status::InvalidArgument("shard for pack " + info.pack_id + " lists job " + r.job_id +
                                     " twice");
    }
  }
  const SidecarPaths side = SidecarFor(results_path);
  if (detail::Inspect(side.shards) != detail::PathKind::kDirectory) {
    return Status::NotFound("no shard directory " + side.shards +
                            ": open the results file with ResultsWriter first");
  }
  const std::string name = ShardName(info.rank);
  const std::string tmp = side.shards + "/.tmp-" + name + ".h5";
  const std::string final_path = side.shards + "/" + name + ".h5";

  Status written = detail::Guard(tmp, [&]() -> Status {
    detail::Handle file = detail::FileCreate(tmp);
    hid_t f = file.get();
    detail::WriteStringAttr(f, "format", detail::kShardFormat);
    detail::WriteScalarAttr<int32_t>(f, "format_version", kFormatVersion);
    detail::WriteStringAttr(f, "pack_id", info.pack_id);
    detail::WriteScalarAttr<int32_t>(f, "rank", info.rank);
    detail::WriteStringAttr(f, "config_hash", info.config_hash);
    detail::WriteStringAttr(f, "created_utc", UtcNow());
    detail::IndexTable index;
    for (const JobRecord& r : records) {
      index.Append(r.job_id, r.seed, r.grid_index, r.status, r.attempts, r.hparams);
    }
    detail::CreateIndex(f, index);
    detail::Handle jobs = detail::GroupCreate(f, "jobs");
    for (const JobRecord& r : records) detail::WriteJob(jobs.get(), r);
    jobs.Reset();
    file.CloseChecked(tmp);
    detail::Must(detail::FsyncPath(tmp));
    detail::Must(detail::RenameDurable(tmp, final_path));
    return Status::Ok();
  });
  if (!written.ok()) {
    (void)detail::RemoveFile(tmp);
    return Status(written).WithContext("writing shard for pack " + info.pack_id);
  }
  return final_path;
}

}  // namespace phasesweep::storage
