// `phasesweep analyze`: results file -> TraceSet -> AnalyzeSweep -> summary / JSON and the
// /analysis tables (layout in docs/FORMAT.md, "## /analysis (written by phasesweep analyze)").
#include "phasesweep/analysis/analyze_command.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/analysis/analyze.h"
#include "phasesweep/analysis/multiple_testing.h"
#include "phasesweep/storage/analysis_tables.h"
#include "phasesweep/storage/reader.h"

namespace phasesweep::analysis {
namespace {

using storage::Column;
using storage::Table;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Step interval of a transition; -1 when not found.
std::pair<int64_t, int64_t> Interval(const Transition& t) {
  return t.found ? std::make_pair(t.step_lo, t.step_hi) : std::make_pair<int64_t, int64_t>(-1, -1);
}

std::vector<Table> BuildTables(const AnalysisResult& r) {
  std::vector<Table> tables;
  {  // one row per job x metric
    Table t;
    t.name = "traces";
    std::vector<std::string> job, metric, note;
    std::vector<int64_t> seed, grid, n_probes, n_valid, n_excluded;
    std::vector<double> pvalue, statistic;
    std::vector<int64_t> significant;
    std::map<TransitionKind, std::pair<std::vector<int64_t>, std::vector<int64_t>>> iv;
    for (const auto& tr : r.traces) {
      job.push_back(tr.job_id);
      metric.push_back(tr.metric);
      note.push_back(tr.note);
      seed.push_back(tr.seed);
      grid.push_back(tr.grid_index);
      n_probes.push_back(static_cast<int64_t>(tr.n_probes));
      n_valid.push_back(static_cast<int64_t>(tr.n_valid));
      n_excluded.push_back(static_cast<int64_t>(tr.excluded.size()));
      pvalue.push_back(tr.pvalue);
      statistic.push_back(tr.statistic);
      significant.push_back(tr.significant ? 1 : 0);
      for (TransitionKind k : kAllTransitionKinds) {
        auto [lo, hi] = Interval(tr.Get(k));
        iv[k].first.push_back(lo);
        iv[k].second.push_back(hi);
      }
    }
    t.columns = {{"job_id", job},
                 {"metric", metric},
                 {"note", note},
                 {"seed", seed},
                 {"grid_index", grid},
                 {"n_probes", n_probes},
                 {"n_valid", n_valid},
                 {"n_excluded_ranges", n_excluded},
                 {"pvalue", pvalue},
                 {"statistic", statistic},
                 {"significant", significant}};
    for (TransitionKind k : kAllTransitionKinds) {
      const std::string name(TransitionKindName(k));
      t.columns.push_back({name + "_step_lo", iv[k].first});
      t.columns.push_back({name + "_step_hi", iv[k].second});
    }
    tables.push_back(std::move(t));
  }
  {  // median transition step per grid point x metric x kind
    Table t;
    t.name = "transitions";
    std::vector<int64_t> grid, n_seeds, n_found;
    std::vector<std::string> metric, kind;
    std::vector<double> est, lo, hi;
    for (const auto& s : r.transitions) {
      grid.push_back(s.grid_index);
      metric.push_back(s.metric);
      kind.push_back(std::string(TransitionKindName(s.kind)));
      n_seeds.push_back(s.n_seeds);
      n_found.push_back(s.n_found);
      est.push_back(s.median_step.estimate);
      lo.push_back(s.median_step.low);
      hi.push_back(s.median_step.high);
    }
    t.columns = {{"grid_index", grid},    {"metric", metric},      {"kind", kind},
                 {"n_seeds", n_seeds},    {"n_found", n_found},    {"median_step", est},
                 {"median_step_low", lo}, {"median_step_high", hi}};
    tables.push_back(std::move(t));
  }
  {  // every p-value of the analysis
    Table t;
    t.name = "tests";
    std::vector<std::string> family, description, test, alternative, method;
    std::vector<int64_t> n, rejected;
    std::vector<double> stat, p, padj;
    for (const auto& x : r.tests) {
      family.push_back(x.family);
      description.push_back(x.description);
      test.push_back(x.test);
      alternative.push_back(x.alternative);
      method.push_back(x.method);
      n.push_back(x.n);
      rejected.push_back(x.rejected ? 1 : 0);
      stat.push_back(x.statistic);
      p.push_back(x.pvalue);
      padj.push_back(x.pvalue_adjusted);
    }
    t.columns = {{"family", family},
                 {"description", description},
                 {"test", test},
                 {"alternative", alternative},
                 {"method", method},
                 {"n", n},
                 {"statistic", stat},
                 {"pvalue", p},
                 {"pvalue_adjusted", padj},
                 {"rejected", rejected}};
    tables.push_back(std::move(t));
  }
  {
    Table t;
    t.name = "notes";
    t.columns = {{"text", r.notes}};
    tables.push_back(std::move(t));
  }
  return tables;
}

void WriteJson(const AnalysisResult& r, std::ostream& out) {
  out << "{\"metrics\":[";
  for (size_t i = 0; i < r.metrics.size(); ++i) out << (i ? "," : "") << JsonString(r.metrics[i]);
  out << "],\"n_jobs\":" << r.n_jobs << ",\"n_jobs_skipped\":" << r.n_jobs_skipped
      << ",\"traces\":[";
  for (size_t i = 0; i < r.traces.size(); ++i) {
    const auto& tr = r.traces[i];
    const auto cp = Interval(tr.changepoint);
    out << (i ? "," : "") << "{\"job_id\":" << JsonString(tr.job_id)
        << ",\"metric\":" << JsonString(tr.metric) << ",\"grid_index\":" << tr.grid_index
        << ",\"seed\":" << tr.seed << ",\"n_probes\":" << tr.n_probes
        << ",\"n_valid\":" << tr.n_valid << ",\"changepoint_step_lo\":" << cp.first
        << ",\"changepoint_step_hi\":" << cp.second << ",\"pvalue\":" << JsonNumber(tr.pvalue)
        << ",\"significant\":" << (tr.significant ? "true" : "false")
        << ",\"note\":" << JsonString(tr.note) << "}";
  }
  out << "],\"tests\":[";
  for (size_t i = 0; i < r.tests.size(); ++i) {
    const auto& x = r.tests[i];
    out << (i ? "," : "") << "{\"family\":" << JsonString(x.family)
        << ",\"description\":" << JsonString(x.description) << ",\"test\":" << JsonString(x.test)
        << ",\"n\":" << x.n << ",\"statistic\":" << JsonNumber(x.statistic)
        << ",\"pvalue\":" << JsonNumber(x.pvalue)
        << ",\"pvalue_adjusted\":" << JsonNumber(x.pvalue_adjusted)
        << ",\"rejected\":" << (x.rejected ? "true" : "false") << "}";
  }
  out << "],\"notes\":[";
  for (size_t i = 0; i < r.notes.size(); ++i) out << (i ? "," : "") << JsonString(r.notes[i]);
  out << "]}\n";
}

}  // namespace

Result<std::map<std::string, std::string>> ParseFlatJsonObject(const std::string& json) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("hparams_json " + json + ": " + what + " at offset " +
                                   std::to_string(i) +
                                   "; expected a flat object of number/string/bool values");
  };
  auto ws = [&] {
    while (i < json.size() && std::isspace(static_cast<unsigned char>(json[i]))) ++i;
  };
  auto str = [&](std::string* s) -> bool {
    if (i >= json.size() || json[i] != '"') return false;
    ++i;
    while (i < json.size() && json[i] != '"') {
      if (json[i] == '\\') {
        if (++i >= json.size()) return false;
        const char e = json[i];
        *s += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \uXXXX is not expected in hparams
      } else {
        *s += json[i];
      }
      ++i;
    }
    if (i >= json.size()) return false;
    ++i;
    return true;
  };
  ws();
  if (i >= json.size() || json[i] != '{') return bad("no '{'");
  ++i;
  ws();
  if (i < json.size() && json[i] == '}') return out;
  while (true) {
    ws();
    std::string key, value;
    if (!str(&key)) return bad("bad key");
    ws();
    if (i >= json.size() || json[i] != ':') return bad("no ':'");
    ++i;
    ws();
    if (i < json.size() && json[i] == '"') {
      if (!str(&value)) return bad("unterminated string");
    } else {
      const size_t start = i;
      while (i < json.size() && json[i] != ',' && json[i] != '}' &&
             !std::isspace(static_cast<unsigned char>(json[i])))
        ++i;
      value = json.substr(start, i - start);
      char* end = nullptr;
      const bool number = !value.empty() && (std::strtod(value.c_str(), &end), *end == '\0');
      if (value != "true" && value != "false" && !number) return bad("bad value '" + value + "'");
    }
    out[key] = value;
    ws();
    if (i < json.size() && json[i] == ',') {
      ++i;
      continue;
    }
    if (i < json.size() && json[i] == '}') return out;
    return bad("no ',' or '}'");
  }
}

