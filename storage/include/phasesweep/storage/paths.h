// Where the files that belong to a results file live. Everything except the results file itself
// sits in one sidecar directory next to it, so moving or deleting a sweep is two paths:
//
//   results.h5              the results file (only ever replaced by an atomic rename)
//   results.h5.d/lock       the writer lock (flock; text = pid, host, start time)
//   results.h5.d/shards/    finished packs not yet merged: <time>-r<rank>-<pid>-<n>.h5
//   results.h5.d/*.tmp      a merge, creation or analysis write in progress (removed when a
//                           writer opens)
#pragma once

#include <string>

namespace phasesweep::storage {

struct SidecarPaths {
  std::string dir;           // <results>.d
  std::string shards;        // <results>.d/shards
  std::string lock;          // <results>.d/lock
  std::string merge_tmp;     // <results>.d/merge.tmp
  std::string create_tmp;    // <results>.d/create.tmp
  std::string analysis_tmp;  // <results>.d/analysis.tmp
};

SidecarPaths SidecarFor(const std::string& results_path);

}  // namespace phasesweep::storage
