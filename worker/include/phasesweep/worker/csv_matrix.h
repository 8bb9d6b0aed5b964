// CSV matrices for `phasesweep stats similarity|rank` (format in stats_probe_commands.h): a
// strict reader whose every error names the file, the line and the column.
#pragma once

#include <torch/torch.h>

#include <iosfwd>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::worker {

// Parses a CSV matrix into a float64 tensor [rows, columns]. `name` (usually the path) opens
// every error message: "<name> line 3, column 2: 'abc' is not a finite number ...".
// InvalidArgument for malformed fields, ragged rows, or no rows at all.
Result<torch::Tensor> ParseCsvMatrix(std::istream& in, const std::string& name);
// Opens `path` (NotFound if it cannot be opened) and parses it.
Result<torch::Tensor> ReadCsvMatrixFile(const std::string& path);

}  // namespace phasesweep::worker
