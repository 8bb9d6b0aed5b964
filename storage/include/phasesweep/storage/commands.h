// The storage subcommands of the `phasesweep` executable:
//
//   phasesweep status results.h5
//   phasesweep export results.h5 --csv out.csv [--metrics a,b] [--jobs key=value[,key=value]]
//
// AddStorageCommands registers both on the top-level CLI11 app. Their callbacks run the plain
// functions below; on failure they print one line "phasesweep: error: ..." to stderr and throw
// CLI::RuntimeError(2) for input the user must fix (bad --jobs, unknown metric), 1 otherwise.
#pragma once

#include <ostream>
#include <string>

#include "phasesweep/base/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace phasesweep::storage {

// Prints job counts overall and per grid point (done, failed, diverged, running, pending),
// including shards not yet merged, plus the file's provenance summary.
Status RunStatus(const std::string& results_path, std::ostream& out);

void AddStorageCommands(CLI::App& app);

}  // namespace phasesweep::storage
