// Internal to the report (report.h): everything the page shows, read from one results file.
// The /analysis tables are used as stored (docs/FORMAT.md is their contract); seed traces are
// loaded from /jobs only for the seeds that will be drawn.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/analysis/report.h"
#include "phasesweep/base/status.h"
#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::analysis::report {

// Read access to one /analysis table by column name. A missing table or column reads as empty
// strings, NaN and -1, so an older analysis without some column still renders.
class TableView {
 public:
  TableView() = default;
  explicit TableView(const storage::Table* table);
  std::size_t rows() const { return rows_; }
  double D(const std::string& column, std::size_t row) const;
  std::int64_t I(const std::string& column, std::size_t row) const;
  std::string S(const std::string& column, std::size_t row) const;

 private:
  const storage::Column* Find(const std::string& column) const;
  const storage::Table* table_ = nullptr;
  std::size_t rows_ = 0;
};

// One seed's trace of one metric, drawn under its band.
struct SeedLine {
  std::string job_id;
  std::uint64_t seed = 0;
  std::vector<double> steps, values;
};

struct FailedJob {
  std::string job_id, status, error;
  std::uint64_t seed = 0;
  std::int64_t grid_index = 0;
};

struct ReportData {
  std::string path;
  storage::Provenance provenance;
  std::string study;  // `name:` of the config
  storage::LedgerCounts counts;
  std::int64_t recorded_jobs = 0;
  std::map<std::int64_t, std::string> grid_labels;  // grid_index -> "lr=0.001, wd=1"
  std::map<std::int64_t, std::map<std::string, std::string>> grid_hparams;
  std::vector<FailedJob> failed;  // failed and diverged jobs, by grid point and seed
  bool log_steps = false;         // probes.schedule: log (or steps that look log-spaced)

  bool has_analysis = false;
  std::string no_analysis_reason;  // when !has_analysis
  std::string analysis_note;       // e.g. "analysis run now: /analysis was older than ..."
  std::map<std::string, std::string> analysis_attributes;
  std::map<std::string, storage::Table> tables;
  std::vector<std::string> metrics;  // analysed
  std::int64_t max_seeds_per_grid = 0;

  // (metric, grid_index) -> seed lines drawn, and how many jobs have the metric there.
  std::map<std::pair<std::string, std::int64_t>, std::vector<SeedLine>> seed_lines;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> seed_counts;

  TableView Table(const std::string& name) const;
};

// Opens the file (InvalidArgument naming it when it is not a results file), runs the analysis
// when requested and needed, reads /analysis and the drawn seed traces.
Result<ReportData> LoadReportData(const ReportRequest& request, std::ostream& log);

}  // namespace phasesweep::analysis::report
