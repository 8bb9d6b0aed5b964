// Tidy CSV export and the --jobs filter (see export.h).
#include "phasesweep/storage/export.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fs.h"
#include "phasesweep/base/number_format.h"

namespace phasesweep::storage {
namespace {

const std::set<std::string> kFixedColumns = {"job_id", "seed", "step", "metric", "value"};
const std::vector<std::string> kJobKeys = {"job_id", "seed", "status", "grid_index"};

bool ParseNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool ValueMatches(const std::string& actual, const std::string& wanted) {
  double a = 0, w = 0;
  if (ParseNumber(actual, &a) && ParseNumber(wanted, &w)) return a == w;
  return actual == wanted;
}

void WriteCell(std::ostream& out, const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

void WriteDouble(std::ostream& out, double v) {
  if (std::isnan(v)) {
    out << "NaN";
  } else if (std::isinf(v)) {
    out << (v > 0 ? "Inf" : "-Inf");
  } else {
    out << FormatDouble(v);  // shortest round-trip form
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Result<JobsFilter> JobsFilter::Parse(std::string_view text) {
  JobsFilter f;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string cond(text.substr(pos, comma - pos));
    pos = comma + 1;
    const size_t eq = cond.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == cond.size()) {
      return Status::InvalidArgument(
          "--jobs: condition '" + cond +
          "' is not key=value (example: --jobs lr=0.001|0.01,status=done)");
    }
    Condition c;
    c.key = cond.substr(0, eq);
    std::string values = cond.substr(eq + 1);
    for (size_t p = 0;;) {
      size_t bar = values.find('|', p);
      std::string alt = values.substr(p, bar == std::string::npos ? bar : bar - p);
      if (alt.empty()) return Status::InvalidArgument("--jobs: empty value in '" + cond + "'");
      c.alternatives.push_back(alt);
      if (bar == std::string::npos) break;
      p = bar + 1;
    }
    f.conditions_.push_back(std::move(c));
  }
  return f;
}

Status JobsFilter::CheckKeys(const std::vector<std::string>& grid_keys) const {
  for (const Condition& c : conditions_) {
    if (std::find(kJobKeys.begin(), kJobKeys.end(), c.key) != kJobKeys.end()) continue;
    if (std::find(grid_keys.begin(), grid_keys.end(), c.key) != grid_keys.end()) continue;
    std::vector<std::string> valid = kJobKeys;
    valid.insert(valid.end(), grid_keys.begin(), grid_keys.end());
    return Status::InvalidArgument("--jobs: unknown key '" + c.key +
                                   "'; valid keys: " + Join(valid));
  }
  return Status::Ok();
}

bool JobsFilter::Matches(const JobSummary& job, const Hparams& hparams) const {
  for (const Condition& c : conditions_) {
    std::string actual;
    bool found = true;
    if (c.key == "job_id") {
      actual = job.job_id;
    } else if (c.key == "seed") {
      actual = std::to_string(job.seed);
    } else if (c.key == "status") {
      actual = std::string(JobStatusName(job.status));
    } else if (c.key == "grid_index") {
      actual = std::to_string(job.grid_index);
    } else {
      auto it = hparams.find(c.key);
      found = it != hparams.end();
      if (found) actual = it->second.text;
    }
    if (!found) return false;
    bool any = false;
    for (const std::string& alt : c.alternatives) any = any || ValueMatches(actual, alt);
    if (!any) return false;
  }
  return true;
}

Status WriteTidyCsv(const ResultsReader& reader, const std::vector<std::string>& metrics,
                    const JobsFilter& filter, std::ostream& out) {
  // Grid keys in first-seen order over all jobs, so a filter may name any of them.
  std::vector<std::string> keys;
  for (const JobSummary& j : reader.jobs()) {
    for (const auto& kv : j.hparams) {
      if (std::find(keys.begin(), keys.end(), kv.first) == keys.end()) keys.push_back(kv.first);
    }
  }
  PHASESWEEP_RETURN_IF_ERROR(filter.CheckKeys(keys));
  std::vector<size_t> selected;
  for (size_t i = 0; i < reader.jobs().size(); ++i) {
    if (filter.Matches(reader.jobs()[i], reader.jobs()[i].hparams)) selected.push_back(i);
  }
  // Each job's metric names; requested metrics must exist somewhere.
  std::vector<std::vector<std::string>> job_metrics;
  std::set<std::string> available;
  for (size_t i : selected) {
    auto names = reader.MetricNames(reader.jobs()[i].job_id);
    if (!names.ok()) return names.status();
    available.insert(names->begin(), names->end());
    job_metrics.push_back(std::move(*names));
  }
  for (const std::string& m : metrics) {
    if (available.count(m) == 0) {
      return Status::InvalidArgument(
          "--metrics: no selected job has metric '" + m +
          "'; available: " + Join(std::vector<std::string>(available.begin(), available.end())));
    }
  }
  out << "job_id,seed";
  for (const std::string& k : keys) {
    out << ',';
    WriteCell(out, kFixedColumns.count(k) ? "hp_" + k : k);
  }
  out << ",step,metric,value\n";
  for (size_t s = 0; s < selected.size(); ++s) {
    const JobSummary& job = reader.jobs()[selected[s]];
    std::vector<std::string> wanted;
    for (const std::string& m : job_metrics[s]) {
      if (metrics.empty() || std::find(metrics.begin(), metrics.end(), m) != metrics.end()) {
        wanted.push_back(m);
      }
    }
    if (wanted.empty()) continue;
    auto rec = reader.LoadJob(job.job_id, LoadOptions{wanted, false});
    if (!rec.ok()) return rec.status();
    // The row prefix (job, seed, grid values) is the same for every row of the job.
    std::ostringstream prefix;
    WriteCell(prefix, job.job_id);
    prefix << ',' << job.seed;
    for (const std::string& k : keys) {
      prefix << ',';
      const Hparams& hp = job.hparams;
      auto it = hp.find(k);
      if (it != hp.end()) WriteCell(prefix, it->second.text);
    }
    const std::string row_start = prefix.str();
    for (const auto& [name, values] : rec->trace.metrics) {
      for (size_t i = 0; i < values.size(); ++i) {
        out << row_start << ',' << rec->trace.steps[i] << ',';
        WriteCell(out, name);
        out << ',';
        WriteDouble(out, values[i]);
        out << '\n';
      }
    }
  }
  if (!out) return Status::IOError("writing the CSV failed");
  return Status::Ok();
}

Status RunExport(const ExportOptions& options, std::ostream& stdout_stream) {
  auto filter = JobsFilter::Parse(options.jobs_filter);
  if (!filter.ok()) return filter.status();
  if (options.csv_path.empty()) return Status::InvalidArgument("--csv: no output path given");
  auto reader = ResultsReader::Open(options.results_path);
  if (!reader.ok()) return reader.status();
  if (options.csv_path == "-")
    return WriteTidyCsv(*reader, options.metrics, *filter, stdout_stream);
  if (detail::Inspect(options.csv_path) == detail::PathKind::kDirectory) {
    return Status::InvalidArgument("--csv: " + options.csv_path +
                                   " is a directory; give a file name such as " + options.csv_path +
                                   "/traces.csv");
  }
  const std::string tmp = options.csv_path + ".tmp-" + std::to_string(::getpid());
  Status s;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Status::IOError("--csv: cannot create " + options.csv_path + ": " +
                             detail::ErrnoText(errno));
    }
    s = WriteTidyCsv(*reader, options.metrics, *filter, out);
    out.close();
    if (s.ok() && !out) s = Status::IOError("--csv: writing " + options.csv_path + " failed");
  }
  if (s.ok()) s = detail::RenameDurable(tmp, options.csv_path);
  if (!s.ok()) (void)detail::RemoveFile(tmp);
  return s;
}

}  // namespace phasesweep::storage
