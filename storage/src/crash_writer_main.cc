// Helper for crash_test.cc: a writer that behaves like rank 0 of a sweep — resume the results
// file, write one shard per pack of unfinished jobs, merge after every pack — and reports what it
// has made durable to a log file (each line fsync'ed before the next step), so the test can kill
// it at any moment and know what must have survived.
//
//   storage_crash_writer RESULTS LOG
//
// LOG lines: "open", "durable <id> <id> <id>" after WriteShard returned OK, "merging" before a
// merge, "merged" after Merge returned OK (every job durable so far is now in RESULTS itself),
// "finished" at the end.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "crash_params.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_records.h"

namespace ps = phasesweep::storage;

namespace {

int log_fd = -1;

void Log(const std::string& line) {
  std::string text = line + "\n";
  if (::write(log_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(log_fd) != 0) {
    std::perror("log");
    std::_Exit(3);
  }
}

int Fail(const phasesweep::Status& s) {
  std::fprintf(stderr, "crash_writer: %s\n", s.message().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s RESULTS LOG\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  log_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return 2;
  ps::OpenOptions options;
  options.provenance = ps::testing::MakeProvenance();
  options.plan = ps::testing::MakePlan(kCrashGrids, kCrashSeeds);
  auto writer = ps::ResultsWriter::Open(path, options);
  if (!writer.ok()) return Fail(writer.status());
  Log("open");
  auto ledger = ps::Ledger::Read(path);
  if (!ledger.ok()) return Fail(ledger.status());
  std::vector<const ps::PlannedJob*> todo;
  for (const ps::PlannedJob& j : options.plan) {
    const ps::LedgerEntry* e = ledger->Find(j.job_id);
    if (e == nullptr || !phasesweep::IsTerminal(e->status)) todo.push_back(&j);
  }
  for (size_t start = 0; start < todo.size(); start += kCrashPack) {
    std::vector<ps::JobRecord> pack;
    std::string ids;
    for (size_t i = start; i < todo.size() && i < start + kCrashPack; ++i) {
      pack.push_back(
          ps::testing::MakeRecord(todo[i]->grid_index, todo[i]->seed, kCrashSteps, kCrashMetrics));
      ids += " " + pack.back().job_id;
    }
    auto shard = ps::WriteShard(path, ps::ShardInfo{"pack", 0, "h"}, pack);
    if (!shard.ok()) return Fail(shard.status());
    Log("durable" + ids);
    Log("merging");
    auto merged = writer->Merge();
    if (!merged.ok()) return Fail(merged.status());
    Log("merged");
  }
  Log("finished");
  return 0;
}
