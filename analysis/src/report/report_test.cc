// `phasesweep report` on small results files written with the storage writer: the figures are
// checked against the /analysis tables (seed lines per band, transition spans at the analysed
// steps, one table row per test), then each bad input of issue 14.
#include "phasesweep/analysis/report.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/analysis/synthetic.h"
#include "phasesweep/storage/analysis_tables.h"
#include "report/report_svg.h"
#include "results_file_fixture.h"

namespace phasesweep::analysis {
namespace {

using testutil::Scratch;

constexpr char kConfig[] =
    "name: report-test\n"
    "analysis:\n"
    "  surrogates: 19\n"
    "  bootstrap: 200\n";

std::vector<TraceJob> Synthetic(int seeds = 4, int probes = 80) {
  SyntheticSweepSpec spec;
  spec.seeds = seeds;
  spec.probes = probes;
  return MakeSyntheticSweep(spec).jobs;
}

std::string Report(const std::string& path, std::string* log = nullptr,
                   ReportRequest request = {}) {
  request.results_path = path;
  std::ostringstream out;
  auto page = BuildReport(request, out);
  EXPECT_TRUE(page.ok()) << page.status().message();
  if (log) *log = out.str();
  return page.ok() ? *page : "";
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

struct Element {
  std::map<std::string, std::string> data;  // data-* attributes of the opening tag
  std::string inner;
};

std::map<std::string, std::string> DataAttributes(const std::string& tag) {
  std::map<std::string, std::string> out;
  static const std::regex attr("data-([a-z]+)=\"([^\"]*)\"");
  for (std::sregex_iterator it(tag.begin(), tag.end(), attr), end; it != end; ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

// Every element opened by `open` (e.g. "<figure class=\"band\"") up to `close`.
std::vector<Element> Elements(const std::string& html, const std::string& open,
                              const std::string& close) {
  std::vector<Element> out;
  for (std::size_t at = html.find(open); at != std::string::npos; at = html.find(open, at + 1)) {
    const std::size_t tag_end = html.find('>', at);
    const std::size_t end = html.find(close, tag_end);
    out.push_back({DataAttributes(html.substr(at, tag_end - at)),
                   html.substr(tag_end + 1, end - tag_end - 1)});
  }
  return out;
}

// "nan" or "inf" written as a number (an attribute value or a path coordinate).
bool HasNonFiniteNumber(const std::string& html) {
  static const std::regex bad("[\"ML ,(-](nan|inf)\\b");
  return std::regex_search(html, bad);
}

Result<std::vector<storage::Table>> Tables(const std::string& path) {
  return storage::ReadAnalysis(path);
}

const storage::Table* FindTable(const std::vector<storage::Table>& tables,
                                const std::string& name) {
  for (const auto& t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

template <class T>
const std::vector<T>& Col(const storage::Table& t, const std::string& name) {
  for (const auto& c : t.columns)
    if (c.name == name) return std::get<std::vector<T>>(c.values);
  static const std::vector<T> none;
  ADD_FAILURE() << "no column " << name;
  return none;
}

TEST(ReportTest, FiguresMatchTheAnalysis) {
  Scratch dir("report_test");
  const std::string path = testutil::WriteTraceJobs(dir, Synthetic(), kConfig);
  std::string log;
  const std::string html = Report(path, &log);
  EXPECT_NE(log.find("analysing"), std::string::npos) << "no /analysis: the report runs it first";
  auto tables = Tables(path);
  ASSERT_TRUE(tables.ok());
  const storage::Table* bands = FindTable(*tables, "bands");
  const storage::Table* transitions = FindTable(*tables, "transitions");
  const storage::Table* tests = FindTable(*tables, "tests");
  ASSERT_TRUE(bands && transitions && tests);

  // One band figure per (metric, grid point) in /analysis/bands, one thin line per seed.
  std::map<std::pair<std::string, std::int64_t>, int> band_keys;
  for (std::size_t r = 0; r < Col<std::string>(*bands, "metric").size(); ++r)
    band_keys[{Col<std::string>(*bands, "metric")[r], Col<std::int64_t>(*bands, "grid_index")[r]}] =
        1;
  const auto figures = Elements(html, "<figure class=\"band\"", "</figure>");
  ASSERT_EQ(figures.size(), band_keys.size());
  std::map<std::pair<std::string, std::int64_t>, const Element*> by_key;
  for (const auto& f : figures) {
    by_key[{f.data.at("metric"), std::stoll(f.data.at("grid"))}] = &f;
    EXPECT_EQ(f.data.at("seeds"), "4");
    EXPECT_EQ(Count(f.inner, "<path class=\"seed\""), 4u)
        << f.data.at("metric") << " grid " << f.data.at("grid");
    EXPECT_EQ(Count(f.inner, "<title>seed "), 4u);
    EXPECT_EQ(Count(f.inner, "class=\"median\""), 1u);
  }
  // Each transition found is a span at the stored median step interval.
  int spans = 0;
  for (std::size_t r = 0; r < Col<std::string>(*transitions, "metric").size(); ++r) {
    const double m = Col<double>(*transitions, "median_step")[r];
    if (Col<std::int64_t>(*transitions, "n_found")[r] <= 0 || !std::isfinite(m)) continue;
    const auto key = std::make_pair(Col<std::string>(*transitions, "metric")[r],
                                    Col<std::int64_t>(*transitions, "grid_index")[r]);
    ASSERT_TRUE(by_key.count(key));
    const double lo = Col<double>(*transitions, "median_step_low")[r],
                 hi = Col<double>(*transitions, "median_step_high")[r];
    const std::string kind = Col<std::string>(*transitions, "kind")[r];
    bool found = false;
    for (const auto& span : Elements(by_key[key]->inner, "<rect class=\"span\"", "</rect>")) {
      if (span.data.at("kind") != kind) continue;
      found = true;
      EXPECT_NEAR(std::stod(span.data.at("median")), m, 1e-6);
      EXPECT_NEAR(std::stod(span.data.at("lo")), std::isfinite(lo) ? lo : m, 1e-6);
      EXPECT_NEAR(std::stod(span.data.at("hi")), std::isfinite(hi) ? hi : m, 1e-6);
    }
    EXPECT_TRUE(found) << key.first << " grid " << key.second << " " << kind;
    ++spans;
  }
  EXPECT_GT(spans, 0) << "the synthetic sweep has planted transitions";
  // One row per test, and the other sections are there.
  EXPECT_EQ(Count(html, "<tr class=\"test"), Col<std::string>(*tests, "family").size());
  EXPECT_GT(Col<std::string>(*tests, "family").size(), 0u);
  EXPECT_EQ(Count(html, "<figure class=\"raster\""), 5u);  // one per analysed metric
  EXPECT_GE(Count(html, "<figure class=\"ordering\""), 1u);
  EXPECT_GE(Count(html, "<figure class=\"effect\""), 1u);
  EXPECT_GE(Count(html, "<figure class=\"phases\""), 1u);
  EXPECT_EQ(Count(html, "<figure class=\"early\""), 1u);
  // The analysis stores its answers (/analysis/answers): shown, before the provenance.
  EXPECT_EQ(html.find("no answers stored (older analysis)"), std::string::npos);
  EXPECT_LT(html.find("id=\"answers\""), html.find("id=\"provenance\""));
  // Self-contained: no script, no external resource.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(Count(html, "http"), Count(html, "http://www.w3.org/2000/svg"));
  EXPECT_FALSE(HasNonFiniteNumber(html));
}

TEST(ReportTest, AnswersShownFirstAndFreshAnalysisIsReused) {
  Scratch dir("report_test");
  const std::string path = testutil::WriteTraceJobs(dir, Synthetic(3, 60), kConfig);
  std::string log;
  Report(path, &log);  // runs the analysis
  std::map<std::string, std::string> attrs;
  auto tables = storage::ReadAnalysis(path, &attrs);
  ASSERT_TRUE(tables.ok());
  // An analysis written before answers existed: the page says so.
  tables->erase(std::remove_if(tables->begin(), tables->end(),
                               [](const storage::Table& t) { return t.name == "answers"; }),
                tables->end());
  ASSERT_TRUE(storage::WriteAnalysis(path, *tables, attrs).ok());
  EXPECT_NE(Report(path, &log).find("no answers stored (older analysis)"), std::string::npos);
  storage::Table answers{"answers",
                         {{"id", std::vector<std::int64_t>{2, 1}},
                          {"topic", std::vector<std::string>{"ordering", "significance"}},
                          {"answer", std::vector<std::string>{"B comes second <b>",
                                                              "1. Significance: A is real"}}},
                         {}};
  tables->push_back(answers);
  ASSERT_TRUE(storage::WriteAnalysis(path, *tables, attrs).ok());
  const std::string html = Report(path, &log);
  EXPECT_EQ(log.find("analysing"), std::string::npos) << "a fresh /analysis is not rerun";
  EXPECT_EQ(html.find("no answers stored"), std::string::npos);
  const std::size_t first = html.find("A is real"), second = html.find("B comes second &lt;b&gt;");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second) << "answers in id order";
  EXPECT_LT(second, html.find("id=\"provenance\""));
  // "N. Title: text" shows the title in bold instead of repeating the list's number.
  EXPECT_NE(html.find("<b>Significance</b> A is real"), std::string::npos);
  EXPECT_EQ(html.find("1. Significance"), std::string::npos);
  EXPECT_NE(html.find("<b>ordering</b> B comes second"), std::string::npos);
}

TEST(ReportTest, AnalysisOlderThanLastMergeIsRerun) {
  Scratch dir("report_test");
  const std::string path = testutil::WriteTraceJobs(dir, Synthetic(3, 60), kConfig);
  std::string log;
  Report(path, &log);
  std::map<std::string, std::string> attrs;
  auto tables = storage::ReadAnalysis(path, &attrs);
  ASSERT_TRUE(tables.ok());
  attrs["analyzed_utc"] = "2000-01-01T00:00:00Z";  // before the merge that wrote the jobs
  ASSERT_TRUE(storage::WriteAnalysis(path, *tables, attrs).ok());
  const std::string html = Report(path, &log);
  EXPECT_NE(log.find("older than the last merge"), std::string::npos) << log;
  attrs.clear();
  ASSERT_TRUE(storage::ReadAnalysis(path, &attrs).ok());
  EXPECT_NE(attrs["analyzed_utc"], "2000-01-01T00:00:00Z");
  EXPECT_NE(html.find("The analysis was run for this report"), std::string::npos);
}

TEST(ReportTest, EmptySweepSaysSo) {
  Scratch dir("report_test");
  const std::string empty = testutil::WriteRecords(dir, {}, kConfig);
  std::string html = Report(empty);
  EXPECT_NE(html.find("This sweep is empty"), std::string::npos);
  EXPECT_NE(html.find("No test was run"), std::string::npos);

  Scratch planned_dir("report_test");
  std::vector<storage::PlannedJob> plan = {{"a", 0, 0, {}}, {"b", 1, 0, {}}};
  html = Report(testutil::WriteRecords(planned_dir, {}, kConfig, plan));
  EXPECT_NE(html.find("no recorded job yet: 2 planned, 2 pending"), std::string::npos);
}

TEST(ReportTest, AllJobsFailedShowsTheErrors) {
  Scratch dir("report_test");
  std::vector<storage::JobRecord> records;
  for (int s = 0; s < 3; ++s) {
    storage::JobRecord r;
    r.job_id = "g0s" + std::to_string(s);
    r.seed = static_cast<uint64_t>(s);
    r.status = JobStatus::kFailed;
    r.error = "out of memory on seed " + std::to_string(s);
    records.push_back(r);
  }
  const std::string html = Report(testutil::WriteRecords(dir, records, kConfig));
  EXPECT_NE(html.find("No job finished normally: 3 failed"), std::string::npos);
  EXPECT_EQ(Count(html, "<tr class=\"failed-job\""), 3u);
  EXPECT_NE(html.find("out of memory on seed 2"), std::string::npos);
}

TEST(ReportTest, SingleSeedShowsTracesAndSaysWhatNeedsMoreSeeds) {
  Scratch dir("report_test");
  const std::string html = Report(testutil::WriteTraceJobs(dir, Synthetic(1, 60), kConfig));
  EXPECT_NE(html.find("Each grid point has a single seed"), std::string::npos);
  const auto figures = Elements(html, "<figure class=\"band\"", "</figure>");
  ASSERT_FALSE(figures.empty());
  for (const auto& f : figures) EXPECT_EQ(Count(f.inner, "<path class=\"seed\""), 1u);
}

TEST(ReportTest, NanAndDivergedTracesAreGaps) {
  Scratch dir("report_test");
  std::vector<TraceJob> jobs = Synthetic(4, 80);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int i = 20; i < 30; ++i) jobs[0].trace.metrics["test_acc"][i] = nan;  // a hole mid-trace
  std::vector<storage::JobRecord> records;
  for (const auto& j : jobs) records.push_back(testutil::ToRecord(j));
  records[1].status = JobStatus::kDiverged;  // loss blew up: inf, then NaN to the end
  records[1].error = "train_loss is not finite at step 500";
  for (auto& [name, values] : records[1].trace.metrics)
    for (std::size_t i = 50; i < values.size(); ++i) values[i] = i == 50 ? INFINITY : nan;
  const std::string html = Report(testutil::WriteRecords(dir, records, kConfig));
  EXPECT_NE(html.find("train_loss is not finite at step 500"), std::string::npos);
  EXPECT_FALSE(HasNonFiniteNumber(html));
  for (const auto& f : Elements(html, "<figure class=\"band\"", "</figure>")) {
    if (f.data.at("metric") != "test_acc" || f.data.at("grid") != "0") continue;
    const std::size_t seed0 = f.inner.find("<path class=\"seed\" d=\"");
    const std::string d = f.inner.substr(seed0, f.inner.find('"', seed0 + 22) - seed0);
    EXPECT_EQ(Count(d, "M"), 2u) << "one gap: two runs of the line";
    EXPECT_NE(f.inner.find("seeds behind each point vary: 4 at first, 3 at the fewest"),
              std::string::npos);
  }
}

TEST(ReportTest, LogProbeScheduleGivesALogStepAxis) {
  Scratch dir("report_test");
  const std::string config = std::string(kConfig) + "probes:\n  schedule: log\n";
  const std::string html = Report(testutil::WriteTraceJobs(dir, Synthetic(2, 80), config));
  EXPECT_NE(html.find("log (log-spaced probes)"), std::string::npos);
  const auto figures = Elements(html, "<figure class=\"band\"", "</figure>");
  ASSERT_FALSE(figures.empty());
  // Steps 10..800: decade ticks on a log axis, 200, 400, ... on a linear one.
  EXPECT_NE(figures[0].inner.find(">100</text>"), std::string::npos);
  EXPECT_EQ(figures[0].inner.find(">200</text>"), std::string::npos);
  Scratch linear_dir("report_test");
  const std::string linear =
      Report(testutil::WriteTraceJobs(linear_dir, Synthetic(2, 80), kConfig));
  EXPECT_NE(Elements(linear, "<figure class=\"band\"", "</figure>")[0].inner.find(">200</text>"),
            std::string::npos);
}

TEST(ReportTest, SeedLinesAreSubsampledWithANote) {
  Scratch dir("report_test");
  const std::string path = testutil::WriteTraceJobs(dir, Synthetic(6, 60), kConfig);
  ReportRequest request;
  request.max_seed_lines = 2;
  const std::string html = Report(path, nullptr, request);
  for (const auto& f : Elements(html, "<figure class=\"band\"", "</figure>")) {
    EXPECT_EQ(f.data.at("seeds"), "6");
    EXPECT_EQ(Count(f.inner, "<path class=\"seed\""), 2u);
    EXPECT_NE(f.inner.find("2 seed lines drawn"), std::string::npos);
  }
}

TEST(ReportTest, NotAResultsFileIsAOneLineErrorWithExitStatus2) {
  Scratch dir("report_test");
  const std::string text = dir / "notes.txt";
  std::ofstream(text) << "not an HDF5 file\n";
  for (const std::string& path : {text, dir / "missing.h5"}) {
    ReportRequest request;
    request.results_path = path;
    request.output_path = dir / "report.html";
    std::ostringstream log;
    const Status st = RunReport(request, log);
    EXPECT_EQ(st.ExitCode(), 2) << st.message();
    EXPECT_NE(st.message().find(path), std::string::npos);
    EXPECT_EQ(st.message().find('\n'), std::string::npos);
    EXPECT_FALSE(std::ifstream(dir / "report.html").good()) << "nothing written";
  }
}

TEST(ReportTest, RunReportWritesBesideTheResultsByDefault) {
  Scratch dir("report_test");
  const std::string path = testutil::WriteTraceJobs(dir, Synthetic(2, 40), kConfig);
  ReportRequest request;
  request.results_path = path;
  std::ostringstream log;
  ASSERT_TRUE(RunReport(request, log).ok());
  EXPECT_NE(log.str().find(dir / "report.html"), std::string::npos);
  std::ifstream in(dir / "report.html");
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_EQ(page.str().rfind("<!doctype html>", 0), 0u);
}

TEST(ReportSvgTest, NumbersAndPaths) {
  using namespace report;
  EXPECT_EQ(Num(0.000012345), "1.23e-05");
  EXPECT_EQ(Num(1234.5678), "1235");
  EXPECT_EQ(Num(0.012345), "0.0123");
  EXPECT_EQ(Num(NAN), "–");
  EXPECT_EQ(PValue(0.0312), "0.031");
  EXPECT_EQ(StepLabel(1200), "1.2k");
  const Scale x(0, 10, 0, 100), y(0, 1, 100, 0);
  EXPECT_EQ(LinePath({0, 5, 10}, {0, NAN, 1}, x, y), "M0 100M100 0");
  EXPECT_EQ(Scale(1, 1000, 0, 300, true)(10), 100);
  EXPECT_EQ(Subsample(10, 3), (std::vector<std::size_t>{0, 4, 9}));
}

}  // namespace
}  // namespace phasesweep::analysis
