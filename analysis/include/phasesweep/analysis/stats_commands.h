// `phasesweep stats changepoints | test | adjust`: the change-point detectors, the classical tests
// and the multiple-testing adjustments of this library applied to any numbers.
//
// Input is rows of numbers in the one grammar of every stats subcommand (base/number_rows.h:
// fields separated by commas or blanks, blank lines and '#' lines skipped). changepoints reads
// one series (any layout); test reads one sample (group) per line (binom: one line "k n p0");
// adjust reads p-values in any layout. Every field must be a finite decimal number: otherwise
// InvalidArgument "<input> line L, field F: 'x' is not a finite number ...".
// Text output: changepoints prints the breakpoints space-separated on one line; test prints
// "statistic=<v> pvalue=<v>"; adjust prints one adjusted p-value per line in input order. Numbers
// are printed as the shortest decimal that reads back to the same double (FormatDouble), as in
// every stats subcommand. --json prints one JSON
// object instead (NaN as null).
//
// The command logic is plain functions on streams (tested directly); the command line (app/)
// opens FILE (or reads stdin for "-" or no FILE) and prints a failed Status: exit 2 for input the
// user must fix (malformed numbers, an unknown method or alternative, a wrong number of samples),
// 1 otherwise (unreadable file).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

struct ChangepointsRequest {
  std::string method = "pelt";         // pelt | binseg
  std::string cost = "l2";             // l2 | normal | rbf
  std::optional<double> penalty;       // --pen
  std::optional<std::int64_t> n_bkps;  // --n-bkps (binseg only)
  std::int64_t min_size = 2;           // ruptures' defaults
  std::int64_t jump = 5;
  bool json = false;
  std::string input_name = "-";  // opens error messages
};
// Without --pen or --n-bkps the default penalty of changepoint.h is used (and reported in JSON:
// {"method","cost","min_size","jump","penalty"|"n_bkps","n","breakpoints"}).
Status RunChangepoints(const ChangepointsRequest& request, std::istream& in, std::ostream& out);

struct TestRequest {
  std::string test;  // wilcoxon|sign|mannwhitney|kruskal|spearman|binom|permutation
  std::string alternative = "two-sided";  // two-sided | greater | less
  std::string method = "auto";  // auto | exact | approx (wilcoxon, mannwhitney, permutation)
  bool json = false;
  std::string input_name = "-";
};
// wilcoxon, sign: one line (the differences) or two lines x and y (paired, d = x - y);
// mannwhitney, spearman, permutation: two lines; kruskal: two or more lines; binom: "k n p0".
// JSON: {"test","alternative","method","n","statistic","pvalue"}.
Status RunTest(const TestRequest& request, std::istream& in, std::ostream& out);

struct AdjustRequest {
  std::string method;  // holm | bh
  bool json = false;
  std::string input_name = "-";
};
// Every value must be in [0, 1]. JSON: {"method","pvalues","adjusted"}.
Status RunAdjust(const AdjustRequest& request, std::istream& in, std::ostream& out);

}  // namespace phasesweep::analysis
