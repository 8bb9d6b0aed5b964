// Disk full: a shard that does not fit and a merge that does not fit both fail with a clear
// one-line IOError, leave no partial files, and keep every earlier job readable; once space is
// back the merge succeeds.
//
// Two ways to run out of space: a 2 MiB tmpfs (needs mount(2), i.e. root — true in our CI
// containers) and RLIMIT_FSIZE in a forked child (works for any user; write() then fails with
// EFBIG instead of ENOSPC, through exactly the same code paths). The tmpfs test falls back to
// the limit when it cannot mount and says so.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::ScratchDir;
namespace fs = std::filesystem;

// ~330 KB per job once compressed: random values do not compress.
JobRecord BigRecord(uint64_t seed) {
  JobRecord r = testing::MakeRecord(0, seed, 0, 0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 20000; ++i) r.trace.steps.push_back(i);
  for (const char* m : {"train_loss", "test_loss"}) {
    auto& v = r.trace.metrics[m];
    for (int i = 0; i < 20000; ++i) v.push_back(u(rng));
  }
  return r;
}

// Runs the scenario in `dir`, where space runs out after about 2 MiB; `lift` gives space back.
// Returns "" on success, else what went wrong (the scenario also runs in a forked child).
template <typename Lift>
std::string DiskFullScenario(const std::string& dir, const std::string& errno_text, Lift lift) {
  std::ostringstream err;
  const std::string path = dir + "/results.h5";
  OpenOptions o;
  o.provenance = testing::MakeProvenance();
  auto w = ResultsWriter::Open(path, o);
  if (!w.ok()) return "open: " + w.status().message();
  const ShardInfo info{"p", 0, o.provenance.config_hash};
  for (uint64_t s = 0; s < 4; ++s) {
    auto shard = WriteShard(path, info, {BigRecord(s)});
    if (!shard.ok()) return "small shard " + std::to_string(s) + ": " + shard.status().message();
  }
  // Four jobs in one shard do not fit.
  auto big = WriteShard(path, info, {BigRecord(10), BigRecord(11), BigRecord(12), BigRecord(13)});
  if (big.ok()) {
    return "the oversized shard was written (" + std::to_string(fs::file_size(*big)) + " bytes)";
  }
  const std::string& m = big.status().message();
  std::cout << "[ message ] " << m << "\n";
  if (big.status().code() != Status::Code::kIOError) err << "code not IOError; ";
  if (m.find(errno_text) == std::string::npos) err << "no '" << errno_text << "' in: " << m << "; ";
  if (m.find('\n') != std::string::npos) err << "multi-line message; ";
  auto names = fs::directory_iterator(SidecarFor(path).shards);
  int shards = 0;
  for (const auto& e : names) {
    if (e.path().filename().string()[0] == '.') err << "left " << e.path() << "; ";
    ++shards;
  }
  if (shards != 4) err << shards << " shards instead of 4; ";
  // Merging needs room for a second copy of the results file plus the shards' data.
  const auto size_before = fs::file_size(path);
  auto merge = w->Merge();
  if (merge.ok()) return err.str() + "merge succeeded on a full disk";
  std::cout << "[ message ] " << merge.status().message() << "\n";
  if (merge.status().message().find(errno_text) == std::string::npos) {
    err << "merge error lacks '" << errno_text << "': " << merge.status().message() << "; ";
  }
  if (fs::exists(SidecarFor(path).merge_tmp)) err << "merge.tmp left behind; ";
  if (fs::file_size(path) != size_before) err << "results file changed; ";
  // Earlier data intact: the ledger and the reader see all four jobs, with their values.
  auto ledger = Ledger::Read(path);
  if (!ledger.ok()) return err.str() + "ledger: " + ledger.status().message();
  if (ledger->Totals().done != 4) err << ledger->Totals().done << " done jobs, not 4; ";
  auto reader = ResultsReader::Open(path);
  if (!reader.ok()) return err.str() + "reader: " + reader.status().message();
  for (uint64_t s = 0; s < 4; ++s) {
    auto job = reader->LoadJob(testing::JobId(0, s));
    if (!job.ok() || job->trace.metrics != BigRecord(s).trace.metrics)
      err << "job " << s << " damaged; ";
  }
  lift();
  auto again = w->Merge();
  if (!again.ok()) return err.str() + "merge after freeing space: " + again.status().message();
  if (again->jobs_added != 4) err << "merged " << again->jobs_added << " jobs, not 4; ";
  auto merged = ResultsReader::Open(path, ReaderOptions{false});
  if (!merged.ok() || merged->jobs().size() != 4) err << "merged file lacks jobs; ";
  return err.str();
}

// Runs the scenario in a child limited to 1 MiB per file (RLIMIT_FSIZE).
std::string RunWithFileSizeLimit(const std::string& dir) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);  // make write() fail with EFBIG instead of killing us
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    rlimit lim = old;
    lim.rlim_cur = 1 << 20;
    ::setrlimit(RLIMIT_FSIZE, &lim);
    std::string result =
        DiskFullScenario(dir, "File too large", [&] { ::setrlimit(RLIMIT_FSIZE, &old); });
    if (result.empty()) result = "OK";
    if (::write(fds[1], result.data(), result.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child failed (wait status " + std::to_string(status) + "): " + out;
  }
  return out == "OK" ? "" : out;
}

TEST(DiskFullTest, FileSizeLimitKeepsEarlierDataAndReportsClearly) {
  ScratchDir dir;
  EXPECT_EQ(RunWithFileSizeLimit(dir.path()), "");
}

TEST(DiskFullTest, FullTmpfsKeepsEarlierDataAndReportsClearly) {
  ScratchDir dir;
  const std::string mnt = dir / "small_fs";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0) {
    std::cout << "[ note ] cannot mount a tmpfs here (" << std::strerror(errno)
              << "); running the file-size-limit variant instead\n";
    EXPECT_EQ(RunWithFileSizeLimit(dir.path()), "");
    return;
  }
  std::string result = DiskFullScenario(mnt, "No space left on device", [&] {
    ::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=32m");
  });
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(result, "");
}

}  // namespace
}  // namespace phasesweep::storage
