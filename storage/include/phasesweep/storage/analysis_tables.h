// Tables that `phasesweep analyze` stores in the results file, under /analysis: one group per
// table, one 1-D dataset per column (float64, int64 or UTF-8 string), string attributes on the
// table and on /analysis. pandas reads a table as
//   pd.DataFrame({c: f["analysis/transitions"][c][:] for c in f["analysis/transitions"]}).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::storage {

struct Column {
  std::string name;
  std::variant<std::vector<double>, std::vector<int64_t>, std::vector<std::string>> values;
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // all of the same length
  std::map<std::string, std::string> attributes;
};

// Replaces /analysis in `results_path` with `tables` (and `attributes` on /analysis), the same
// crash-safe way a merge works (copy, write, fsync, rename), under the writer lock: while a
// sweep writes the file this returns FailedPrecondition naming it. InvalidArgument for a table
// or column name with '/' or empty, duplicate names, or columns of different lengths. Errors
// opening the file as ResultsReader::Open. Unmerged shards are left alone.
Status WriteAnalysis(const std::string& results_path, const std::vector<Table>& tables,
                     const std::map<std::string, std::string>& attributes = {});

// Reads /analysis back (tables sorted by name, columns by name; string attributes only); an
// empty vector when the file has no /analysis yet. /analysis's own attributes go to
// *attributes when non-null.
Result<std::vector<Table>> ReadAnalysis(const std::string& results_path,
                                        std::map<std::string, std::string>* attributes = nullptr);

}  // namespace phasesweep::storage
