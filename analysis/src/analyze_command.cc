// `phasesweep analyze`: results file -> TraceSet -> AnalyzeSweep -> summary / JSON and the
// /analysis tables (layout in docs/FORMAT.md, "## /analysis (written by phasesweep analyze)").
#include "phasesweep/analysis/analyze_command.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "phasesweep/analysis/analyze.h"
#include "phasesweep/analysis/multiple_testing.h"
#include "phasesweep/base/json.h"
#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/reader.h"
#include "sweep/result_tables.h"

namespace phasesweep::analysis {
namespace {

using storage::Column;
using storage::Table;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Step interval of a transition; -1 when not found.
std::pair<int64_t, int64_t> Interval(const Transition& t) {
  return t.found ? std::make_pair(t.step_lo, t.step_hi) : std::make_pair<int64_t, int64_t>(-1, -1);
}

// Rows of a table as JSON objects.
void WriteJsonRows(const Table& t, std::ostream& out) {
  const std::size_t rows =
      t.columns.empty() ? 0
                        : std::visit([](const auto& v) { return v.size(); }, t.columns[0].values);
  out << "[";
  for (std::size_t i = 0; i < rows; ++i) {
    out << (i ? "," : "") << "{";
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      out << (c ? "," : "") << JsonQuote(t.columns[c].name) << ":";
      std::visit(
          [&](const auto& v) {
            using V = std::decay_t<decltype(v[i])>;
            if constexpr (std::is_same_v<V, std::string>) {
              out << JsonQuote(v[i]);
            } else if constexpr (std::is_same_v<V, double>) {
              out << JsonNumber(v[i]);
            } else {
              out << v[i];
            }
          },
          t.columns[c].values);
    }
    out << "}";
  }
  out << "]";
}

void WriteJson(const AnalysisResult& r, std::ostream& out) {
  out << "{\"metrics\":[";
  for (size_t i = 0; i < r.metrics.size(); ++i) out << (i ? "," : "") << JsonQuote(r.metrics[i]);
  out << "],\"n_jobs\":" << r.n_jobs << ",\"n_jobs_skipped\":" << r.n_jobs_skipped
      << ",\"traces\":[";
  for (size_t i = 0; i < r.traces.size(); ++i) {
    const auto& tr = r.traces[i];
    const auto cp = Interval(tr.changepoint);
    out << (i ? "," : "") << "{\"job_id\":" << JsonQuote(tr.job_id)
        << ",\"metric\":" << JsonQuote(tr.metric) << ",\"grid_index\":" << tr.grid_index
        << ",\"seed\":" << tr.seed << ",\"n_probes\":" << tr.n_probes
        << ",\"n_valid\":" << tr.n_valid << ",\"changepoint_step_lo\":" << cp.first
        << ",\"changepoint_step_hi\":" << cp.second << ",\"pvalue\":" << JsonNumber(tr.pvalue)
        << ",\"significant\":" << (tr.significant ? "true" : "false")
        << ",\"note\":" << JsonQuote(tr.note) << "}";
  }
  out << "]";
  // The cross-seed summaries and hypotheses, row for row as stored under /analysis.
  for (const Table& t : internal::BuildAnalysisTables(r)) {
    if (t.name == "traces" || t.name == "tests" || t.name == "notes") continue;
    out << "," << JsonQuote(t.name) << ":";
    WriteJsonRows(t, out);
  }
  out << ",\"tests\":[";
  for (size_t i = 0; i < r.tests.size(); ++i) {
    const auto& x = r.tests[i];
    out << (i ? "," : "") << "{\"family\":" << JsonQuote(x.family)
        << ",\"description\":" << JsonQuote(x.description) << ",\"test\":" << JsonQuote(x.test)
        << ",\"n\":" << x.n << ",\"statistic\":" << JsonNumber(x.statistic)
        << ",\"pvalue\":" << JsonNumber(x.pvalue)
        << ",\"pvalue_adjusted\":" << JsonNumber(x.pvalue_adjusted)
        << ",\"rejected\":" << (x.rejected ? "true" : "false") << "}";
  }
  out << "],\"notes\":[";
  for (size_t i = 0; i < r.notes.size(); ++i) out << (i ? "," : "") << JsonQuote(r.notes[i]);
  out << "]}\n";
}

// The scalar at a dotted key of a YAML config, if there is one. The resolved config nests one
// level ("task:" then "random_labels:"; a key "a.b.c" is "a:" then "b.c:"), so the remainder
// after the first dot is tried whole before it is split further.
std::optional<std::string> ConfigScalar(const YAML::Node& node, const std::string& dotted) {
  if (!node.IsMap()) return std::nullopt;
  const YAML::Node whole = node[dotted];  // const node: no insertion
  if (whole) {
    if (!whole.IsScalar()) return std::nullopt;
    return whole.as<std::string>();
  }
  const std::size_t dot = dotted.find('.');
  if (dot == std::string::npos) return std::nullopt;
  const YAML::Node child = node[dotted.substr(0, dot)];
  if (!child) return std::nullopt;
  return ConfigScalar(child, dotted.substr(dot + 1));
}

std::optional<std::string> ConfigScalar(const std::string& yaml, const std::string& dotted) {
  if (yaml.empty() || dotted.empty()) return std::nullopt;
  try {
    const YAML::Node root = YAML::Load(yaml);
    return ConfigScalar(root, dotted);
  } catch (const YAML::Exception&) {
    return std::nullopt;  // ApplyAnalysisConfig has already reported unreadable YAML
  }
}

}  // namespace

Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out) {
  auto reader = storage::ResultsReader::Open(request.results_path);
  if (!reader.ok()) return reader.status();
  AnalysisOptions options;
  Status st = ApplyAnalysisConfig(reader->provenance().config_yaml, &options);
  if (!st.ok()) return st.WithContext(request.results_path);
  if (!request.metrics.empty()) options.metrics = request.metrics;
  // A job's hparams hold only the swept keys; a control flag fixed for the whole sweep (a
  // separate random-label run) comes from the stored config.
  const std::optional<std::string> fixed_control =
      ConfigScalar(reader->provenance().config_yaml, options.control_key);

  TraceSet set;
  for (const auto& js : reader->jobs()) {
    auto rec = reader->LoadJob(js.job_id);
    if (!rec.ok()) return rec.status();
    if (rec->trace.metrics.empty()) continue;  // a failed job without traces
    TraceJob job;
    job.job_id = rec->job_id;
    job.seed = rec->seed;
    job.grid_index = rec->grid_index;
    job.hparams = HparamTexts(rec->hparams);
    if (fixed_control && !job.hparams.count(options.control_key)) {
      job.hparams[options.control_key] = *fixed_control;
    }
    job.status = rec->status;
    job.trace = std::move(rec->trace);
    set.jobs.push_back(std::move(job));
  }
  if (set.jobs.empty()) {
    return Status::InvalidArgument(request.results_path + ": no traces (" +
                                   std::to_string(reader->jobs().size()) +
                                   " recorded jobs, none with metrics); run the sweep first");
  }
  const std::vector<std::string> available = AvailableMetrics(set);
  for (const auto& m : options.metrics) {
    bool found = false;
    for (const auto& a : available) found = found || a == m;
    if (!found) {
      return Status::InvalidArgument(request.results_path + ": metric '" + m +
                                     "' is not stored; available: " + JoinNames(available));
    }
  }
  auto result = AnalyzeSweep(set, options);
  if (!result.ok()) return result.status().WithContext(request.results_path);
  if (request.json) {
    WriteJson(*result, out);
  } else {
    out << FormatSummary(*result);
  }
  if (!request.write) return Status::Ok();
  std::map<std::string, std::string> attrs = {{"analyzed_utc", storage::UtcNow()},
                                              {"metrics", JoinNames(result->metrics)}};
  for (const auto& [k, v] : result->settings) {  // repeated settings (thresholds, orderings)
    std::string& a = attrs["setting." + k];
    a += (a.empty() ? "" : ", ") + v;
  }
  return storage::WriteAnalysis(request.results_path, internal::BuildAnalysisTables(*result),
                                attrs);
}

}  // namespace phasesweep::analysis
