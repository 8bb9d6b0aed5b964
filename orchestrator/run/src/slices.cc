// Slices of a sweep (see slices.h): parsing --shard, the slice files, folding them into the
// results file, and `phasesweep merge`.
#include "phasesweep/orchestrator/slices.h"

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <regex>

#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/shard_writer.h"

namespace phasesweep::orchestrator {
namespace fs = std::filesystem;
namespace {}  // namespace

std::string ResultsStem(const std::string& results_path) {
  const std::string ext = ".h5";
  if (results_path.size() > ext.size() &&
      results_path.compare(results_path.size() - ext.size(), ext.size(), ext) == 0) {
    return results_path.substr(0, results_path.size() - ext.size());
  }
  return results_path;
}

namespace {

std::string ShardText(const Shard& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

// Finished jobs of one slice file, written as shards of the results file (64 jobs per shard so
// a slice with snapshots never sits in memory whole).
Result<int64_t> CopyFinishedJobs(const std::string& slice, const std::string& results_path,
                                 const std::string& config_hash, const Shard& shard) {
  auto reader = storage::ResultsReader::Open(slice);
  if (!reader.ok()) return reader.status();
  storage::ShardInfo info;
  info.pack_id = "slice-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
  info.config_hash = config_hash;
  std::vector<storage::JobRecord> batch;
  int64_t copied = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    auto written = storage::WriteShard(results_path, info, batch);
    if (!written.ok()) return written.status();
    copied += static_cast<int64_t>(batch.size());
    batch.clear();
    return Status::Ok();
  };
  storage::LoadOptions load;
  load.snapshots = true;
  for (const storage::JobSummary& job : reader->jobs()) {
    if (!IsTerminal(job.status)) continue;
    auto record = reader->LoadJob(job.job_id, load);
    if (!record.ok()) return record.status().WithContext(slice);
    batch.push_back(std::move(*record));
    if (batch.size() == 64) PHASESWEEP_RETURN_IF_ERROR(flush());
  }
  PHASESWEEP_RETURN_IF_ERROR(flush());
  return copied;
}

// Slices must agree on n: InvalidArgument naming both otherwise.
Status CheckCounts(const std::vector<SliceFile>& slices, const Shard& wanted) {
  for (const SliceFile& s : slices) {
    if (s.shard.count != wanted.count) {
      return Status::InvalidArgument(
          "--shard " + ShardText(wanted) + ": " + s.path + " is slice " + ShardText(s.shard) +
          " of the same results file; every slice must use the same n (" +
          std::to_string(s.shard.count) + " vs " + std::to_string(wanted.count) +
          "): finish or merge those first, or use --shard i/" + std::to_string(s.shard.count));
    }
  }
  return Status::Ok();
}

Status CheckHash(const std::string& path, const std::string& config_hash, const char* what) {
  auto reader = storage::ResultsReader::Open(path, {/*include_shards=*/false});
  if (!reader.ok()) return reader.status();
  const std::string& theirs = reader->provenance().config_hash;
  if (theirs == config_hash) return Status::Ok();
  return Status::InvalidArgument(path + " " + what + " config " + theirs +
                                 ", but this sweep's config hash is " + config_hash +
                                 "; use the same config and overrides, or another -o");
}

}  // namespace

Result<Shard> ParseShard(const std::string& text) {
  static const std::regex form(R"((\d{1,6})/(\d{1,6}))");
  std::smatch m;
  if (!std::regex_match(text, m, form)) {
    return Status::InvalidArgument("--shard '" + text +
                                   "' is not i/n (slice i of n, 0 <= i < n), e.g. --shard 0/4");
  }
  Shard s{std::stoi(m[1]), std::stoi(m[2])};
  if (s.count < 1 || s.index >= s.count) {
    return Status::InvalidArgument("--shard " + text + ": i = " + std::to_string(s.index) +
                                   " must be below n = " + std::to_string(s.count) +
                                   " (slices are numbered 0 to n-1, n >= 1)");
  }
  return s;
}

std::string SlicePath(const std::string& results_path, const Shard& shard) {
  return ResultsStem(results_path) + ".slice-" + std::to_string(shard.index) + "-of-" +
         std::to_string(shard.count) + ".h5";
}

std::vector<size_t> PacksOfSlice(const std::vector<size_t>& pending, const Shard& shard) {
  std::vector<size_t> mine;
  for (size_t p : pending) {
    if (static_cast<int>(p % static_cast<size_t>(shard.count)) == shard.index) mine.push_back(p);
  }
  return mine;
}

std::vector<SliceFile> FindSlices(const std::string& results_path) {
  const fs::path stem(ResultsStem(results_path));
  fs::path dir = stem.parent_path();
  if (dir.empty()) dir = ".";
  const std::regex form(R"(\.slice-(\d{1,6})-of-(\d{1,6})\.h5)");
  const std::string prefix = stem.filename().string();
  std::vector<SliceFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    std::smatch m;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    if (!std::regex_match(rest, m, form) || !e.is_regular_file()) continue;
    out.push_back({(stem.parent_path() / name).string(), {std::stoi(m[1]), std::stoi(m[2])}});
  }
  std::sort(out.begin(), out.end(),
            [](const SliceFile& a, const SliceFile& b) { return a.path < b.path; });
  return out;
}

