// What a sweep names on the command line, and `phasesweep plan`: validate a sweep and list what
// `run` would do, without running anything. Pure (no MPI); app/ parses the arguments into these
// requests and prints a failed Status.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::orchestrator {

// A config file (empty: the embedded default study) and key=value overrides, as `plan`, `run`,
// `slurm` and `merge` take them.
struct ConfigArgs {
  std::string config_path;
  std::vector<std::string> overrides;
};

struct PlanRequest {
  ConfigArgs args;
  bool json = false;
  int ranks = 1;  // show the packing `run` would use under this many ranks
};

// Writes the resolved config, counts and the job table (or the same as JSON) to `out`. Errors:
// InvalidArgument (bad config or override; training.data_parallel not dividing `ranks`), with
// nothing written to `out`.
Status ListPlan(const PlanRequest& request, std::ostream& out);

}  // namespace phasesweep::orchestrator
