// The hypothesis figures of the report: ordering lags, grid-axis effects (and the two-axis
// heatmap), stability phases, early stopping (report_figures.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "report/report_figures.h"

namespace phasesweep::analysis::report {
namespace {

constexpr std::size_t kMaxDotsPerRow = 100;
constexpr std::size_t kMaxEffectFigures = 48;

// Deterministic jitter in [-1, 1] for dot i.
double Jitter(std::size_t i) { return std::fmod(i * 0.618033988749895, 1.0) * 2 - 1; }

std::vector<double> ParseSteps(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  double v;
  while (in >> v) out.push_back(v);
  return out;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  return i + 1 < v.size() ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

std::string Figure(const std::string& cls, const std::string& svg, const std::string& caption) {
  return "<figure class=\"" + cls + "\">" + svg + "<figcaption>" + caption +
         "</figcaption></figure>";
}

std::string OrderingFigure(const ReportData& data, const std::string& pair,
                           const std::vector<std::size_t>& rows) {
  const TableView o = data.Table("orderings");
  const TableView lags = data.Table("ordering_lags");
  std::map<std::int64_t, std::vector<double>> by_row;
  for (std::size_t r = 0; r < lags.rows(); ++r)
    by_row[lags.I("ordering", r)].push_back(lags.D("lag", r));
  double lo = 0, hi = 0;
  for (std::size_t r : rows) {
    for (double v : by_row[static_cast<std::int64_t>(r)])
      lo = std::min(lo, v), hi = std::max(hi, v);
    for (const char* c : {"median_lag_low", "median_lag_high"})
      if (std::isfinite(o.D(c, r))) lo = std::min(lo, o.D(c, r)), hi = std::max(hi, o.D(c, r));
  }
  const double pad = std::max(1.0, (hi - lo) * 0.06);
  const int row_h = 34;
  Plot p(760, 70 + row_h * static_cast<int>(rows.size()), "ordering lags " + pair, 170);
  const Scale x(lo - pad, hi + pad, p.left(), p.right());
  p.Axes(x, Scale(), "lag in steps (A − B; below 0: A first)", "", true, false);
  p.Line(x(0), p.top(), x(0), p.bottom(), "stroke=\"#444\" stroke-dasharray=\"3 3\"");
  std::string caption =
      "<b>" + Esc(pair) +
      "</b>: each dot is one seed's lag (jittered vertically); black bar: median, "
      "grey line: its interval.<ul>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t r = rows[i];
    const double yy = p.top() + row_h * (i + 0.5);
    p.Text(p.left() - 8, yy + 4, "grid " + std::to_string(o.I("grid_index", r)),
           "text-anchor=\"end\"");
    const auto& v = by_row[static_cast<std::int64_t>(r)];
    const double m = o.D("median_lag", r), a = o.D("median_lag_low", r),
                 b = o.D("median_lag_high", r);
    if (std::isfinite(a) && std::isfinite(b))
      p.Line(x(a), yy, x(b), yy,
             std::string("stroke=\"") + kGrey + "\" stroke-width=\"4\" stroke-opacity=\"0.6\"");
    if (std::isfinite(m))
      p.Line(x(m), yy - row_h * 0.4, x(m), yy + row_h * 0.4,
             "stroke=\"#000\" stroke-width=\"2.5\"");
    if (v.empty()) p.Text(p.left() + 6, yy + 4, "no seed with both transitions", "class=\"small\"");
    p.Add("<g class=\"lags\" data-row=\"" + std::to_string(r) + "\" data-n=\"" +
          std::to_string(v.size()) + "\">");
    for (std::size_t k : Subsample(v.size(), kMaxDotsPerRow)) {
      p.Add("<circle class=\"lag\" cx=\"" + Coord(x(v[k])) + "\" cy=\"" +
            Coord(yy + Jitter(k) * row_h * 0.3) + "\" r=\"3.5\" fill=\"" + kOrange +
            "\" stroke=\"#000\" stroke-width=\"0.5\"><title>lag " + Num(v[k], 5) +
            " steps</title></circle>");
    }
    p.Add("</g>");
    caption += "<li>grid " + std::to_string(o.I("grid_index", r)) + ": " +
               std::to_string(o.I("n_seeds", r)) + " seeds, A first " +
               std::to_string(o.I("n_a_first", r)) + ", B first " +
               std::to_string(o.I("n_b_first", r)) + ", tied " + std::to_string(o.I("n_tied", r)) +
               "; median lag " + Num(m, 4) + " [" + Num(a, 4) + ", " + Num(b, 4) + "]";
    for (const char* c : {"wilcoxon_test", "sign_test"}) {
      const std::string line = TestLine(data, o.I(c, r));
      if (!line.empty()) caption += "<br>" + Esc(line);
    }
    if (!o.S("note", r).empty()) caption += "<br><i>" + Esc(o.S("note", r)) + "</i>";
    if (v.size() > kMaxDotsPerRow)
      caption += "<br>" + std::to_string(kMaxDotsPerRow) + " of " + std::to_string(v.size()) +
                 " dots drawn";
    caption += "</li>";
  }
  return Figure("ordering", p.Finish(), caption + "</ul>");
}

std::string EffectFigure(const ReportData& data, std::size_t e) {
  const TableView t = data.Table("effects");
  const TableView lv = data.Table("effect_levels");
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < lv.rows(); ++r)
    if (lv.I("effect", r) == static_cast<std::int64_t>(e)) rows.push_back(r);
  std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
    return lv.I("level_index", a) < lv.I("level_index", b);
  });
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::vector<double>> steps;
  for (std::size_t r : rows) {
    steps.push_back(ParseSteps(lv.S("steps", r)));
    for (double v : steps.back()) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const std::string title = t.S("axis", e) + " → " + t.S("metric", e) + ":" + t.S("kind", e);
  Plot p(std::max(300, 110 + 90 * static_cast<int>(rows.size())), 250, "effect of " + title);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  const Scale y = data.log_steps
                      ? Scale(std::max(1.0, lo), std::max(1.0, hi), p.bottom(), p.top(), true)
                      : Scale(lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05, p.bottom(), p.top());
  const double band = (p.right() - p.left()) / std::max<double>(1, rows.size());
  p.Axes(Scale(), y, t.S("axis", e), "transition step", false, true);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double cx = p.left() + band * (i + 0.5);
    p.Text(cx, p.bottom() + 15, lv.S("level", rows[i]), "text-anchor=\"middle\"");
    p.Add("<g class=\"level\" data-n=\"" + std::to_string(steps[i].size()) + "\">");
    for (std::size_t k : Subsample(steps[i].size(), kMaxDotsPerRow))
      p.Add("<circle cx=\"" + Coord(cx + Jitter(k) * band * 0.2) + "\" cy=\"" +
            Coord(y(steps[i][k])) + "\" r=\"2.5\" fill=\"" + kBlue +
            "\" fill-opacity=\"0.5\"><title>step " + Num(steps[i][k], 6) + "</title></circle>");
    p.Add("</g>");
    const double q1 = Quantile(steps[i], 0.25), q3 = Quantile(steps[i], 0.75),
                 m = lv.D("median_step", rows[i]);
    if (std::isfinite(q1))
      p.Line(cx + band * 0.3, y(q1), cx + band * 0.3, y(q3),
             std::string("stroke=\"") + kBlack + "\" stroke-width=\"3\"");
    if (std::isfinite(m))
      p.Line(cx - band * 0.3, y(m), cx + band * 0.35, y(m),
             std::string("stroke=\"") + kVermillion + "\" stroke-width=\"2.5\"");
  }
  std::string caption = "<b>" + Esc(title) + "</b>" +
                        (t.S("fixed", e).empty() ? "" : " with " + Esc(t.S("fixed", e))) +
                        ": dots are seeds; red bar: median; black bar: interquartile range.";
  for (const char* c : {"kruskal_test", "spearman_test"}) {
    const std::string line = TestLine(data, t.I(c, e));
    if (!line.empty()) caption += "<br>" + Esc(line);
  }
  if (!t.S("note", e).empty()) caption += "<br><i>" + Esc(t.S("note", e)) + "</i>";
  return Figure("effect", p.Finish(), caption);
}

