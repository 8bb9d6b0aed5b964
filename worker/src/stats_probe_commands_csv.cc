// CSV matrices for `phasesweep stats similarity|rank`: the stats input grammar (base/
// number_rows.h: every error names the file, the line and the field) plus the matrix rules, because
// a silently misread activation matrix would give a plausible but wrong similarity.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "phasesweep/base/number_rows.h"
#include "phasesweep/worker/csv_matrix.h"

namespace phasesweep::worker {

Result<torch::Tensor> ParseCsvMatrix(std::istream& in, const std::string& name) {
  Result<std::vector<NumberRow>> rows = ReadNumberRows(in, name);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return Status::InvalidArgument(name +
                                   ": no rows of numbers (the file is empty or only comments)");
  }
  const NumberRow& first = rows->front();
  const int64_t columns = static_cast<int64_t>(first.values.size());
  std::vector<double> values;
  for (const NumberRow& row : *rows) {
    if (static_cast<int64_t>(row.values.size()) != columns) {
      return Status::InvalidArgument(
          name + " line " + std::to_string(row.line) + ": " + std::to_string(row.values.size()) +
          " columns, but line " + std::to_string(first.line) + " has " + std::to_string(columns) +
          " (every row needs the same number of columns)");
    }
    values.insert(values.end(), row.values.begin(), row.values.end());
  }
  return torch::tensor(values, torch::kDouble)
      .reshape({static_cast<int64_t>(rows->size()), columns});
}

Result<torch::Tensor> ReadCsvMatrixFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  }
  return ParseCsvMatrix(in, path);
}

}  // namespace phasesweep::worker
