// The stats input grammar (number_rows.h).
#include "phasesweep/base/number_rows.h"

#include <charconv>
#include <cmath>
#include <istream>

namespace phasesweep {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Shortens a field quoted in a message, so a pasted binary file cannot flood the terminal.
std::string Quote(const std::string& field) {
  constexpr size_t kMax = 40;
  return "'" + (field.size() > kMax ? field.substr(0, kMax) + "..." : field) + "'";
}

// The whole of `field` as a finite double; std::from_chars is locale-independent. One leading
// '+' is accepted, as strtod and istream accept it.
bool ParseFinite(const std::string& field, double* value) {
  const char* first = field.data();
  const char* last = first + field.size();
  if (first != last && *first == '+' && last - first > 1 && first[1] != '-') ++first;
  const auto [ptr, ec] = std::from_chars(first, last, *value);
  return ec == std::errc() && ptr == last && std::isfinite(*value);
}

}  // namespace

Result<std::vector<NumberRow>> ReadNumberRows(std::istream& in, const std::string& name) {
  std::vector<NumberRow> rows;
  std::string line;
  for (int64_t line_number = 1; std::getline(in, line); ++line_number) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = name + " line " + std::to_string(line_number) + ", field ";
    const bool has_comma = line.find(',') != std::string::npos;
    NumberRow row;
    row.line = line_number;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      const size_t end = comma == std::string::npos ? line.size() : comma;
      // The blank-separated fields between two commas (or in a line without commas).
      size_t fields = 0;
      for (size_t i = start; i < end;) {
        while (i < end && IsBlank(line[i])) ++i;
        if (i == end) break;
        size_t j = i;
        while (j < end && !IsBlank(line[j])) ++j;
        const std::string field = line.substr(i, j - i);
        double value = 0;
        if (!ParseFinite(field, &value)) {
          return Status::InvalidArgument(
              where + std::to_string(row.values.size() + 1) + ": " + Quote(field) +
              " is not a finite number (fields are decimal numbers separated by commas or "
              "blanks; start comment lines with '#')");
        }
        row.values.push_back(value);
        ++fields;
        i = j;
      }
      if (fields == 0 && has_comma) {
        return Status::InvalidArgument(where + std::to_string(row.values.size() + 1) +
                                       ": empty field (every field must be a number)");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(row));
  }
  if (in.bad()) return Status::IOError(name + ": read failed");
  return rows;
}

}  // namespace phasesweep
