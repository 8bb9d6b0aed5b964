// Grid expansion and the validation of one resolved grid point.
#include <random>

#include "phasesweep/base/json.h"
#include "phasesweep/orchestrator/config.h"
#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/sweep_grammar.h"
#include "phasesweep/spec/validate.h"

namespace phasesweep::orchestrator {

std::string GridPoint::Label() const {
  std::string out;
  for (const auto& [k, v] : values) out += (out.empty() ? "" : ", ") + k + "=" + v.Display();
  return out;
}

Hparams GridPoint::ToHparams() const {
  Hparams out;
  for (const auto& [k, v] : values) out.emplace(k, v.AsHparam());
  return out;
}

Result<std::vector<GridPoint>> ExpandGrid(const SweepSpec& spec) {
  std::vector<std::map<std::string, Value>> combos = {{}};
  for (const auto& axis : spec.grid) {
    std::vector<std::map<std::string, Value>> next;
    for (const auto& c : combos) {
      for (const auto& v : axis.values) {
        auto e = c;
        e[axis.key] = v;
        next.push_back(std::move(e));
      }
    }
    combos = std::move(next);
    if (combos.size() > 1000000)
      return Status::InvalidArgument("sweep.grid has more than 1,000,000 points");
  }
  if (spec.random.n > 0) {
    std::map<std::string, Distribution> dists;
    for (const auto& [key, text] : spec.random.space) {
      auto d = ParseDistribution(*FindKey(key), text, "sweep.random.space");
      if (!d.ok()) return d.status();
      dists.emplace(key, *d);
    }
    std::mt19937_64 engine(spec.random.seed);
    std::vector<std::map<std::string, Value>> samples;
    for (int64_t i = 0; i < spec.random.n; ++i) {
      std::map<std::string, Value> s;
      for (const auto& [key, d] : dists) s[key] = d.Sample(engine);  // keys in sorted order
      samples.push_back(std::move(s));
    }
    std::vector<std::map<std::string, Value>> next;
    for (const auto& c : combos) {
      for (const auto& s : samples) {
        auto e = c;
        e.insert(s.begin(), s.end());
        next.push_back(std::move(e));
      }
    }
    combos = std::move(next);
  }
  std::vector<GridPoint> points;
  for (size_t i = 0; i < combos.size(); ++i) points.push_back({static_cast<int64_t>(i), combos[i]});
  return points;
}

std::map<std::string, Value> ResolvePoint(const SweepSpec& spec, const GridPoint& point) {
  auto resolved = spec.base;
  for (const auto& [k, v] : point.values) resolved[k] = v;
  return resolved;
}

Status ValidateResolved(const std::map<std::string, Value>& r, const std::string& where) {
  // The one rule set (spec/validate.h), including whether each probe applies to this task and
  // model: what the worker checks again before training.
  spec::PackSpec pack = PackSpecFromResolved(r);
  spec::MemberSpec member;
  member.job_id = "validation";
  member.scalars = ScalarsFromResolved(r);
  pack.members.push_back(member);
  if (Result<spec::TaskInfo> task = spec::ValidatePack(pack); !task.ok()) {
    return Status::InvalidArgument(where + ": " + task.status().message());
  }
  return Status::Ok();
}

}  // namespace phasesweep::orchestrator
