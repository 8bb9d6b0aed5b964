// The band figures (median, IQR, seed lines, transition spans) and the per-seed transition
// rasters of the report, plus the helpers the other figure sections share (report_figures.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "report/report_figures.h"

namespace phasesweep::analysis::report {
namespace {

constexpr const char* kKinds[] = {"changepoint", "steepest", "threshold", "settle"};

// Rows of a table grouped by (metric, grid_index).
std::map<std::pair<std::string, std::int64_t>, std::vector<std::size_t>> ByMetricGrid(
    const TableView& t) {
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::size_t>> out;
  for (std::size_t r = 0; r < t.rows(); ++r)
    out[{t.S("metric", r), t.I("grid_index", r)}].push_back(r);
  return out;
}

// Finite values between the 0.5 % and 99.5 % quantiles: one diverging seed (1e30) must not
// flatten the others. Lines beyond are clipped at the plot edge.
std::pair<double, double> RobustRange(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return {0, 1};
  std::sort(v.begin(), v.end());
  const std::size_t lo = static_cast<std::size_t>(0.005 * (v.size() - 1));
  const std::size_t hi = static_cast<std::size_t>(std::ceil(0.995 * (v.size() - 1)));
  double a = v[lo], b = v[hi];
  const double pad = (b - a) * 0.05;
  return {a - pad, b + pad};
}

std::string Legend() {
  std::string s = "<div class=\"legend\">" + Swatch(kBlue, "median across seeds", true) +
                  Swatch(kSkyBlue, "interquartile range") + Swatch(kGrey, "one seed", true);
  for (const char* k : kKinds) s += Swatch(KindColour(k), std::string(k) + " (median, interval)");
  return s + "</div>";
}

std::string SeedCountCaption(const TableView& bands, const std::vector<std::size_t>& rows) {
  std::int64_t lo = -1, hi = -1;
  double first_drop = NAN;
  for (std::size_t r : rows) {
    const std::int64_t c = bands.I("count", r);
    if (hi < 0 || c > hi) hi = c;
    if (lo < 0 || c < lo) lo = c;
  }
  if (lo == hi) return "";
  for (std::size_t r : rows)
    if (bands.I("count", r) < hi) {
      first_drop = bands.D("step", r);
      break;
    }
  return "; seeds behind each point vary: " + std::to_string(hi) + " at first, " +
         std::to_string(lo) + " at the fewest (fewer from step " + StepLabel(first_drop) + ")";
}

std::string BandFigure(const ReportData& data, const std::string& metric, std::int64_t grid,
                       const std::vector<std::size_t>& rows, const TableView& bands,
                       const std::vector<std::size_t>& transition_rows, int* clip_id) {
  const TableView tr = data.Table("transitions");
  std::vector<double> steps, med, q25, q75, all;
  for (std::size_t r : rows) {
    steps.push_back(bands.D("step", r));
    med.push_back(bands.D("median", r));
    q25.push_back(bands.D("q25", r));
    q75.push_back(bands.D("q75", r));
    all.insert(all.end(), {med.back(), q25.back(), q75.back()});
  }
  auto lines_it = data.seed_lines.find({metric, grid});
  static const std::vector<SeedLine> kNone;
  const std::vector<SeedLine>& lines = lines_it == data.seed_lines.end() ? kNone : lines_it->second;
  double x0 = INFINITY, x1 = -INFINITY;
  for (double s : steps) x0 = std::min(x0, s), x1 = std::max(x1, s);
  for (const auto& l : lines) {
    all.insert(all.end(), l.values.begin(), l.values.end());
    for (double s : l.steps) x0 = std::min(x0, s), x1 = std::max(x1, s);
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  Plot p(430, 250, metric + ", " + GridName(data, grid));
  const Scale x = StepScale(data, x0, x1, p.left(), p.right());
  const auto [y0, y1] = RobustRange(all);
  const Scale y(y0, y1, p.bottom(), p.top());
  p.Axes(x, y, "training step", metric);
  const std::string clip = "c" + std::to_string((*clip_id)++);
  p.Add("<clipPath id=\"" + clip + "\"><rect x=\"" + std::to_string(p.left()) + "\" y=\"" +
        std::to_string(p.top()) + "\" width=\"" + std::to_string(p.right() - p.left()) +
        "\" height=\"" + std::to_string(p.bottom() - p.top()) + "\"/></clipPath>");
  p.Add("<g clip-path=\"url(#" + clip + ")\">");
  for (std::size_t r : transition_rows) {  // spans first, under the data
    const double m = tr.D("median_step", r), lo = tr.D("median_step_low", r),
                 hi = tr.D("median_step_high", r);
    if (tr.I("n_found", r) <= 0 || !std::isfinite(m)) continue;
    const std::string kind = tr.S("kind", r);
    const double a = std::isfinite(lo) ? lo : m, b = std::isfinite(hi) ? hi : m;
    const std::string title = kind + ": median step " + Num(m, 4) + ", interval " + Num(a, 4) +
                              "–" + Num(b, 4) + ", found in " + std::to_string(tr.I("n_found", r)) +
                              " of " + std::to_string(tr.I("n_seeds", r)) + " seeds";
    p.Add("<g class=\"transition\"><rect class=\"span\" data-kind=\"" + kind + "\" data-lo=\"" +
          Num(a, 10) + "\" data-hi=\"" + Num(b, 10) + "\" data-median=\"" + Num(m, 10) + "\" x=\"" +
          Coord(x(a)) + "\" y=\"" + std::to_string(p.top()) + "\" width=\"" +
          Coord(std::max(1.0, x(b) - x(a))) + "\" height=\"" +
          std::to_string(p.bottom() - p.top()) + "\" fill=\"" + KindColour(kind) +
          "\" fill-opacity=\"0.18\"><title>" + Esc(title) + "</title></rect>");
    p.Line(x(m), p.top(), x(m), p.bottom(),
           "stroke=\"" + std::string(KindColour(kind)) +
               "\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"");
    p.Add("</g>");
  }
  for (const auto& l : lines) {
    p.Add("<path class=\"seed\" d=\"" + LinePath(l.steps, l.values, x, y) +
          "\" fill=\"none\" stroke=\"" + kGrey +
          "\" stroke-width=\"0.8\" stroke-opacity=\"0.55\"><title>seed " + std::to_string(l.seed) +
          " · job " + Esc(l.job_id) + "</title></path>");
  }
  p.Add("<path class=\"iqr\" d=\"" + BandPath(steps, q25, q75, x, y) + "\" fill=\"" + kSkyBlue +
        "\" fill-opacity=\"0.4\" stroke=\"none\"/>");
  p.Add("<path class=\"median\" d=\"" + LinePath(steps, med, x, y) + "\" fill=\"none\" stroke=\"" +
        kBlue + "\" stroke-width=\"2\"/>");
  p.Add("</g>");
  auto count_it = data.seed_counts.find({metric, grid});
  const std::int64_t total = count_it == data.seed_counts.end() ? 0 : count_it->second;
  std::string caption = GridName(data, grid) + " — " + std::to_string(total) + " seeds";
  if (static_cast<std::int64_t>(lines.size()) < total)
    caption += ", " + std::to_string(lines.size()) + " seed lines drawn (evenly subsampled)";
  caption += SeedCountCaption(bands, rows);
  return "<figure class=\"band\" data-metric=\"" + Esc(metric) + "\" data-grid=\"" +
         std::to_string(grid) + "\" data-seeds=\"" + std::to_string(total) + "\" data-drawn=\"" +
         std::to_string(lines.size()) + "\">" + p.Finish() + "<figcaption>" + Esc(caption) +
         "</figcaption></figure>";
}

// One row per seed, one mark per transition kind found.
std::string Raster(const ReportData& data, const std::string& metric, int max_rows) {
  const TableView t = data.Table("traces");
  std::vector<std::size_t> rows;
  double x0 = INFINITY, x1 = -INFINITY;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    if (t.S("metric", r) != metric) continue;
    rows.push_back(r);
  }
  if (rows.empty()) return "";
  std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
    return std::make_pair(t.I("grid_index", a), t.I("seed", a)) <
           std::make_pair(t.I("grid_index", b), t.I("seed", b));
  });
  const std::size_t total = rows.size();
  std::vector<std::size_t> keep;
  for (std::size_t i : Subsample(rows.size(), static_cast<std::size_t>(max_rows)))
    keep.push_back(rows[i]);
  for (std::size_t r : keep)
    for (const char* k : kKinds) {
      const double lo = t.D(std::string(k) + "_step_lo", r),
                   hi = t.D(std::string(k) + "_step_hi", r);
      if (lo >= 0 && hi >= 0) x0 = std::min(x0, lo), x1 = std::max(x1, hi);
    }
  for (const auto& [key, lines] : data.seed_lines)
    if (key.first == metric)
      for (const auto& l : lines)
        if (!l.steps.empty()) x0 = std::min(x0, l.steps.front()), x1 = std::max(x1, l.steps.back());
  if (!std::isfinite(x0)) return "";
  const int row_h = keep.size() > 60 ? 6 : 12;
  Plot p(900, 62 + row_h * static_cast<int>(keep.size()), "transition raster of " + metric, 150);
  const Scale x = StepScale(data, x0, x1, p.left(), p.right());
  p.Axes(x, Scale(), "training step (midpoint of the transition's probe interval)", "", true,
         false);
  std::int64_t last_grid = -2;
  int marks = 0;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    const std::size_t r = keep[i];
    const double yy = p.top() + row_h * (i + 0.5);
    if (t.I("grid_index", r) != last_grid) {
      last_grid = t.I("grid_index", r);
      p.Line(p.left() - 140, yy - row_h / 2.0, p.right(), yy - row_h / 2.0, "stroke=\"#bbb\"");
      p.Text(p.left() - 140, yy + 4, "grid " + std::to_string(last_grid), "class=\"small\"");
    }
    if (row_h >= 12)
      p.Text(p.left() - 6, yy + 4, "seed " + std::to_string(t.I("seed", r)),
             "text-anchor=\"end\" class=\"small\"");
    p.Add("<g class=\"raster-row\" data-job=\"" + Esc(t.S("job_id", r)) + "\">");
    for (const char* k : kKinds) {
      const double lo = t.D(std::string(k) + "_step_lo", r),
                   hi = t.D(std::string(k) + "_step_hi", r);
      if (!(lo >= 0 && hi >= 0)) continue;
      const double mid = (lo + hi) / 2;
      p.Add(KindMark(k, x(mid), yy, row_h >= 12 ? 4.5 : 3,
                     std::string(k) + " at step " + Num(mid, 6) + " (probes " + Num(lo, 8) + "–" +
                         Num(hi, 8) + "), seed " + std::to_string(t.I("seed", r)) + " · job " +
                         t.S("job_id", r)));
      ++marks;
    }
    p.Add("</g>");
  }
  std::string note = std::to_string(total) + " seeds";
  if (keep.size() < total)
    note += ", " + std::to_string(keep.size()) + " rows drawn (evenly subsampled)";
  if (marks == 0) note += "; no transition was found in any of them";
  return "<figure class=\"raster\" data-metric=\"" + Esc(metric) + "\">" + p.Finish() +
         "<figcaption>Per-seed transitions of " + Esc(metric) +
         ": one row per seed, one mark per "
         "kind found (● changepoint, ■ steepest, ▲ threshold, ◆ settle) — " +
         Esc(note) + ".</figcaption></figure>";
}

}  // namespace

