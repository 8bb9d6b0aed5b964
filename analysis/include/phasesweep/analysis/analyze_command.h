// `phasesweep analyze results.h5 [--metrics a,b] [--json]`: reads every recorded job's traces
// from a results file, runs AnalyzeSweep with the options of the file's resolved config
// (`analysis:` keys, see ApplyAnalysisConfig), prints FormatSummary (or JSON) and stores the
// result under /analysis in the same file (docs/FORMAT.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "phasesweep/analysis/trace_set.h"
#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

struct AnalyzeRequest {
  std::string results_path;
  std::vector<std::string> metrics;  // overrides analysis.metrics when non-empty
  bool json = false;
  bool write = true;  // store the result under /analysis
};

// Reads the `analysis:` mapping of a resolved config (YAML text; empty text or no mapping =
// defaults) into `options`; keys absent from the mapping keep their value in `options`. The keys
// are AnalysisConfigKeys() (docs/STATISTICS.md, "Configuration", gives each with its default).
// InvalidArgument naming the key and the value found for an unknown key, a value of the wrong
// type or one ValidateAnalysisOptions rejects.
Status ApplyAnalysisConfig(const std::string& config_yaml, AnalysisOptions* options);

// Names of the keys ApplyAnalysisConfig reads under `analysis:`, sorted.
std::vector<std::string> AnalysisConfigKeys();

// Runs the command, writing the summary (or JSON) to `out`. Errors: InvalidArgument (exit 2)
// for a file without traces, an unknown metric (the message lists those available) or bad
// `analysis:` keys; the reader's errors (missing or non-phasesweep file) and write errors
// otherwise (exit 1).
Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out);

}  // namespace phasesweep::analysis
