// CSV matrices for `phasesweep stats similarity|rank`: a strict reader whose every error names
// the file, the line and the column, because a silently misread activation matrix would give a
// plausible but wrong similarity.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <locale>
#include <sstream>
#include <vector>

#include "phasesweep/worker/csv_matrix.h"

namespace phasesweep::worker {
namespace {

std::string Trim(const std::string& s) {
  const char* space = " \t\r";
  const size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// Shortens a field quoted in a message, so a pasted binary file cannot flood the terminal.
std::string Quote(const std::string& field) {
  constexpr size_t kMax = 40;
  return "'" + (field.size() > kMax ? field.substr(0, kMax) + "..." : field) + "'";
}

bool ParseFiniteDouble(const std::string& field, double* value) {
  std::istringstream in(field);
  in.imbue(std::locale::classic());  // '.' is the decimal point whatever the user's locale
  in >> *value;
  return !in.fail() && in.eof() && std::isfinite(*value);
}

}  // namespace

Result<torch::Tensor> ParseCsvMatrix(std::istream& in, const std::string& name) {
  std::vector<double> values;
  int64_t columns = 0;
  int64_t rows = 0;
  int64_t first_data_line = 0;
  std::string line;
  for (int64_t line_number = 1; std::getline(in, line); ++line_number) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    int64_t column = 0;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      const std::string field =
          Trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      ++column;
      double value = 0;
      if (field.empty()) {
        return Status::InvalidArgument(name + " line " + std::to_string(line_number) + ", column " +
                                       std::to_string(column) +
                                       ": empty field (every field must be a number)");
      }
      if (!ParseFiniteDouble(field, &value)) {
        return Status::InvalidArgument(
            name + " line " + std::to_string(line_number) + ", column " + std::to_string(column) +
            ": " + Quote(field) +
            " is not a finite number (a CSV matrix holds numbers only; start header lines "
            "with '#')");
      }
      values.push_back(value);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (rows == 0) {
      columns = column;
      first_data_line = line_number;
    } else if (column != columns) {
      return Status::InvalidArgument(
          name + " line " + std::to_string(line_number) + ": " + std::to_string(column) +
          " columns, but line " + std::to_string(first_data_line) + " has " +
          std::to_string(columns) + " (every row needs the same number of columns)");
    }
    ++rows;
  }
  if (in.bad()) return Status::IOError(name + ": read failed");
  if (rows == 0) {
    return Status::InvalidArgument(name +
                                   ": no rows of numbers (the file is empty or only comments)");
  }
  return torch::tensor(values, torch::kDouble).reshape({rows, columns});
}

Result<torch::Tensor> ReadCsvMatrixFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  }
  return ParseCsvMatrix(in, path);
}

}  // namespace phasesweep::worker