const char* KindColour(const std::string& kind) {
  if (kind == "changepoint") return kVermillion;
  if (kind == "steepest") return kGreen;
  if (kind == "threshold") return kPurple;
  return kOrange;  // settle
}

std::string KindMark(const std::string& kind, double x, double y, double r,
                     const std::string& title) {
  const std::string fill =
      std::string("fill=\"") + KindColour(kind) + "\" class=\"mark\" data-kind=\"" + kind + "\"";
  const std::string t = "<title>" + Esc(title) + "</title>";
  if (kind == "changepoint")
    return "<circle cx=\"" + Coord(x) + "\" cy=\"" + Coord(y) + "\" r=\"" + Coord(r) + "\" " +
           fill + ">" + t + "</circle>";
  if (kind == "steepest")
    return "<rect x=\"" + Coord(x - r) + "\" y=\"" + Coord(y - r) + "\" width=\"" + Coord(2 * r) +
           "\" height=\"" + Coord(2 * r) + "\" " + fill + ">" + t + "</rect>";
  if (kind == "threshold")
    return "<path d=\"M" + Coord(x) + " " + Coord(y - r) + "L" + Coord(x + r) + " " + Coord(y + r) +
           "L" + Coord(x - r) + " " + Coord(y + r) + "Z\" " + fill + ">" + t + "</path>";
  return "<path d=\"M" + Coord(x) + " " + Coord(y - r) + "L" + Coord(x + r) + " " + Coord(y) + "L" +
         Coord(x) + " " + Coord(y + r) + "L" + Coord(x - r) + " " + Coord(y) + "Z\" " + fill + ">" +
         t + "</path>";
}

