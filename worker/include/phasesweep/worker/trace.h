// What training produces per member: its trace (probe steps and metric values) and its status.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace phasesweep::worker {

// One member's trace. steps[i] is the i-th probe step at which the member was alive;
// metrics[name][i] is that metric's value there (every metric vector has steps.size() values).
// A member that diverged has no entries after its divergence.
struct MemberTrace {
  std::vector<int64_t> steps;
  std::map<std::string, std::vector<double>> metrics;
  // Bitwise: NaN equals the same NaN, 0.0 differs from -0.0 (what "identical traces" means).
  bool operator==(const MemberTrace& o) const {
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
};

enum class MemberState { kRunning, kDone, kDiverged };

struct MemberStatus {
  MemberState state = MemberState::kRunning;
  int64_t diverged_at = -1;  // kDiverged: the step whose loss, gradient or parameters were
                             // first NaN/Inf
};

// "running", "done" or "diverged" (the spelling of the results file).
inline const char* MemberStateName(MemberState s) {
  switch (s) {
    case MemberState::kDone:
      return "done";
    case MemberState::kDiverged:
      return "diverged";
    default:
      return "running";
  }
}

}  // namespace phasesweep::worker
