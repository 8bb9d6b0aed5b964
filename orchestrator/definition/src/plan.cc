// Jobs, stable ids and packing (see plan.h for the contracts).
#include "phasesweep/orchestrator/plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "phasesweep/base/hash.h"
#include "phasesweep/spec/task.h"

namespace phasesweep::orchestrator {
namespace {

// Canonical text of the keys with the given roles, sorted by key.
std::string CanonicalOf(const std::map<std::string, Value>& resolved, bool include_member_scalars) {
  std::string canon;
  for (const auto& [key, value] : resolved) {  // std::map: sorted by key
    const KeySpec* spec = FindKey(key);
    if (spec->role == KeyRole::kRuntime) continue;
    if (spec->role == KeyRole::kMemberScalar && !include_member_scalars) continue;
    canon += key + "=" + value.Canonical() + "\n";
  }
  return canon;
}

std::string PackName(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "pack-%04zu", i);
  return buf;
}

}  // namespace

// Both from the catalog's bindings: each key fills its own member (spec/catalog.h).
spec::PackSpec PackSpecFromResolved(const std::map<std::string, Value>& r) {
  spec::PackSpec p;
  spec::MemberOptimizerScalars unused;
  spec::FillSections(r, &p, &unused);
  return p;
}

spec::MemberOptimizerScalars ScalarsFromResolved(const std::map<std::string, Value>& r) {
  spec::PackSpec unused;
  spec::MemberOptimizerScalars m;
  spec::FillSections(r, &unused, &m);
  return m;
}

int64_t EstimateMemberBytes(const spec::PackSpec& spec, const spec::TaskInfo& task) {
  const auto& m = spec.model;
  const int64_t vocab = task.vocab, seq = task.seq_len, n_train = task.n_train;
  const int64_t batch = spec.training.batch_size > 0 ? spec.training.batch_size : n_train;
  int64_t params = 0, act_per_example = 0;
  if (m.name == "transformer") {
    params = vocab * m.d_model * (m.tied_unembed ? 1 : 2) + seq * m.d_model +
             m.layers * (4 * m.d_model * m.d_model + 2 * m.d_model * m.d_mlp);
    // Every position of every block but the last; the last block keeps keys and values of every
    // position and the rest (query, attention, MLP) at the answer position only, as
    // worker/src/model/model_transformer.cc computes it (bench/run's memory rows check this).
    // Where the attention gathers its keys and values per vocabulary row (token_attention.h) it
    // keeps none per position.
    const int64_t position = 8 * m.d_model + 2 * m.d_mlp + 2 * m.heads * seq;
    const bool per_token = spec::KeysValuesPerToken(m, task, batch);
    act_per_example =
        (m.layers - 1) * seq * position + (per_token ? 0 : 2 * seq * m.d_model) + position;
  } else {
    // sparse_parity feeds its bits as they are, the other tasks one-hot tokens.
    const int64_t in = spec.task.name == "sparse_parity" ? seq : seq * vocab;
    params =
        in * m.width + (m.depth - 1) * m.width * m.width + m.width * std::max<int64_t>(vocab, 2);
    // Per hidden unit: the ReLU's output (fused with its product, batched_linear.h) and the
    // gradients of the backward pass.
    act_per_example = 3 * m.depth * m.width;
  }
  // float32: params, grads, two optimizer moments, init + previous-probe copies.
  const int64_t state = 6 * 4 * params;
  // Forward activations kept for backward, plus their gradients, of which about half are alive
  // at the peak: 1.5 x 4 bytes per activation (peak RSS measured by bench/run's memory rows).
  const int64_t activations = 6 * act_per_example * std::max(batch, spec.probes.batch);
  return state + activations;
}

Result<SweepPlan> MakePlan(const SweepSpec& sweep, const PlanOptions& options) {
  SweepPlan plan;
  plan.sweep = sweep;
  plan.config_hash = ConfigHash(sweep);
  auto points = ExpandGrid(sweep);
  if (!points.ok()) return points.status();
  plan.points = std::move(*points);

  // Group jobs by everything that must be shared inside a pack, in first-seen order.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<size_t>> groups;
  std::map<std::string, spec::PackSpec> group_spec;
  std::set<std::string> ids;
  std::vector<std::map<std::string, Value>> resolved_of_job;
  for (const GridPoint& point : plan.points) {
    const auto resolved = ResolvePoint(sweep, point);
    const std::string identity = CanonicalOf(resolved, /*include_member_scalars=*/true);
    const std::string structure = CanonicalOf(resolved, /*include_member_scalars=*/false);
    for (uint64_t seed : sweep.seeds) {
      Job job;
      job.seed = seed;
      job.grid_index = point.index;
      job.hparams = point.ToHparams();
      job.label = point.Label();
      job.id = HexDigest64(identity + "seed=" + std::to_string(seed) + "\n");
      if (!ids.insert(job.id).second) {
        return Status::InvalidArgument("two jobs resolve to the same configuration (id " + job.id +
                                       ", grid point " + point.Label() + ", seed " +
                                       std::to_string(seed) +
                                       "); remove the duplicate grid value or seed");
      }
      if (!groups.count(structure)) {
        group_order.push_back(structure);
        group_spec[structure] = PackSpecFromResolved(resolved);
      }
      groups[structure].push_back(plan.jobs.size());
      resolved_of_job.push_back(resolved);
      plan.jobs.push_back(std::move(job));
    }
  }

  const int64_t requested = sweep.base.at("training.pack").AsInt();  // 0 = auto
  for (const std::string& g : group_order) {
    const auto& members = groups[g];
    const spec::PackSpec& proto = group_spec[g];
    Result<spec::TaskInfo> task = spec::DescribeTask(proto.task);  // validated with the grid
    if (!task.ok()) return task.status();
    const int64_t member_bytes = EstimateMemberBytes(proto, *task);
    int64_t cap = requested;
    if (cap == 0) {
      cap = std::clamp<int64_t>(options.memory_budget_bytes / std::max<int64_t>(member_bytes, 1), 1,
                                options.max_auto_pack);
      // Spread over the ranks: ceil(n / ranks) members per pack at most.
      const int64_t n = static_cast<int64_t>(members.size());
      cap = std::min(cap, std::max<int64_t>(1, (n + options.ranks - 1) / options.ranks));
    }
    // Balanced chunks: 20 jobs with cap 16 give packs of 10 and 10, not 16 and 4.
    const int64_t n = static_cast<int64_t>(members.size());
    const int64_t n_packs = (n + cap - 1) / cap;
    for (int64_t p = 0; p < n_packs; ++p) {
      const int64_t lo = p * n / n_packs, hi = (p + 1) * n / n_packs;
      Pack pack;
      pack.id = PackName(plan.packs.size());
      pack.spec = proto;
      pack.spec.pack_id = pack.id;
      for (int64_t j = lo; j < hi; ++j) {
        const size_t job = members[j];
        const auto& r = resolved_of_job[job];
        spec::MemberSpec m;
        m.job_id = plan.jobs[job].id;
        m.seed = plan.jobs[job].seed;
        m.scalars = ScalarsFromResolved(r);
        pack.spec.members.push_back(m);
        pack.job_index.push_back(job);
        plan.jobs[job].pack_id = pack.id;
      }
      pack.estimated_bytes = member_bytes * (hi - lo);
      plan.packs.push_back(std::move(pack));
    }
  }
  return plan;
}

}  // namespace phasesweep::orchestrator
