// Per-seed timeline figures of the report: stability phases (regular vs control) and early
// stopping vs the reference transition (report_figures.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "report/report_figures.h"

namespace phasesweep::analysis::report {
namespace {

// Seed of each job, from /analysis/traces.
std::map<std::string, std::int64_t> Seeds(const ReportData& data) {
  const TableView t = data.Table("traces");
  std::map<std::string, std::int64_t> out;
  for (std::size_t r = 0; r < t.rows(); ++r) out.emplace(t.S("job_id", r), t.I("seed", r));
  return out;
}

// First and last probe step of a metric over all grid points (from the bands, else the lines).
std::pair<double, double> StepRange(const ReportData& data, const std::string& metric) {
  double lo = INFINITY, hi = -INFINITY;
  const TableView b = data.Table("bands");
  for (std::size_t r = 0; r < b.rows(); ++r)
    if (metric.empty() || b.S("metric", r) == metric)
      lo = std::min(lo, b.D("step", r)), hi = std::max(hi, b.D("step", r));
  for (const auto& [key, lines] : data.seed_lines)
    for (const auto& l : lines)
      if (!l.steps.empty() && (metric.empty() || key.first == metric))
        lo = std::min(lo, l.steps.front()), hi = std::max(hi, l.steps.back());
  return {lo, hi};
}

std::string RowLabel(std::int64_t grid, const std::map<std::string, std::int64_t>& seeds,
                     const std::string& job) {
  auto it = seeds.find(job);
  return "grid " + std::to_string(grid) + " · seed " +
         (it == seeds.end() ? "?" : std::to_string(it->second));
}

std::string PhaseFigure(const ReportData& data, const std::string& metric,
                        const std::vector<std::size_t>& all_rows, int max_rows) {
  const TableView t = data.Table("phases");
  const auto seeds = Seeds(data);
  auto [x0, x1] = StepRange(data, metric);
  for (std::size_t r : all_rows)
    for (const char* c : {"transitional_start_step", "stable_start_step"})
      if (t.I(c, r) >= 0)
        x0 = std::min<double>(x0, t.D(c, r)), x1 = std::max<double>(x1, t.D(c, r));
  if (!std::isfinite(x0)) return "";
  std::vector<std::size_t> rows;
  for (std::size_t i : Subsample(all_rows.size(), static_cast<std::size_t>(max_rows)))
    rows.push_back(all_rows[i]);
  const int row_h = rows.size() > 60 ? 6 : 14;
  Plot p(900, 60 + row_h * static_cast<int>(rows.size()) + 20, "phases of " + metric, 170);
  const Scale x = StepScale(data, x0, x1, p.left(), p.right());
  p.Axes(x, Scale(), "training step", "", true, false);
  const char* colours[3] = {kVermillion, kYellow, kGreen};
  const char* names[3] = {"volatile", "transitional", "stable"};
  std::int64_t last_control = -1;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t r = rows[i];
    const double yy = p.top() + row_h * i;
    if (t.I("control", r) != last_control) {
      last_control = t.I("control", r);
      p.Line(p.left() - 165, yy, p.right(), yy, "stroke=\"#888\"");
      if (row_h < 14)
        p.Text(p.left() - 165, yy + 10, last_control ? "controls" : "regular", "class=\"small\"");
    }
    if (row_h >= 14)
      p.Text(p.left() - 6, yy + row_h - 3,
             (last_control ? "control · " : "") +
                 RowLabel(t.I("grid_index", r), seeds, t.S("job_id", r)),
             "text-anchor=\"end\" class=\"small\"");
    const double b[4] = {x0, t.D("transitional_start_step", r), t.D("stable_start_step", r), x1};
    const bool three = t.I("three_phase", r) == 1;
    p.Add("<g class=\"phase-row\" data-job=\"" + Esc(t.S("job_id", r)) + "\" data-three=\"" +
          (three ? "1" : "0") + "\">");
    for (int s = 0; s < 3; ++s) {
      if (!(b[s] >= 0 && b[s + 1] >= 0)) continue;
      const std::string title =
          std::string(names[s]) + " from step " + Num(b[s], 6) + " to " + Num(b[s + 1], 6) +
          (three ? "" : " (this seed does not show the volatile → stable order)") +
          (t.S("note", r).empty() ? "" : "; " + t.S("note", r));
      p.Add("<rect x=\"" + Coord(x(b[s])) + "\" y=\"" + Coord(yy + 1) + "\" width=\"" +
            Coord(std::max(0.5, x(b[s + 1]) - x(b[s]))) + "\" height=\"" +
            std::to_string(row_h - 2) + "\" fill=\"" + colours[s] + "\" fill-opacity=\"" +
            (three ? "0.9" : "0.3") + "\"><title>" + Esc(title) + "</title></rect>");
    }
    p.Add("</g>");
  }
  std::string caption =
      "<b>" + Esc(metric) +
      "</b>: one row per seed, regular configs first, then random-label controls. "
      "Faded rows do not show the volatile → transitional → stable order.";
  if (rows.size() < all_rows.size())
    caption += " " + std::to_string(rows.size()) + " of " + std::to_string(all_rows.size()) +
               " rows drawn (evenly subsampled).";
  const TableView s = data.Table("phase_summaries");
  caption += "<ul>";
  for (std::size_t r = 0; r < s.rows(); ++r) {
    if (s.S("metric", r) != metric) continue;
    caption += "<li>grid " + std::to_string(s.I("grid_index", r)) +
               (s.I("control", r) == 1 ? " controls" : " regular") + ": " +
               std::to_string(s.I("n_three_phase", r)) + " of " + std::to_string(s.I("n", r)) +
               " seeds three-phase</li>";
  }
  const TableView c = data.Table("phase_comparisons");
  for (std::size_t r = 0; r < c.rows(); ++r) {
    if (c.S("metric", r) != metric) continue;
    caption += "<li>regular " + std::to_string(c.I("k_regular", r)) + "/" +
               std::to_string(c.I("n_regular", r)) + " vs control " +
               std::to_string(c.I("k_control", r)) + "/" + std::to_string(c.I("n_control", r));
    const std::string line = TestLine(data, c.I("fisher_test", r));
    if (!line.empty()) caption += ": " + Esc(line);
    if (!c.S("note", r).empty()) caption += " <i>" + Esc(c.S("note", r)) + "</i>";
    caption += "</li>";
  }
  return "<figure class=\"phases\" data-metric=\"" + Esc(metric) + "\">" + p.Finish() +
         "<figcaption>" + caption + "</ul></figcaption></figure>";
}

}  // namespace

