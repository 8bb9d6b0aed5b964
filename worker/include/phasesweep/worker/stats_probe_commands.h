// `phasesweep stats similarity` and `phasesweep stats rank`: the probe mathematics of
// representation_metrics.h applied to anyone's activations, read from CSV matrices
// (rows = examples, columns = features).
//
// Input: the one grammar of every stats subcommand (base/number_rows.h): one row per line, fields
// separated by ',' or blanks (so numpy.savetxt's output reads with any delimiter), '\r\n' line
// ends accepted; blank lines and lines starting with '#' (e.g. numpy.savetxt's header) are
// skipped. Every field must be a finite number and every row must have as many fields as the
// first. The command logic is plain functions on streams (tested directly); the command line
// (app/) opens the files and prints a failed Status: exit 2 for input the user must fix
// (malformed CSV, mismatched rows, a value undefined for the data), 1 otherwise (a file that
// cannot be opened).
#pragma once

#include <iosfwd>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::worker {

enum class SimilarityMeasure { kLinearCka, kDebiasedCka, kCosine };
struct SimilarityRequest {
  SimilarityMeasure measure = SimilarityMeasure::kLinearCka;
  std::string a_name = "A";  // names used in messages and in the JSON output
  std::string b_name = "B";
  bool json = false;
};
// Writes the similarity of matrices A and B: CKA needs equal row counts (same examples), cosine
// (of the flattened matrices) equal shapes. Text output is the value alone, the shortest decimal
// that reads back to the same double (FormatDouble, as in every stats subcommand); JSON is one object {"measure", "value", "a", "b", "rows", "a_columns", "b_columns"}.
Status RunSimilarity(const SimilarityRequest& request, std::istream& a, std::istream& b,
                     std::ostream& out);

enum class RankMeasure { kEffective, kStable, kParticipation };
struct RankRequest {
  RankMeasure measure = RankMeasure::kEffective;
  std::string name = "A";
  bool json = false;
};
// Writes the rank measure of matrix A; JSON is {"measure", "value", "file", "rows", "columns"}.
Status RunRank(const RankRequest& request, std::istream& a, std::ostream& out);

// The same from the command line's flags and file paths: exactly one measure must be chosen
// (InvalidArgument naming the choices otherwise); NotFound when a file cannot be opened.
struct SimilarityFilesRequest {
  std::string cka;  // "linear" or "debiased"; empty: not given
  bool cosine = false;
  std::string a;
  std::string b;
  bool json = false;
};
Status RunSimilarityFiles(const SimilarityFilesRequest& request, std::ostream& out);

struct RankFileRequest {
  bool effective = false;
  bool stable = false;
  bool participation = false;
  std::string a;
  bool json = false;
};
Status RunRankFile(const RankFileRequest& request, std::ostream& out);

}  // namespace phasesweep::worker
