// The command-line wiring of the library subcommands (app/src/stats_commands.cc and
// results_commands.cc), on the executable: options, FILE or stdin, the one error line on stderr
// and the exit status (2 for input the user must fix, 1 otherwise).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "test_process.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// `phasesweep <args>` with `stdin_text` on its standard input.
ProcessResult Phasesweep(const std::string& args, const std::string& stdin_text = "",
                         const std::string& cwd = "") {
  return RunCommand("printf '%s' '" + stdin_text + "' | " + kExe + " " + args, cwd);
}

TEST(StatsCli, WiringFilesStdinAndErrors) {
  TempDir dir;
  ProcessResult r =
      Phasesweep("stats changepoints --pen 0.5 --min-size 1 --jump 1", "0 0 0 5 5 5 5 -2 -2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "3 7 9\n");
  r = Phasesweep("stats changepoints --method binseg --n-bkps 2 --min-size 1 --jump 1 -",
                 "0 0 0 5 5 5 5 -2 -2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "3 7 9\n");
  const std::string path = dir.path() + "/input.txt";
  std::ofstream(path) << "19 22 16 29 24\n20 11 17 12\n";
  r = Phasesweep("stats test mannwhitney --method exact " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "statistic=17 pvalue=0.1111111111111111\n");
  r = Phasesweep("stats test mannwhitney --json " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"test\": \"mannwhitney\""), std::string::npos) << r.out;
  r = Phasesweep("stats adjust holm", "0.01 0.04 0.03");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0.03\n0.06\n0.06\n");
  // Errors: one line on stderr, exit 2 for bad input, 1 for an unreadable file.
  r = Phasesweep("stats test wilcoxon", "1 2 abc\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "phasesweep: error: <stdin> line 1, field 3: 'abc' is not a finite number (fields are "
            "decimal numbers separated by commas or blanks; start comment lines with '#')\n");
  r = Phasesweep("stats changepoints --pen x1", "1 2 3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "phasesweep: error: --pen: 'x1' is not a number\n");
  EXPECT_EQ(Phasesweep("stats changepoints --jump 1.5", "1 2 3").exit_code, 2);
  EXPECT_EQ(Phasesweep("stats test binom --alternative sideways", "1 2 0.5").exit_code, 2);
  r = Phasesweep("stats adjust holm /nonexistent/p.txt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "phasesweep: error: cannot open '/nonexistent/p.txt' (give a readable file or - "
            "for stdin)\n");
  // --pen and --n-bkps exclude each other (a CLI11 parse error, not ours).
  EXPECT_NE(Phasesweep("stats changepoints --pen 1 --n-bkps 2", "1 2 3").exit_code, 0);
}

// An 8 x 3 CSV matrix of smooth values (rows = examples).
void WriteMatrix(const std::string& path, bool b_matrix) {
  std::ofstream out(path);
  char field[40];
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 3; ++j) {
      const double v = b_matrix ? std::cos(0.5 + 0.9 * i - 0.4 * j) + 0.05 * i * j
                                : std::sin(1 + 0.7 * i + 1.3 * j) + 0.1 * i;
      std::snprintf(field, sizeof(field), "%s%.17g", j == 0 ? "" : ",", v);
      out << field;
    }
    out << "\n";
  }
}

TEST(ProbeStatsCli, SimilarityAndRankPrintValuesAndOneLineErrors) {
  TempDir dir;
  const std::string a = dir.path() + "/A.csv", b = dir.path() + "/B.csv";
  const std::string bad = dir.path() + "/bad.csv";
  WriteMatrix(a, false);
  WriteMatrix(b, true);
  std::ofstream(bad) << "1,2\n3\n";
  ProcessResult r = Phasesweep("stats similarity --cka linear " + a + " " + b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(std::stod(r.out), 0.46775108400341225, 1e-12);
  EXPECT_TRUE(r.err.empty()) << r.err;
  r = Phasesweep("stats similarity --cosine " + a + " " + b + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"measure\":\"cosine\"", 0), 0u) << r.out;
  r = Phasesweep("stats rank --stable " + a);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(std::stod(r.out), 1.4928003928615872, 1e-12);
  for (const std::string& args : {
           "similarity " + a + " " + b,                        // no measure
           "similarity --cka linear --cosine " + a + " " + b,  // two measures
           "similarity --cka rbf " + a + " " + b,              // unknown estimator
           "similarity --cka debiased " + a + " " + bad,       // ragged CSV
           "rank " + a,                                        // no measure
           "rank --effective --stable " + a,                   // two measures
           "rank --participation " + bad,
       }) {
    r = Phasesweep("stats " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.err.rfind("phasesweep: error: ", 0), 0u) << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  r = Phasesweep("stats similarity --cka rbf " + a + " " + b);
  EXPECT_NE(r.err.find("--cka 'rbf' is not valid; use linear or debiased"), std::string::npos);
  r = Phasesweep("stats rank --effective " + dir.path() + "/does_not_exist.csv");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

TEST(ResultsCli, StatusExportAndAnalyzeReportOneLineErrors) {
  TempDir dir;
  ProcessResult r = Phasesweep("analyze absent.h5", "", dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  r = RunCommand(
      kExe + " run " + std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml -q -o out.h5",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Phasesweep("status out.h5", "", dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("out.h5: 4 jobs: ", 0), 0u) << r.out;
  r = Phasesweep("export out.h5 --csv - --jobs x=1", "", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("phasesweep: error: --jobs: unknown key 'x'", 0), 0u) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  r = Phasesweep("analyze out.h5 --metrics nope", "", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("phasesweep: error: ", 0), 0u) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace phasesweep::testing