// Viridis at t in [0, 1] (a colour-blind-safe sequential scale), from five stops.
std::string Viridis(double t) {
  static const int stops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return buf;
}

bool NumericLess(const std::string& a, const std::string& b) {
  char *ea = nullptr, *eb = nullptr;
  const double x = std::strtod(a.c_str(), &ea), y = std::strtod(b.c_str(), &eb);
  if (*ea == '\0' && *eb == '\0' && !a.empty() && !b.empty()) return x < y;
  return a < b;
}

std::string Heatmaps(const ReportData& data) {
  std::map<std::string, std::set<std::string>> values;
  for (const auto& [g, hp] : data.grid_hparams)
    for (const auto& [k, v] : hp) values[k].insert(v);
  std::vector<std::string> axes;
  for (const auto& [k, v] : values)
    if (v.size() > 1) axes.push_back(k);
  if (axes.size() != 2) return "";
  std::vector<std::string> xs(values[axes[0]].begin(), values[axes[0]].end());
  std::vector<std::string> ys(values[axes[1]].begin(), values[axes[1]].end());
  std::sort(xs.begin(), xs.end(), NumericLess);
  std::sort(ys.begin(), ys.end(), NumericLess);
  const TableView fx = data.Table("effects");
  const std::string kind = fx.rows() ? fx.S("kind", 0) : "changepoint";
  const TableView tr = data.Table("transitions");
  std::string out;
  for (const auto& metric : data.metrics) {
    std::map<std::pair<std::string, std::string>, std::pair<double, std::int64_t>> cell;
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t r = 0; r < tr.rows(); ++r) {
      if (tr.S("metric", r) != metric || tr.S("kind", r) != kind) continue;
      auto hp = data.grid_hparams.find(tr.I("grid_index", r));
      if (hp == data.grid_hparams.end()) continue;
      const double m = tr.D("median_step", r);
      cell[{hp->second.at(axes[0]), hp->second.at(axes[1])}] = {m, tr.I("grid_index", r)};
      if (std::isfinite(m)) lo = std::min(lo, m), hi = std::max(hi, m);
    }
    if (cell.empty()) continue;
    const int cw = 80, ch = 34;
    Plot p(150 + cw * static_cast<int>(xs.size()), 80 + ch * static_cast<int>(ys.size()),
           "heatmap " + metric, 130, 20, 20, 60);
    for (std::size_t j = 0; j < ys.size(); ++j) {
      p.Text(p.left() - 6, p.top() + ch * (j + 0.5) + 4, ys[j], "text-anchor=\"end\"");
      for (std::size_t i = 0; i < xs.size(); ++i) {
        auto it = cell.find({xs[i], ys[j]});
        const double m = it == cell.end() ? NAN : it->second.first;
        const double t = hi > lo ? (m - lo) / (hi - lo) : 0.5;
        const std::string fill = std::isfinite(m) ? Viridis(t) : "#f2f2f2";
        p.Add("<g class=\"cell\"><rect x=\"" + Coord(p.left() + cw * i) + "\" y=\"" +
              Coord(p.top() + ch * j) + "\" width=\"" + std::to_string(cw - 2) + "\" height=\"" +
              std::to_string(ch - 2) + "\" fill=\"" + fill + "\"><title>" +
              Esc(axes[0] + "=" + xs[i] + ", " + axes[1] + "=" + ys[j] + ": median " + kind +
                  " step " + Num(m, 5)) +
              "</title></rect>");
        p.Text(p.left() + cw * (i + 0.5) - 1, p.top() + ch * (j + 0.5) + 4,
               std::isfinite(m) ? StepLabel(m) : "none",
               std::string("text-anchor=\"middle\" fill=\"") +
                   (t > 0.6 && std::isfinite(m) ? "#000"
                    : std::isfinite(m)          ? "#fff"
                                                : "#555") +
                   "\"");
        p.Add("</g>");
      }
    }
    for (std::size_t i = 0; i < xs.size(); ++i)
      p.Text(p.left() + cw * (i + 0.5), p.bottom() + 16, xs[i], "text-anchor=\"middle\"");
    p.Text((p.left() + p.right()) / 2.0, p.height() - 8, axes[0],
           "text-anchor=\"middle\" class=\"lbl\"");
    p.Text(8, p.top() - 6, axes[1], "class=\"lbl\"");
    out += Figure("heatmap", p.Finish(),
                  "Median " + Esc(kind) + " step of <b>" + Esc(metric) +
                      "</b> per grid point (darker: earlier; grey: none found).");
  }
  return out;
}

}  // namespace

