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

}  // namespace phasesweep::analysis
