// Holm and Benjamini-Hochberg adjustments; see multiple_testing.h.
#include "phasesweep/analysis/multiple_testing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace phasesweep::analysis {

Result<Adjustment> ParseAdjustment(std::string_view name) {
  if (name == "holm") return Adjustment::kHolm;
  if (name == "bh" || name == "fdr_bh") return Adjustment::kBenjaminiHochberg;
  return Status::InvalidArgument("unknown adjustment '" + std::string(name) +
                                 "' (valid: holm, bh)");
}

std::string_view AdjustmentName(Adjustment adjustment) {
  return adjustment == Adjustment::kHolm ? "holm" : "bh";
}

std::vector<double> AdjustPValues(const std::vector<double>& pvalues, Adjustment adjustment) {
  std::vector<double> adjusted(pvalues.size(), std::nan(""));
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < pvalues.size(); ++i)
    if (!std::isnan(pvalues[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return pvalues[a] < pvalues[b]; });
  const double m = static_cast<double>(order.size());
  if (adjustment == Adjustment::kHolm) {
    double running = 0.0;
    for (std::size_t j = 0; j < order.size(); ++j) {
      running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * pvalues[order[j]]));
      adjusted[order[j]] = running;
    }
  } else {
    double running = 1.0;
    for (std::size_t j = order.size(); j-- > 0;) {
      running = std::min(running, m * pvalues[order[j]] / static_cast<double>(j + 1));
      adjusted[order[j]] = std::min(1.0, running);
    }
  }
  return adjusted;
}

}  // namespace phasesweep::analysis
