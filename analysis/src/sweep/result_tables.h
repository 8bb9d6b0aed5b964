// Internal: AnalysisResult -> the /analysis tables of the results file (layout documented in
// docs/FORMAT.md, "## /analysis"). Columns named `*_test` hold a row index into the `tests`
// table (-1: no test was run), so each hypothesis links to its raw and adjusted p-value.
#pragma once

#include <vector>

#include "phasesweep/analysis/analysis_result.h"
#include "phasesweep/storage/analysis_tables.h"

namespace phasesweep::analysis::internal {

// One table per result vector, in a fixed order; empty vectors give tables with zero rows
// (every column present), so readers need not special-case an analysis that skipped a step.
std::vector<storage::Table> BuildAnalysisTables(const AnalysisResult& result);

}  // namespace phasesweep::analysis::internal
