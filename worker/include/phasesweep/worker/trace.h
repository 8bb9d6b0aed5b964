// What training produces per member: its trace (phasesweep::Trace, base/trace.h: probe steps and
// metric values) and its status.
#pragma once

#include <cstdint>

#include "phasesweep/base/trace.h"

namespace phasesweep::worker {

struct MemberStatus {
  JobStatus state = JobStatus::kRunning;  // kRunning, kDone or kDiverged
  int64_t diverged_at = -1;  // kDiverged: the step whose loss, gradient or parameters were
                             // first NaN/Inf
};

}  // namespace phasesweep::worker
