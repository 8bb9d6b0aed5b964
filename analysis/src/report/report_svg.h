// Internal to the report (report.h): a small SVG writer for its figures. Scales (linear or log),
// axes with "nice" ticks labelled in steps, polylines that break at non-finite values (gaps, not
// zeros), filled bands, and the text helpers every part of the page uses (HTML escaping, number
// formatting to a sensible precision). Everything returns markup as std::string; nothing here
// knows about phasesweep's tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace phasesweep::analysis::report {

// Okabe-Ito, the colour-blind-safe palette.
inline constexpr const char* kBlack = "#000000";
inline constexpr const char* kOrange = "#E69F00";
inline constexpr const char* kSkyBlue = "#56B4E9";
inline constexpr const char* kGreen = "#009E73";
inline constexpr const char* kYellow = "#F0E442";
inline constexpr const char* kBlue = "#0072B2";
inline constexpr const char* kVermillion = "#D55E00";
inline constexpr const char* kPurple = "#CC79A7";
inline constexpr const char* kGrey = "#888888";

// &, <, >, " and ' as entities.
std::string Esc(const std::string& text);
// A number with `digits` significant digits, no exponent between 1e-4 and 1e6, "–" for NaN.
std::string Num(double v, int digits = 3);
// A p-value: "< 1e-4" below 1e-4, else 2 significant digits; "–" for NaN.
std::string PValue(double p);
// A training step for tick labels: 1200 -> "1.2k", 3000000 -> "3M"; below 1000 as an integer.
std::string StepLabel(double step);
// An SVG coordinate: one decimal, trailing ".0" dropped (keeps big figures small).
std::string Coord(double v);

// Maps data [d0, d1] to pixels [r0, r1]; log scales need d0 > 0 (non-positive values map to
// r0). An empty domain (d0 == d1) is widened by one unit on each side.
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  bool log = false;
  Scale() = default;
  Scale(double d0_, double d1_, double r0_, double r1_, bool log_ = false);
  double operator()(double v) const;
  // About `n` round tick values inside the domain (powers of ten on a log scale).
  std::vector<double> Ticks(int n) const;
};

// A figure: SVG element of a fixed size with a plot area inside margins.
class Plot {
 public:
  // `label` is the figure's accessible name (aria-label).
  Plot(int width, int height, const std::string& label, int left = 58, int right = 14, int top = 22,
       int bottom = 40);
  int left() const { return left_; }
  int right() const { return width_ - right_; }
  int top() const { return top_; }
  int bottom() const { return height_ - bottom_; }
  int width() const { return width_; }
  int height() const { return height_; }

  // Axis lines, ticks and labels for the scales x and y (either may be skipped with
  // `draw_y` false); x tick labels are StepLabel when `x_in_steps`.
  void Axes(const Scale& x, const Scale& y, const std::string& x_label, const std::string& y_label,
            bool x_in_steps = true, bool draw_y = true);
  // Raw markup inside the figure.
  void Add(const std::string& markup) { body_ += markup; }
  void Text(double x, double y, const std::string& text, const std::string& attrs = "");
  void Line(double x0, double y0, double x1, double y1, const std::string& attrs);
  void Rect(double x, double y, double w, double h, const std::string& attrs);
  std::string Finish() const;

 private:
  int width_, height_, left_, right_, top_, bottom_;
  std::string label_;
  std::string body_;
};

// Path data "M x y L x y ..." through the finite points; a non-finite y (or x) ends the current
// run, so NaN stretches show as gaps. Empty when no point is finite.
std::string LinePath(const std::vector<double>& xs, const std::vector<double>& ys, const Scale& x,
                     const Scale& y);
// Closed polygons between lo and hi over each run where both are finite.
std::string BandPath(const std::vector<double>& xs, const std::vector<double>& lo,
                     const std::vector<double>& hi, const Scale& x, const Scale& y);

// Indices 0..n-1 thinned to at most `keep`, evenly spaced, first and last kept.
std::vector<std::size_t> Subsample(std::size_t n, std::size_t keep);

}  // namespace phasesweep::analysis::report
