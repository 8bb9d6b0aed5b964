// `phasesweep status` (see commands.h).
#include "phasesweep/storage/commands.h"

#include <cstdio>
#include <ostream>
#include <map>
#include <string>
#include <vector>

#include "phasesweep/storage/export.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/reader.h"

namespace phasesweep::storage {
namespace {

std::string Row(const std::string& label, const LedgerCounts& c, const std::string& tail) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%8s %7lld %7lld %9lld %8lld %8lld", label.c_str(),
                static_cast<long long>(c.done), static_cast<long long>(c.failed),
                static_cast<long long>(c.diverged), static_cast<long long>(c.running),
                static_cast<long long>(c.pending));
  return std::string(buf) + (tail.empty() ? "" : "  " + tail);
}

}  // namespace

Status RunStatus(const std::string& results_path, std::ostream& out) {
  auto ledger = Ledger::Read(results_path);
  if (!ledger.ok()) return ledger.status();
  auto reader = ResultsReader::Open(results_path, ReaderOptions{false});
  if (!reader.ok()) return reader.status();
  const Provenance& p = reader->provenance();
  const LedgerCounts t = ledger->Totals();
  out << results_path << ": " << t.total() << " jobs: " << t.done << " done, " << t.failed
      << " failed, " << t.diverged << " diverged, " << t.running << " running, " << t.pending
      << " pending\n";
  out << "config_hash " << p.config_hash << ", created " << p.created_utc << " by phasesweep "
      << p.phasesweep_version << (p.git_commit.empty() ? "" : " (" + p.git_commit + ")")
      << ", format_version " << p.format_version << "\n";
  if (ledger->unmerged_shards() > 0) {
    out << t.in_shards << " job record(s) in " << ledger->unmerged_shards()
        << " shard(s) not yet merged into the file (a sweep is running, or was stopped; they "
           "are merged when it finishes or resumes)\n";
  }
  for (const std::string& bad : ledger->bad_shards())
    out << "warning: unreadable shard: " << bad << "\n";
  std::map<int64_t, std::string> hparams;
  for (const LedgerEntry& e : ledger->entries()) hparams.emplace(e.grid_index, HparamsJson(e.hparams));
  out << "\n    grid    done  failed  diverged  running  pending  hparams\n";
  for (const auto& [grid, counts] : ledger->ByGridPoint()) {
    out << Row(std::to_string(grid), counts, hparams[grid]) << "\n";
  }
  return Status::Ok();
}

}  // namespace phasesweep::storage
