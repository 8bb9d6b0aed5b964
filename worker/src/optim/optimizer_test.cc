// Tests of the per-member optimizers against LibTorch's own single-model optimizers, of
// clipping, the schedule, divergence freezing and kernel/thread-count invariance.
#include "phasesweep/worker/optimizer.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>

namespace phasesweep::worker {
namespace {

// A store with two parameters of K members, random values.
std::unique_ptr<ParamStore> RandomStore(int64_t K) {
  auto ps = std::make_unique<ParamStore>();
  ps->Declare("a", {3, 5}, ParamInit::Normal(1.0));
  ps->Declare("b", {7}, ParamInit::Normal(1.0));
  std::vector<uint64_t> seeds;
  for (int64_t k = 0; k < K; ++k) seeds.push_back(100 + static_cast<uint64_t>(k));
  ps->Finalize(seeds, torch::kCPU);
  return ps;
}

std::vector<MemberOptimizerScalars> Scalars() {
  std::vector<MemberOptimizerScalars> s(3);
  s[0] = {1e-2, 0.1, 0.9, 0.98, 0.9, 0.0};
  s[1] = {3e-2, 1.0, 0.8, 0.95, 0.5, 0.5};  // clipped
  s[2] = {5e-3, 0.0, 0.95, 0.999, 0.0, 0.0};
  return s;
}

// Gradient of update i for member k of parameter `name` (deterministic, per-element varied).
torch::Tensor Grad(int64_t i, int64_t k, const std::vector<int64_t>& shape) {
  at::Generator g = at::detail::createCPUGenerator(1000 * i + 10 * k + shape.size());
  return torch::randn(shape, g) * (1.0 + k);
}

void Train(ParamStore* ps, EnsembleOptimizer* opt, MemberHealth* health, int64_t steps) {
  const int64_t K = ps->members();
  for (int64_t i = 0; i < steps; ++i) {
    for (const auto& e : ps->entries()) {
      for (int64_t k = 0; k < K; ++k) e.grad[k].copy_(Grad(i, k, e.shape));
    }
    opt->Step(i, torch::zeros({K}), health);
  }
}

// The same updates with torch::optim (one optimizer per member), clipping by
// torch::nn::utils::clip_grad_norm_: the PyTorch semantics we promise.
std::vector<std::vector<torch::Tensor>> Reference(const OptimizerSpec& spec, const ParamStore& init,
                                                  int64_t steps, int64_t total) {
  const auto scalars = Scalars();
  std::vector<std::vector<torch::Tensor>> out;
  for (int64_t k = 0; k < init.members(); ++k) {
    const MemberOptimizerScalars& s = scalars[static_cast<size_t>(k)];
    std::vector<torch::Tensor> params;
    for (const auto& e : init.entries()) {
      params.push_back(e.param[k].detach().clone().requires_grad_(true));
    }
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (spec.name == "adamw") {
      opt = std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(s.lr)
                                                              .betas({s.beta1, s.beta2})
                                                              .eps(spec.eps)
                                                              .weight_decay(s.weight_decay));
    } else {
      opt = std::make_unique<torch::optim::SGD>(
          params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
    }
    for (int64_t i = 0; i < steps; ++i) {
      for (size_t j = 0; j < params.size(); ++j) {
        params[j].mutable_grad() = Grad(i, k, init.entries()[j].shape);
      }
      if (s.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, s.grad_clip);
      const double lr = s.lr * ScheduleFactor(spec, i, total);
      for (auto& group : opt->param_groups()) group.options().set_lr(lr);
      opt->step();
    }
    out.push_back(params);
  }
  return out;
}

void ExpectMatchesReference(const std::string& name, EnsembleOptimizer::Kernel kernel) {
  OptimizerSpec spec;
  spec.name = name;
  spec.schedule = "cosine";
  spec.warmup_steps = 3;
  auto ps = RandomStore(3);
  auto init = RandomStore(3);
  EnsembleOptimizer opt(spec, Scalars(), 10, ps.get(), kernel);
  MemberHealth health = MemberHealth::AllAlive(3, torch::kCPU);
  Train(ps.get(), &opt, &health, 8);
  auto ref = Reference(spec, *init, 8, 10);
  for (int64_t k = 0; k < 3; ++k) {
    for (size_t j = 0; j < ps->entries().size(); ++j) {
      torch::Tensor got = ps->entries()[j].param[k].detach();
      EXPECT_TRUE(torch::allclose(got, ref[static_cast<size_t>(k)][j].detach(), 1e-5, 1e-6))
          << name << " member " << k << " param " << j << " max diff "
          << (got - ref[static_cast<size_t>(k)][j]).abs().max().item<double>();
    }
  }
}

TEST(OptimizerTest, FusedAdamWMatchesTorchOptimPerMember) {
  ExpectMatchesReference("adamw", EnsembleOptimizer::Kernel::kFusedCpu);
}
TEST(OptimizerTest, TensorOpsAdamWMatchesTorchOptimPerMember) {
  ExpectMatchesReference("adamw", EnsembleOptimizer::Kernel::kTensorOps);
}
TEST(OptimizerTest, FusedSgdMatchesTorchOptimPerMember) {
  ExpectMatchesReference("sgd", EnsembleOptimizer::Kernel::kFusedCpu);
}
TEST(OptimizerTest, TensorOpsSgdMatchesTorchOptimPerMember) {
  ExpectMatchesReference("sgd", EnsembleOptimizer::Kernel::kTensorOps);
}

TEST(OptimizerTest, ScheduleWarmupThenCosineToZero) {
  OptimizerSpec s;
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(ScheduleFactor(s, 0, 100), 0.25);
  EXPECT_DOUBLE_EQ(ScheduleFactor(s, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(ScheduleFactor(s, 50, 100), 1.0);
  s.schedule = "cosine";
  EXPECT_DOUBLE_EQ(ScheduleFactor(s, 4, 100), 1.0);
  EXPECT_NEAR(ScheduleFactor(s, 52, 100), 0.5, 1e-12);
  EXPECT_NEAR(ScheduleFactor(s, 100, 100), 0.0, 1e-12);
}

TEST(OptimizerTest, GradNormsArePerMemberAndBeforeClipping) {
  OptimizerSpec spec;
  auto ps = RandomStore(3);
  EnsembleOptimizer opt(spec, Scalars(), 10, ps.get());
  MemberHealth health = MemberHealth::AllAlive(3, torch::kCPU);
  Train(ps.get(), &opt, &health, 1);
  for (int64_t k = 0; k < 3; ++k) {
    double sq = 0;
    for (const auto& e : ps->entries()) sq += Grad(0, k, e.shape).pow(2).sum().item<double>();
    EXPECT_NEAR(opt.grad_norms()[k].item<double>(), std::sqrt(sq), 1e-5 * std::sqrt(sq));
  }
}

TEST(OptimizerTest, NonFiniteMemberIsFrozenAndTheOthersContinue) {
  for (auto kernel :
       {EnsembleOptimizer::Kernel::kFusedCpu, EnsembleOptimizer::Kernel::kTensorOps}) {
    OptimizerSpec spec;
    auto ps = RandomStore(3);
    EnsembleOptimizer opt(spec, Scalars(), 10, ps.get(), kernel);
    MemberHealth health = MemberHealth::AllAlive(3, torch::kCPU);
    Train(ps.get(), &opt, &health, 2);
    torch::Tensor before = ps->GatherMemberMajor(ps->flat_params());
    std::vector<torch::Tensor> state_before;
    for (const auto& [n, t] : opt.StateTensors()) state_before.push_back(t.clone());
    // Update 2: member 1's loss is NaN, member 2's gradient has an Inf.
    for (const auto& e : ps->entries()) e.grad.normal_();
    ps->entries()[1].grad[2][3] = std::numeric_limits<float>::infinity();
    opt.Step(2, torch::tensor({0.5f, NAN, 0.5f}), &health);
    // ... and later steps keep them frozen even with finite values.
    Train(ps.get(), &opt, &health, 2);
    torch::Tensor after = ps->GatherMemberMajor(ps->flat_params());
    EXPECT_FALSE(torch::equal(before[0], after[0]));
    EXPECT_TRUE(torch::equal(before[1], after[1]));
    EXPECT_TRUE(torch::equal(before[2], after[2]));
    size_t i = 0;
    for (const auto& [n, t] : opt.StateTensors()) {
      torch::Tensor a = ps->GatherMemberMajor(t), b = ps->GatherMemberMajor(state_before[i++]);
      EXPECT_TRUE(torch::equal(a[1], b[1])) << n;
      EXPECT_TRUE(torch::equal(a[2], b[2])) << n;
    }
    EXPECT_TRUE(health.alive[0].item<bool>());
    EXPECT_FALSE(health.alive[1].item<bool>());
    EXPECT_EQ(health.diverged_at[0].item<int64_t>(), -1);
    EXPECT_EQ(health.diverged_at[1].item<int64_t>(), 3);
    EXPECT_EQ(health.diverged_at[2].item<int64_t>(), 3);
  }
}

TEST(OptimizerTest, FusedKernelIsBitwiseIndependentOfThreadCount) {
  OptimizerSpec spec;
  const int threads = at::get_num_threads();
  std::vector<torch::Tensor> results;
  for (int n : {1, 2}) {
    at::set_num_threads(n);
    auto ps = std::make_unique<ParamStore>();
    ps->Declare("big", {600, 250}, ParamInit::Normal(1.0));  // parallel: >= 2^18 floats
    ps->Finalize({1, 2}, torch::kCPU);
    std::vector<MemberOptimizerScalars> s(2);
    s[1].grad_clip = 1.0;
    EnsembleOptimizer opt(spec, s, 10, ps.get());
    MemberHealth health = MemberHealth::AllAlive(2, torch::kCPU);
    for (int64_t i = 0; i < 3; ++i) {
      ps->flat_grads().copy_(
          torch::randn(ps->flat_grads().sizes(), at::detail::createCPUGenerator(i)));
      opt.Step(i, torch::zeros({2}), &health);
    }
    results.push_back(ps->flat_params().clone());
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(results[0], results[1]));
}

TEST(OptimizerTest, ValidationNamesKeyAndJob) {
  OptimizerSpec spec;
  MemberSpec m;
  m.job_id = "j7";
  m.scalars.beta2 = 1.0;
  Status s = ValidateOptimizer(spec, {m}, 10);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("optimizer.beta2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("j7"), std::string::npos);
  spec.name = "lion";
  EXPECT_NE(ValidateOptimizer(spec, {}, 10).message().find("adamw, sgd"), std::string::npos);
}

}  // namespace
}  // namespace phasesweep::worker
