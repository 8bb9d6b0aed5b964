// ParamStore: flat parameter/gradient buffers with per-member seeded initialisation.
#include "phasesweep/worker/param_store.h"

#include <ATen/CPUGeneratorImpl.h>

#include "phasesweep/worker/rng.h"

namespace phasesweep::worker {
namespace {
constexpr int64_t kAlign = 16;  // floats: 64-byte aligned blocks keep vector loads aligned
}  // namespace

void ParamStore::Declare(const std::string& name, std::vector<int64_t> shape, ParamInit init) {
  TORCH_CHECK(!finalized_, "ParamStore::Declare after Finalize: ", name);
  TORCH_CHECK(!Has(name), "parameter declared twice: ", name);
  Entry e;
  e.name = name;
  e.numel = 1;
  for (int64_t s : shape) e.numel *= s;
  e.shape = std::move(shape);
  e.init = init;
  entries_.push_back(std::move(e));
}

void ParamStore::Finalize(const std::vector<uint64_t>& seeds, torch::Device device) {
  TORCH_CHECK(!finalized_, "ParamStore::Finalize called twice");
  TORCH_CHECK(!seeds.empty(), "ParamStore needs at least one member");
  members_ = static_cast<int64_t>(seeds.size());
  int64_t offset = 0;
  member_numel_ = 0;
  for (Entry& e : entries_) {
    e.offset = offset;
    offset += (members_ * e.numel + kAlign - 1) / kAlign * kAlign;
    member_numel_ += e.numel;
  }
  total_ = offset;
  torch::Tensor cpu = torch::zeros({total_}, torch::kFloat32);
  for (int64_t k = 0; k < members_; ++k) {
    at::Generator gen = at::detail::createCPUGenerator(DeriveSeed(seeds[k], kInitStream));
    for (const Entry& e : entries_) {
      torch::Tensor dst = cpu.narrow(0, e.offset + k * e.numel, e.numel);
      switch (e.init.kind) {
        case ParamInit::Kind::kNormal:
          dst.copy_(torch::randn({e.numel}, gen, torch::kFloat32).mul_(e.init.std));
          break;
        case ParamInit::Kind::kOnes:
          dst.fill_(1.0);
          break;
        case ParamInit::Kind::kZeros:
          break;
      }
    }
  }
  flat_params_ = cpu.to(device);
  flat_grads_ = torch::zeros_like(flat_params_);
  for (Entry& e : entries_) {
    std::vector<int64_t> full{members_};
    full.insert(full.end(), e.shape.begin(), e.shape.end());
    // detach(): a leaf that shares storage (and version counter) with the flat buffer.
    e.param = flat_params_.narrow(0, e.offset, members_ * e.numel).view(full).detach();
    e.param.requires_grad_(true);
    e.grad = flat_grads_.narrow(0, e.offset, members_ * e.numel).view(full);
    e.param.mutable_grad() = e.grad;
  }
  finalized_ = true;
}

bool ParamStore::Has(const std::string& name) const {
  for (const Entry& e : entries_) {
    if (e.name == name) return true;
  }
  return false;
}

const torch::Tensor& ParamStore::Get(const std::string& name) const {
  for (const Entry& e : entries_) {
    if (e.name == name) return e.param;
  }
  TORCH_CHECK(false, "no parameter named '", name, "'");
}

torch::Tensor ParamStore::GatherMemberMajor(const torch::Tensor& flat) const {
  std::vector<torch::Tensor> parts;
  for (const Entry& e : entries_) {
    parts.push_back(flat.narrow(0, e.offset, members_ * e.numel).view({members_, e.numel}));
  }
  return torch::cat(parts, 1);
}

std::vector<torch::Tensor> ParamStore::Parameters() const {
  std::vector<torch::Tensor> out;
  for (const Entry& e : entries_) out.push_back(e.param);
  return out;
}

}  // namespace phasesweep::worker
