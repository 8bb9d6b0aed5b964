// The stats input grammar: CSV and blank-separated columns read the same, and every bad field is
// one error naming the line and the field.
#include "phasesweep/base/number_rows.h"

#include <gtest/gtest.h>

#include <sstream>

namespace phasesweep {
namespace {

Result<std::vector<NumberRow>> Read(const std::string& text) {
  std::istringstream in(text);
  return ReadNumberRows(in, "x.txt");
}

std::string ErrorOf(const std::string& text) {
  auto rows = Read(text);
  EXPECT_FALSE(rows.ok()) << text;
  return rows.ok() ? "" : rows.status().message();
}

TEST(NumberRowsTest, CommasAndBlanksSeparateFieldsAlike) {
  for (const char* text : {"1,2.5,-3e-4\n4,5,6\n", "1 2.5 -3e-4\n4\t5   6\n",
                           "1 , 2.5,\t-3e-4\r\n  4,5 ,6\r\n", "1 2.5, -3e-4\n4 5 6"}) {
    auto rows = Read(text);
    ASSERT_TRUE(rows.ok()) << text << ": " << rows.status().message();
    ASSERT_EQ(rows->size(), 2u) << text;
    EXPECT_EQ((*rows)[0].values, (std::vector<double>{1, 2.5, -3e-4})) << text;
    EXPECT_EQ((*rows)[1].values, (std::vector<double>{4, 5, 6})) << text;
    EXPECT_EQ((*rows)[0].line, 1);
    EXPECT_EQ((*rows)[1].line, 2);
  }
}

TEST(NumberRowsTest, SkipsBlankAndCommentLinesAndKeepsLineNumbers) {
  auto rows = Read("# header, with commas\n\n   \n  # indented comment\n7\n+8,.5\n");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].line, 5);
  EXPECT_EQ((*rows)[1].line, 6);
  EXPECT_EQ((*rows)[1].values, (std::vector<double>{8, 0.5}));
  auto none = Read("# only a comment\n\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(NumberRowsTest, ReadsTheShortestRoundTripTextBackExactly) {
  auto rows = Read("0.1,1e-05,1.7976931348623157e+308,5e-324\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].values, (std::vector<double>{0.1, 1e-05, 1.7976931348623157e+308, 5e-324}));
}

TEST(NumberRowsTest, EveryBadFieldNamesItsLineAndField) {
  EXPECT_EQ(ErrorOf("1,2\n3,abc\n"),
            "x.txt line 2, field 2: 'abc' is not a finite number (fields are decimal numbers "
            "separated by commas or blanks; start comment lines with '#')");
  EXPECT_EQ(ErrorOf("1,,2\n"), "x.txt line 1, field 2: empty field (every field must be a number)");
  EXPECT_EQ(ErrorOf("1,2,\n"), "x.txt line 1, field 3: empty field (every field must be a number)");
  EXPECT_EQ(ErrorOf(",1\n"), "x.txt line 1, field 1: empty field (every field must be a number)");
  for (const char* bad :
       {"nan", "inf", "-inf", "1e400", "0x10", "1.2.3", "++1", "+-1", "5e", "--1", "1#2"}) {
    const std::string message = ErrorOf(std::string("0 ") + bad + "\n");
    EXPECT_NE(message.find("x.txt line 1, field 2: '"), std::string::npos)
        << bad << ": " << message;
  }
}

TEST(NumberRowsTest, QuotesAtMostFortyCharactersOfABadField) {
  const std::string message = ErrorOf(std::string(100, 'z') + "\n");
  EXPECT_NE(message.find("'" + std::string(40, 'z') + "...'"), std::string::npos) << message;
}

}  // namespace
}  // namespace phasesweep