Status ApplyAnalysisConfig(const std::string& config_yaml, AnalysisOptions* options) {
  if (config_yaml.empty()) return Status::Ok();
  try {
    const YAML::Node root = YAML::Load(config_yaml);
    if (!root.IsMap() || !root["analysis"]) return Status::Ok();
    const YAML::Node a = root["analysis"];
    if (!a.IsMap()) return Status::InvalidArgument("config key analysis: expected a mapping");
    if (a["metrics"]) {
      options->metrics.clear();
      for (const auto& m : a["metrics"]) options->metrics.push_back(m.as<std::string>());
    }
    if (a["alpha"]) options->alpha = a["alpha"].as<double>();
    if (a["surrogates"]) options->surrogates = a["surrogates"].as<int>();
    if (a["adjust"]) {
      auto adj = ParseAdjustment(a["adjust"].as<std::string>());
      if (!adj.ok())
        return Status::InvalidArgument("config key analysis.adjust: " + adj.status().message());
      options->adjust = *adj;
    }
    if (a["pairs"]) {
      options->orderings.clear();
      for (const auto& p : a["pairs"]) {
        auto pair = ParseOrderingPair(p.as<std::string>());
        if (!pair.ok())
          return Status::InvalidArgument("config key analysis.pairs: " + pair.status().message());
        options->orderings.push_back(*pair);
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("stored config, key analysis: ") + e.what());
  }
  return ValidateAnalysisOptions(*options);
}

Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out) {
  auto reader = storage::ResultsReader::Open(request.results_path);
  if (!reader.ok()) return reader.status();
  AnalysisOptions options;
  Status st = ApplyAnalysisConfig(reader->provenance().config_yaml, &options);
  if (!st.ok()) return st.WithContext(request.results_path);
  if (!request.metrics.empty()) options.metrics = request.metrics;

  TraceSet set;
  for (const auto& js : reader->jobs()) {
    auto rec = reader->LoadJob(js.job_id);
    if (!rec.ok()) return rec.status();
    if (rec->metrics.empty()) continue;  // a failed job without traces
    TraceJob job;
    job.job_id = rec->job_id;
    job.seed = static_cast<int64_t>(rec->seed);
    job.grid_index = rec->grid_index;
    auto hp = ParseFlatJsonObject(rec->hparams_json);
    if (!hp.ok()) return hp.status().WithContext(request.results_path + " job " + rec->job_id);
    job.hparams = std::move(*hp);
    job.steps = std::move(rec->steps);
    job.metrics = std::move(rec->metrics);
    job.status = std::string(storage::JobStatusName(rec->status));
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
  for (const auto& [k, v] : result->settings) attrs["setting." + k] = v;
  return storage::WriteAnalysis(request.results_path, BuildTables(*result), attrs);
}

void AddAnalyzeCommand(CLI::App& app) {
  auto request = std::make_shared<AnalyzeRequest>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Detect phase transitions in every trace of a results file, test them across "
      "seeds, print a summary and store it under /analysis");
  cmd->add_option("results", request->results_path, "results file (.h5)")->required();
  cmd->add_option("--metrics", request->metrics,
                  "metrics to analyse (default: analysis.metrics of the config, else all)")
      ->delimiter(',');
  cmd->add_flag("--json", request->json, "print the result as JSON");
  cmd->callback([request] {
    const Status st = RunAnalyze(*request, std::cout);
    if (!st.ok()) {
      std::cerr << "phasesweep: error: " << st.message() << std::endl;
      throw CLI::RuntimeError(st.ExitCode());
    }
  });
}

}  // namespace phasesweep::analysis
