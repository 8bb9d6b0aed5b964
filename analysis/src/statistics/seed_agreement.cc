// Cross-seed agreement of transition times; see seed_agreement.h for the statistic and the null.
#include "phasesweep/analysis/seed_agreement.h"

#include <algorithm>
#include <cmath>

#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/random.h"

namespace phasesweep::analysis {
namespace {

double Dispersion(const std::vector<double>& x) {
  const double m = Median(x);
  double sum = 0.0;
  for (double v : x) sum += std::fabs(v - m);
  return sum / static_cast<double>(x.size());
}

}  // namespace

Result<AgreementResult> SeedAgreementTest(const std::vector<AgreementSeed>& seeds, int draws,
                                          std::uint64_t seed) {
  if (draws < 1) {
    return Status::InvalidArgument("agreement draws must be >= 1, got " + std::to_string(draws));
  }
  for (const AgreementSeed& s : seeds) {
    if (!std::isfinite(s.position))
      return Status::InvalidArgument("agreement needs finite transition positions");
    if (s.null_positions.empty())
      return Status::InvalidArgument("agreement needs each seed's null positions");
  }
  AgreementResult r;
  r.n_seeds = static_cast<std::int64_t>(seeds.size());
  if (r.n_seeds < kMinAgreementSeeds) {
    r.note = "needs >= " + std::to_string(kMinAgreementSeeds) + " seeds with a transition, has " +
             std::to_string(r.n_seeds);
    return r;
  }
  std::vector<double> x;
  for (const AgreementSeed& s : seeds) x.push_back(s.position);
  r.dispersion = Dispersion(x);
  Rng rng(seed);
  std::vector<double> null_d(static_cast<std::size_t>(draws));
  int as_small = 0;
  for (int m = 0; m < draws; ++m) {
    for (std::size_t i = 0; i < seeds.size(); ++i)
      x[i] = seeds[i].null_positions[rng.UniformInt(seeds[i].null_positions.size())];
    null_d[static_cast<std::size_t>(m)] = Dispersion(x);
    as_small += null_d[static_cast<std::size_t>(m)] <= r.dispersion;
  }
  r.draws = draws;
  r.null_dispersion = Median(null_d);
  r.pvalue = (1.0 + as_small) / (draws + 1.0);
  return r;
}

}  // namespace phasesweep::analysis
