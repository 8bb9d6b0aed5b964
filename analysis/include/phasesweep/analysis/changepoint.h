// Offline change-point detection with the semantics of the `ruptures` library (1.1.9):
// PELT and binary segmentation over the segment costs "l2", "normal" and "rbf".
//
// Results are ruptures' breakpoints: the sorted END indices of the segments, the last one = n.
// `min_size` is the minimum segment length (raised to the cost's own minimum: l2 1, normal 2,
// rbf 1); `jump` restricts breakpoints to a grid, which differs between the two algorithms
// exactly as in ruptures: PELT uses multiples of `jump` (plus n), binary segmentation uses
// start + multiples of `jump` inside each segment it splits. Ties break as ruptures' Python
// min/max do. docs/STATISTICS.md gives every formula.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

enum class CostKind { kL2, kNormal, kRbf };

// "l2" | "normal" | "rbf".
Result<CostKind> ParseCostKind(std::string_view name);
std::string_view CostKindName(CostKind kind);

// Cost of one segment y[start:end) of a fitted 1-D signal.
//   l2:     (end - start) * Var(y[start:end])                 (ddof = 0)
//   normal: (end - start) * log(Var(y[start:end]) + 1e-6)     (ruptures' CostNormal, 1-D)
//   rbf:    sum_i K_ii - (1/L) sum_ij K_ij over the segment, K_ij = exp(-clip(gamma (y_i-y_j)^2,
//           0.01, 100)) for i != j, K_ii = 1, gamma = 1 / median of all pairwise squared
//           distances (1 if that median is 0)
class SegmentCost {
 public:
  virtual ~SegmentCost() = default;
  virtual CostKind kind() const = 0;
  // Requires end - start >= min_size() and end <= size().
  virtual double Error(std::size_t start, std::size_t end) const = 0;
  virtual std::size_t min_size() const = 0;
  std::size_t size() const { return n_; }

 protected:
  explicit SegmentCost(std::size_t n) : n_(n) {}

 private:
  std::size_t n_;
};

// Largest signal the rbf cost accepts: it keeps an (n+1)^2 table of Gram-matrix prefix sums.
inline constexpr std::size_t kMaxRbfSamples = 4096;

// Fits a cost to `signal`. InvalidArgument for non-finite values or an rbf signal longer than
// kMaxRbfSamples.
Result<std::unique_ptr<SegmentCost>> MakeSegmentCost(CostKind kind,
                                                     const std::vector<double>& signal);

struct SegmentationParams {
  std::size_t min_size = 2;  // ruptures' default
  std::size_t jump = 5;      // ruptures' default
};

// ruptures.Pelt(model, min_size, jump).fit(signal).predict(pen). InvalidArgument when ruptures
// raises BadSegmentationParameters (n < min_size), for jump = 0, or a negative/NaN penalty.
Result<std::vector<std::size_t>> Pelt(const SegmentCost& cost, const SegmentationParams& params,
                                      double penalty);

// Stopping rule of binary segmentation: exactly one of n_bkps and penalty.
struct BinsegStop {
  std::optional<std::size_t> n_bkps;
  std::optional<double> penalty;
};

// ruptures.Binseg(model, min_size, jump).fit(signal).predict(n_bkps=... | pen=...). With
// n_bkps it may return fewer breakpoints when no admissible split is left, as ruptures does.
Result<std::vector<std::size_t>> BinarySegmentation(const SegmentCost& cost,
                                                    const SegmentationParams& params,
                                                    const BinsegStop& stop);

// Default penalty when the user gives none (see docs/STATISTICS.md):
//   l2:     2 * sigma^2 * ln(n), sigma = RobustNoiseSigma(y)  (BIC with a known noise level:
//           a mean change costs two parameters, its level and its location)
//   normal: 3 * ln(n)   (BIC in -2 log-likelihood units: mean, variance and location)
//   rbf:    ln(n)       (kernel costs are in units of points; see the calibration note)
double DefaultPenalty(CostKind kind, const std::vector<double>& y);

// Gain of splitting [start, end) at t: Error(start, end) - Error(start, t) - Error(t, end).
double SplitGain(const SegmentCost& cost, std::size_t start, std::size_t t, std::size_t end);

}  // namespace phasesweep::analysis
