// `phasesweep export`: a results file as a tidy long CSV table that pandas (read_csv) and R
// (read.csv) read directly, one row per (job, metric, step):
//
//   job_id,seed,<grid key 1>,...,<grid key n>,step,metric,value
//
// Rows are ordered by job (grid_index, seed, job_id), then metric name, then step.
// Grid keys are the union of the selected jobs' hparams keys in first-seen order (a key named
// like a fixed column gets the prefix "hp_"); a job without a key leaves the cell empty. Values
// are written with the fewest digits that read back to the same double; non-finite values as
// NaN, Inf, -Inf (both readers parse these). Strings are quoted per RFC 4180 when needed.
//
// The --jobs filter: comma-separated conditions key=value, all of which must hold; a value may
// list alternatives separated by '|'. Keys: job_id, seed, status, grid_index, or any grid key.
// Numbers compare as numbers (lr=0.001 matches 1e-3), everything else as text.
// Example: --jobs "weight_decay=0.1|1,status=done".
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phasesweep/base/hparams.h"
#include "phasesweep/base/status.h"
#include "phasesweep/storage/reader.h"

namespace phasesweep::storage {

class JobsFilter {
 public:
  struct Condition {
    std::string key;
    std::vector<std::string> alternatives;
  };

  // Parses the syntax above; InvalidArgument naming the bad condition. "" selects every job.
  static Result<JobsFilter> Parse(std::string_view text);
  // InvalidArgument naming an unknown key and the valid ones.
  Status CheckKeys(const std::vector<std::string>& grid_keys) const;
  bool Matches(const JobSummary& job, const Hparams& hparams) const;
  const std::vector<Condition>& conditions() const { return conditions_; }

 private:
  std::vector<Condition> conditions_;
};

struct ExportOptions {
  std::string results_path;
  std::string csv_path;              // "-" writes to the given stream
  std::vector<std::string> metrics;  // empty = every metric of each job
  std::string jobs_filter;           // JobsFilter syntax
};

// Writes the table for the jobs `filter` selects from `reader` to `out`. InvalidArgument for an
// unknown filter key or a metric no selected job has (listing those that exist).
Status WriteTidyCsv(const ResultsReader& reader, const std::vector<std::string>& metrics,
                    const JobsFilter& filter, std::ostream& out);

// The whole command: opens the file, writes options.csv_path atomically (a temporary file
// renamed into place, so a failed export leaves no half-written CSV) or to `stdout_stream`
// when csv_path is "-".
Status RunExport(const ExportOptions& options, std::ostream& stdout_stream);

}  // namespace phasesweep::storage
