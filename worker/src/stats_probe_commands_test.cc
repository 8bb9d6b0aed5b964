// Tests of `phasesweep stats similarity|rank`: the CSV reader's errors, the command functions on
// streams (values against REFERENCE_VALUES.md). The CLI wiring is tested on the executable
// (tests/cli_stats_test.cc).
#include "phasesweep/worker/stats_probe_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "phasesweep/base/number_format.h"
#include "phasesweep/worker/csv_matrix.h"

namespace phasesweep::worker {
namespace {

// REFERENCE_VALUES.md fixtures A and B as CSV with 17 significant digits (exact round trip).
std::string FixtureCsv(bool b_matrix, int64_t rows = 8) {
  std::string csv;
  char field[40];
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      const double di = static_cast<double>(i);
      const double dj = static_cast<double>(j);
      const double v = b_matrix ? std::cos(0.5 + 0.9 * di - 0.4 * dj) + 0.05 * di * dj
                                : std::sin(1 + 0.7 * di + 1.3 * dj) + 0.1 * di;
      std::snprintf(field, sizeof(field), "%s%.17g", j == 0 ? "" : ",", v);
      csv += field;
    }
    csv += "\n";
  }
  return csv;
}

Status Similarity(SimilarityMeasure measure, const std::string& a, const std::string& b,
                  std::string* output, bool json = false) {
  SimilarityRequest request;
  request.measure = measure;
  request.a_name = "A.csv";
  request.b_name = "B.csv";
  request.json = json;
  std::istringstream a_in(a);
  std::istringstream b_in(b);
  std::ostringstream out;
  Status status = RunSimilarity(request, a_in, b_in, out);
  *output = out.str();
  return status;
}

Status Rank(RankMeasure measure, const std::string& a, std::string* output, bool json = false) {
  RankRequest request;
  request.measure = measure;
  request.name = "A.csv";
  request.json = json;
  std::istringstream a_in(a);
  std::ostringstream out;
  Status status = RunRank(request, a_in, out);
  *output = out.str();
  return status;
}

Result<torch::Tensor> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseCsvMatrix(in, "m.csv");
}

// ---- CSV reader -------------------------------------------------------------------------------

TEST(CsvMatrixTest, ParsesNumbersCommentsBlankLinesAndCrLf) {
  Result<torch::Tensor> m = Parse("# a header\n1, 2.5 ,-3e-2\r\n\n  4,5,6\n# trailing\n");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(m->dtype(), torch::kDouble);
  EXPECT_EQ((*m)[0][2].item<double>(), -0.03);
  EXPECT_EQ((*m)[1][0].item<double>(), 4.0);
  Result<torch::Tensor> single = Parse("7");  // no final newline
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->sizes(), torch::IntArrayRef({1, 1}));
  // Blank-separated columns (numpy.savetxt's default delimiter) read as the same matrix.
  Result<torch::Tensor> blanks = Parse("# a header\n1 2.5\t-3e-2\r\n\n  4  5 6\n");
  ASSERT_TRUE(blanks.ok()) << blanks.status().message();
  EXPECT_TRUE(torch::equal(*blanks, *m));
}

TEST(CsvMatrixTest, MalformedFieldNamesLineAndField) {
  Result<torch::Tensor> m = Parse("1,2,3\n4,abc,6\n");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(m.status().message().find("m.csv line 2, field 2: 'abc' is not a finite number"),
            std::string::npos)
      << m.status().message();
  EXPECT_EQ(m.status().message().find('\n'), std::string::npos);
}

TEST(CsvMatrixTest, RejectsHeaderNonFiniteAndJunkAfterNumbers) {
  for (const char* text :
       {"x,y\n1,2\n", "1,nan\n", "1,inf\n", "1,1e999\n", "1.5.2,3\n", "1;2\n", "0x10,1\n"}) {
    Result<torch::Tensor> m = Parse(text);
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_NE(m.status().message().find("line 1, field"), std::string::npos)
        << m.status().message();
  }
}

TEST(CsvMatrixTest, EmptyFieldsAndTrailingComma) {
  Result<torch::Tensor> m = Parse("1,2\n3,\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("line 2, field 2: empty field"), std::string::npos)
      << m.status().message();
  EXPECT_FALSE(Parse("1,,2\n").ok());
}

TEST(CsvMatrixTest, RaggedRowsNameBothLines) {
  Result<torch::Tensor> m = Parse("# c\n1,2,3\n4,5\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("m.csv line 3: 2 columns, but line 2 has 3"),
            std::string::npos)
      << m.status().message();
}

TEST(CsvMatrixTest, EmptyInputIsAnError) {
  for (const char* text : {"", "\n\n", "# only a comment\n"}) {
    Result<torch::Tensor> m = Parse(text);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("m.csv: no rows of numbers"), std::string::npos);
    EXPECT_EQ(m.status().ExitCode(), 2);
  }
}

// ---- similarity ------------------------------------------------------------------------------

