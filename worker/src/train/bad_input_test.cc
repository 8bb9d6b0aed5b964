// Bad input a user can give the worker: each is refused before training with one line that
// names the config key, the value found and what is valid.
#include <gtest/gtest.h>

#include "phasesweep/worker/trainer.h"
#include "test_specs.h"

namespace phasesweep::worker {
namespace {

void ExpectRefused(const PackSpec& spec, const std::string& key, const std::string& phrase) {
  Status v = ValidatePackSpec(spec);
  EXPECT_EQ(v.code(), Status::Code::kInvalidArgument) << v.message();
  EXPECT_NE(v.message().find(key), std::string::npos) << v.message();
  EXPECT_NE(v.message().find(phrase), std::string::npos) << v.message();
  EXPECT_EQ(v.message().find('\n'), std::string::npos);
  auto t = PackTrainer::Create(spec, torch::kCPU);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), v.message());
}

TEST(BadInputTest, DModelNotDivisibleByHeads) {
  PackSpec s = testing::SmallModularPack({1});
  s.model.d_model = 30;
  s.model.heads = 4;
  ExpectRefused(s, "model.heads", "model.heads (4) must divide model.d_model (30)");
}

TEST(BadInputTest, DivisionModuloANonPrime) {
  PackSpec s = testing::SmallModularPack({1});
  s.task.op = "div";
  s.task.p = 21;
  ExpectRefused(s, "task.p", "21 is not prime");
  s.task.p = 23;
  EXPECT_TRUE(ValidatePackSpec(s).ok());
}

TEST(BadInputTest, MoreParityBitsThanBits) {
  PackSpec s = testing::SmallParityPack({1});
  s.task.k = 9;
  ExpectRefused(s, "task.k", "must be <= task.n_bits (8)");
}

TEST(BadInputTest, OtherRefusals) {
  PackSpec s = testing::SmallModularPack({1});
  s.task.train_fraction = 0.0001;
  ExpectRefused(s, "task.train_fraction", "leaves none for training");
  s = testing::SmallModularPack({1});
  s.task.train_fraction = 1.0;
  s.probes.metrics = {"train_loss", "test_acc"};
  ExpectRefused(s, "probes.metrics: 'test_acc'", "needs a test set");
  s.probes.metrics = {"train_loss", "train_acc"};
  EXPECT_TRUE(ValidatePackSpec(s).ok());
  s = testing::SmallModularPack({1});
  s.task.name = "modular";
  ExpectRefused(s, "task.name", "modular_arithmetic, sparse_parity, in_context_copy");
  s = testing::SmallModularPack({1});
  s.model.activation = "tanh";
  ExpectRefused(s, "model.activation", "relu, gelu");
  s = testing::SmallModularPack({1});
  s.training.batch_size = 10000;
  ExpectRefused(s, "training.batch_size", "0 = full batch");
  s = testing::SmallModularPack({1});
  s.probes.metrics = {"train_loss", "train_los"};
  ExpectRefused(s, "probes.metrics", "valid: train_loss, test_loss, train_acc, test_acc");
  s = testing::SmallModularPack({1});
  s.probes.schedule = "exp";
  ExpectRefused(s, "probes.schedule", "linear, log");
  s = testing::SmallModularPack({1});
  s.training.device = "tpu";
  ExpectRefused(s, "training.device", "auto, cpu, cuda");
  s = testing::SmallModularPack({1});
  s.members[0].scalars.lr = -1;
  ExpectRefused(s, "optimizer.lr", "> 0");
}

TEST(BadInputTest, CudaRequestedWithoutCuda) {
  Result<torch::Device> d = ResolveDevice("cuda");
  auto t = PackTrainer::Create(testing::SmallModularPack({1}, 20), torch::Device(torch::kCUDA, 0));
  if (torch::cuda::is_available()) {
    // A CUDA build on a GPU machine: the same request must succeed.
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->is_cuda());
    EXPECT_TRUE(t.ok()) << t.status().message();
    return;
  }
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("training.device: cuda requested"), std::string::npos)
      << d.status().message();
  EXPECT_NE(d.status().message().find("device: cpu"), std::string::npos);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), d.status().message());
  // auto falls back to the CPU.
  Result<torch::Device> a = ResolveDevice("auto");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_cpu());
  EXPECT_EQ(ResolveDevice("gpu").status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace phasesweep::worker