Scale StepScale(const ReportData& data, double lo, double hi, double r0, double r1) {
  if (data.log_steps) return Scale(std::max(lo, 1.0), std::max(hi, 1.0), r0, r1, true);
  return Scale(lo, hi, r0, r1);
}

std::string GridName(const ReportData& data, std::int64_t grid) {
  auto it = data.grid_labels.find(grid);
  std::string s = "grid " + std::to_string(grid);
  if (it != data.grid_labels.end() && !it->second.empty()) s += " (" + it->second + ")";
  return s;
}

std::string Swatch(const char* colour, const std::string& text, bool line) {
  return std::string("<span class=\"sw\"><i style=\"background:") + colour +
         (line ? ";height:3px;vertical-align:middle" : "") + "\"></i>" + Esc(text) + "</span>";
}

std::string TestLine(const ReportData& data, std::int64_t test) {
  const TableView t = data.Table("tests");
  if (test < 0 || static_cast<std::size_t>(test) >= t.rows()) return "";
  const std::size_t r = static_cast<std::size_t>(test);
  return t.S("test", r) + " (" + t.S("alternative", r) + ", n = " + std::to_string(t.I("n", r)) +
         "): statistic " + Num(t.D("statistic", r)) + ", p = " + PValue(t.D("pvalue", r)) +
         ", adjusted p = " + PValue(t.D("pvalue_adjusted", r)) +
         (t.I("rejected", r) == 1 ? " — significant" : "");
}

