// ResultsWriter's private state, shared by results_writer.cc (open/create) and merge.cc.
#pragma once

#include <chrono>
#include <string>

#include "h5.h"
#include "lock_file.h"
#include "phasesweep/storage/paths.h"
#include "phasesweep/storage/results_writer.h"

namespace phasesweep::storage {

// One opening of the file for writing, recorded as /sessions/<n> (provenance of resumes).
struct Session {
  std::string mode;  // create | fresh | resume | accept_mismatch
  Provenance provenance;
  std::string utc;
};

struct ResultsWriter::Impl {
  using Clock = std::chrono::steady_clock;
  std::string path;
  SidecarPaths side;
  detail::WriterLock lock;
  Provenance provenance;
  bool created = false;
  bool mismatch_accepted = false;
  std::string moved_aside_to;
  std::string stale_lock_holder;
  MergePolicy policy;
  Clock::time_point last_merge = Clock::now();
  double last_merge_seconds = 0;
  bool session_pending = false;
  Session session;
};

namespace detail {
// Appends /sessions/<n> (n = number of sessions so far, 6 digits).
void WriteSession(hid_t file, const Session& s);
}  // namespace detail

}  // namespace phasesweep::storage
