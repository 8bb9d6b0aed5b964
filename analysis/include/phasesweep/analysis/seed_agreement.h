// Do independent seeds place their transition at the same time more than chance would?
//
// The per-trace test (surrogate.h) says whether each seed has a transition; this asks the
// question a sweep exists for: whether the seeds agree on *when*. Each seed i contributes the
// position x_i (probe index) of its principal transition and the positions its own B null
// surrogates produced (SignificanceResult::null_splits): where the same fit finds a "transition"
// in noise with that seed's dependence and length.
//
//   D     = mean_i |x_i - median(x)|                   (dispersion across seeds, in probes)
//   null  = D of draws x*_i, each uniform among seed i's own null positions, M times
//   p     = (1 + #{D*_m <= D}) / (M + 1)                (one-sided: more concentrated than null)
//
// Under "no seed has a transition", each x_i is a draw from its own null, so D is exchangeable
// with the D*_m and the test has its level. It is not a test of "the seeds have transitions"
// (that is the per-seed test and the binomial test over seeds): transitions at random times do
// not make D small. Deterministic for a given seed; independent of the order of the inputs'
// null positions only through the draws (the inputs' order is fixed by the caller).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

struct AgreementSeed {
  double position = 0.0;                // x_i, probe index of the principal transition
  std::vector<double> null_positions;   // its surrogates' positions (at least one)
};

struct AgreementResult {
  std::int64_t n_seeds = 0;
  double dispersion = std::numeric_limits<double>::quiet_NaN();       // D, probes
  double null_dispersion = std::numeric_limits<double>::quiet_NaN();  // median of D*, probes
  double pvalue = std::numeric_limits<double>::quiet_NaN();
  int draws = 0;  // M
  std::string note;
};

// Fewest seeds for which the test is run; fewer give an OK result with NaN p and a note.
inline constexpr std::int64_t kMinAgreementSeeds = 3;

// InvalidArgument for draws < 1, a seed without null positions, or non-finite positions.
Result<AgreementResult> SeedAgreementTest(const std::vector<AgreementSeed>& seeds, int draws,
                                          std::uint64_t seed);

}  // namespace phasesweep::analysis