Status CheckSliceStart(const std::string& results_path, const Shard& shard,
                       const std::string& config_hash) {
  PHASESWEEP_RETURN_IF_ERROR(CheckCounts(FindSlices(results_path), shard));
  if (!fs::exists(results_path)) return Status::Ok();
  return CheckHash(results_path, config_hash, "was written for");
}

Result<FoldStats> FoldSlices(storage::ResultsWriter& writer, const storage::OpenOptions& options) {
  FoldStats stats;
  const std::vector<SliceFile> slices = FindSlices(writer.path());
  if (slices.empty()) return stats;
  // Everything is checked before anything is written.
  PHASESWEEP_RETURN_IF_ERROR(CheckCounts(slices, slices.front().shard));
  const std::string& hash = options.provenance.config_hash;
  for (const SliceFile& s : slices)
    PHASESWEEP_RETURN_IF_ERROR(CheckHash(s.path, hash, "is a slice of"));
  std::vector<std::string> finished_slices;
  for (const SliceFile& s : slices) {
    storage::OpenOptions slice_options = options;
    slice_options.plan.clear();
    // The slice's lock: a slice still training is refused, a killed one's shards are merged.
    auto slice_writer = storage::ResultsWriter::Open(s.path, slice_options);
    if (!slice_writer.ok()) return slice_writer.status();
    auto merged = slice_writer->Merge();
    if (!merged.ok()) return merged.status();
    auto copied = CopyFinishedJobs(s.path, writer.path(), hash, s.shard);
    if (!copied.ok()) return copied.status();
    auto ledger = storage::Ledger::Read(s.path);
    if (!ledger.ok()) return ledger.status();
    const storage::LedgerCounts c = ledger->Totals();
    ++stats.slices;
    stats.jobs += *copied;
    if (c.pending + c.running == 0) {
      finished_slices.push_back(s.path);
    } else {
      stats.unfinished.push_back(s.path + ": " + std::to_string(c.pending + c.running) + " of " +
                                 std::to_string(c.total()) + " jobs unfinished (kept)");
    }
  }
  auto merged = writer.Merge();
  if (!merged.ok()) return merged.status();
  // The results file now holds their jobs: a slice whose every job finished is removed.
  for (const std::string& path : finished_slices) {
    std::error_code ec;
    fs::remove_all(storage::SidecarFor(path).dir, ec);
    fs::remove(path, ec);
    if (!ec) ++stats.slices_removed;
  }
  return stats;
}

std::string DescribeFold(const FoldStats& stats, const std::string& results_path) {
  std::string line = "phasesweep: folded " + std::to_string(stats.slices) + " slice file" +
                     (stats.slices == 1 ? "" : "s") + " (" + std::to_string(stats.jobs) +
                     " finished jobs) into " + results_path;
  for (const std::string& u : stats.unfinished) line += "; " + u;
  return line;
}

Status MergeSlices(const MergeRequest& options, std::ostream& out) {
  auto sweep = LoadSweepSpec({options.args.config_path}, options.args.overrides);
  if (!sweep.ok()) return sweep.status();
  const std::string output =
      options.output.empty() ? sweep->base.at("output.path").AsString() : options.output;
  if (FindSlices(output).empty()) {
    return Status::InvalidArgument("no slice files of " + output + " (" +
                                   SlicePath(output, {0, 1}) +
                                   " and the like, written by `run --shard i/n`)");
  }
  auto plan = MakePlan(*sweep, PlanOptions{});
  if (!plan.ok()) return plan.status();
  const storage::OpenOptions open =
      OpenOptionsFor(*plan, ResolvedYaml(*sweep), options.command_line);
  // Refuse slices of another config before the results file is created.
  for (const SliceFile& s : FindSlices(output)) {
    PHASESWEEP_RETURN_IF_ERROR(CheckHash(s.path, open.provenance.config_hash, "is a slice of"));
  }
  auto writer = storage::ResultsWriter::Open(output, open);
  if (!writer.ok()) return writer.status();
  auto folded = FoldSlices(*writer, open);
  if (!folded.ok()) return folded.status();
  out << DescribeFold(*folded, output) << "\n";
  auto ledger = storage::Ledger::Read(output);
  if (!ledger.ok()) return ledger.status();
  const storage::LedgerCounts c = ledger->Totals();
  out << "phasesweep: " << c.done << "/" << c.total() << " jobs done, " << c.diverged
      << " diverged, " << c.failed << " failed, " << c.pending + c.running << " pending -> "
      << output << "\n";
  return Status::Ok();
}

}  // namespace phasesweep::orchestrator
