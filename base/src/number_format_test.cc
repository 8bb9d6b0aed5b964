// FormatDouble in its three formats. The kShortestG column is the text inside job ids: each
// value was printed by the loop ids were always made with (the smallest N for which
// printf("%.Ng") reads back through strtod), compiled on its own before the move to base/; the
// kShortest column is std::to_chars. Python's repr(float) gives the same digits as both.
#include "phasesweep/base/number_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace phasesweep {
namespace {

struct Row {
  double v;
  const char* shortest;
  const char* shortest_g;
};

constexpr Row kRows[] = {
    {100.0, "100", "1e+02"},
    {0.0001, "1e-04", "0.0001"},
    {0.0003, "3e-04", "0.0003"},
    {1e21, "1e+21", "1e+21"},
    {1e-5, "1e-05", "1e-05"},
    {0.1, "0.1", "0.1"},
    {0.3, "0.3", "0.3"},
    {2.5, "2.5", "2.5"},
    {0.001, "0.001", "0.001"},
    {1024.0, "1024", "1024"},
    {12345678.0, "12345678", "12345678"},
    {1e16, "1e+16", "1e+16"},
    {123456789012345680.0, "123456789012345680", "1.2345678901234568e+17"},
    {1152921504606846976.0, "1152921504606846976", "1.152921504606847e+18"},
    {5e-324, "5e-324", "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308", "2.2250738585072014e-308"},
    {1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"},
    {-0.0, "-0", "-0"},
};

TEST(FormatDoubleTest, ShortestAndJobIdForms) {
  for (const Row& r : kRows) {
    EXPECT_EQ(FormatDouble(r.v), r.shortest);
    EXPECT_EQ(FormatDouble(r.v, DoubleFormat::kShortestG), r.shortest_g);
    EXPECT_EQ(std::strtod(r.shortest, nullptr), r.v);
    EXPECT_EQ(std::strtod(r.shortest_g, nullptr), r.v);
  }
}

TEST(FormatDoubleTest, Digits17IsPrintf) {
  EXPECT_EQ(FormatDouble(0.1, DoubleFormat::kDigits17), "0.10000000000000001");
  EXPECT_EQ(FormatDouble(100.0, DoubleFormat::kDigits17), "100");
  EXPECT_EQ(FormatDouble(1e-5, DoubleFormat::kDigits17), "1.0000000000000001e-05");
  EXPECT_EQ(FormatDouble(HUGE_VAL, DoubleFormat::kDigits17), "inf");
}

TEST(FormatDoubleTest, NonFinite) {
  for (DoubleFormat f : {DoubleFormat::kShortest, DoubleFormat::kShortestG}) {
    EXPECT_EQ(FormatDouble(std::nan(""), f), "nan");
    EXPECT_EQ(FormatDouble(-std::nan(""), f), "nan");
    EXPECT_EQ(FormatDouble(HUGE_VAL, f), "inf");
    EXPECT_EQ(FormatDouble(-HUGE_VAL, f), "-inf");
  }
}

TEST(FormatDoubleTest, EveryFormatReadsBackExactly) {
  double v = 1.0 / 3.0;
  for (int i = 0; i < 2000; ++i, v = v * -1.37 + 1e-3 / (i + 1)) {
    for (DoubleFormat f :
         {DoubleFormat::kShortest, DoubleFormat::kShortestG, DoubleFormat::kDigits17}) {
      EXPECT_EQ(std::strtod(FormatDouble(v, f).c_str(), nullptr), v) << v;
    }
  }
}

}  // namespace
}  // namespace phasesweep
