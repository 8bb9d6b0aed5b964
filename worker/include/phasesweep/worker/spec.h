// The worker trains the configuration sections of spec/ (phasesweep/spec/sections.h): one
// definition below every consumer. The names are the worker's vocabulary too.
#pragma once

#include "phasesweep/spec/sections.h"

namespace phasesweep::worker {

using spec::MemberOptimizerScalars;
using spec::MemberSpec;
using spec::ModelSpec;
using spec::OptimizerSpec;
using spec::PackSpec;
using spec::ProbeSpec;
using spec::TaskSpec;
using spec::TrainingSpec;

}  // namespace phasesweep::worker
