// The sweep-level analysis behind `phasesweep analyze`: transitions and their significance per
// trace, cross-seed summaries per grid point, the ordering / three-phase / hyperparameter /
// early-stopping hypotheses, and one multiple-testing adjustment over every p-value.
// docs/STATISTICS.md describes each step.
#pragma once

#include <string>

#include "phasesweep/analysis/analysis_result.h"
#include "phasesweep/analysis/trace_set.h"
#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

// Errors: InvalidArgument for bad options or inconsistent traces (a metric whose length differs
// from its job's steps, steps that do not increase, duplicate job ids); NotFound when the set
// has no traces or a requested metric is not stored (the message lists those available).
// Deterministic for a given options.seed, whatever options.threads.
Result<AnalysisResult> AnalyzeSweep(const TraceSet& traces, const AnalysisOptions& options);

// A readable multi-line summary: per metric and grid point the median transition steps with
// intervals and the significant fraction, then every hypothesis test with raw and adjusted
// p-values, then the notes.
std::string FormatSummary(const AnalysisResult& result);

}  // namespace phasesweep::analysis
