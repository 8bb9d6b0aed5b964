// `phasesweep stats similarity` and `phasesweep stats rank`: the probe mathematics of
// representation_metrics.h applied to anyone's activations, read from CSV matrices
// (rows = examples, columns = features).
//
// CSV accepted: one row per line, fields separated by ',', spaces around a field ignored, '\r\n'
// line ends accepted; blank lines and lines starting with '#' (e.g. numpy.savetxt's header) are
// skipped. Every field must be a finite number and every row must have as many fields as the
// first. The command logic is plain functions on streams (tested directly); the CLI11 callbacks
// open the files, print "phasesweep: error: <one line>" on failure and throw
// CLI::RuntimeError(Status::ExitCode()): 2 for input the user must fix (malformed CSV, mismatched
// rows, a value undefined for the data), 1 otherwise (a file that cannot be opened).
#pragma once

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <iostream>
#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::worker {

// Parses a CSV matrix into a float64 tensor [rows, columns]. `name` (usually the path) opens
// every error message: "<name> line 3, column 2: 'abc' is not a finite number ...".
// InvalidArgument for malformed fields, ragged rows, or no rows at all.
Result<torch::Tensor> ParseCsvMatrix(std::istream& in, const std::string& name);
// Opens `path` (NotFound if it cannot be opened) and parses it.
Result<torch::Tensor> ReadCsvMatrixFile(const std::string& path);

enum class SimilarityMeasure { kLinearCka, kDebiasedCka, kCosine };
struct SimilarityRequest {
  SimilarityMeasure measure = SimilarityMeasure::kLinearCka;
  std::string a_name = "A";  // names used in messages and in the JSON output
  std::string b_name = "B";
  bool json = false;
};
// Writes the similarity of matrices A and B: CKA needs equal row counts (same examples), cosine
// (of the flattened matrices) equal shapes. Text output is the value alone with 17 significant
// digits; JSON is one object {"measure", "value", "a", "b", "rows", "a_columns", "b_columns"}.
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

// Adds `similarity (--cka linear|debiased | --cosine) A.csv B.csv [--json]` and
// `rank (--effective | --stable | --participation) A.csv [--json]` to `stats`. Results go to
// `out`, error lines to `err` (parameters for tests; the CLI uses std::cout / std::cerr).
void AddProbeStatsCommands(CLI::App& stats, std::ostream& out = std::cout,
                           std::ostream& err = std::cerr);

}  // namespace phasesweep::worker