std::string BandSections(const ReportData& data, const ReportRequest& request) {
  const TableView bands = data.Table("bands");
  const auto band_rows = ByMetricGrid(bands);
  const auto transition_rows = ByMetricGrid(data.Table("transitions"));
  static const std::vector<std::size_t> kNone;
  std::string out;
  int clip_id = 0;
  for (const auto& metric : data.metrics) {
    out += "<section class=\"metric\" id=\"metric-" + Esc(metric) + "\"><h3>" + Esc(metric) +
           "</h3>" + Legend() + "<div class=\"figs\">";
    std::vector<std::int64_t> grids;
    for (const auto& [key, rows] : band_rows)
      if (key.first == metric) grids.push_back(key.second);
    for (const auto& [key, lines] : data.seed_lines)
      if (key.first == metric && !std::count(grids.begin(), grids.end(), key.second))
        grids.push_back(key.second);
    std::sort(grids.begin(), grids.end());
    for (std::int64_t g : grids) {
      auto b = band_rows.find({metric, g});
      auto tr = transition_rows.find({metric, g});
      out += BandFigure(data, metric, g, b == band_rows.end() ? kNone : b->second, bands,
                        tr == transition_rows.end() ? kNone : tr->second, &clip_id);
    }
    out += "</div>" + Raster(data, metric, request.max_rows) + "</section>";
  }
  return out;
}

}  // namespace phasesweep::analysis::report
