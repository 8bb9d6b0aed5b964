// Device choice for the NCCL backend. Internal to collectives/; NCCL builds only.
#pragma once

#include "phasesweep/base/status.h"

namespace phasesweep::collectives::internal {

// `requested` when >= 0 (checked against the visible devices), else local_rank % visible
// devices. FailedPrecondition when no CUDA device is visible (or no driver is installed).
Result<int> SelectDevice(int requested, int local_rank);

}  // namespace phasesweep::collectives::internal
