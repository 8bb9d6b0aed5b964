// PlanPacks / TrainPacks / LargestScaledDifference (see sweep_packs.h).
#include "sweep_packs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "phasesweep/orchestrator/config.h"
#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/worker/trainer.h"

namespace phasesweep::testing {

Result<std::vector<worker::PackSpec>> PlanPacks(const std::string& config,
                                                const std::vector<std::string>& overrides,
                                                const std::string& device) {
  Result<orchestrator::SweepSpec> sweep = orchestrator::LoadSweepSpec(
      {std::string(PHASESWEEP_SOURCE_DIR) + "/configs/" + config}, overrides);
  if (!sweep.ok()) return sweep.status();
  Result<orchestrator::SweepPlan> plan = orchestrator::MakePlan(*sweep, {});
  if (!plan.ok()) return plan.status();
  std::vector<worker::PackSpec> packs;
  for (const orchestrator::Pack& p : plan->packs) {
    packs.push_back(p.spec);
    packs.back().training.device = device;
  }
  return packs;
}

Result<std::map<std::string, Trace>> TrainPacks(const std::vector<worker::PackSpec>& packs,
                                                const std::string& device) {
  Result<torch::Device> dev = worker::ResolveDevice(device);
  if (!dev.ok()) return dev.status();
  std::map<std::string, Trace> traces;
  for (const worker::PackSpec& spec : packs) {
    Result<std::unique_ptr<worker::PackTrainer>> t = worker::PackTrainer::Create(spec, *dev);
    if (!t.ok()) return t.status();
    Result<worker::RunOutcome> r = (*t)->Run();
    if (!r.ok()) return r.status();
    for (size_t k = 0; k < spec.members.size(); ++k) {
      traces[spec.members[k].job_id] = (*t)->traces()[k];
    }
  }
  return traces;
}

double LargestScaledDifference(const std::map<std::string, Trace>& a,
                               const std::map<std::string, Trace>& b, std::string* where,
                               int64_t until) {
  const double kMismatch = std::numeric_limits<double>::infinity();
  auto mismatch = [&](const std::string& what) {
    if (where != nullptr) *where = what;
    return kMismatch;
  };
  if (a.size() != b.size()) return mismatch("different job counts");
  double worst = 0;
  for (const auto& [job, ta] : a) {
    auto it = b.find(job);
    if (it == b.end()) return mismatch("job " + job + " missing");
    const Trace& tb = it->second;
    if (ta.steps != tb.steps) return mismatch("job " + job + ": different probe steps");
    for (const auto& [metric, va] : ta.metrics) {
      auto m = tb.metrics.find(metric);
      if (m == tb.metrics.end() || m->second.size() != va.size()) {
        return mismatch("job " + job + ": metric " + metric + " differs in presence or length");
      }
      for (size_t i = 0; i < va.size() && ta.steps[i] <= until; ++i) {
        const double x = va[i], y = m->second[i];
        if (std::isnan(x) && std::isnan(y)) continue;
        const double d = std::abs(x - y) / std::max({1.0, std::abs(x), std::abs(y)});
        if (!(d <= worst)) {  // also catches NaN against a number
          worst = std::isnan(d) ? kMismatch : d;
          if (where != nullptr) {
            std::ostringstream os;
            os.precision(9);
            os << "job " << job << " " << metric << " step " << ta.steps[i] << ": " << x << " vs "
               << y;
            *where = os.str();
          }
        }
      }
    }
  }
  return worst;
}

}  // namespace phasesweep::testing
