// Results file + unmerged shards -> one view of every job (see catalog.h).
#include "catalog.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "phasesweep/storage/paths.h"
#include "storage_error.h"

namespace phasesweep::storage::detail {
namespace {

bool IsShardName(const std::string& name) {
  return name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0 && name[0] != '.';
}

// One attempt at building the catalog. Sets *retry when a shard vanished under us.
Result<Catalog> TryBuild(const std::string& results_path, bool include_shards, bool* retry) {
  *retry = false;
  auto opened = OpenResultsReadOnly(results_path);
  if (!opened.ok()) return opened.status();
  Catalog cat;
  cat.file = std::move(opened->file);
  cat.provenance = std::move(opened->provenance);
  std::set<std::string> merged;
  Status read = Guard(results_path, [&]() -> Status {
    IndexTable index = ReadIndex(cat.file.get());
    cat.entries.reserve(index.size());
    for (size_t i = 0; i < index.size(); ++i) {
      CatalogEntry e;
      e.job_id = std::move(index.job_id[i]);
      e.seed = index.seed[i];
      e.grid_index = index.grid_index[i];
      e.hparams = std::move(index.hparams[i]);
      auto st = ParseJobStatus(index.status[i]);
      if (!st.ok()) return Status::Corruption("/index/status: " + st.status().message());
      e.status = *st;
      e.attempts = index.attempts[i];
      e.planned = true;
      cat.by_id.emplace(e.job_id, cat.entries.size());
      cat.entries.push_back(std::move(e));
    }
    for (std::string& s : ReadStrings(cat.file.get(), "merged_shards")) merged.insert(std::move(s));
    return Status::Ok();
  });
  if (!read.ok()) return read;
  if (!include_shards) return cat;

  const std::string dir = SidecarFor(results_path).shards;
  auto names = ListShards(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (merged.count(name) != 0) continue;  // merged; deletion was interrupted
    const std::string path = dir + "/" + name;
    auto shard = OpenShardReadOnly(path);
    if (!shard.ok()) {
      if (Inspect(path) == PathKind::kMissing) {
        *retry = true;  // merged and deleted since we listed it: the new results file has it
        return Status::NotFound(path);
      }
      cat.bad_shards.push_back(shard.status().message());
      continue;
    }
    Status s = Guard(path, [&]() -> Status {
      IndexTable index = ReadIndex(shard->get());
      for (size_t i = 0; i < index.size(); ++i) {
        auto st = ParseJobStatus(index.status[i]);
        if (!st.ok()) return Status::Corruption("/index/status: " + st.status().message());
        auto it = cat.by_id.find(index.job_id[i]);
        if (it != cat.by_id.end()) {
          CatalogEntry& e = cat.entries[it->second];
          if (!Supersedes(*st, index.attempts[i], e.status, e.attempts)) continue;
          e.status = *st;
          e.attempts = index.attempts[i];
          e.seed = index.seed[i];
          e.grid_index = index.grid_index[i];
          e.hparams = std::move(index.hparams[i]);
          e.shard = path;
          continue;
        }
        CatalogEntry e;
        e.job_id = index.job_id[i];
        e.seed = index.seed[i];
        e.grid_index = index.grid_index[i];
        e.hparams = std::move(index.hparams[i]);
        e.status = *st;
        e.attempts = index.attempts[i];
        e.shard = path;
        cat.by_id.emplace(e.job_id, cat.entries.size());
        cat.entries.push_back(std::move(e));
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      cat.bad_shards.push_back(s.message());
      continue;
    }
    ++cat.unmerged_shards;
  }
  return cat;
}

}  // namespace

Result<std::vector<std::string>> ListShards(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names.ok()) {
    if (names.status().code() == Status::Code::kNotFound) return std::vector<std::string>{};
    return names.status();
  }
  std::vector<std::string> shards;
  for (std::string& n : *names) {
    if (IsShardName(n)) shards.push_back(std::move(n));
  }
  return shards;
}

Result<Catalog> BuildCatalog(const std::string& results_path, bool include_shards) {
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    auto cat = TryBuild(results_path, include_shards, &retry);
    if (cat.ok() || !retry || attempt >= 10) return cat;
  }
}

}  // namespace phasesweep::storage::detail
