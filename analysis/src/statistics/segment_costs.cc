// Segment costs with ruptures' definitions (CostL2, CostNormal, CostRbf of ruptures 1.1.9) and
// the default penalties; see changepoint.h.
#include "statistics/segment_costs.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "phasesweep/analysis/descriptive.h"

namespace phasesweep::analysis {
namespace internal {

PrefixMoments::PrefixMoments(const std::vector<double>& y) : s1_(y.size() + 1), s2_(y.size() + 1) {
  double c = 0.0;
  if (!y.empty()) {
    std::vector<double> tmp = y;
    auto mid = tmp.begin() + static_cast<std::ptrdiff_t>((tmp.size() - 1) / 2);
    std::nth_element(tmp.begin(), mid, tmp.end());
    c = *mid;
  }
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i] - c;
    s1_[i + 1] = s1_[i] + v;
    s2_[i + 1] = s2_[i] + v * v;
  }
}

RbfCost::RbfCost(const std::vector<double>& y) : SegmentCost(y.size()) {
  const std::size_t n = y.size();
  // Median heuristic over scipy's pdist(..., 'sqeuclidean') vector (i < j pairs).
  std::vector<double> d2;
  d2.reserve(n * (n - (n > 0 ? 1 : 0)) / 2);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) d2.push_back((y[i] - y[j]) * (y[i] - y[j]));
  if (!d2.empty()) {
    const double med = Median(std::move(d2));
    if (med != 0.0) gamma_ = 1.0 / med;
  }
  const std::size_t w = n + 1;
  prefix_.assign(w * w, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double row = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      double k = 1.0;  // squareform puts 0 on the diagonal: exp(-0) = 1, never clipped
      if (i != j) {
        const double g = std::clamp(gamma_ * (y[i] - y[j]) * (y[i] - y[j]), 1e-2, 1e2);
        k = std::exp(-g);
      }
      row += k;
      prefix_[(i + 1) * w + (j + 1)] = prefix_[i * w + (j + 1)] + row;
    }
  }
}

}  // namespace internal

Result<CostKind> ParseCostKind(std::string_view name) {
  if (name == "l2") return CostKind::kL2;
  if (name == "normal") return CostKind::kNormal;
  if (name == "rbf") return CostKind::kRbf;
  return Status::InvalidArgument("unknown cost '" + std::string(name) +
                                 "' (valid: l2, normal, rbf)");
}

std::string_view CostKindName(CostKind kind) {
  switch (kind) {
    case CostKind::kL2:
      return "l2";
    case CostKind::kNormal:
      return "normal";
    case CostKind::kRbf:
      return "rbf";
  }
  return "?";
}

Result<std::unique_ptr<SegmentCost>> MakeSegmentCost(CostKind kind,
                                                     const std::vector<double>& signal) {
  for (std::size_t i = 0; i < signal.size(); ++i) {
    if (!std::isfinite(signal[i])) {
      return Status::InvalidArgument("signal value " + std::to_string(i) +
                                     " is not finite; change points need finite values");
    }
  }
  switch (kind) {
    case CostKind::kL2:
      return std::unique_ptr<SegmentCost>(new internal::L2Cost(signal));
    case CostKind::kNormal:
      return std::unique_ptr<SegmentCost>(new internal::NormalCost(signal));
    case CostKind::kRbf:
      if (signal.size() > kMaxRbfSamples) {
        return Status::InvalidArgument("rbf cost on " + std::to_string(signal.size()) +
                                       " points: at most " + std::to_string(kMaxRbfSamples) +
                                       " are supported (its Gram table is quadratic); use l2");
      }
      return std::unique_ptr<SegmentCost>(new internal::RbfCost(signal));
  }
  return Status::Internal("unhandled cost kind");
}

double DefaultPenalty(CostKind kind, const std::vector<double>& y) {
  const double log_n = std::log(static_cast<double>(std::max<std::size_t>(y.size(), 2)));
  switch (kind) {
    case CostKind::kL2: {
      const double sigma = RobustNoiseSigma(y);
      return 2.0 * sigma * sigma * log_n;
    }
    case CostKind::kNormal:
      return 3.0 * log_n;
    case CostKind::kRbf:
      return log_n;
  }
  return 0.0;
}

double SplitGain(const SegmentCost& cost, std::size_t start, std::size_t t, std::size_t end) {
  return cost.Error(start, end) - cost.Error(start, t) - cost.Error(t, end);
}

}  // namespace phasesweep::analysis
