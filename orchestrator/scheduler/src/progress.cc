// Progress formatting (see progress.h).
#include "phasesweep/orchestrator/progress.h"

#include <unistd.h>

#include <cmath>

namespace phasesweep::orchestrator {

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

std::string FormatProgress(const ProgressSnapshot& s) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%lld/%lld jobs done, %lld running, %lld failed | %.0f member-steps/s | %s %s",
                static_cast<long long>(s.jobs_done), static_cast<long long>(s.jobs_total),
                static_cast<long long>(s.jobs_running), static_cast<long long>(s.jobs_failed),
                s.member_steps_per_s, s.final ? "took" : "ETA",
                FormatDuration(s.final ? s.elapsed_s : s.eta_s).c_str());
  return buf;
}

ProgressPrinter::ProgressPrinter(Mode mode, std::FILE* out, double plain_every_s)
    : mode_(mode), out_(out), plain_every_s_(plain_every_s) {
  if (mode_ == Mode::kAuto) mode_ = isatty(fileno(out)) ? Mode::kLive : Mode::kPlain;
}

void ProgressPrinter::operator()(const ProgressSnapshot& s) {
  if (mode_ == Mode::kQuiet) return;
  const std::string line = "phasesweep: " + FormatProgress(s);
  if (mode_ == Mode::kLive) {
    std::fprintf(out_, "\r%s\033[K%s", line.c_str(), s.final ? "\n" : "");
  } else if (s.final || s.elapsed_s - last_plain_ >= plain_every_s_) {
    last_plain_ = s.elapsed_s;
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace phasesweep::orchestrator
