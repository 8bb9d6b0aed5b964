// Ledger = the catalog's job states without the job data (see ledger.h).
#include "phasesweep/storage/ledger.h"

#include <string>
#include <utility>
#include <vector>

#include "catalog.h"

namespace phasesweep::storage {
namespace {

void Count(JobStatus s, bool in_shard, LedgerCounts* c) {
  switch (s) {
    case JobStatus::kPending:
      ++c->pending;
      break;
    case JobStatus::kRunning:
      ++c->running;
      break;
    case JobStatus::kDone:
      ++c->done;
      break;
    case JobStatus::kFailed:
      ++c->failed;
      break;
    case JobStatus::kDiverged:
      ++c->diverged;
      break;
  }
  if (in_shard) ++c->in_shards;
}

}  // namespace

Result<Ledger> Ledger::Read(const std::string& results_path) {
  auto cat = detail::BuildCatalog(results_path, /*include_shards=*/true);
  if (!cat.ok()) return cat.status();
  Ledger ledger;
  ledger.entries_.reserve(cat->entries.size());
  for (detail::CatalogEntry& e : cat->entries) {
    LedgerEntry l;
    l.job_id = std::move(e.job_id);
    l.seed = e.seed;
    l.grid_index = e.grid_index;
    l.hparams = std::move(e.hparams);
    l.status = e.status;
    l.attempts = e.attempts;
    l.in_shard = !e.shard.empty();
    ledger.by_id_.emplace(l.job_id, ledger.entries_.size());
    ledger.entries_.push_back(std::move(l));
  }
  ledger.unmerged_shards_ = cat->unmerged_shards;
  ledger.bad_shards_ = std::move(cat->bad_shards);
  return ledger;
}

const LedgerEntry* Ledger::Find(std::string_view job_id) const {
  auto it = by_id_.find(std::string(job_id));
  return it == by_id_.end() ? nullptr : &entries_[it->second];
}

std::vector<std::string> Ledger::JobIds(JobStatus status) const {
  std::vector<std::string> ids;
  for (const LedgerEntry& e : entries_) {
    if (e.status == status) ids.push_back(e.job_id);
  }
  return ids;
}

std::vector<std::string> Ledger::Unfinished(const std::vector<std::string>& planned) const {
  std::vector<std::string> ids;
  for (const std::string& id : planned) {
    const LedgerEntry* e = Find(id);
    if (e == nullptr || !IsTerminal(e->status)) ids.push_back(id);
  }
  return ids;
}

LedgerCounts Ledger::Totals() const {
  LedgerCounts c;
  for (const LedgerEntry& e : entries_) Count(e.status, e.in_shard, &c);
  return c;
}

std::map<int64_t, LedgerCounts> Ledger::ByGridPoint() const {
  std::map<int64_t, LedgerCounts> by;
  for (const LedgerEntry& e : entries_) Count(e.status, e.in_shard, &by[e.grid_index]);
  return by;
}

}  // namespace phasesweep::storage
