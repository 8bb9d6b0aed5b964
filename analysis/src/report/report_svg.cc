// The report's SVG writer (report_svg.h).
#include "report/report_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace phasesweep::analysis::report {

std::string Esc(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Num(double v, int digits) {
  if (!std::isfinite(v)) return std::isnan(v) ? "–" : (v > 0 ? "∞" : "−∞");
  if (v == std::floor(v) && std::fabs(v) < 1e9) return std::to_string(static_cast<long long>(v));
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-4 || a >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.*e", std::max(0, digits - 1), v);
  } else if (a >= std::pow(10.0, digits)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  }
  return buf;
}

std::string PValue(double p) {
  if (std::isnan(p)) return "–";
  if (p < 1e-4) return "&lt; 1e-4";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", p);
  return buf;
}

std::string StepLabel(double step) {
  const double a = std::fabs(step);
  char buf[32];
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%gM", step / 1e6);
  } else if (a >= 1e3) {
    std::snprintf(buf, sizeof buf, "%gk", step / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%g", step);
  }
  return buf;
}

std::string Coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

Scale::Scale(double d0_, double d1_, double r0_, double r1_, bool log_)
    : d0(d0_), d1(d1_), r0(r0_), r1(r1_), log(log_) {
  if (log && !(d0 > 0 && d1 > 0)) log = false;
  if (!std::isfinite(d0) || !std::isfinite(d1)) d0 = 0, d1 = 1;
  if (d0 == d1) {
    if (log) {
      d0 /= 10, d1 *= 10;
    } else {
      d0 -= 1, d1 += 1;
    }
  }
}

double Scale::operator()(double v) const {
  double t;
  if (log) {
    if (!(v > 0)) return r0;
    t = (std::log10(v) - std::log10(d0)) / (std::log10(d1) - std::log10(d0));
  } else {
    t = (v - d0) / (d1 - d0);
  }
  return r0 + t * (r1 - r0);
}

std::vector<double> Scale::Ticks(int n) const {
  std::vector<double> out;
  const double lo = std::min(d0, d1), hi = std::max(d0, d1);
  if (log) {
    for (double p = std::pow(10.0, std::floor(std::log10(lo))); p <= hi * 1.0001; p *= 10)
      if (p >= lo * 0.9999) out.push_back(p);
    if (out.size() >= 2) return out;
    out.clear();  // under a decade: fall through to linear ticks
  }
  const double raw = (hi - lo) / std::max(1, n);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

Plot::Plot(int width, int height, const std::string& label, int left, int right, int top,
           int bottom)
    : width_(width),
      height_(height),
      left_(left),
      right_(right),
      top_(top),
      bottom_(bottom),
      label_(label) {}

void Plot::Text(double x, double y, const std::string& text, const std::string& attrs) {
  body_ += "<text x=\"" + Coord(x) + "\" y=\"" + Coord(y) + "\"" +
           (attrs.empty() ? "" : " " + attrs) + ">" + Esc(text) + "</text>";
}

void Plot::Line(double x0, double y0, double x1, double y1, const std::string& attrs) {
  body_ += "<line x1=\"" + Coord(x0) + "\" y1=\"" + Coord(y0) + "\" x2=\"" + Coord(x1) +
           "\" y2=\"" + Coord(y1) + "\" " + attrs + "/>";
}

void Plot::Rect(double x, double y, double w, double h, const std::string& attrs) {
  body_ += "<rect x=\"" + Coord(x) + "\" y=\"" + Coord(y) + "\" width=\"" +
           Coord(std::max(0.0, w)) + "\" height=\"" + Coord(std::max(0.0, h)) + "\" " + attrs +
           "/>";
}

void Plot::Axes(const Scale& x, const Scale& y, const std::string& x_label,
                const std::string& y_label, bool x_in_steps, bool draw_y) {
  body_ += "<g class=\"axes\">";
  Line(left_, bottom(), right(), bottom(), "stroke=\"#444\"");
  for (double t : x.Ticks(5)) {
    const double px = x(t);
    if (px < left_ - 0.5 || px > right() + 0.5) continue;
    Line(px, bottom(), px, bottom() + 4, "stroke=\"#444\"");
    Text(px, bottom() + 15, x_in_steps ? StepLabel(t) : Num(t), "text-anchor=\"middle\"");
  }
  Text((left_ + right()) / 2.0, height_ - 6, x_label, "text-anchor=\"middle\" class=\"lbl\"");
  if (draw_y) {
    Line(left_, top_, left_, bottom(), "stroke=\"#444\"");
    for (double t : y.Ticks(4)) {
      const double py = y(t);
      if (py < top_ - 0.5 || py > bottom() + 0.5) continue;
      Line(left_ - 4, py, left_, py, "stroke=\"#444\"");
      Line(left_, py, right(), py, "stroke=\"#eee\"");
      Text(left_ - 6, py + 4, Num(t, 3), "text-anchor=\"end\"");
    }
    const double cy = (top_ + bottom()) / 2.0;
    Text(14, cy, y_label,
         "text-anchor=\"middle\" class=\"lbl\" transform=\"rotate(-90 14 " + Coord(cy) + ")\"");
  }
  body_ += "</g>";
}

std::string Plot::Finish() const {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width_) +
         "\" height=\"" + std::to_string(height_) + "\" viewBox=\"0 0 " + std::to_string(width_) +
         " " + std::to_string(height_) + "\" role=\"img\" aria-label=\"" + Esc(label_) + "\">" +
         body_ + "</svg>";
}

std::string LinePath(const std::vector<double>& xs, const std::vector<double>& ys, const Scale& x,
                     const Scale& y) {
  std::string d;
  bool pen = false;
  const std::size_t n = std::min(xs.size(), ys.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) {
      pen = false;
      continue;
    }
    d += (pen ? "L" : "M") + Coord(x(xs[i])) + " " + Coord(y(ys[i]));
    pen = true;
  }
  return d;
}

std::string BandPath(const std::vector<double>& xs, const std::vector<double>& lo,
                     const std::vector<double>& hi, const Scale& x, const Scale& y) {
  std::string d;
  const std::size_t n = std::min({xs.size(), lo.size(), hi.size()});
  std::size_t i = 0;
  auto ok = [&](std::size_t k) {
    return std::isfinite(xs[k]) && std::isfinite(lo[k]) && std::isfinite(hi[k]);
  };
  while (i < n) {
    if (!ok(i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && ok(j)) ++j;
    for (std::size_t k = i; k < j; ++k)
      d += (k == i ? "M" : "L") + Coord(x(xs[k])) + " " + Coord(y(hi[k]));
    for (std::size_t k = j; k-- > i;) d += "L" + Coord(x(xs[k])) + " " + Coord(y(lo[k]));
    d += "Z";
    i = j;
  }
  return d;
}

std::vector<std::size_t> Subsample(std::size_t n, std::size_t keep) {
  std::vector<std::size_t> out;
  if (keep == 0 || n == 0) return out;
  if (n <= keep) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (keep == 1) return {0};
  for (std::size_t k = 0; k < keep; ++k) out.push_back(k * (n - 1) / (keep - 1));
  return out;
}

}  // namespace phasesweep::analysis::report
