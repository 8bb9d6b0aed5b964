// ParamStore: the parameters of K ensemble members in ONE flat buffer, with one flat gradient
// buffer beside it.
//
// Layout: parameters in declaration order; parameter i occupies a contiguous block of
// K * numel_i floats (member-major inside the block, offset padded to 16 floats), viewed as a
// leaf tensor [K, shape...] that requires grad. Its .grad is set once to the matching view of the
// gradient buffer, so autograd accumulates into the flat buffer, zeroing is one fill, and the
// optimizer, gradient clipping and checkpoints each touch two buffers, not dozens of tensors.
//
// Initialisation: member k draws from its own torch::Generator seeded with
// DeriveSeed(seed_k, kInitStream), parameter after parameter in declaration order, on the CPU —
// so a member's initial weights depend only on its seed and the model shape, never on K, on its
// position in the pack, or on the device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace phasesweep::worker {

struct ParamInit {
  enum class Kind { kNormal, kZeros, kOnes };
  Kind kind = Kind::kZeros;
  double std = 0.0;  // kNormal only
  static ParamInit Normal(double std) { return {Kind::kNormal, std}; }
  static ParamInit Zeros() { return {Kind::kZeros, 0.0}; }
  static ParamInit Ones() { return {Kind::kOnes, 0.0}; }
};

class ParamStore {
 public:
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;  // per member (without K)
    int64_t numel = 0;           // per member
    int64_t offset = 0;          // start of the [K, numel] block in the flat buffers
    ParamInit init;
    torch::Tensor param;  // [K, shape...] leaf view of the flat parameter buffer
    torch::Tensor grad;   // [K, shape...] view of the flat gradient buffer (== param.grad())
  };

  // Declares a parameter with per-member shape `shape`. Only before Finalize.
  void Declare(const std::string& name, std::vector<int64_t> shape, ParamInit init);

  // Allocates the buffers on `device` and initialises member k from seeds[k] (see above).
  void Finalize(const std::vector<uint64_t>& seeds, torch::Device device);

  // The parameter [K, shape...]; throws on an unknown name.
  const torch::Tensor& Get(const std::string& name) const;
  bool Has(const std::string& name) const;

  const std::vector<Entry>& entries() const { return entries_; }
  int64_t members() const { return members_; }
  // Floats per member (sum of numel over parameters).
  int64_t member_numel() const { return member_numel_; }
  // Flat buffers (1-D, padded; padding stays zero). In-place updates of flat_params() are seen
  // by every parameter view; do them under torch::NoGradGuard.
  const torch::Tensor& flat_params() const { return flat_params_; }
  const torch::Tensor& flat_grads() const { return flat_grads_; }
  // A copy of a flat buffer (flat_params() or flat_grads()) as [K, member_numel]: row k holds
  // member k's values, parameter after parameter (for probes and tests; not the training step).
  torch::Tensor GatherMemberMajor(const torch::Tensor& flat) const;
  // The parameter tensors in declaration order.
  std::vector<torch::Tensor> Parameters() const;

 private:
  std::vector<Entry> entries_;
  int64_t members_ = 0;
  int64_t member_numel_ = 0;
  int64_t total_ = 0;
  bool finalized_ = false;
  torch::Tensor flat_params_, flat_grads_;
};

}  // namespace phasesweep::worker
