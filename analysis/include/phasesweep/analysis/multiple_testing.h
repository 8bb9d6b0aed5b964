// Multiple-testing adjustment of a family of p-values (returned in input order).
//   Holm (step-down, family-wise error):  sort p ascending; adj_(i) = min(1, max_{j<=i} (m-j+1)
//   p_(j)) Benjamini-Hochberg (false discovery): adj_(i) = min(1, min_{j>=i} m p_(j) / j)
// These equal statsmodels' multipletests(method='holm' | 'fdr_bh') and SciPy 1.11's
// false_discovery_control(method='bh'). NaN p-values are left out of the family (m counts only
// the others) and stay NaN.
#pragma once

#include <string_view>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

enum class Adjustment { kHolm, kBenjaminiHochberg };
// "holm" | "bh" ("fdr_bh" accepted).
Result<Adjustment> ParseAdjustment(std::string_view name);
std::string_view AdjustmentName(Adjustment adjustment);

std::vector<double> AdjustPValues(const std::vector<double>& pvalues, Adjustment adjustment);

}  // namespace phasesweep::analysis
