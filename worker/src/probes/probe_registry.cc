// The probe registry, the probe schedule and ProbeContext's lazily computed forward pass.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "phasesweep/spec/catalog.h"
#include "phasesweep/worker/probe.h"
#include "probes/builtin_probes.h"

namespace phasesweep::worker {

void RegisterBuiltinProbes(ProbeRegistry* registry) {
  registry->Add(EvalProbeDescriptor());
  registry->Add(WeightProbeDescriptor());
  registry->Add(RepresentationProbeDescriptor());
  registry->Add(GradientProbeDescriptor());
  registry->Add(SharpnessProbeDescriptor());
}

bool Wants(const std::vector<std::string>& wanted, const char* metric) {
  return std::find(wanted.begin(), wanted.end(), metric) != wanted.end();
}

void PutIfWanted(const std::vector<std::string>& wanted, const char* metric,
                 const std::function<torch::Tensor()>& value, TensorMap* out) {
  if (Wants(wanted, metric)) (*out)[metric] = value();
}

torch::Tensor NoPreviousProbe(int64_t members, torch::Device device) {
  return torch::full({members}, std::numeric_limits<double>::quiet_NaN(),
                     torch::TensorOptions().dtype(torch::kFloat64).device(device));
}

torch::Tensor ForAliveMembers(const ProbeContext& ctx, const torch::Tensor& x,
                              const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  const int64_t K = x.size(0);
  std::vector<int64_t> alive;
  for (int64_t k = 0; k < K; ++k) {
    if (ctx.measure[static_cast<size_t>(k)]) alive.push_back(k);
  }
  torch::Tensor out = torch::full({K}, std::numeric_limits<double>::quiet_NaN(),
                                  torch::TensorOptions(torch::kFloat64).device(x.device()));
  if (alive.empty()) return out;
  if (static_cast<int64_t>(alive.size()) == K) return fn(x).to(torch::kFloat64);
  torch::Tensor idx = torch::tensor(alive, torch::kInt64).to(x.device());
  out.index_copy_(0, idx, fn(x.index_select(0, idx)).to(torch::kFloat64));
  return out;
}

torch::Tensor ForEachAliveMember(const ProbeContext& ctx, torch::Device device,
                                 const std::function<double(int64_t k)>& fn) {
  std::vector<double> v(ctx.measure.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t k = 0; k < v.size(); ++k) {
    if (ctx.measure[k]) v[k] = fn(static_cast<int64_t>(k));
  }
  return torch::tensor(v, torch::kFloat64).to(device);
}

const ProbeRegistry& ProbeRegistry::Builtin() {
  static const ProbeRegistry* registry = [] {
    auto* r = new ProbeRegistry();
    RegisterBuiltinProbes(r);
    // The metrics a config may name (spec/catalog.h) are exactly the ones registered here.
    std::vector<std::string> catalog, registered = r->MetricNames();
    for (const spec::ProbeInfo& p : spec::ProbeCatalog()) catalog.push_back(p.name);
    std::sort(catalog.begin(), catalog.end());
    std::sort(registered.begin(), registered.end());
    TORCH_CHECK(catalog == registered,
                "the built-in probes and spec::ProbeCatalog() name different metrics");
    return r;
  }();
  return *registry;
}

void ProbeRegistry::Add(ProbeDescriptor descriptor) {
  for (const std::string& m : descriptor.metrics) {
    for (const ProbeDescriptor& d : descriptors_) {
      TORCH_CHECK(std::find(d.metrics.begin(), d.metrics.end(), m) == d.metrics.end(), "metric '",
                  m, "' registered by probes '", d.name, "' and '", descriptor.name, "'");
    }
  }
  descriptors_.push_back(std::move(descriptor));
}

std::vector<std::string> ProbeRegistry::MetricNames() const {
  std::vector<std::string> names;
  for (const ProbeDescriptor& d : descriptors_) {
    names.insert(names.end(), d.metrics.begin(), d.metrics.end());
  }
  return names;
}

Status ProbeRegistry::Validate(const PackSpec& spec) const {
  std::set<std::string> seen;
  for (const std::string& m : spec.probes.metrics) {
    if (!seen.insert(m).second) {
      return Status::InvalidArgument("probes.metrics: '" + m + "' is listed twice");
    }
    const ProbeDescriptor* owner = nullptr;
    for (const ProbeDescriptor& d : descriptors_) {
      if (std::find(d.metrics.begin(), d.metrics.end(), m) != d.metrics.end()) owner = &d;
    }
    if (owner == nullptr) {
      std::string valid;
      for (const std::string& n : MetricNames()) valid += (valid.empty() ? "" : ", ") + n;
      return Status::InvalidArgument("probes.metrics: '" + m +
                                     "' is not a metric; valid: " + valid);
    }
  }
  return Status::Ok();
}

Result<std::vector<std::unique_ptr<Probe>>> ProbeRegistry::Create(const PackSpec& spec,
                                                                  const TaskInfo& task,
                                                                  torch::Device device) const {
  PHASESWEEP_RETURN_IF_ERROR(Validate(spec));
  std::vector<std::unique_ptr<Probe>> probes;
  for (const ProbeDescriptor& d : descriptors_) {
    ProbeSetup setup;
    setup.spec = &spec;
    setup.task = task;
    setup.device = device;
    for (const std::string& m : d.metrics) {
      const auto& wanted = spec.probes.metrics;
      if (std::find(wanted.begin(), wanted.end(), m) != wanted.end()) setup.metrics.push_back(m);
    }
    if (!setup.metrics.empty()) probes.push_back(d.create(setup));
  }
  return probes;
}

std::vector<int64_t> ProbeSteps(const ProbeSpec& spec, int64_t total_steps) {
  std::set<int64_t> steps{0, total_steps};
  if (spec.schedule == "log") {
    const double top = std::log(static_cast<double>(std::max<int64_t>(1, total_steps)));
    const int64_t n = std::max<int64_t>(2, spec.count);
    for (int64_t i = 0; i < n; ++i) {
      const double s = std::exp(top * static_cast<double>(i) / static_cast<double>(n - 1));
      steps.insert(std::min<int64_t>(total_steps, std::llround(s)));
    }
  } else {
    for (int64_t s = spec.every; s < total_steps; s += spec.every) steps.insert(s);
  }
  return {steps.begin(), steps.end()};
}

const ForwardOutput& ProbeContext::ProbeForward() {
  if (!forward_done_) {
    torch::NoGradGuard no_grad;
    forward_ = model->Forward(probe_batch->tokens, capture);
    forward_done_ = true;
  }
  return forward_;
}

torch::Tensor ProbeContext::MemberLossesOn(const torch::Tensor& tokens,
                                           const torch::Tensor& labels) {
  torch::AutoGradMode enable(true);
  return MemberLosses(model->Forward(tokens).logits, labels);
}

}  // namespace phasesweep::worker
