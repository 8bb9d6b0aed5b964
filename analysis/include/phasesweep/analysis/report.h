// `phasesweep report results.h5 -o report.html`: one self-contained HTML page (inline SVG and
// CSS, no script, no network) that shows a sweep: the stored answers, provenance, per metric and
// grid point the band across seeds with the detected transitions, per-seed transition rasters,
// ordering lags, grid-axis effects, stability phases, early stopping, and the tables of tests,
// failed jobs and notes. docs/REPORT.md describes the page.
//
// The figures are drawn from the tables under /analysis (docs/FORMAT.md) plus the seed traces
// under /jobs. When /analysis is missing, or older than the file's last merge, the analysis is
// run first (as `phasesweep analyze`, which stores it in the file).
#pragma once

#include <ostream>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

struct ReportRequest {
  std::string results_path;
  std::string output_path;  // default: report.html beside results_path
  // Seed lines drawn thin under each band, at most; more seeds are subsampled evenly and the
  // figure says how many are drawn.
  int max_seed_lines = 40;
  // Seed lines for the whole page, at most (shared between the bands; keeps big sweeps light).
  int max_page_seed_lines = 800;
  // Rows of the per-seed figures (rasters, phases, early stopping), per figure, at most.
  int max_rows = 120;
  bool analyze = true;  // run the analysis first when /analysis is missing or stale
};

// Builds the page. Errors: InvalidArgument (exit 2) for a file that is missing or not a
// phasesweep results file, with a one-line message naming it; the analysis' own errors when it
// had to run and failed for another reason than "no traces" (an empty or all-failed sweep gets a
// page that says so). `log` receives one line per step taken (e.g. "analysing ...").
Result<std::string> BuildReport(const ReportRequest& request, std::ostream& log);

// BuildReport, then writes the page to request.output_path (atomically: a temporary file renamed
// into place). Prints the path written to `log`.
Status RunReport(const ReportRequest& request, std::ostream& log);

}  // namespace phasesweep::analysis
