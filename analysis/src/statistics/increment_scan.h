// The increment scan: the surrogate test's second statistic (internal; see
// phasesweep/analysis/surrogate.h for how it joins the ramp scan, docs/STATISTICS.md for why).
//
// Question: does the trace change by more, within a few probes, than its probe-to-probe changes
// elsewhere make plausible? The ramp scan compares a transition with the trace's *level* noise,
// which a smooth background (a slow bump, a steady drift, a curve the three ramps do not fit)
// inflates; the increments see through a smooth background: a jump of 2.5 where the trace
// otherwise moves by 0.03 per probe is extreme whatever the level does.
//   d_i    = y_{i+1} - y_i, i < m = n - 1;  c_i = d_i - mean(d)  (the overall trend removed)
//   s      = 1.4826 median |c_i - median(c)|  (robust: the transition's own increments do not
//            count), or the root mean square of c where that is 0 (a trace that mostly stays
//            exactly constant, such as an accuracy on a small test set)
//   W(a,L) = c_a + ... + c_{a+L-1} = (y_{a+L} - y_a) - L mean(d)
//   S      = max over L in RampLengths(n) with L <= m / 2 of
//            [ max_a |W(a, L)| / (s sqrt(L)) + bonus(m, L) ], starts every max(1, L / 4);
//            bonus as the ramp scan's (LengthBonus)
// S is scale-free; its null comes from the same surrogate traces as the ramp scan's.
#pragma once

#include <cstddef>
#include <vector>

namespace phasesweep::analysis::internal {

struct IncrementWorkspace {
  std::vector<double> c, sorted, prefix;
};

// S for y[0..n) with the given ramp lengths (RampLengths(n)); the window attaining it through the
// optional out-pointers (a: its first increment, so it spans probes a .. a + len). 0 for a trace
// whose increments are all equal (exactly linear).
double IncrementStatistic(const double* y, std::size_t n, const std::vector<std::size_t>& lengths,
                          IncrementWorkspace& ws, std::size_t* at = nullptr,
                          std::size_t* len = nullptr);

}  // namespace phasesweep::analysis::internal
