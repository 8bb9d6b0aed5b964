// The progress line rank 0 prints while a sweep runs: jobs done / running / failed,
// member-steps per second and ETA. On a terminal it is one line rewritten in place; otherwise
// (a SLURM log, a pipe) a plain line every `plain_every_s` seconds, so logs stay readable.
#pragma once

#include <cstdio>
#include <string>

#include "phasesweep/orchestrator/scheduler.h"

namespace phasesweep::orchestrator {

// "37/64 jobs done, 8 running, 1 failed | 1234 member-steps/s | ETA 3m12s"
std::string FormatProgress(const ProgressSnapshot& s);

// "3m12s", "1h02m", "45s"
std::string FormatDuration(double seconds);

class ProgressPrinter {
 public:
  enum class Mode { kAuto, kLive, kPlain, kQuiet };
  explicit ProgressPrinter(Mode mode = Mode::kAuto, std::FILE* out = stderr,
                           double plain_every_s = 30);
  void operator()(const ProgressSnapshot& s);

 private:
  Mode mode_;
  std::FILE* out_;
  double plain_every_s_;
  double last_plain_ = -1e9;
};

}  // namespace phasesweep::orchestrator
