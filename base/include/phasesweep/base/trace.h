// The trace record of one training run, from the trainer to the analysis: what the probes
// measured (Trace) and how the run ended (JobStatus). The worker fills a Trace per ensemble
// member, storage writes it into the job's group of the results file (docs/FORMAT.md) and
// reads it back, and the analysis tests it; all three hold this one struct, not copies of it.
// Only the results file spells a status as text (JobStatusName); in memory it stays an enum.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep {

// A job's state. kPending is never stored in a job group: it is what the ledger and /index say
// about a planned job that has no record yet. The trainer reports kRunning, kDone or kDiverged
// for each member.
enum class JobStatus { kPending, kRunning, kDone, kFailed, kDiverged };

// "pending", "running", "done", "failed", "diverged": the spelling of the results file.
std::string_view JobStatusName(JobStatus status);
// Inverse of JobStatusName; InvalidArgument naming the valid spellings otherwise.
Result<JobStatus> ParseJobStatus(std::string_view name);
// done, failed and diverged are terminal: the job will not run again unless asked.
inline bool IsTerminal(JobStatus s) {
  return s == JobStatus::kDone || s == JobStatus::kFailed || s == JobStatus::kDiverged;
}

// One run's probe trace. steps[i] is the i-th probe step at which the run was alive (strictly
// increasing); metrics[name][i] is that metric's value there (every metric vector has
// steps.size() values). A run that diverged has no entries after its divergence.
struct Trace {
  std::vector<int64_t> steps;
  std::map<std::string, std::vector<double>> metrics;

  // Bitwise: NaN equals the same NaN, 0.0 differs from -0.0 (what "identical traces" means).
  bool operator==(const Trace& o) const {
    if (steps != o.steps || metrics.size() != o.metrics.size()) return false;
    for (auto a = metrics.begin(), b = o.metrics.begin(); a != metrics.end(); ++a, ++b) {
      if (a->first != b->first || a->second.size() != b->second.size() ||
          (!a->second.empty() && std::memcmp(a->second.data(), b->second.data(),
                                             a->second.size() * sizeof(double)) != 0)) {
        return false;
      }
    }
    return true;
  }
  bool operator!=(const Trace& o) const { return !(*this == o); }
};

}  // namespace phasesweep
