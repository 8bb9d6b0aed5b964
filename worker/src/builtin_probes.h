// Descriptors of the built-in probes, one function per probe source file; probe_registry.cc
// registers them in this order (which is also the order metrics are computed in).
#pragma once

#include "phasesweep/worker/probe.h"

namespace phasesweep::worker {

// train_loss, test_loss, train_acc, test_acc on the full train and test sets (eval_probe.cc).
ProbeDescriptor EvalProbeDescriptor();

}  // namespace phasesweep::worker
