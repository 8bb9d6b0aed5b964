// The writer lock: at most one sweep writes a results file at a time.
//
// The lock is flock(LOCK_EX) on <results>.d/lock, held for the writer's lifetime. The kernel
// drops it when the process dies (kill -9 included), so a lock left by a dead sweep is stale by
// construction and is simply taken over. The file's text (pid, host, start time) only feeds the
// refusal message. Where flock() is unavailable (ENOLCK on some NFS set-ups) the text decides:
// a dead pid on this host is stale; a pid on another host is refused with instructions.
#pragma once

#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::storage::detail {

class WriterLock {
 public:
  // Takes the lock or returns FailedPrecondition naming the holder and `results_path`.
  static Result<WriterLock> Acquire(const std::string& lock_path, const std::string& results_path);

  WriterLock() = default;
  ~WriterLock() { Release(); }
  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  // Clears the holder text and drops the lock. Idempotent.
  void Release() noexcept;
  bool held() const { return fd_ >= 0 && held_; }
  // The holder text left by a previous writer that died without releasing ("" if none).
  const std::string& stale_holder() const { return stale_holder_; }

 private:
  int fd_ = -1;
  bool held_ = false;  // only the holder clears the text on release
  std::string stale_holder_;
};

}  // namespace phasesweep::storage::detail
