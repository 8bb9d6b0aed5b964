// LoadReportData (report_data.h): the results file, its /analysis tables (run first when missing
// or older than the last merge) and the seed traces the bands draw.
#include "report/report_data.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "phasesweep/analysis/analyze_command.h"
#include "phasesweep/storage/reader.h"
#include "report/report_svg.h"

namespace phasesweep::analysis::report {
namespace {

// Failed and diverged jobs whose error is read (each costs one job load); the rest are counted.
constexpr std::size_t kMaxFailedLoaded = 500;

std::string YamlScalar(const std::string& yaml, const std::vector<std::string>& keys) {
  try {
    YAML::Node node = YAML::Load(yaml);
    for (const auto& k : keys) {
      if (!node.IsMap()) return "";
      node = node[k];
      if (!node) return "";
    }
    return node.IsScalar() ? node.as<std::string>() : "";
  } catch (const YAML::Exception&) {
    return "";  // an unreadable config only loses the study name on the page
  }
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(", ", start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

// Steps that look log-spaced: positive and growing gaps spanning over two decades.
bool LooksLogSpaced(const std::vector<std::int64_t>& steps) {
  if (steps.size() < 8 || steps.front() <= 0) return false;
  if (steps.back() < 100 * steps.front()) return false;
  const std::size_t n = steps.size();
  const double early = static_cast<double>(steps[2] - steps[1]);
  const double late = static_cast<double>(steps[n - 1] - steps[n - 2]);
  return late > 10 * early;
}

bool Stale(const std::map<std::string, std::string>& attributes,
           const storage::Provenance& provenance) {
  auto it = attributes.find("analyzed_utc");
  if (it == attributes.end()) return true;
  // ISO 8601 UTC strings of one format compare as text.
  return !provenance.last_merge_utc.empty() && it->second < provenance.last_merge_utc;
}

}  // namespace

TableView::TableView(const storage::Table* table) : table_(table) {
  if (table_ && !table_->columns.empty()) {
    rows_ = std::visit([](const auto& v) { return v.size(); }, table_->columns.front().values);
  }
}

const storage::Column* TableView::Find(const std::string& column) const {
  if (!table_) return nullptr;
  for (const auto& c : table_->columns)
    if (c.name == column) return &c;
  return nullptr;
}

double TableView::D(const std::string& column, std::size_t row) const {
  const storage::Column* c = Find(column);
  if (!c) return std::numeric_limits<double>::quiet_NaN();
  if (auto* d = std::get_if<std::vector<double>>(&c->values))
    return row < d->size() ? (*d)[row] : std::numeric_limits<double>::quiet_NaN();
  if (auto* i = std::get_if<std::vector<int64_t>>(&c->values))
    return row < i->size() ? static_cast<double>((*i)[row])
                           : std::numeric_limits<double>::quiet_NaN();
  return std::numeric_limits<double>::quiet_NaN();
}

std::int64_t TableView::I(const std::string& column, std::size_t row) const {
  const storage::Column* c = Find(column);
  if (!c) return -1;
  if (auto* i = std::get_if<std::vector<int64_t>>(&c->values))
    return row < i->size() ? (*i)[row] : -1;
  if (auto* d = std::get_if<std::vector<double>>(&c->values)) {
    return row < d->size() && std::isfinite((*d)[row]) ? static_cast<std::int64_t>((*d)[row]) : -1;
  }
  return -1;
}

std::string TableView::S(const std::string& column, std::size_t row) const {
  const storage::Column* c = Find(column);
  if (!c) return "";
  if (auto* s = std::get_if<std::vector<std::string>>(&c->values))
    return row < s->size() ? (*s)[row] : "";
  return "";
}

TableView ReportData::Table(const std::string& name) const {
  auto it = tables.find(name);
  return TableView(it == tables.end() ? nullptr : &it->second);
}

namespace {

Status ReadTables(const std::string& path, ReportData* data) {
  data->analysis_attributes.clear();
  auto tables = storage::ReadAnalysis(path, &data->analysis_attributes);
  if (!tables.ok()) return tables.status();
  data->tables.clear();
  for (auto& t : *tables) data->tables[t.name] = std::move(t);
  data->has_analysis = !data->tables.empty();
  data->metrics = SplitList(data->analysis_attributes["metrics"]);
  return Status::Ok();
}

// Runs the analysis when /analysis is missing or older than the last merge.
Status RefreshAnalysis(const ReportRequest& request, ReportData* data, std::ostream& log) {
  PHASESWEEP_RETURN_IF_ERROR(ReadTables(request.results_path, data));
  const bool stale = data->has_analysis && Stale(data->analysis_attributes, data->provenance);
  if (!request.analyze && !data->has_analysis) {
    data->no_analysis_reason =
        "the file has no /analysis and the report was asked not to run it (--no-analyze); run "
        "`phasesweep analyze " +
        request.results_path + "`";
  }
  if (!request.analyze || (data->has_analysis && !stale)) return Status::Ok();
  const std::string why = data->has_analysis ? "/analysis is older than the last merge (" +
                                                   data->provenance.last_merge_utc + ")"
                                             : "the file has no /analysis yet";
  log << "phasesweep report: analysing " << request.results_path << " first: " << why << "\n";
  AnalyzeRequest analyze;
  analyze.results_path = request.results_path;
  std::ostringstream summary;  // the printed summary is not part of the report's output
  const Status st = RunAnalyze(analyze, summary);
  if (st.ok()) {
    data->analysis_note = "The analysis was run for this report because " + why + ".";
    return ReadTables(request.results_path, data);
  }
  if (data->has_analysis) {  // e.g. a sweep holds the writer lock: show the older analysis
    data->analysis_note =
        "This analysis is older than the last merge; refreshing it failed: " + st.message();
    return Status::Ok();
  }
  if (st.code() == Status::Code::kInvalidArgument && data->counts.done == 0) {
    data->no_analysis_reason = st.message();
    return Status::Ok();
  }
  return st;
}

Status LoadSeedLines(const storage::ResultsReader& reader, const ReportRequest& request,
                     ReportData* data) {
  std::map<std::int64_t, std::vector<const storage::JobSummary*>> by_grid;
  for (const auto& j : reader.jobs()) {
    if (j.status == JobStatus::kFailed || j.status == JobStatus::kPending) continue;
    by_grid[j.grid_index].push_back(&j);  // jobs() is sorted by seed within a grid point
  }
  for (const auto& [g, jobs] : by_grid)
    data->max_seeds_per_grid =
        std::max<std::int64_t>(data->max_seeds_per_grid, static_cast<std::int64_t>(jobs.size()));
  if (data->metrics.empty() || by_grid.empty()) return Status::Ok();
  const std::size_t bands = data->metrics.size() * by_grid.size();
  const std::size_t per_band = std::max<std::size_t>(
      std::min<std::size_t>(3, request.max_seed_lines),
      std::min<std::size_t>(request.max_seed_lines, request.max_page_seed_lines / bands));
  storage::LoadOptions options;
  options.metrics = data->metrics;
  std::vector<int64_t> first_steps;
  for (const auto& [g, jobs] : by_grid) {
    for (const auto& m : data->metrics)
      data->seed_counts[{m, g}] = static_cast<std::int64_t>(jobs.size());
    for (std::size_t idx : Subsample(jobs.size(), per_band)) {
      auto rec = reader.LoadJob(jobs[idx]->job_id, options);
      if (!rec.ok()) rec = reader.LoadJob(jobs[idx]->job_id);  // lacks one of the metrics
      if (!rec.ok()) return rec.status();
      if (first_steps.empty()) first_steps = rec->trace.steps;
      for (const auto& m : data->metrics) {
        auto it = rec->trace.metrics.find(m);
        if (it == rec->trace.metrics.end()) continue;
        SeedLine line;
        line.job_id = rec->job_id;
        line.seed = rec->seed;
        line.steps.assign(rec->trace.steps.begin(), rec->trace.steps.end());
        line.values = it->second;
        data->seed_lines[{m, g}].push_back(std::move(line));
      }
    }
  }
  if (!data->log_steps) data->log_steps = LooksLogSpaced(first_steps);
  return Status::Ok();
}

}  // namespace

Result<ReportData> LoadReportData(const ReportRequest& request, std::ostream& log) {
  ReportData data;
  data.path = request.results_path;
  auto reader = storage::ResultsReader::Open(request.results_path);
  if (!reader.ok()) {  // missing, not HDF5, not ours: invalid input, exit 2
    return Status::InvalidArgument(reader.status().message());
  }
  data.provenance = reader->provenance();
  data.study = YamlScalar(data.provenance.config_yaml, {"name"});
  data.log_steps = YamlScalar(data.provenance.config_yaml, {"probes", "schedule"}) == "log";
  auto ledger = storage::Ledger::Read(request.results_path);
  if (!ledger.ok()) return Status::InvalidArgument(ledger.status().message());
  data.counts = ledger->Totals();
  data.recorded_jobs = static_cast<std::int64_t>(reader->jobs().size());
  for (const auto& e : ledger->entries()) {
    if (data.grid_labels.count(e.grid_index)) continue;
    std::map<std::string, std::string> hp = HparamTexts(e.hparams);
    std::string label;
    for (const auto& [k, v] : hp) label += (label.empty() ? "" : ", ") + k + "=" + v;
    data.grid_hparams[e.grid_index] = std::move(hp);
    data.grid_labels[e.grid_index] = label;
  }
  for (const auto& j : reader->jobs()) {
    if (j.status != JobStatus::kFailed && j.status != JobStatus::kDiverged) continue;
    FailedJob f{j.job_id, std::string(JobStatusName(j.status)), "", j.seed, j.grid_index};
    if (data.failed.size() < kMaxFailedLoaded) {
      auto rec = reader->LoadJob(j.job_id);
      f.error = rec.ok() ? rec->error : "(record unreadable: " + rec.status().message() + ")";
    }
    data.failed.push_back(std::move(f));
  }
  PHASESWEEP_RETURN_IF_ERROR(RefreshAnalysis(request, &data, log));
  PHASESWEEP_RETURN_IF_ERROR(LoadSeedLines(*reader, request, &data));
  return data;
}

}  // namespace phasesweep::analysis::report
