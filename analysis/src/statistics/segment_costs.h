// Internal: the concrete segment costs, visible to the detectors so that their inner loops can be
// instantiated per cost type (no virtual call per evaluation; PELT on 10^5 points depends on it).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "phasesweep/analysis/changepoint.h"

namespace phasesweep::analysis::internal {

// Prefix sums of y - c and (y - c)^2 where c is a value of y (its lower median): shifting by a
// data value keeps integer data exact and avoids cancellation in S2 - S1^2 / L.
class PrefixMoments {
 public:
  explicit PrefixMoments(const std::vector<double>& y);
  // Sum of squared deviations from the segment mean, clamped at 0.
  double SumSquaredDeviations(std::size_t start, std::size_t end) const {
    const double s1 = s1_[end] - s1_[start];
    const double s2 = s2_[end] - s2_[start];
    const double len = static_cast<double>(end - start);
    return std::max(0.0, s2 - s1 * s1 / len);
  }
  // Sums of the first i shifted values and of their squares (i = 0..n).
  double S1(std::size_t i) const { return s1_[i]; }
  double S2(std::size_t i) const { return s2_[i]; }

 private:
  std::vector<double> s1_, s2_;
};

class L2Cost final : public SegmentCost {
 public:
  explicit L2Cost(const std::vector<double>& y) : SegmentCost(y.size()), moments_(y) {}
  CostKind kind() const override { return CostKind::kL2; }
  double Error(std::size_t start, std::size_t end) const override {
    return moments_.SumSquaredDeviations(start, end);
  }
  std::size_t min_size() const override { return 1; }
  const PrefixMoments& moments() const { return moments_; }

 private:
  PrefixMoments moments_;
};

class NormalCost final : public SegmentCost {
 public:
  explicit NormalCost(const std::vector<double>& y) : SegmentCost(y.size()), moments_(y) {}
  CostKind kind() const override { return CostKind::kNormal; }
  double Error(std::size_t start, std::size_t end) const override {
    const double len = static_cast<double>(end - start);
    const double var = moments_.SumSquaredDeviations(start, end) / len;
    return len * std::log(var + 1e-6);
  }
  std::size_t min_size() const override { return 2; }

 private:
  PrefixMoments moments_;
};

class RbfCost final : public SegmentCost {
 public:
  explicit RbfCost(const std::vector<double>& y);
  CostKind kind() const override { return CostKind::kRbf; }
  double Error(std::size_t start, std::size_t end) const override {
    const std::size_t w = size() + 1;
    const double block = prefix_[end * w + end] - prefix_[start * w + end] -
                         prefix_[end * w + start] + prefix_[start * w + start];
    const double len = static_cast<double>(end - start);
    return len - block / len;
  }
  std::size_t min_size() const override { return 1; }
  double gamma() const { return gamma_; }

 private:
  double gamma_ = 1.0;
  std::vector<double> prefix_;  // (n+1) x (n+1) two-dimensional prefix sums of the Gram matrix
};

// ruptures' PELT loop as transcribed (changepoint.cc): every admissible candidate evaluated at
// every step, so O(n^2) when nothing prunes. Kept as the reference the l2 fast path is tested
// against. `min_size` already includes the cost's own minimum.
std::vector<std::size_t> PeltReference(const SegmentCost& cost, std::size_t min_size,
                                       std::size_t jump, double pen);

// The same PELT for the l2 cost (pelt_l2.cc): the same admissible grid, candidate set, pruning
// rule and tie-breaking, but candidates are visited in blocks and a block is skipped when a
// bound proves that none of its members is the minimum and all of them survive pruning. Equal
// to PeltReference in exact arithmetic; in floating point the two may differ only where two
// segmentations' costs tie to ~1e-9 relative.
std::vector<std::size_t> PeltL2(const L2Cost& cost, std::size_t min_size, std::size_t jump,
                                double pen);

}  // namespace phasesweep::analysis::internal
