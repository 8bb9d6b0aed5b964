// The "Bad input" list, one test each: output path a directory or not writable, a
// different config hash (writer_test.cc), a newer format version, a non-phasesweep HDF5 file, a
// file that is not HDF5, a truncated file, stored hparams that are not a flat object, a second
// writer (live and stale locks). Every error is one line naming the file, and nothing existing is
// changed. Disk full is in disk_full_test.cc.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "h5.h"
#include "h5_io.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::MakePlan;
using testing::MakeProvenance;
using testing::MakeRecord;
using testing::ScratchDir;
namespace fs = std::filesystem;

OpenOptions Options() {
  OpenOptions o;
  o.provenance = MakeProvenance();
  o.plan = MakePlan(1, 2);
  return o;
}

// A results file with one merged job.
void MakeResults(const std::string& path) {
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(WriteShard(path, ShardInfo{"p", 0, "h"}, {MakeRecord(0, 0, 200, 4)}).ok());
  ASSERT_TRUE(w->Merge().ok());
}

// Every failing open reads the same way: one line, naming the file.
void ExpectOneLineNaming(const Status& s, const std::string& path, const std::string& fragment) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

// Opening for writing, reading and the ledger all refuse the same way; the file is unchanged.
void ExpectRefusedEverywhere(const std::string& path, Status::Code code,
                             const std::string& fragment) {
  const auto size = fs::file_size(path);
  const auto mtime = fs::last_write_time(path);
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), code);
  ExpectOneLineNaming(w.status(), path, fragment);
  EXPECT_NE(w.status().message().find("--fresh"), std::string::npos) << w.status().message();
  auto r = ResultsReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code);
  ExpectOneLineNaming(r.status(), path, fragment);
  auto l = Ledger::Read(path);
  ASSERT_FALSE(l.ok());
  ExpectOneLineNaming(l.status(), path, fragment);
  EXPECT_EQ(fs::file_size(path), size);
  EXPECT_EQ(fs::last_write_time(path), mtime);
}

TEST(BadInputTest, OutputPathIsADirectory) {
  ScratchDir dir;
  const std::string path = dir / "out";
  fs::create_directory(path);
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalidArgument);
  ExpectOneLineNaming(w.status(), path, "is a directory");
  auto r = ResultsReader::Open(path);
  ASSERT_FALSE(r.ok());
  ExpectOneLineNaming(r.status(), path, "is a directory");
}

TEST(BadInputTest, OutputDirectoryDoesNotExist) {
  ScratchDir dir;
  const std::string path = dir / "no/such/dir/results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kNotFound);
  ExpectOneLineNaming(w.status(), path, "does not exist");
}

// ResultsWriter::Open(path) without root's power to ignore permission bits: in a child as
// "nobody" when we are root. Returns the error message ("OPENED" if it opened; "WRONG CODE: ..."
// unless the code is IOError).
std::string OpenUnprivileged(const std::string& path) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  EXPECT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto w = ResultsWriter::Open(path, Options());
    std::string msg = w.ok() ? "OPENED" : w.status().message();
    if (!w.ok() && w.status().code() != Status::Code::kIOError) msg = "WRONG CODE: " + msg;
    if (::write(fds[1], msg.data(), msg.size()) < 0) ::_exit(4);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) msg.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return msg;
}

TEST(BadInputTest, OutputDirectoryNotWritable) {
  ScratchDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const std::string ro = dir / "readonly";
  fs::create_directory(ro);
  ::chmod(ro.c_str(), 0555);
  const std::string path = ro + "/results.h5";
  const std::string msg = OpenUnprivileged(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("Permission denied"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path));
}

// A directory on the way that this user may not search: the output directory is not "missing",
// and the error says why (found when a clean clone was built under a 0700 mktemp directory).
TEST(BadInputTest, OutputDirectoryBehindAnUnsearchableDirectory) {
  ScratchDir dir;
  const std::string locked = dir / "locked";
  fs::create_directories(locked + "/out");
  ::chmod(locked.c_str(), 0700);  // root's own: "nobody" may not search it
  if (::geteuid() != 0) ::chmod(locked.c_str(), 0);
  const std::string path = locked + "/out/results.h5";
  const std::string msg = OpenUnprivileged(path);
  ::chmod(locked.c_str(), 0700);
  EXPECT_NE(msg.find("cannot write results file " + path + ": directory " + locked +
                     "/out: Permission denied"),
            std::string::npos)
      << msg;
}

TEST(BadInputTest, NewerFormatVersionIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  MakeResults(path);
  {
    detail::Handle f = detail::FileOpen(path, /*writable=*/true);
    detail::WriteScalarAttr<int32_t>(f.get(), "format_version", kFormatVersion + 1);
  }
  ExpectRefusedEverywhere(path, Status::Code::kFailedPrecondition, "upgrade phasesweep");
}

