// PELT and binary segmentation, transcribed from ruptures 1.1.9 (detection/pelt.py,
// detection/binseg.py, utils/utils.py::sanity_check) with the same admissible grids, pruning
// rule and tie-breaking. The inner loops are instantiated per concrete cost type. The l2 cost
// takes the bounded variant of pelt_l2.cc, which gives the same breakpoints without the
// quadratic cost on change-free signals.
#include "phasesweep/analysis/changepoint.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "statistics/segment_costs.h"

namespace phasesweep::analysis {
namespace {

// ruptures.utils.sanity_check: is any segmentation with n_bkps breakpoints possible?
bool SanityCheck(std::size_t n_samples, std::size_t n_bkps, std::size_t jump,
                 std::size_t min_size) {
  const std::size_t n_adm_bkps = n_samples / jump;
  if (n_bkps > n_adm_bkps) return false;
  const std::size_t per = (min_size + jump - 1) / jump * jump;  // ceil(min_size / jump) * jump
  return n_bkps * per + min_size <= n_samples;
}

Status CheckParams(const SegmentCost& cost, const SegmentationParams& params, std::size_t n_bkps,
                   std::size_t* min_size) {
  if (params.jump == 0) return Status::InvalidArgument("jump must be >= 1, got 0");
  if (params.min_size == 0) return Status::InvalidArgument("min_size must be >= 1, got 0");
  *min_size = std::max(params.min_size, cost.min_size());
  if (!SanityCheck(cost.size(), n_bkps, params.jump, *min_size)) {
    return Status::InvalidArgument(
        "impossible segmentation: " + std::to_string(cost.size()) + " points cannot hold " +
        std::to_string(n_bkps) + " breakpoints with min_size " + std::to_string(*min_size) +
        " and jump " + std::to_string(params.jump) + " (ruptures' BadSegmentationParameters)");
  }
  return Status::Ok();
}

template <class Cost>
std::vector<std::size_t> PeltImpl(const Cost& cost, std::size_t min_size, std::size_t jump,
                                  double pen) {
  const std::size_t n = cost.size();
  // partitions[t] of ruptures: F[t] is the sum of the optimal partition of [0, t) (each segment
  // cost + pen, summed left to right exactly as Python's sum(d.values()) does); prev[t] its last
  // segment start.
  std::vector<double> F(n + 1, 0.0);
  std::vector<std::size_t> prev(n + 1, 0);
  std::vector<char> has(n + 1, 0);
  has[0] = 1;
  std::vector<std::size_t> ind;
  for (std::size_t k = 0; k < n; k += jump)
    if (k >= min_size) ind.push_back(k);
  ind.push_back(n);

  std::vector<std::size_t> admissible, kept;
  std::vector<double> values;
  for (std::size_t bkp : ind) {
    admissible.push_back((bkp - min_size) / jump * jump);
    values.resize(admissible.size());
    double best = std::numeric_limits<double>::infinity();
    std::size_t best_t = 0;
    bool any = false;
    for (std::size_t i = 0; i < admissible.size(); ++i) {
      const std::size_t t = admissible[i];
      if (!has[t]) continue;  // ruptures: KeyError, no partition of [0, t) exists
      const double v = F[t] + (cost.Error(t, bkp) + pen);
      values[i] = v;
      if (!any || v < best) {  // Python's min keeps the first of equal values
        best = v;
        best_t = t;
        any = true;
      }
    }
    F[bkp] = best;
    prev[bkp] = best_t;
    has[bkp] = 1;
    kept.clear();
    const double limit = best + pen;
    for (std::size_t i = 0; i < admissible.size(); ++i) {
      const std::size_t t = admissible[i];
      if (has[t] && t != bkp && values[i] <= limit) kept.push_back(t);
    }
    admissible.swap(kept);
  }
  std::vector<std::size_t> bkps;
  for (std::size_t e = n; e > 0; e = prev[e]) bkps.push_back(e);
  std::reverse(bkps.begin(), bkps.end());
  return bkps;
}

// Binary segmentation state over one cost type, with ruptures' lru_cache on single_bkp.
template <class Cost>
class BinsegImpl {
 public:
  BinsegImpl(const Cost& cost, std::size_t min_size, std::size_t jump)
      : cost_(cost), min_size_(min_size), jump_(jump) {}

