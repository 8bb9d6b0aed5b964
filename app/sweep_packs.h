// Test helper: the packs a sweep config plans into, and the traces they train to, in process
// (no MPI, no results file). Used by the generic-kernel and GPU tests, which compare trajectories
// of the same jobs trained in different ways (kernels, devices, pack sizes).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/worker/spec.h"
#include "phasesweep/worker/trace.h"

namespace phasesweep::testing {

// The packs of configs/<name> (relative to the source tree) with `overrides` applied
// (e.g. "training.pack=4"); each pack's training.device is set to `device`.
Result<std::vector<worker::PackSpec>> PlanPacks(const std::string& config,
                                                const std::vector<std::string>& overrides,
                                                const std::string& device);

// Trains every pack to its end on `device` ("cpu" or "cuda"); job id -> its trace.
Result<std::map<std::string, Trace>> TrainPacks(const std::vector<worker::PackSpec>& packs,
                                                const std::string& device);

// The largest |a - b| / max(1, |a|, |b|) over every metric value of every job: an absolute
// difference for values up to 1 (losses near 0, accuracies, cosines), a relative one above.
// Both maps must hold the same jobs, probe steps and metrics, else the result is infinity; NaN
// equals NaN. Only probe steps <= `until` count. `where` (optional) receives
// "job metric step: a vs b" of the largest difference.
double LargestScaledDifference(const std::map<std::string, Trace>& a,
                               const std::map<std::string, Trace>& b, std::string* where = nullptr,
                               int64_t until = std::numeric_limits<int64_t>::max());

}  // namespace phasesweep::testing
