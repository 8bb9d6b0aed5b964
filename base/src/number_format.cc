// Decimal text of doubles (see number_format.h).
#include "phasesweep/base/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace phasesweep {

std::string FormatDouble(double v, DoubleFormat format) {
  char buf[64];
  if (format == DoubleFormat::kDigits17) {
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    return buf;
  }
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (format == DoubleFormat::kShortest) {
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
  }
  // kShortestG: the loop job ids were always formatted with (see the header); 17 digits always
  // read back, so it ends there at the latest.
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace phasesweep