std::string PhaseSection(const ReportData& data, int max_rows) {
  const TableView t = data.Table("phases");
  if (t.rows() == 0) return "";
  std::map<std::string, std::vector<std::size_t>> by_metric;
  for (std::size_t r = 0; r < t.rows(); ++r) by_metric[t.S("metric", r)].push_back(r);
  std::string out = "<section id=\"phases\"><h2>Stability phases</h2><div class=\"legend\">" +
                    Swatch(kVermillion, "volatile") + Swatch(kYellow, "transitional") +
                    Swatch(kGreen, "stable") + "</div>";
  for (auto& [metric, rows] : by_metric) {
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
      return std::make_pair(t.I("control", a), t.I("grid_index", a)) <
             std::make_pair(t.I("control", b), t.I("grid_index", b));
    });
    out += PhaseFigure(data, metric, rows, max_rows);
  }
  return out + "</section>";
}

std::string EarlyStopSection(const ReportData& data, int max_rows) {
  const TableView t = data.Table("early_stops");
  if (t.rows() == 0) return "";
  const auto seeds = Seeds(data);
  auto [x0, x1] = StepRange(data, "");
  for (std::size_t r = 0; r < t.rows(); ++r)
    for (const char* c : {"stop_step", "reference_step"})
      if (t.I(c, r) >= 0)
        x0 = std::min<double>(x0, t.D(c, r)), x1 = std::max<double>(x1, t.D(c, r));
  if (!std::isfinite(x0)) return "";
  std::vector<std::size_t> rows = Subsample(t.rows(), static_cast<std::size_t>(max_rows));
  const int row_h = rows.size() > 60 ? 6 : 14;
  Plot p(900, 60 + row_h * static_cast<int>(rows.size()), "early stopping", 170);
  const Scale x = StepScale(data, x0, x1, p.left(), p.right());
  p.Axes(x, Scale(), "training step", "", true, false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t r = rows[i];
    const double yy = p.top() + row_h * (i + 0.5);
    if (row_h >= 14)
      p.Text(p.left() - 6, yy + 4, RowLabel(t.I("grid_index", r), seeds, t.S("job_id", r)),
             "text-anchor=\"end\" class=\"small\"");
    const bool stopped = t.I("stopped", r) == 1, ref = t.I("has_reference", r) == 1,
               cut = t.I("cut_short", r) == 1;
    const double s = t.D("stop_step", r), ref_step = t.D("reference_step", r);
    p.Add("<g class=\"early-row\" data-job=\"" + Esc(t.S("job_id", r)) + "\" data-cut=\"" +
          (cut ? "1" : "0") + "\">");
    if (stopped && ref)
      p.Line(x(s), yy, x(ref_step), yy,
             std::string("stroke=\"") + (cut ? kVermillion : kSkyBlue) + "\" stroke-width=\"2\"");
    if (ref)
      p.Line(x(ref_step), yy - row_h * 0.4, x(ref_step), yy + row_h * 0.4,
             std::string("stroke=\"") + kGreen + "\" stroke-width=\"2.5\"");
    if (stopped) {
      p.Add("<path d=\"M" + Coord(x(s) - 3.5) + " " + Coord(yy - 3.5) +
            "l7 7m0 -7l-7 7\" stroke=\"#000\" stroke-width=\"2\"><title>" +
            Esc("early stopping at step " + Num(s, 8) +
                (ref ? ", reference transition at step " + Num(ref_step, 8)
                     : ", no reference transition") +
                (cut ? " — cut short" : "")) +
            "</title></path>");
    }
    p.Add("</g>");
  }
  std::string caption =
      "× where patience-based early stopping on the loss would have stopped; green bar: the "
      "reference "
      "transition (its last probe step); red line: stopped before it (cut short).";
  if (rows.size() < t.rows())
    caption +=
        " " + std::to_string(rows.size()) + " of " + std::to_string(t.rows()) + " rows drawn.";
  const TableView s = data.Table("early_stop_summaries");
  caption += "<ul>";
  for (std::size_t r = 0; r < s.rows(); ++r) {
    caption +=
        "<li>grid " + std::to_string(s.I("grid_index", r)) + ": stopped " +
        std::to_string(s.I("n_stopped", r)) + " of " + std::to_string(s.I("n", r)) +
        "; cut short " + std::to_string(s.I("n_cut_short", r)) + " of " +
        std::to_string(s.I("n_with_reference", r)) + " with a reference transition" +
        (std::isfinite(s.D("fraction", r))
             ? " (" + Num(s.D("fraction", r), 2) + ", interval " + Num(s.D("fraction_low", r), 2) +
                   "–" + Num(s.D("fraction_high", r), 2) + ")"
             : "") +
        "</li>";
  }
  const auto it = data.analysis_attributes.find("setting.early_stop");
  return "<section id=\"early-stopping\"><h2>Early stopping</h2>" +
         (it == data.analysis_attributes.end()
              ? std::string()
              : "<p>" + Esc(it->second) + ", patience " +
                    Esc(data.analysis_attributes.count("setting.patience")
                            ? data.analysis_attributes.at("setting.patience")
                            : "?") +
                    " probes.</p>") +
         "<figure class=\"early\">" + p.Finish() + "<figcaption>" + caption +
         "</ul></figcaption></figure></section>";
}

}  // namespace phasesweep::analysis::report