  std::vector<std::size_t> Run(const BinsegStop& stop) {
    std::vector<std::size_t> bkps = {cost_.size()};
    while (true) {
      // max(new_bkps, key=gain): the first segment (left to right) with the largest gain.
      std::optional<std::size_t> bkp;
      double gain = 0.0;
      bool first = true;
      std::size_t start = 0;
      for (std::size_t end : bkps) {
        const auto& [b, g] = SingleBkp(start, end);
        if (first || g > gain) {
          bkp = b;
          gain = g;
          first = false;
        }
        start = end;
      }
      if (!bkp) break;  // every segment explored
      bool go_on = false;
      if (stop.n_bkps) {
        go_on = bkps.size() - 1 < *stop.n_bkps;
      } else if (stop.penalty) {
        go_on = gain > *stop.penalty;
      }
      if (!go_on) break;
      bkps.insert(std::upper_bound(bkps.begin(), bkps.end(), *bkp), *bkp);
    }
    return bkps;
  }

 private:
  const std::pair<std::optional<std::size_t>, double>& SingleBkp(std::size_t start,
                                                                 std::size_t end) {
    auto key = std::make_pair(start, end);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::pair<std::optional<std::size_t>, double> result{std::nullopt, 0.0};
    const double segment_cost = cost_.Error(start, end);
    if (!(std::isinf(segment_cost) && segment_cost < 0)) {
      bool any = false;
      double best_gain = 0.0;
      std::size_t best_bkp = 0;
      for (std::size_t b = start; b < end; b += jump_) {
        if (b - start >= min_size_ && end - b >= min_size_) {
          const double g = segment_cost - cost_.Error(start, b) - cost_.Error(b, end);
          // max over (gain, bkp) tuples: larger gain, then larger bkp.
          if (!any || g > best_gain || (g == best_gain && b > best_bkp)) {
            best_gain = g;
            best_bkp = b;
            any = true;
          }
        }
      }
      if (any) result = {best_bkp, best_gain};
    }
    return cache_.emplace(key, result).first->second;
  }

  const Cost& cost_;
  std::size_t min_size_, jump_;
  std::map<std::pair<std::size_t, std::size_t>, std::pair<std::optional<std::size_t>, double>>
      cache_;
};

template <class Fn>
auto DispatchCost(const SegmentCost& cost, Fn&& fn) {
  switch (cost.kind()) {
    case CostKind::kL2:
      return fn(static_cast<const internal::L2Cost&>(cost));
    case CostKind::kNormal:
      return fn(static_cast<const internal::NormalCost&>(cost));
    case CostKind::kRbf:
      break;
  }
  return fn(static_cast<const internal::RbfCost&>(cost));
}

}  // namespace

std::vector<std::size_t> internal::PeltReference(const SegmentCost& cost, std::size_t min_size,
                                                 std::size_t jump, double pen) {
  return DispatchCost(cost, [&](const auto& c) { return PeltImpl(c, min_size, jump, pen); });
}

Result<std::vector<std::size_t>> Pelt(const SegmentCost& cost, const SegmentationParams& params,
                                      double penalty) {
  if (!(penalty >= 0.0) || std::isinf(penalty)) {
    return Status::InvalidArgument("penalty must be a finite number >= 0, got " +
                                   std::to_string(penalty));
  }
  std::size_t min_size = 0;
  PHASESWEEP_RETURN_IF_ERROR(CheckParams(cost, params, 0, &min_size));
  if (cost.kind() == CostKind::kL2) {
    return internal::PeltL2(static_cast<const internal::L2Cost&>(cost), min_size, params.jump,
                            penalty);
  }
  return internal::PeltReference(cost, min_size, params.jump, penalty);
}

Result<std::vector<std::size_t>> BinarySegmentation(const SegmentCost& cost,
                                                    const SegmentationParams& params,
                                                    const BinsegStop& stop) {
  if (stop.n_bkps.has_value() == stop.penalty.has_value()) {
    return Status::InvalidArgument("binary segmentation needs exactly one of n_bkps and penalty");
  }
  if (stop.penalty && (!(*stop.penalty >= 0.0) || std::isinf(*stop.penalty))) {
    return Status::InvalidArgument("penalty must be a finite number >= 0, got " +
                                   std::to_string(*stop.penalty));
  }
  std::size_t min_size = 0;
  PHASESWEEP_RETURN_IF_ERROR(CheckParams(cost, params, stop.n_bkps.value_or(0), &min_size));
  return DispatchCost(cost, [&](const auto& c) {
    using CostT = std::decay_t<decltype(c)>;
    return BinsegImpl<CostT>(c, min_size, params.jump).Run(stop);
  });
}

}  // namespace phasesweep::analysis
