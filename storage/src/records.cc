// JobRecord validation and the UTC clock (see records.h).
#include "phasesweep/storage/records.h"

#include <ctime>
#include <string>


namespace phasesweep::storage {
namespace {

// Names that become HDF5 link names: no '/', not "." (HDF5 reserves both), non-empty.
bool ValidLinkName(const std::string& name) {
  return !name.empty() && name != "." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

Status ValidateJobRecord(const JobRecord& r) {
  if (!ValidLinkName(r.job_id)) {
    return Status::InvalidArgument("job_id '" + r.job_id +
                                   "' is not valid: it must be non-empty and contain no '/'");
  }
  const std::string job = "job " + r.job_id + ": ";
  if (r.status == JobStatus::kPending) {
    return Status::InvalidArgument(job +
                                   "status 'pending' cannot be stored; valid: running, "
                                   "done, failed, diverged");
  }
  if (r.attempts < 1) {
    return Status::InvalidArgument(job + "attempts is " + std::to_string(r.attempts) +
                                   "; it counts runs and must be >= 1");
  }
  for (const auto& [name, values] : r.trace.metrics) {
    if (!ValidLinkName(name) || name == "step" || name == "snapshots") {
      return Status::InvalidArgument(job + "metric name '" + name +
                                     "' is not valid: non-empty, no '/', not 'step' or "
                                     "'snapshots'");
    }
    if (values.size() != r.trace.steps.size()) {
      return Status::InvalidArgument(job + "metric '" + name + "' has " +
                                     std::to_string(values.size()) + " values but there are " +
                                     std::to_string(r.trace.steps.size()) + " steps");
    }
  }
  for (const auto& [name, snap] : r.snapshots) {
    if (!ValidLinkName(name)) {
      return Status::InvalidArgument(job + "snapshot name '" + name + "' is not valid");
    }
    if (snap.shape.empty()) {
      return Status::InvalidArgument(job + "snapshot '" + name + "' has no shape");
    }
    int64_t n = 1;
    for (int64_t d : snap.shape) {
      if (d < 0)
        return Status::InvalidArgument(job + "snapshot '" + name + "' has a negative dimension");
      n *= d;
    }
    if (static_cast<size_t>(n) != snap.data.size()) {
      return Status::InvalidArgument(job + "snapshot '" + name + "' shape holds " +
                                     std::to_string(n) + " values but data has " +
                                     std::to_string(snap.data.size()));
    }
  }
  return Status::Ok();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace phasesweep::storage
