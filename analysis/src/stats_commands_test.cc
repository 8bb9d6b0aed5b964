// Tests of `phasesweep stats changepoints | test | adjust`: the command functions on string
// streams (values from REFERENCE_VALUES.md and SciPy). The CLI wiring (options, FILE/stdin,
// one-line errors, exit statuses) is tested on the executable (tests/cli_stats_test.cc).
#include "phasesweep/analysis/stats_commands.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace phasesweep::analysis {
namespace {

std::string Changepoints(ChangepointsRequest q, const std::string& input,
                         Status* status = nullptr) {
  std::istringstream in(input);
  std::ostringstream out;
  Status s = RunChangepoints(q, in, out);
  if (status) *status = s;
  EXPECT_TRUE(status || s.ok()) << s.message();
  return out.str();
}

std::string TestText(TestRequest q, const std::string& input, Status* status = nullptr) {
  std::istringstream in(input);
  std::ostringstream out;
  Status s = RunTest(q, in, out);
  if (status) *status = s;
  EXPECT_TRUE(status || s.ok()) << s.message();
  return out.str();
}

// "statistic=<s> pvalue=<p>\n" -> {s, p}; values printed in full precision are compared to
// SciPy within 1e-13 relative (the last bit of a sum may differ from NumPy's).
void ExpectStatLine(const std::string& text, double statistic, double pvalue) {
  double s = 0, p = 0;
  ASSERT_EQ(std::sscanf(text.c_str(), "statistic=%lf pvalue=%lf", &s, &p), 2) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NEAR(s, statistic, 1e-13 * std::fabs(statistic) + 1e-15) << text;
  EXPECT_NEAR(p, pvalue, 1e-13 * std::fabs(pvalue) + 1e-15) << text;
}

TEST(StatsChangepoints, ReferenceValues) {
  // REFERENCE_VALUES.md: Pelt(l2, min_size 1, jump 1, pen 0.5) -> [3, 7, 9]; Binseg(n_bkps 2);
  // ruptures' defaults (min_size 2, jump 5) -> [5, 9].
  ChangepointsRequest q;
  q.penalty = 0.5;
  q.min_size = 1;
  q.jump = 1;
  EXPECT_EQ(Changepoints(q, "0\n0\n0\n5\n5\n5\n5\n-2\n-2\n"), "3 7 9\n");
  q.method = "binseg";
  q.penalty.reset();
  q.n_bkps = 2;
  EXPECT_EQ(Changepoints(q, "0 0 0 5 5 5 5 -2 -2"), "3 7 9\n");
  ChangepointsRequest d;
  d.penalty = 0.5;
  EXPECT_EQ(Changepoints(d, "# a comment\n0 0 0\n\n5 5 5 5\n-2 -2\n"), "5 9\n");
  d.json = true;
  EXPECT_EQ(Changepoints(d, "0 0 0 5 5 5 5 -2 -2"),
            "{\"method\": \"pelt\", \"cost\": \"l2\", \"min_size\": 2, \"jump\": 5, "
            "\"penalty\": 0.5, \"n\": 9, \"breakpoints\": [5, 9]}\n");
  ChangepointsRequest def;  // default penalty from the noise estimate
  def.jump = 1;
  def.json = true;
  const std::string j = Changepoints(def, "0 0.1 0 0.1 0 5 5.1 5 5.1 5");
  EXPECT_NE(j.find("\"breakpoints\": [5, 10]"), std::string::npos) << j;
}

TEST(StatsChangepoints, BadInputNamesLineAndToken) {
  Status s;
  ChangepointsRequest q;
  q.input_name = "series.txt";
  Changepoints(q, "1 2 3\n4 x5 6\n", &s);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "series.txt line 2, field 2: 'x5' is not a finite number (fields are decimal numbers "
            "separated by commas or blanks; start comment lines with '#')");
  EXPECT_EQ(s.ExitCode(), 2);
  Changepoints(q, "1 nan 3\n", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  Changepoints(q, "\n# nothing\n", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  q.method = "dynp";
  Changepoints(q, "1 2 3", &s);
  EXPECT_NE(s.message().find("valid: pelt, binseg"), std::string::npos);
  q.method = "pelt";
  q.cost = "l1";
  Changepoints(q, "1 2 3", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  q.cost = "l2";
  q.n_bkps = 1;
  Changepoints(q, "1 2 3", &s);
  EXPECT_NE(s.message().find("pelt takes --pen"), std::string::npos);
  q.method = "binseg";
  q.n_bkps = 5;
  Changepoints(q, "1 2 3 4 5 6", &s);  // impossible segmentation
  EXPECT_EQ(s.ExitCode(), 2);
}

TEST(StatsTest, ReferenceValuesEachTest) {
  const std::string d = "6 8 14 16 23 24 28 29 41 -48 49 56 60 -67 75\n";
  TestRequest w{"wilcoxon", "two-sided", "exact", false, "-"};
  EXPECT_EQ(TestText(w, d), "statistic=24 pvalue=0.041259765625\n");
  w.alternative = "greater";
  EXPECT_EQ(TestText(w, d), "statistic=96 pvalue=0.0206298828125\n");
  w.alternative = "two-sided";
  w.method = "approx";
  ExpectStatLine(TestText(w, d), 24, 0.04088813291185591);
  TestRequest m{"mannwhitney", "two-sided", "exact", false, "-"};
  EXPECT_EQ(TestText(m, "19 22 16 29 24\n20 11 17 12\n"),
            "statistic=17 pvalue=0.1111111111111111\n");
  m.method = "approx";
  ExpectStatLine(TestText(m, "19 22 16 29 24\n20 11 17 12\n"), 17, 0.11134688653314041);
  TestRequest k{"kruskal", "two-sided", "auto", false, "-"};
  ExpectStatLine(TestText(k, "1 3 5 7 9\n2 4 6 8 10\n"), 0.2727272727272734, 0.6015081344405895);
  TestRequest b{"binom", "greater", "auto", false, "-"};
  ExpectStatLine(TestText(b, "3 15 0.1\n"), 0.2, 0.18406106910639114);
  TestRequest p{"permutation", "less", "auto", false, "-"};
  EXPECT_EQ(TestText(p, "1 2 3\n4 5 6 7\n"), "statistic=-3.5 pvalue=0.02857142857142857\n");
  // Sign test: 13 positive of 15 nonzero differences;
  // scipy.stats.binomtest(13, 15, 0.5).pvalue = 0.00738525390625.
  TestRequest s{"sign", "two-sided", "auto", false, "-"};
  EXPECT_EQ(TestText(s, d), "statistic=13 pvalue=0.00738525390625\n");
  // scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = (0.8207826816681233, 0.08858700531354381)
  TestRequest sp{"spearman", "two-sided", "auto", false, "-"};
  ExpectStatLine(TestText(sp, "1 2 3 4 5\n5 6 7 8 7\n"), 0.8207826816681233, 0.08858700531354381);
  sp.json = true;
  const std::string json = TestText(sp, "1 2 3 4 5\n5 6 7 8 7\n");
  EXPECT_EQ(json.rfind("{\"test\": \"spearman\", \"alternative\": \"two-sided\", "
                       "\"method\": \"approx\", \"n\": 5, \"statistic\": 0.82078268166812",
                       0),
            0u)
      << json;
  EXPECT_NE(json.find("\"pvalue\": 0.0885870053135"), std::string::npos) << json;
  // A constant sample: SciPy's (nan, nan), printed as nan / null.
  sp.json = false;
  EXPECT_EQ(TestText(sp, "1 1 1\n1 2 3\n"), "statistic=nan pvalue=nan\n");
}

TEST(StatsTest, BadInput) {
  Status s;
  TestText({"ttest", "two-sided", "auto", false, "-"}, "1 2", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find("valid: wilcoxon"), std::string::npos);
  TestText({"wilcoxon", "bigger", "auto", false, "-"}, "1 2", &s);
  EXPECT_EQ(s.message(),
            "--alternative: unknown alternative 'bigger' (valid: two-sided, greater, less)");
  TestText({"spearman", "two-sided", "exact", false, "-"}, "1 2\n3 4", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  TestText({"kruskal", "less", "auto", false, "-"}, "1 2\n3 4", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  TestText({"mannwhitney", "two-sided", "auto", false, "x.txt"}, "1 2 3\n", &s);
  EXPECT_EQ(s.message(),
            "x.txt: mannwhitney needs two lines (two samples), got 1 non-empty line(s)");
  TestText({"wilcoxon", "two-sided", "auto", false, "-"}, "1 2 3\n1 2\n", &s);
  EXPECT_NE(s.message().find("differ in length"), std::string::npos);
  TestText({"binom", "two-sided", "auto", false, "-"}, "3.5 10 0.5\n", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  TestText({"binom", "two-sided", "auto", false, "-"}, "3 10 1.5\n", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  TestText({"wilcoxon", "two-sided", "auto", false, "d.txt"}, "0 0 0\n", &s);
  EXPECT_EQ(s.ExitCode(), 2);
  TestText({"wilcoxon", "two-sided", "auto", false, "d.txt"}, "1 2 3;\n", &s);
  EXPECT_EQ(s.message(),
            "d.txt line 1, field 3: '3;' is not a finite number (fields are decimal numbers "
            "separated by commas or blanks; start comment lines with '#')");
}

TEST(StatsAdjust, HolmAndBh) {
  AdjustRequest q{"holm", false, "-"};
  std::istringstream in("0.01 0.04\n0.03\n");
  std::ostringstream out;
  ASSERT_TRUE(RunAdjust(q, in, out).ok());
  // Holm: sorted 0.01*3, max(0.03*2, .03), max(0.04, .06) -> 0.03 0.06 0.06 in input order.
  EXPECT_EQ(out.str(), "0.03\n0.06\n0.06\n");
  q.method = "bh";
  q.json = true;
  std::istringstream in2("0.01 0.04 0.03");
  std::ostringstream out2;
  ASSERT_TRUE(RunAdjust(q, in2, out2).ok());
  EXPECT_EQ(out2.str(),
            "{\"method\": \"bh\", \"pvalues\": [0.01, 0.04, 0.03], \"adjusted\": "
            "[0.03, 0.04, 0.04]}\n");
  std::istringstream bad("0.2 1.2");
  std::ostringstream o3;
  Status s = RunAdjust({"holm", false, "p.txt"}, bad, o3);
  EXPECT_EQ(s.message(), "p.txt: value 1.2 (p-value 2) is not a p-value in [0, 1]");
  std::istringstream ok("0.2");
  EXPECT_EQ(RunAdjust({"sidak", false, "-"}, ok, o3).ExitCode(), 2);
}

}  // namespace
}  // namespace phasesweep::analysis