TEST(SimilarityCommandTest, ReferenceValues) {
  std::string out;
  // REFERENCE_VALUES.md: linear CKA 0.46775108400341225, debiased 0.3678667013494509,
  // cosine 0.456620410773482.
  ASSERT_TRUE(
      Similarity(SimilarityMeasure::kLinearCka, FixtureCsv(false), FixtureCsv(true), &out).ok());
  EXPECT_NEAR(std::stod(out), 0.46775108400341225, 1e-12);
  // The shortest text that reads back exactly, as every stats subcommand prints numbers.
  EXPECT_EQ(out, FormatDouble(std::stod(out)) + "\n");
  ASSERT_TRUE(
      Similarity(SimilarityMeasure::kDebiasedCka, FixtureCsv(false), FixtureCsv(true), &out).ok());
  EXPECT_NEAR(std::stod(out), 0.3678667013494509, 1e-12);
  ASSERT_TRUE(
      Similarity(SimilarityMeasure::kCosine, FixtureCsv(false), FixtureCsv(true), &out).ok());
  EXPECT_NEAR(std::stod(out), 0.456620410773482, 1e-12);
}

TEST(SimilarityCommandTest, JsonObject) {
  std::string out;
  ASSERT_TRUE(
      Similarity(SimilarityMeasure::kLinearCka, FixtureCsv(false), FixtureCsv(true), &out, true)
          .ok());
  EXPECT_EQ(out.rfind("{\"measure\":\"linear_cka\",\"value\":0.46775108400341", 0), 0u) << out;
  EXPECT_NE(out.find("\"a\":\"A.csv\",\"b\":\"B.csv\",\"rows\":8,\"a_columns\":3,\"b_columns\":3}"),
            std::string::npos)
      << out;
}

// File names are quoted by base/'s JsonQuote: control characters in a name give valid JSON,
// with \t and \n in their short form (they were \u0009 and \u000a before the one escaper).
TEST(SimilarityCommandTest, JsonQuotesFileNames) {
  RankRequest request;
  request.measure = RankMeasure::kStable;
  request.name = "run\t1\n\"x\".csv";
  request.json = true;
  std::istringstream in(FixtureCsv(false));
  std::ostringstream out;
  ASSERT_TRUE(RunRank(request, in, out).ok());
  EXPECT_NE(out.str().find(R"("file":"run\t1\n\"x\".csv")"), std::string::npos) << out.str();
}

TEST(SimilarityCommandTest, MismatchedRowsAndShapes) {
  std::string out;
  Status s =
      Similarity(SimilarityMeasure::kLinearCka, FixtureCsv(false), FixtureCsv(true, 7), &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find("A.csv has 8 rows but B.csv has 7"), std::string::npos) << s.message();
  EXPECT_TRUE(out.empty());
  s = Similarity(SimilarityMeasure::kCosine, "1,2\n3,4\n", "1,2,3\n4,5,6\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("A.csv has 2 columns but B.csv has 3"), std::string::npos);
  // CKA compares representations of any widths.
  EXPECT_TRUE(Similarity(SimilarityMeasure::kLinearCka, "1,2\n3,5\n0,1\n", "1\n2\n4\n", &out).ok());
}

TEST(SimilarityCommandTest, UndefinedValuesAreErrors) {
  std::string out;
  Status s = Similarity(SimilarityMeasure::kLinearCka, "1,2\n1,2\n1,2\n", "1\n2\n3\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("A.csv has no variance"), std::string::npos) << s.message();
  s = Similarity(SimilarityMeasure::kDebiasedCka, "1\n2\n3\n", "1\n3\n2\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("debiased_cka needs at least 4 rows"), std::string::npos);
  s = Similarity(SimilarityMeasure::kCosine, "0,0\n", "1,2\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("A.csv is all zeros"), std::string::npos);
  s = Similarity(SimilarityMeasure::kLinearCka, "1\n2\n", "", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("B.csv: no rows of numbers"), std::string::npos);
}

// ---- rank ------------------------------------------------------------------------------------

TEST(RankCommandTest, ReferenceValuesAndJson) {
  std::string out;
  // REFERENCE_VALUES.md: 2.6519482332975883, 1.4928003928615872, 1.6580849606625445.
  ASSERT_TRUE(Rank(RankMeasure::kEffective, FixtureCsv(false), &out).ok());
  EXPECT_NEAR(std::stod(out), 2.6519482332975883, 1e-12);
  ASSERT_TRUE(Rank(RankMeasure::kStable, FixtureCsv(false), &out).ok());
  EXPECT_NEAR(std::stod(out), 1.4928003928615872, 1e-12);
  ASSERT_TRUE(Rank(RankMeasure::kParticipation, FixtureCsv(false), &out, true).ok());
  EXPECT_EQ(out.rfind("{\"measure\":\"participation_ratio\",\"value\":1.658084960662", 0), 0u)
      << out;
  EXPECT_NE(out.find("\"file\":\"A.csv\",\"rows\":8,\"columns\":3}\n"), std::string::npos) << out;
}

TEST(RankCommandTest, DegenerateInputsAreErrors) {
  std::string out;
  Status s = Rank(RankMeasure::kEffective, "0,0\n0,0\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("A.csv is all zeros"), std::string::npos);
  s = Rank(RankMeasure::kParticipation, "1,2,3\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("at least 2 rows"), std::string::npos);
  s = Rank(RankMeasure::kParticipation, "1,2\n1,2\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no variance"), std::string::npos);
  EXPECT_TRUE(Rank(RankMeasure::kStable, "1,2,3\n", &out).ok());  // one row: rank 1
  EXPECT_EQ(std::stod(out), 1.0);
}

}  // namespace
}  // namespace phasesweep::worker
