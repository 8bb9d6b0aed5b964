// `phasesweep analyze results.h5 [--metrics a,b] [--json]`: reads every recorded job's traces
// from a results file, runs AnalyzeSweep with the options of the file's resolved config
// (`analysis:` keys metrics, alpha, adjust, surrogates, pairs), prints FormatSummary (or JSON)
// and stores the result under /analysis in the same file (docs/FORMAT.md).
#pragma once

#include <CLI/CLI.hpp>
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

// Reads the `analysis:` mapping of a resolved config (YAML text; empty text = defaults) into
// `options`: metrics (list), alpha, adjust (holm|bh), surrogates, pairs (list of "A<B").
// InvalidArgument naming the key and the value found otherwise.
Status ApplyAnalysisConfig(const std::string& config_yaml, AnalysisOptions* options);

// Parses a flat JSON object of key -> number/string/bool into key -> value text (numbers as
// written, strings unescaped, true/false). InvalidArgument for anything else.
Result<std::map<std::string, std::string>> ParseFlatJsonObject(const std::string& json);

// Runs the command, writing the summary (or JSON) to `out`. Errors: InvalidArgument (exit 2)
// for a file without traces, an unknown metric (the message lists those available) or bad
// `analysis:` keys; the reader's errors (missing or non-phasesweep file) and write errors
// otherwise (exit 1).
Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out);

// Adds `analyze` to `app`. On failure the callback prints "phasesweep: error: ..." to stderr and
// throws CLI::RuntimeError(status.ExitCode()).
void AddAnalyzeCommand(CLI::App& app);

}  // namespace phasesweep::analysis
