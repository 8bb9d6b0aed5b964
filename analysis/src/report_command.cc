// `phasesweep report` (report.h): loads the data, composes the page, writes it atomically.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "phasesweep/analysis/report.h"
#include "report/report_data.h"
#include "report/report_figures.h"

namespace phasesweep::analysis {

Result<std::string> BuildReport(const ReportRequest& request, std::ostream& log) {
  if (request.max_seed_lines < 0 || request.max_page_seed_lines < 0 || request.max_rows < 1) {
    return Status::InvalidArgument(
        "report: max_seed_lines and max_page_seed_lines must be >= 0 "
        "and max_rows >= 1");
  }
  auto data = report::LoadReportData(request, log);
  if (!data.ok()) return data.status();
  return report::ComposePage(*data, request);
}

Status RunReport(const ReportRequest& request, std::ostream& log) {
  ReportRequest r = request;
  if (r.output_path.empty()) {
    const std::size_t slash = r.results_path.rfind('/');
    r.output_path =
        (slash == std::string::npos ? "" : r.results_path.substr(0, slash + 1)) + "report.html";
  }
  auto page = BuildReport(r, log);
  if (!page.ok()) return page.status();
  const std::string tmp = r.output_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return Status::IOError(r.output_path + ": cannot write the report (" + tmp +
                             " cannot be created)");
    out << *page;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::IOError(r.output_path + ": writing the report failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), r.output_path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError(r.output_path + ": cannot move the report into place");
  }
  log << r.output_path << "\n";
  return Status::Ok();
}

void AddReportCommand(CLI::App& app) {
  auto request = std::make_shared<ReportRequest>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page (inline SVG, works offline) showing the sweep: "
      "answers, bands across seeds with transitions, orderings, effects, phases, tests");
  cmd->add_option("results", request->results_path, "results file (.h5)")->required();
  cmd->add_option("-o,--output", request->output_path,
                  "HTML file to write (default: report.html beside the results file)");
  cmd->add_option("--max-seed-lines", request->max_seed_lines,
                  "seed lines drawn under each band, at most (more are subsampled evenly)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("!--no-analyze", request->analyze,
                "never run the analysis, even when /analysis is missing or stale");
  cmd->callback([request] {
    const Status st = RunReport(*request, std::cout);
    if (!st.ok()) {
      std::cerr << "phasesweep: error: " << st.message() << std::endl;
      throw CLI::RuntimeError(st.ExitCode());
    }
  });
}

}  // namespace phasesweep::analysis
