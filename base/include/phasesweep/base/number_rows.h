// Rows of numbers from text: the one input grammar of every `phasesweep stats` subcommand (the
// series of `changepoints`, the samples of `test`, the p-values of `adjust`, the matrices of
// `similarity` and `rank`).
//
// A line is a row. Fields are separated by commas or by blanks (spaces, tabs), so both CSV and
// whitespace-separated columns read the same; blanks around a comma are padding, but two commas
// with nothing between them are an empty field, an error. Blank lines and lines whose first
// non-blank character is '#' are skipped; "\r\n" line ends are accepted. Every field is a finite
// decimal number ("1", "-2.5", "+3e-4"; '.' is the decimal point in every locale).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep {

struct NumberRow {
  int64_t line = 0;            // 1-based line number in the input
  std::vector<double> values;  // at least one
};

// The rows of `in`. `name` (usually the path) opens every error, which names the line and the
// field: "<name> line 3, field 2: 'abc' is not a finite number ...". InvalidArgument for a
// malformed or empty field, IOError when reading fails. No rows at all is not an error here: the
// caller says what it needed.
Result<std::vector<NumberRow>> ReadNumberRows(std::istream& in, const std::string& name);

}  // namespace phasesweep
