// The storage subcommands of the `phasesweep` executable:
//
//   phasesweep status results.h5
//   phasesweep export results.h5 --csv out.csv [--metrics a,b] [--jobs key=value[,key=value]]
//
// as plain functions on streams (RunStatus here, RunExport in export.h); the command line (app/)
// parses the options and prints a failed Status (exit 2 for input the user must fix: bad --jobs,
// unknown metric; 1 otherwise).
#pragma once

#include <ostream>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::storage {

// Prints job counts overall and per grid point (done, failed, diverged, running, pending),
// including shards not yet merged, plus the file's provenance summary.
Status RunStatus(const std::string& results_path, std::ostream& out);

}  // namespace phasesweep::storage
