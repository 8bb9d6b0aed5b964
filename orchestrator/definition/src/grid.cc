// Grid expansion and the cross-key validation of one resolved grid point.
#include <algorithm>
#include <cmath>

#include "phasesweep/base/json.h"
#include "phasesweep/orchestrator/config.h"
#include "phasesweep/orchestrator/plan.h"
#include "phasesweep/orchestrator/sweep_grammar.h"
#include "phasesweep/worker/trainer.h"

namespace phasesweep::orchestrator {
namespace {

bool IsPrime(int64_t p) {
  if (p < 2) return false;
  for (int64_t d = 2; d * d <= p; ++d) {
    if (p % d == 0) return false;
  }
  return true;
}

}  // namespace

std::string GridPoint::Label() const {
  std::string out;
  for (const auto& [k, v] : values) out += (out.empty() ? "" : ", ") + k + "=" + v.Display();
  return out;
}

std::string GridPoint::HparamsJson() const {
  std::string out = "{";
  for (const auto& [k, v] : values)
    out += (out.size() > 1 ? "," : "") + JsonQuote(k) + ":" + v.Canonical();
  return out + "}";
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
  auto i = [&](const char* k) { return r.at(k).AsInt(); };
  auto s = [&](const char* k) { return r.at(k).AsString(); };
  auto bad = [&](const std::string& msg) { return Status::InvalidArgument(where + ": " + msg); };

  const std::string task = s("task.name");
  const std::string model = s("model.name");
  if (model == "transformer" && i("model.d_model") % i("model.heads") != 0) {
    return bad("model.heads (" + std::to_string(i("model.heads")) +
               ") must divide model.d_model (" + std::to_string(i("model.d_model")) + ")");
  }
  if (task == "modular_arithmetic" && s("task.op") == "div" && !IsPrime(i("task.p"))) {
    return bad("task.op = div needs a prime task.p (division mod p is defined only then), got " +
               std::to_string(i("task.p")));
  }
  if (task == "sparse_parity" && i("task.k") > i("task.n_bits")) {
    return bad("task.k (" + std::to_string(i("task.k")) + ") must be <= task.n_bits (" +
               std::to_string(i("task.n_bits")) + ")");
  }
  if (task == "in_context_copy" && model != "transformer") {
    return bad(
        "task.name = in_context_copy needs model.name = transformer (it reads token sequences)");
  }
  // Data sizes, for the checks on batch sizes below: the worker's own arithmetic, so the two
  // never disagree about how many examples a task has.
  worker::PackSpec pack = PackSpecFromResolved(r);
  Result<worker::TaskInfo> sizes = worker::DescribeTask(pack.task);
  if (!sizes.ok()) return bad(sizes.status().message());
  const int64_t n_train = sizes->n_train, n_test = sizes->n_test;
  const int64_t probe_batch = i("probes.batch");
  const int64_t smallest = n_test > 0 ? std::min(n_train, n_test) : n_train;
  if (probe_batch > smallest) {
    return bad("probes.batch (" + std::to_string(probe_batch) + ") is larger than the data (" +
               std::to_string(n_train) + " train, " + std::to_string(n_test) +
               " test examples); use at most " + std::to_string(smallest));
  }
  if (i("training.batch_size") > n_train) {
    return bad("training.batch_size (" + std::to_string(i("training.batch_size")) +
               ") exceeds the " + std::to_string(n_train) +
               " training examples; use 0 for full batch");
  }
  if (i("optimizer.warmup_steps") > i("training.steps")) {
    return bad("optimizer.warmup_steps (" + std::to_string(i("optimizer.warmup_steps")) +
               ") exceeds training.steps (" + std::to_string(i("training.steps")) + ")");
  }
  // Last, the worker's own checks before any training, among them whether each probe applies to
  // this task and model (its registry is the one place that knows).
  worker::MemberSpec member;
  member.job_id = "validation";
  member.scalars = ScalarsFromResolved(r);
  pack.members.push_back(member);
  if (Status s = worker::ValidatePackSpec(pack); !s.ok()) return bad(s.message());
  return Status::Ok();
}

}  // namespace phasesweep::orchestrator
