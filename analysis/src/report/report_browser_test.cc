// The report in a real browser: renders the page of a synthetic sweep (two grid levels plus
// random-label controls, 5 seeds) with headless Chromium (Debian's `chromium`, installed by
// scripts/setup), and checks that the screenshot is not blank and that the page logged nothing
// on the console. Two controls show that both checks can fail: a blank page and a page with a
// script error. The page and its screenshot stay in <build>/report_browser/ for a person to see.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "phasesweep/analysis/report.h"
#include "phasesweep/analysis/synthetic.h"
#include "results_file_fixture.h"

namespace phasesweep::analysis {
namespace {

const std::string kOut = std::string(PHASESWEEP_BINARY_DIR) + "/report_browser";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int Shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

struct Rendered {
  int rc = -1;
  std::string console;  // Chromium's console lines (":CONSOLE") and failed loads
  int width = 0, height = 0, distinct_bytes = 0;
  long idat_bytes = 0;
};

// Screenshots `html` at 1400 x 2000 and reads back what the checks need.
Rendered Render(const std::string& html, const std::string& name) {
  Rendered r;
  const std::string png = kOut + "/" + name + ".png", log = kOut + "/" + name + ".log";
  std::filesystem::remove(png);
  const std::string profile = kOut + "/profile-" + name;
  r.rc = Shell(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--enable-logging=stderr --v=0 --user-data-dir=" +
      profile + " --screenshot=" + png + " --window-size=1400,2000 file://" + html + " > " + log +
      " 2>&1");
  std::istringstream lines(Slurp(log));
  for (std::string line; std::getline(lines, line);)
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos ||
        line.find("Failed to load resource") != std::string::npos)
      r.console += line + "\n";
  std::istringstream stats(Shell("/usr/bin/python3 " PHASESWEEP_SOURCE_DIR
                                 "/analysis/src/report/png_stats.py " +
                                 png + " > " + png + ".txt") == 0
                               ? Slurp(png + ".txt")
                               : "");
  stats >> r.width >> r.height >> r.distinct_bytes >> r.idat_bytes;
  return r;
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::filesystem::create_directories(kOut);
    ASSERT_EQ(Shell("command -v chromium > /dev/null"), 0)
        << "chromium is not installed: scripts/setup installs Debian's chromium for this test";
  }
};

TEST_F(ReportBrowserTest, ReportRendersWithoutConsoleErrors) {
  testutil::Scratch dir("report_browser_test");
  SyntheticSweepSpec spec;
  spec.seeds = 5;
  spec.probes = 120;
  const std::string results = testutil::WriteTraceJobs(
      dir, MakeSyntheticSweep(spec).jobs,
      "name: browser-test\nanalysis:\n  surrogates: 19\n  bootstrap: 300\n");
  ReportRequest request;
  request.results_path = results;
  request.output_path = kOut + "/report.html";
  std::ostringstream log;
  ASSERT_TRUE(RunReport(request, log).ok());
  const std::string page = Slurp(request.output_path);
  std::size_t figures = 0;
  for (std::size_t at = page.find("<svg"); at != std::string::npos; at = page.find("<svg", at + 1))
    ++figures;
  EXPECT_GE(figures, 3u);

  const Rendered r = Render(request.output_path, "report");
  ASSERT_EQ(r.rc, 0) << "chromium failed; see " << kOut << "/report.log";
  EXPECT_EQ(r.width, 1400);
  EXPECT_EQ(r.height, 2000);
  EXPECT_GE(r.distinct_bytes, 128) << "the screenshot looks blank";
  EXPECT_GE(r.idat_bytes, 20000) << "the screenshot looks blank";
  EXPECT_EQ(r.console, "") << "the page logged on the console";
}

TEST_F(ReportBrowserTest, ChecksCatchABlankPageAndAScriptError) {
  const std::string blank = kOut + "/blank.html", broken = kOut + "/broken.html";
  std::ofstream(blank) << "<!doctype html><html><body></body></html>\n";
  std::ofstream(broken)
      << "<!doctype html><html><body><p>x</p><script>notDefined();</script></body></html>\n";
  const Rendered b = Render(blank, "blank");
  ASSERT_EQ(b.rc, 0);
  EXPECT_LT(b.distinct_bytes, 128);
  EXPECT_LT(b.idat_bytes, 20000);
  const Rendered e = Render(broken, "broken");
  ASSERT_EQ(e.rc, 0);
  EXPECT_NE(e.console.find("notDefined"), std::string::npos) << "console errors reach the log";
}

}  // namespace
}  // namespace phasesweep::analysis