std::string OrderingSection(const ReportData& data) {
  const TableView o = data.Table("orderings");
  if (o.rows() == 0) return "";
  std::vector<std::string> pairs;
  std::map<std::string, std::vector<std::size_t>> rows;
  for (std::size_t r = 0; r < o.rows(); ++r) {
    if (!rows.count(o.S("pair", r))) pairs.push_back(o.S("pair", r));
    rows[o.S("pair", r)].push_back(r);
  }
  std::string out =
      "<section id=\"orderings\"><h2>Orderings</h2><p>Lag = step of A's transition − "
      "step of B's, per seed (pair written A&lt;B).</p>";
  for (const auto& pair : pairs) out += OrderingFigure(data, pair, rows[pair]);
  return out + "</section>";
}

std::string EffectSection(const ReportData& data) {
  const TableView t = data.Table("effects");
  const std::string heat = Heatmaps(data);
  if (t.rows() == 0 && heat.empty()) return "";
  std::string out = "<section id=\"effects\"><h2>Effects of the grid axes</h2><div class=\"figs\">";
  for (std::size_t e = 0; e < std::min(t.rows(), kMaxEffectFigures); ++e)
    out += EffectFigure(data, e);
  out += "</div>";
  if (t.rows() > kMaxEffectFigures)
    out += "<p class=\"note\">" + std::to_string(kMaxEffectFigures) + " of " +
           std::to_string(t.rows()) + " effects drawn; every test is in the table below.</p>";
  return out + heat + "</section>";
}

}  // namespace phasesweep::analysis::report
