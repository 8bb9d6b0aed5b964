// Runs a command line in a child shell for integration tests: exit status, stdout, stderr.
#pragma once

#include <string>

namespace phasesweep::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh in `cwd` (empty = current directory).
ProcessResult RunCommand(const std::string& command, const std::string& cwd = "");

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
