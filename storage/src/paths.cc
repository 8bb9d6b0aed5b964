// Sidecar paths next to a results file (see paths.h).
#include "phasesweep/storage/paths.h"

namespace phasesweep::storage {

SidecarPaths SidecarFor(const std::string& results_path) {
  SidecarPaths p;
  p.dir = results_path + ".d";
  p.shards = p.dir + "/shards";
  p.lock = p.dir + "/lock";
  p.merge_tmp = p.dir + "/merge.tmp";
  p.create_tmp = p.dir + "/create.tmp";
  p.analysis_tmp = p.dir + "/analysis.tmp";
  return p;
}

}  // namespace phasesweep::storage