TEST(BadInputTest, NonPhasesweepHdf5FileIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "other.h5";
  {
    detail::Handle f = detail::FileCreate(path);
    detail::WriteVector<double>(f.get(), "x", {1, 2, 3}, false);
  }
  ExpectRefusedEverywhere(path, Status::Code::kCorruption, "not a phasesweep results file");
}

TEST(BadInputTest, FileThatIsNotHdf5IsRefused) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  std::ofstream(path) << "job_id,seed\n1,2\n";
  ExpectRefusedEverywhere(path, Status::Code::kCorruption, "not an HDF5 file");
  const std::string empty = dir / "empty.h5";
  std::ofstream{empty};
  ExpectRefusedEverywhere(empty, Status::Code::kCorruption, "empty (0 bytes)");
}

TEST(BadInputTest, TruncatedFileIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  MakeResults(path);
  fs::resize_file(path, fs::file_size(path) / 2);
  ExpectRefusedEverywhere(path, Status::Code::kCorruption, "truncated or damaged");
  fs::resize_file(path, 100);  // inside the superblock
  ExpectRefusedEverywhere(path, Status::Code::kCorruption, "truncated or damaged");
}

// Hyperparameters are read typed where the file is read: stored text that is not the flat object
// the writer makes is a damaged file, reported as such (not parsed again, differently, later).
TEST(BadInputTest, HparamsThatAreNotAFlatObjectAreCorruption) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  MakeResults(path);
  const std::string id = testing::JobId(0, 0);
  {
    detail::Handle f = detail::FileOpen(path, /*writable=*/true);
    detail::Handle jobs = detail::GroupOpen(f.get(), "jobs");
    detail::Handle job = detail::GroupOpen(jobs.get(), id);
    detail::WriteStringAttr(job.get(), "hparams", "{\"lr\":null}");
  }
  {
    auto r = ResultsReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto rec = r->LoadJob(id);
    ASSERT_FALSE(rec.ok());
    EXPECT_EQ(rec.status().code(), Status::Code::kCorruption);
    ExpectOneLineNaming(rec.status(), path, "job " + id + " hparams: hparams {\"lr\":null}");
  }
  {
    detail::Handle f = detail::FileOpen(path, /*writable=*/true);
    detail::Handle index = detail::GroupOpen(f.get(), "index");
    detail::WriteVarStringAt(index.get(), "hparams", 0, "[1,2]");
  }
  auto again = ResultsReader::Open(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kCorruption);
  ExpectOneLineNaming(again.status(), path, "/index/hparams of job " + id);
  auto ledger = Ledger::Read(path);
  ASSERT_FALSE(ledger.ok());
  ExpectOneLineNaming(ledger.status(), path, "expected a flat object");
}

TEST(BadInputTest, ShardGivenAsResultsFileIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto w = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(w.ok());
  auto shard = WriteShard(path, ShardInfo{"p", 0, "h"}, {MakeRecord(0, 0)});
  ASSERT_TRUE(shard.ok());
  auto r = ResultsReader::Open(*shard);
  ASSERT_FALSE(r.ok());
  ExpectOneLineNaming(r.status(), *shard, "is a phasesweep shard");
}

TEST(BadInputTest, MissingFileIsNotFoundForReaders) {
  ScratchDir dir;
  auto r = ResultsReader::Open(dir / "nope.h5");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  ExpectOneLineNaming(r.status(), dir / "nope.h5", "no such file");
}

TEST(BadInputTest, FreshMovesAsideEvenAFileThatIsNotOurs) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  std::ofstream(path) << "precious notes";
  OpenOptions o = Options();
  o.existing = ExistingFile::kFresh;
  auto w = ResultsWriter::Open(path, o);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::ifstream in(w->moved_aside_to());
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious notes");
}

TEST(LockTest, SecondWriterInTheSameProcessIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  auto first = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(first.ok());
  auto second = ResultsWriter::Open(path, Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
  ExpectOneLineNaming(second.status(), path, "being written by another sweep");
  EXPECT_NE(second.status().message().find("pid=" + std::to_string(::getpid())), std::string::npos);
  first = Status::Cancelled("close");
  EXPECT_TRUE(ResultsWriter::Open(path, Options()).ok());
}

TEST(LockTest, LiveWriterInAnotherProcessIsRefusedAndDeadOneIsTakenOver) {
  ScratchDir dir;
  const std::string path = dir / "results.h5";
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = ResultsWriter::Open(path, Options());
    char c = w.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    if (::read(go[0], &c, 1) != 1) ::_exit(2);
    ::raise(SIGKILL);  // die holding the lock, as a killed sweep does
    ::_exit(1);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto busy = ResultsWriter::Open(path, Options());
  ASSERT_FALSE(busy.ok());
  ExpectOneLineNaming(busy.status(), path, "pid=" + std::to_string(pid));
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto after = ResultsWriter::Open(path, Options());
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_NE(after->stale_lock_holder().find("pid=" + std::to_string(pid)), std::string::npos);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

}  // namespace
}  // namespace phasesweep::storage
