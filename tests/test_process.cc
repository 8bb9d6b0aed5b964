// Child-process helpers for integration tests (see test_process.h).
#include "test_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
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
}  // namespace

ProcessResult RunCommand(const std::string& command, const std::string& cwd) {
  TempDir scratch;
  const fs::path out = fs::path(scratch.path()) / "out", err = fs::path(scratch.path()) / "err";
  std::string full = command + " >" + out.string() + " 2>" + err.string();
  if (!cwd.empty()) full = "cd '" + cwd + "' && " + full;
  const int status = std::system(full.c_str());
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
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
