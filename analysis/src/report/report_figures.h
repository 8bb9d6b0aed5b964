// Internal to the report (report.h): the figure sections of the page, each an HTML fragment of
// <section> elements holding inline SVG. The markup carries data-* attributes and class names
// that report_test.cc checks against the tables (figure.band[data-metric][data-grid],
// path.seed, rect.span[data-kind][data-lo][data-hi], ...).
#pragma once

#include <cstdint>
#include <string>

#include "report/report_data.h"
#include "report/report_svg.h"

namespace phasesweep::analysis::report {

// The whole page (report_page.cc): answers, provenance, the sections below, the tables.
std::string ComposePage(const ReportData& data, const ReportRequest& request);

// Per analysed metric: a band figure per grid point, then the raster of per-seed transitions.
std::string BandSections(const ReportData& data, const ReportRequest& request);
// Per ordering pair: the per-seed lags as a strip plot, with the tests' lines.
std::string OrderingSection(const ReportData& data);
// Median transition step per level of each grid axis, and a heatmap when two axes are swept.
std::string EffectSection(const ReportData& data);
// Volatile / transitional / stable segments per seed, regular vs control.
std::string PhaseSection(const ReportData& data, int max_rows);
// Where patience-based early stopping would stop each seed vs the reference transition.
std::string EarlyStopSection(const ReportData& data, int max_rows);

// Shared by the sections and the page.
// "W = 12, p = 0.031 (adjusted 0.09)" for row `test` of /analysis/tests; "" for -1.
std::string TestLine(const ReportData& data, std::int64_t test);
// Colour and SVG mark of a transition kind (changepoint, steepest, threshold, settle).
const char* KindColour(const std::string& kind);
std::string KindMark(const std::string& kind, double x, double y, double r,
                     const std::string& title);
// The x scale of step axes: log when the probe schedule is log.
Scale StepScale(const ReportData& data, double lo, double hi, double r0, double r1);
// "grid 3 (lr=0.001, wd=1)".
std::string GridName(const ReportData& data, std::int64_t grid);
// HTML legend entry: a coloured swatch and its text.
std::string Swatch(const char* colour, const std::string& text, bool line = false);

}  // namespace phasesweep::analysis::report
