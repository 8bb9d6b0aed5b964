// Runs a command line in a child shell for integration tests: exit status, stdout, stderr; or
// starts one in the background (its own process group) to signal it and wait for it with a limit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace phasesweep::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh in `cwd` (empty = current directory).
ProcessResult RunCommand(const std::string& command, const std::string& cwd = "");

// Starts `command` ([VAR=value ...] program args, no shell syntax) in `cwd`, in a new process
// group whose id is the returned pid — the program's own pid, so a signal sent to it reaches the
// program — with stdout and stderr appended to `log_path`. Pair with WaitForExit.
pid_t StartCommand(const std::string& command, const std::string& cwd, const std::string& log_path);

// The exit code of a started command (128 + signal when killed), or -1 when it has not ended
// within `limit`: then it is killed with KillProcessTree and reaped.
int WaitForExit(pid_t pid, std::chrono::milliseconds limit);

// SIGKILL to a started command and to its direct children at once, as a node failure would
// (mpirun puts each rank in a process group of its own, so killing mpirun's group spares the
// ranks). Returns once the children are gone; the caller reaps `pid` (WaitForExit).
void KillProcessTree(pid_t pid);

// Polls `condition` every 20 ms until it holds (true) or `limit` passes (false). For waiting on
// evidence of progress (a file, a log line) instead of sleeping a guessed time.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit);

// Pids of the direct children of `parent` (from /proc), e.g. the ranks mpirun started.
std::vector<pid_t> ChildrenOf(pid_t parent);

// The whole text of a file ("" when it cannot be read).
std::string ReadTextFile(const std::string& path);

// "[root permission] MPIEXEC --oversubscribe -np N ": the prefix of an mpirun command line that
// works as root and with more ranks than cores.
std::string MpirunPrefix(const std::string& mpiexec, int np);

// Lines of `text` that contain `needle`.
int CountLines(const std::string& text, const std::string& needle);

// Pack checkpoints of the sweep writing `results`: one per pack being trained (removed when the
// pack's results are stored).
int CountCheckpoints(const std::string& results);

// True when the started process `pid` has ended (without reaping it).
bool Ended(pid_t pid);

// A fresh empty directory under the build tree's Testing/ folder, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Names of the entries in the directory, sorted.
  std::string Listing() const;

 private:
  std::string path_;
};

}  // namespace phasesweep::testing
