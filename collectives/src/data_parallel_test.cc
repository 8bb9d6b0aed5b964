// Data-parallel equivalence: a small model trained by groups of G = 2 ranks (each on its share
// of the global batch, gradients averaged by GradientSynchronizer) follows the same trajectory
// as G = 1 on the whole global batch, within 1e-5 relative, over 100 steps. Each rank computes
// the G = 1 reference itself, so the comparison needs no extra communication. Runs under
// mpirun -np 2 and -np 4 (two independent groups).
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "phasesweep/collectives/gradient_sync.h"
#include "phasesweep/collectives/process_group.h"

namespace phasesweep::collectives {
namespace {

struct ModelImpl : torch::nn::Module {
  ModelImpl() {
    hidden = register_module("hidden", torch::nn::Linear(6, 8));
    out = register_module("out", torch::nn::Linear(8, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return out(torch::tanh(hidden(x))); }
  torch::nn::Linear hidden{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(Model);

// The same batch on every rank for a given step.
std::pair<torch::Tensor, torch::Tensor> GlobalBatch(int step, int64_t rows) {
  torch::manual_seed(1000 + step);
  torch::Tensor x = torch::randn({rows, 6});
  torch::Tensor y = torch::sin(x.narrow(1, 0, 3)) + 0.1 * torch::randn({rows, 3});
  return {x, y};
}

double MaxRelativeDifference(Model& a, Model& b) {
  double worst = 0;
  auto pa = a->parameters();
  auto pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    const double scale = std::max(pb[i].abs().max().item<double>(), 1e-12);
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

void ExpectSameTrajectory(int64_t global_batch) {
  int world_size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  ASSERT_EQ(world_size % 2, 0) << "run with an even number of ranks";
  GroupOptions options;
  options.group_size = 2;
  options.communicator.timeout = std::chrono::seconds(30);
  auto pg = SetUpProcessGroup(MPI_COMM_WORLD, options);
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  Communicator& comm = *pg->communicator;

  // G = 1 reference and the data-parallel replica. The replica on a non-root rank starts from
  // different weights: BroadcastFromRoot must fix that.
  torch::manual_seed(7);
  Model reference;
  torch::manual_seed(comm.rank() == 0 ? 7 : 8);
  Model replica;
  // Small buckets, so that parameters straddle buckets on the way.
  GradientSynchronizer sync(comm, /*bucket_bytes=*/40);
  auto params = replica->parameters();
  ASSERT_TRUE(sync.VerifyParameters(params).ok());
  ASSERT_TRUE(sync.BroadcastFromRoot(params).ok());
  ASSERT_EQ(MaxRelativeDifference(replica, reference), 0.0);

  auto shard = SplitGlobalBatch(global_batch, comm.rank(), comm.size());
  ASSERT_TRUE(shard.ok()) << shard.status().message();
  torch::optim::SGD reference_opt(reference->parameters(),
                                  torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD replica_opt(replica->parameters(),
                                torch::optim::SGDOptions(0.05).momentum(0.9));
  double first_loss = 0;
  double last_loss = 0;
  double worst = 0;
  for (int step = 0; step < 100; ++step) {
    auto [x, y] = GlobalBatch(step, global_batch);

    reference_opt.zero_grad();
    torch::Tensor loss = torch::mse_loss(reference->forward(x), y);
    loss.backward();
    reference_opt.step();
    if (step == 0) first_loss = loss.item<double>();
    last_loss = loss.item<double>();

    replica_opt.zero_grad();
    torch::Tensor xs = x.narrow(0, shard->begin, shard->count());
    torch::Tensor ys = y.narrow(0, shard->begin, shard->count());
    torch::Tensor local = torch::mse_loss(replica->forward(xs), ys) * shard->mean_loss_scale;
    local.backward();
    ASSERT_TRUE(sync.AllreduceAverageGradients(params).ok());
    replica_opt.step();

    worst = std::max(worst, MaxRelativeDifference(replica, reference));
  }
  EXPECT_LT(last_loss, 0.8 * first_loss) << "the model must actually train";
  EXPECT_LE(worst, 1e-5) << "largest relative parameter difference over 100 steps";
  ::testing::Test::RecordProperty("max_relative_difference", std::to_string(worst));
  if (pg->layout.world_rank == 0) {
    std::printf(
        "global batch %lld: largest relative difference over 100 steps %.3g, loss %.4f -> %.4f\n",
        static_cast<long long>(global_batch), worst, first_loss, last_loss);
  }

  // Both members of the group hold bit-identical weights.
  for (auto& p : params) {
    torch::Tensor root_copy = p.detach().clone();
    std::vector<torch::Tensor> list{root_copy};
    ASSERT_TRUE(BroadcastTensors(comm, list, 0).ok());
    EXPECT_TRUE(torch::equal(root_copy, p.detach()));
  }
}

TEST(DataParallel, GroupOfTwoMatchesOneRankWithTheSameGlobalBatch) { ExpectSameTrajectory(16); }

TEST(DataParallel, UnevenSplitMatchesToo) { ExpectSameTrajectory(15); }

}  // namespace
}  // namespace phasesweep::collectives
