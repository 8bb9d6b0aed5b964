// `phasesweep status | export | analyze | report`: options into requests for storage/ and
// analysis/, errors to exit_status.h.
#include <iostream>
#include <memory>
#include <string>

#include "library_commands.h"
#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/analysis/report.h"
#include "phasesweep/app/exit_status.h"
#include "phasesweep/storage/commands.h"
#include "phasesweep/storage/export.h"

namespace phasesweep::app {
namespace {

// A subcommand whose one positional argument is a results file; `run` does its work.
CLI::App* OnResultsFile(CLI::App& app, const std::string& name, const std::string& description,
                        std::string* results_path, const std::string& path_help) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("results", *results_path, path_help)->required();
  return command;
}

}  // namespace

void AddResultsCommands(CLI::App& app) {
  auto status_path = std::make_shared<std::string>();
  CLI::App* status = OnResultsFile(app, "status",
                                   "Count done / failed / diverged / running / pending jobs, "
                                   "overall and per grid point (reads unmerged shards too)",
                                   status_path.get(), "results file (e.g. results.h5)");
  status->callback([status_path] { ExitOnError(storage::RunStatus(*status_path, std::cout)); });

  auto opts = std::make_shared<storage::ExportOptions>();
  CLI::App* exp = OnResultsFile(app, "export",
                                "Write traces as a tidy long CSV table (job_id, seed, grid keys, "
                                "step, metric, value) for pandas or R",
                                &opts->results_path, "results file (e.g. results.h5)");
  exp->add_option("--csv", opts->csv_path, "output CSV file, or - for standard output")->required();
  exp->add_option("--metrics", opts->metrics, "only these metrics (comma-separated)")
      ->delimiter(',');
  exp->add_option("--jobs", opts->jobs_filter,
                  "only jobs matching key=value[,key=value]; a value may be v1|v2; keys: job_id, "
                  "seed, status, grid_index or any grid key (e.g. lr=0.001,status=done)");
  exp->callback([opts] { ExitOnError(storage::RunExport(*opts, std::cout)); });

  auto analyze = std::make_shared<analysis::AnalyzeRequest>();
  CLI::App* cmd = OnResultsFile(app, "analyze",
                                "Detect phase transitions in every trace of a results file, test "
                                "them across seeds, print a summary and store it under /analysis",
                                &analyze->results_path, "results file (.h5)");
  cmd->add_option("--metrics", analyze->metrics,
                  "metrics to analyse (default: analysis.metrics of the config, else all)")
      ->delimiter(',');
  cmd->add_flag("--json", analyze->json, "print the result as JSON");
  cmd->callback([analyze] { ExitOnError(analysis::RunAnalyze(*analyze, std::cout)); });

  auto report = std::make_shared<analysis::ReportRequest>();
  CLI::App* page = OnResultsFile(app, "report",
                                 "Write one self-contained HTML page (inline SVG, works offline) "
                                 "showing the sweep: answers, bands across seeds with "
                                 "transitions, orderings, effects, phases, tests",
                                 &report->results_path, "results file (.h5)");
  page->add_option("-o,--output", report->output_path,
                   "HTML file to write (default: report.html beside the results file)");
  page->add_option("--max-seed-lines", report->max_seed_lines,
                   "seed lines drawn under each band, at most (more are subsampled evenly)")
      ->check(CLI::NonNegativeNumber);
  page->add_flag("!--no-analyze", report->analyze,
                 "never run the analysis, even when /analysis is missing or stale");
  page->callback([report] { ExitOnError(analysis::RunReport(*report, std::cout)); });
}

}  // namespace phasesweep::app
