// The process-wide generic-kernel switch (see kernel_policy.h).
#include "phasesweep/worker/kernel_policy.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace phasesweep::worker {
namespace {

bool FromEnvironment() {
  const char* v = std::getenv("PHASESWEEP_FORCE_GENERIC_KERNELS");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

std::atomic<bool>& Switch() {
  static std::atomic<bool> forced{FromEnvironment()};
  return forced;
}

}  // namespace

bool GenericKernelsForced() { return Switch().load(std::memory_order_relaxed); }

void ForceGenericKernels(bool on) { Switch().store(on, std::memory_order_relaxed); }

}  // namespace phasesweep::worker
