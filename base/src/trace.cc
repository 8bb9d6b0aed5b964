// JobStatus spellings (see trace.h).
#include "phasesweep/base/trace.h"

#include <string>

namespace phasesweep {
namespace {

constexpr std::string_view kStatusNames[] = {"pending", "running", "done", "failed", "diverged"};

}  // namespace

std::string_view JobStatusName(JobStatus status) { return kStatusNames[static_cast<int>(status)]; }

Result<JobStatus> ParseJobStatus(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  }
  return Status::InvalidArgument("unknown job status '" + std::string(name) +
                                 "'; valid: pending, running, done, failed, diverged");
}

}  // namespace phasesweep
