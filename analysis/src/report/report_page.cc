// The report page (report_figures.h, ComposePage): style, answers, provenance, what the data
// allows, the figure sections, and the tables of tests, failed jobs and notes.
#include <algorithm>
#include <vector>

#include "phasesweep/storage/records.h"
#include "report/report_figures.h"

namespace phasesweep::analysis::report {
namespace {

constexpr std::size_t kMaxFailedRows = 500;

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;
max-width:1400px;padding:16px 24px 48px;color:#222;line-height:1.4;font-size:15px}
h1{margin:0 0 4px;font-size:26px}h2{margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}
h3{margin:24px 0 6px}.sub{color:#555;margin:0}nav a{margin-right:14px}
.answers li{margin:4px 0}.answers b{display:inline-block;min-width:10em}
dl.prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dl.prov dt{color:#555}
dl.prov dd{margin:0;word-break:break-all}
.banner{background:#fff4e0;border-left:4px solid #E69F00;padding:8px 12px;margin:12px 0}
.figs{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0 0 12px;max-width:100%}
figure.band{width:430px}
figcaption{font-size:13px;color:#333;max-width:900px}figcaption ul{margin:4px 0;padding-left:18px}
svg{font-size:11px;background:#fff;max-width:100%;height:auto}svg .lbl{font-size:12px;fill:#222}
svg .small{font-size:10px}svg text{fill:#333}
.legend{font-size:13px;margin:4px 0 8px}.sw{margin-right:14px;white-space:nowrap}
.sw i{display:inline-block;width:14px;height:10px;margin-right:5px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border-bottom:1px solid #ddd;
padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.rejected td{background:#e8f4ec}
.note{color:#555}pre{white-space:pre-wrap;font-size:12px;background:#f7f7f7;padding:8px}
)";

std::string Attr(const ReportData& data, const std::string& name) {
  auto it = data.analysis_attributes.find(name);
  return it == data.analysis_attributes.end() ? "" : it->second;
}

std::string Answers(const ReportData& data) {
  const TableView t = data.Table("answers");
  std::string out = "<section id=\"answers\"><h2>Answers</h2>";
  if (t.rows() == 0)
    return out + "<p class=\"note\">no answers stored (older analysis)</p></section>";
  std::vector<std::size_t> rows(t.rows());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
  std::stable_sort(rows.begin(), rows.end(),
                   [&](std::size_t a, std::size_t b) { return t.I("id", a) < t.I("id", b); });
  out += "<ol class=\"answers\">";
  for (std::size_t r : rows) {
    // An answer reads "N. Title: text"; the list numbers it, so the title is shown in bold in
    // place of the number (the topic when the answer has no such title).
    std::string title = t.S("topic", r), text = t.S("answer", r);
    const std::string prefix = std::to_string(t.I("id", r)) + ". ";
    const std::size_t colon = text.find(": ");
    if (text.compare(0, prefix.size(), prefix) == 0 && colon != std::string::npos) {
      title = text.substr(prefix.size(), colon - prefix.size());
      text = text.substr(colon + 2);
    }
    out += "<li value=\"" + std::to_string(t.I("id", r)) + "\"><b>" + Esc(title) + "</b> " +
           Esc(text) + "</li>";
  }
  return out + "</ol></section>";
}

std::string Provenance(const ReportData& data) {
  const storage::Provenance& p = data.provenance;
  const storage::LedgerCounts& c = data.counts;
  auto row = [](const std::string& k, const std::string& v) {
    return v.empty() ? std::string() : "<dt>" + Esc(k) + "</dt><dd>" + Esc(v) + "</dd>";
  };
  std::string jobs = std::to_string(c.total()) + " planned: " + std::to_string(c.done) + " done, " +
                     std::to_string(c.failed) + " failed, " + std::to_string(c.diverged) +
                     " diverged, " + std::to_string(c.running) + " running, " +
                     std::to_string(c.pending) + " pending";
  std::string settings;
  for (const char* k :
       {"alpha", "adjust", "surrogate", "surrogates", "bootstrap", "confidence", "seed"})
    if (!Attr(data, std::string("setting.") + k).empty())
      settings += (settings.empty() ? "" : ", ") + std::string(k) + " " +
                  Attr(data, std::string("setting.") + k);
  std::string out =
      "<section id=\"provenance\"><h2>Provenance</h2><dl class=\"prov\">" +
      row("study", data.study) + row("results file", data.path) +
      row("config hash", p.config_hash) + row("jobs", jobs) + row("command line", p.command_line) +
      row("phasesweep",
          p.phasesweep_version + (p.git_commit.empty() ? "" : " (" + p.git_commit + ")")) +
      row("LibTorch", p.libtorch_version) + row("MPI", p.mpi_version) +
      row("HDF5", p.hdf5_version) + row("created", p.created_utc) +
      row("last merge", p.last_merge_utc) + row("analysed", Attr(data, "analyzed_utc")) +
      row("metrics analysed", Attr(data, "metrics")) + row("analysis settings", settings) +
      row("step axis", data.log_steps ? "log (log-spaced probes)" : "linear") + "</dl>";
  if (!p.config_yaml.empty())
    out += "<details><summary>resolved config</summary><pre>" + Esc(p.config_yaml) +
           "</pre></details>";
  return out + "</section>";
}

// What the data allows: empty sweep, no finished job, no analysis, too few seeds.
std::string Banners(const ReportData& data) {
  std::string out;
  auto banner = [&](const std::string& text) {
    out += "<p class=\"banner\">" + Esc(text) + "</p>";
  };
  const storage::LedgerCounts& c = data.counts;
  if (c.total() == 0 && data.recorded_jobs == 0) {
    banner(
        "This sweep is empty: the file holds no planned or recorded job, so there is nothing to "
        "show.");
  } else if (data.recorded_jobs == 0) {
    banner("This sweep has no recorded job yet: " + std::to_string(c.total()) + " planned, " +
           std::to_string(c.pending) +
           " pending. Run it (or resume it) and make the report again.");
  } else if (c.done == 0 && c.failed + c.diverged > 0) {
    banner("No job finished normally: " + std::to_string(c.failed) + " failed and " +
           std::to_string(c.diverged) +
           " diverged. Their errors are in the table \"Failed and diverged jobs\" below.");
  }
  if (!data.has_analysis && !data.no_analysis_reason.empty())
    banner("No analysis could be made: " + data.no_analysis_reason);
  if (!data.analysis_note.empty()) banner(data.analysis_note);
  if (data.has_analysis && data.max_seeds_per_grid == 1) {
    banner(
        "Each grid point has a single seed. Its traces are shown, but the statistics across seeds "
        "need more: the "
        "interquartile bands and the intervals of the median transition steps need at least 2 "
        "seeds per grid "
        "point, the ordering tests (Wilcoxon, sign) at least 6 to reach p < 0.05 two-sided, and "
        "the effect tests "
        "at least 2 seeds per level.");
  } else if (data.has_analysis && data.max_seeds_per_grid > 1 && data.max_seeds_per_grid < 6) {
    banner("At most " + std::to_string(data.max_seeds_per_grid) +
           " seeds per grid point: the two-sided ordering tests "
           "(Wilcoxon, sign) cannot reach p < 0.05 with fewer than 6 seeds.");
  }
  return out;
}

std::string TestsTable(const ReportData& data) {
  const TableView t = data.Table("tests");
  std::string out = "<h3 id=\"tests\">Every test</h3>";
  if (t.rows() == 0) return out + "<p class=\"note\">No test was run.</p>";
  out += "<p class=\"note\">All p-values are adjusted together (" +
         Esc(Attr(data, "setting.adjust")) + "); shaded rows are significant at alpha " +
         Esc(Attr(data, "setting.alpha")) +
         ".</p>"
         "<table class=\"tests\"><thead><tr><th>#</th><th>family</th><th>what was "
         "tested</th><th>test</th>"
         "<th>alternative</th><th>n</th><th>statistic</th><th>p</th><th>adjusted "
         "p</th></tr></thead><tbody>";
  for (std::size_t r = 0; r < t.rows(); ++r) {
    out += std::string("<tr class=\"test") + (t.I("rejected", r) == 1 ? " rejected" : "") +
           "\"><td class=\"num\">" + std::to_string(r) + "</td><td>" + Esc(t.S("family", r)) +
           "</td><td>" + Esc(t.S("description", r)) + "</td><td>" + Esc(t.S("test", r)) + " (" +
           Esc(t.S("method", r)) + ")</td><td>" + Esc(t.S("alternative", r)) +
           "</td><td class=\"num\">" + std::to_string(t.I("n", r)) + "</td><td class=\"num\">" +
           Num(t.D("statistic", r), 4) + "</td><td class=\"num\">" + PValue(t.D("pvalue", r)) +
           "</td><td class=\"num\">" + PValue(t.D("pvalue_adjusted", r)) + "</td></tr>";
  }
  return out + "</tbody></table>";
}

std::string FailedTable(const ReportData& data) {
  std::string out = "<h3 id=\"failed\">Failed and diverged jobs</h3>";
  if (data.failed.empty()) return out + "<p class=\"note\">None.</p>";
  out +=
      "<table "
      "class=\"failed\"><thead><tr><th>job</th><th>grid</th><th>seed</th><th>status</th><th>error</"
      "th>"
      "</tr></thead><tbody>";
  for (std::size_t i = 0; i < std::min(data.failed.size(), kMaxFailedRows); ++i) {
    const FailedJob& f = data.failed[i];
    out += "<tr class=\"failed-job\"><td>" + Esc(f.job_id) + "</td><td class=\"num\">" +
           std::to_string(f.grid_index) + "</td><td class=\"num\">" + std::to_string(f.seed) +
           "</td><td>" + Esc(f.status) + "</td><td>" +
           Esc(f.error.empty() ? "(no error recorded)" : f.error) + "</td></tr>";
  }
  out += "</tbody></table>";
  if (data.failed.size() > kMaxFailedRows)
    out += "<p class=\"note\">" + std::to_string(kMaxFailedRows) + " of " +
           std::to_string(data.failed.size()) + " listed; `phasesweep status` lists them all.</p>";
  return out;
}

std::string Notes(const ReportData& data) {
  const TableView t = data.Table("notes");
  std::string out = "<h3 id=\"notes\">Notes</h3>";
  if (t.rows() == 0) return out + "<p class=\"note\">None.</p>";
  out += "<ul class=\"notes\">";
  for (std::size_t r = 0; r < t.rows(); ++r) out += "<li>" + Esc(t.S("text", r)) + "</li>";
  return out + "</ul>";
}

}  // namespace

std::string ComposePage(const ReportData& data, const ReportRequest& request) {
  const std::string title = data.study.empty() ? data.path : data.study;
  std::string body = Answers(data) + Provenance(data) + Banners(data);
  std::string nav = "<nav><a href=\"#answers\">answers</a><a href=\"#provenance\">provenance</a>";
  if (data.has_analysis) {
    std::string bands = BandSections(data, request);
    if (!bands.empty()) {
      body +=
          "<section id=\"traces\"><h2>Traces across seeds</h2><p>Per metric and grid point: median "
          "across "
          "seeds, interquartile band, each seed thin underneath (hover a line for its seed and "
          "job), and the "
          "detected transitions as the median step (dashed) with its interval (shaded).</p>" +
          bands + "</section>";
      nav += "<a href=\"#traces\">traces</a>";
    }
    const std::pair<const char*, std::string> parts[] = {
        {"orderings", OrderingSection(data)},
        {"effects", EffectSection(data)},
        {"phases", PhaseSection(data, request.max_rows)},
        {"early-stopping", EarlyStopSection(data, request.max_rows)}};
    for (const auto& [id, html] : parts) {
      if (html.empty()) continue;
      body += html;
      nav += std::string("<a href=\"#") + id + "\">" + id + "</a>";
    }
  }
  body += "<section id=\"tables\"><h2>Tables</h2>" + TestsTable(data) + FailedTable(data) +
          Notes(data) + "</section>";
  nav += "<a href=\"#tables\">tables</a></nav>";
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
         "content=\"width=device-width, initial-scale=1\"><title>" +
         Esc(title) + " — phasesweep report</title><style>" + kStyle +
         "</style></head><body><header><h1>" + Esc(title) +
         "</h1><p class=\"sub\">phasesweep report of " + Esc(data.path) + " · made " +
         storage::UtcNow() + "</p></header>" + nav + body + "</body></html>\n";
}

}  // namespace phasesweep::analysis::report
