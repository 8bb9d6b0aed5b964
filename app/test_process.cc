// Child-process helpers for integration tests (see test_process.h).
#include "test_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace phasesweep::testing {
namespace fs = std::filesystem;

namespace {
std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

std::string ReadTextFile(const std::string& path) { return Slurp(path); }

std::string MpirunPrefix(const std::string& mpiexec, int np) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + mpiexec +
         " --oversubscribe -np " + std::to_string(np) + " ";
}

int CountLines(const std::string& text, const std::string& needle) {
  int count = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

int CountCheckpoints(const std::string& results) {
  int count = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(results + ".d/checkpoints", ec)) {
    if (e.path().extension() == ".ckpt") ++count;
  }
  return count;
}

bool Ended(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

pid_t StartCommand(const std::string& command, const std::string& cwd,
                   const std::string& log_path) {
  // `exec env` so that the pid is the command itself (signals reach it, not a shell), even when
  // the command starts with VAR=value assignments (which `exec` alone would take for a program).
  std::string full = "exec env " + command + " >>'" + log_path + "' 2>&1";
  if (!cwd.empty()) full = "cd '" + cwd + "' && " + full;
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so that the group exists before the caller signals it
  return pid;
}

int WaitForExit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return ExitCodeOf(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  KillProcessTree(pid);
  waitpid(pid, &status, 0);
  return -1;
}

void KillProcessTree(pid_t pid) {
  const std::vector<pid_t> children = ChildrenOf(pid);
  kill(pid, SIGKILL);
  for (pid_t c : children) kill(c, SIGKILL);
  // Gone, or a zombie waiting for its new parent: either way it holds no file or lock.
  auto gone = [](pid_t c) {
    const std::string stat = Slurp("/proc/" + std::to_string(c) + "/stat");
    const size_t close = stat.rfind(')');
    return close == std::string::npos || stat.compare(close + 1, 3, " Z ") == 0 ||
           stat.compare(close + 1, 3, " X ") == 0;
  };
  WaitUntil([&] { return std::all_of(children.begin(), children.end(), gone); },
            std::chrono::seconds(30));
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; }))
      continue;
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    const std::string stat = Slurp(e.path() / "stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return children;
}

ProcessResult RunCommand(const std::string& command, const std::string& cwd) {
  TempDir scratch;
  const fs::path out = fs::path(scratch.path()) / "out", err = fs::path(scratch.path()) / "err";
  std::string full = command + " >" + out.string() + " 2>" + err.string();
  if (!cwd.empty()) full = "cd '" + cwd + "' && " + full;
  const int status = std::system(full.c_str());
  ProcessResult r;
  r.exit_code = ExitCodeOf(status);
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

TempDir::TempDir() {
  fs::path base = fs::path(PHASESWEEP_BINARY_DIR) / "Testing" / "tmp";
  fs::create_directories(base);
  std::string templ = (base / "phasesweep-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed under " + base.string());
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::Listing() const {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

}  // namespace phasesweep::testing
