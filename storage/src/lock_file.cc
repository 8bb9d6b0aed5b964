// flock()-based writer lock with pid/host fallback (see lock_file.h).
#include "lock_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>

#include "fs.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage::detail {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

std::string ReadAll(int fd) {
  std::string text;
  char buf[512];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), off);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

Status WriteHolder(int fd, const std::string& lock_path) {
  std::ostringstream os;
  os << "pid=" << ::getpid() << " host=" << HostName() << " since=" << UtcNow() << "\n";
  const std::string text = os.str();
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Status::IOError("cannot write lock file '" + lock_path + "': " + ErrnoText(errno));
  }
  ::fsync(fd);
  return Status::Ok();
}

// Parses "pid=N host=H ..." written by WriteHolder.
void ParseHolder(const std::string& text, long* pid, std::string* host) {
  std::istringstream is(text);
  std::string field;
  while (is >> field) {
    if (field.rfind("pid=", 0) == 0) *pid = std::strtol(field.c_str() + 4, nullptr, 10);
    if (field.rfind("host=", 0) == 0) *host = field.substr(5);
  }
}

Status Busy(const std::string& results_path, const std::string& lock_path,
            const std::string& holder) {
  return Status::FailedPrecondition(
      results_path + " is being written by another sweep (" +
      (holder.empty() ? std::string("holder unknown") : holder) + ", lock " + lock_path +
      "); two sweeps must not write one file: wait for it to finish, stop it, or choose another "
      "output path");
}

}  // namespace

Result<WriterLock> WriterLock::Acquire(const std::string& lock_path,
                                       const std::string& results_path) {
  WriterLock lock;
  lock.fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock.fd_ < 0) {
    return Status::IOError("cannot open lock file '" + lock_path + "': " + ErrnoText(errno));
  }
  const std::string previous = ReadAll(lock.fd_);
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) == 0) {
    // Held by nobody: any text left is from a writer that died (released locks are empty).
    lock.held_ = true;
    lock.stale_holder_ = previous;
    PHASESWEEP_RETURN_IF_ERROR(WriteHolder(lock.fd_, lock_path));
    return lock;
  }
  const int err = errno;
  if (err == EWOULDBLOCK) {
    std::string holder = ReadAll(lock.fd_);
    return Busy(results_path, lock_path, holder);
  }
  if (err != ENOLCK && err != EOPNOTSUPP && err != ENOSYS) {
    return Status::IOError("cannot lock '" + lock_path + "': " + ErrnoText(err));
  }
  // No flock here: decide from the holder text.
  if (!previous.empty()) {
    long pid = 0;
    std::string host;
    ParseHolder(previous, &pid, &host);
    if (host != HostName()) {
      return Status::FailedPrecondition(
          results_path + " may be written by a sweep on host " + host + " (" + previous +
          "); this file system has no flock() so it cannot be checked from here: if no sweep "
          "is running there, delete " +
          lock_path);
    }
    const bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (alive && pid != ::getpid()) return Busy(results_path, lock_path, previous);
    lock.stale_holder_ = previous;
  }
  lock.held_ = true;
  PHASESWEEP_RETURN_IF_ERROR(WriteHolder(lock.fd_, lock_path));
  return lock;
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      held_(std::exchange(other.held_, false)),
      stale_holder_(std::move(other.stale_holder_)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    held_ = std::exchange(other.held_, false);
    stale_holder_ = std::move(other.stale_holder_);
  }
  return *this;
}

void WriterLock::Release() noexcept {
  if (fd_ < 0) return;
  if (held_ && ::ftruncate(fd_, 0) == 0) ::fsync(fd_);
  held_ = false;
  ::close(fd_);  // drops the flock
  fd_ = -1;
}

}  // namespace phasesweep::storage::detail
