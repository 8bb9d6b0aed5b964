// Error formatting for the checked-call macros, and the polling loop shared by the backends.
#include "check.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "deadline.h"

namespace phasesweep::collectives::internal {
namespace {

// The path from "collectives/" on: messages stay short and the same on every machine.
const char* RepoRelative(const char* file) {
  const char* found = nullptr;
  for (const char* p = std::strstr(file, "collectives/"); p != nullptr;
       p = std::strstr(p + 1, "collectives/")) {
    found = p;
  }
  return found != nullptr ? found : file;
}

}  // namespace

std::string CallSite(const char* file, int line) {
  char host[256] = "?";
  if (gethostname(host, sizeof(host)) != 0) std::strcpy(host, "?");
  host[sizeof(host) - 1] = '\0';
  std::string rank = "?";
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    int r = -1;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &r) == MPI_SUCCESS) rank = std::to_string(r);
  }
  return "host " + std::string(host) + ", rank " + rank + ", " + RepoRelative(file) + ":" +
         std::to_string(line);
}

Status MpiError(int code, const char* call, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  // Open MPI 4.1 aborts the process on MPI_Error_string outside MPI_Init..MPI_Finalize.
  if (!initialized || finalized || MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    std::snprintf(text, sizeof(text), "MPI error code %d", code);
  }
  return Status::Internal(std::string(call) + " failed: " + text + " (" + CallSite(file, line) +
                          ")");
}

void Poller::Pause() {
  const auto waited = Clock::now() - start_;
  if (waited < spin_) return;
  if (waited < sleep_after_) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::string FormatSeconds(std::chrono::milliseconds duration) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", static_cast<double>(duration.count()) / 1000.0);
  return buf;
}

}  // namespace phasesweep::collectives::internal
