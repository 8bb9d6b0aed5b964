// Multi-rank tests of the MPI backend and the tensor layer, run by ctest under
// `mpirun -np 2` and `-np 4` (collectives_mpi_np2/np4): allreduce and broadcast values, barrier
// ordering, group split, the bad-input errors (G not dividing N, shape mismatch, mismatched
// collectives) and deadlines (a rank that never joins is named, and nobody hangs).
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "phasesweep/collectives/gradient_sync.h"
#include "phasesweep/collectives/mpi_communicator.h"
#include "phasesweep/collectives/process_group.h"
#include "phasesweep/collectives/tensor_collectives.h"

namespace phasesweep::collectives {
namespace {

using Clock = std::chrono::steady_clock;

int WorldRank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int WorldSize() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A fresh communicator over all ranks for each test, so that a test that breaks one (the
// deadline tests) cannot disturb the next. A short timeout turns a test bug into a failure
// rather than a hang.
std::unique_ptr<MpiCommunicator> World(
    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  CommunicatorOptions options;
  options.timeout = timeout;
  auto comm = MpiCommunicator::Create(MPI_COMM_WORLD, options);
  EXPECT_TRUE(comm.ok()) << comm.status().message();
  return comm.ok() ? std::move(comm).value() : nullptr;
}

Status FailingMpiCall() {
  PHASESWEEP_MPI_CHECK(MPI_Comm_rank(MPI_COMM_NULL, nullptr));
  return Status::Ok();
}

TEST(MpiCheck, FailureCarriesMpiTextHostRankAndCallSite) {
  // The default handler would end the process; return codes instead. (An error on a null
  // communicator is raised on MPI_COMM_WORLD in MPI 3, on MPI_COMM_SELF in MPI 4.)
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  const Status s = FailingMpiCall();
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
  ASSERT_EQ(s.code(), Status::Code::kInternal);
  const std::string& m = s.message();
  // Open MPI 4.1's text for MPI_ERR_COMM: "MPI_ERR_COMM: invalid communicator".
  EXPECT_EQ(m.rfind("MPI_Comm_rank(MPI_COMM_NULL, nullptr) failed: MPI_ERR_COMM: invalid "
                    "communicator (host ",
                    0),
            0u)
      << m;
  EXPECT_TRUE(Contains(
      m, ", rank " + std::to_string(WorldRank()) + ", collectives/src/collectives_mpi_test.cc:"))
      << m;
}

TEST(MpiCommunicator, RankSizeAndName) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  EXPECT_EQ(comm->rank(), WorldRank());
  EXPECT_EQ(comm->size(), WorldSize());
  EXPECT_EQ(comm->memory_space(), MemorySpace::kHost);
  EXPECT_STREQ(comm->backend_name(), "mpi");
  EXPECT_EQ(comm->name(), "group (ranks 0-" + std::to_string(WorldSize() - 1) + ")");
}

// Rank r contributes (r + 1) * (i + 1) / 2 at index i: sums and means are exact in float.
template <typename T>
void ExpectAllreduce(MpiCommunicator& comm, size_t count, ReduceOp op) {
  const int n = comm.size();
  std::vector<T> data(count);
  for (size_t i = 0; i < count; ++i) data[i] = T(comm.rank() + 1) * T(i + 1) / T(2);
  ASSERT_TRUE(comm.Allreduce(data.data(), count, op).ok());
  const T rank_sum = T(n * (n + 1) / 2);
  for (size_t i = 0; i < count; ++i) {
    T expected = rank_sum * T(i + 1) / T(2);
    if (op == ReduceOp::kAverage) expected /= T(n);
    ASSERT_EQ(data[i], expected) << "index " << i << " of " << count;
  }
}

TEST(MpiCommunicator, AllreduceSumAndAverageFloatAndDouble) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  // Folded (up to 64 KiB), blocking (up to 512 KiB) and ring sizes, with the boundaries.
  for (size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{1001}, size_t{16384}, size_t{16385},
                       size_t{65537}, size_t{131072}, size_t{131073}}) {
    ExpectAllreduce<float>(*comm, count, ReduceOp::kSum);
    ExpectAllreduce<float>(*comm, count, ReduceOp::kAverage);
    ExpectAllreduce<double>(*comm, count, ReduceOp::kSum);
    ExpectAllreduce<double>(*comm, count, ReduceOp::kAverage);
  }
}

// Random values (different on every rank): the result must be the true sum within rounding and
// bit-identical on every rank — replicas of a data-parallel model must not drift apart. Sizes
// on both sides of the ring threshold (256 KiB), with uneven ring chunks.
TEST(MpiCommunicator, AllreduceIsBitIdenticalOnEveryRank) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  for (int64_t count : {int64_t{999}, int64_t{100003}, int64_t{300001}}) {
    std::vector<torch::Tensor> all;
    for (int r = 0; r < comm->size(); ++r) {
      torch::manual_seed(50 + r);
      all.push_back(torch::randn({count}));
    }
    torch::Tensor mine = all[static_cast<size_t>(comm->rank())].clone();
    ASSERT_TRUE(
        comm->Allreduce(mine.data_ptr<float>(), static_cast<size_t>(count), ReduceOp::kSum).ok());
    torch::Tensor expected = torch::zeros({count}, torch::kFloat64);
    for (const auto& t : all) expected += t.to(torch::kFloat64);
    EXPECT_TRUE(torch::allclose(mine.to(torch::kFloat64), expected, 1e-5, 1e-5)) << count;
    torch::Tensor root = mine.clone();
    MPI_Bcast(root.data_ptr<float>(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
    EXPECT_TRUE(torch::equal(root, mine)) << "rank " << comm->rank() << " differs, count " << count;
  }
}

TEST(MpiCommunicator, BroadcastFromFirstAndLastRank) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  for (int root : {0, comm->size() - 1}) {
    std::vector<double> data(333, comm->rank() == root ? 0.0 : -1.0);
    if (comm->rank() == root) {
      for (size_t i = 0; i < data.size(); ++i) data[i] = 3.0 * double(i) + root;
    }
    ASSERT_TRUE(comm->Broadcast(data.data(), data.size(), DataType::kFloat64, root).ok());
    for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], 3.0 * double(i) + root);
  }
  float x = 0;
  EXPECT_EQ(comm->Broadcast(&x, 1, DataType::kFloat32, comm->size()).code(),
            Status::Code::kInvalidArgument);
}

TEST(MpiCommunicator, BarrierReleasesNobodyBeforeTheLastArrives) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  // Ranks arrive 30 ms apart; steady_clock is one clock for all processes of a host.
  std::this_thread::sleep_for(std::chrono::milliseconds(30 * comm->rank()));
  const int64_t arrived = Clock::now().time_since_epoch().count();
  ASSERT_TRUE(comm->Barrier().ok());
  const int64_t left = Clock::now().time_since_epoch().count();
  int64_t last_arrival = arrived;
  int64_t first_departure = left;
  MPI_Allreduce(MPI_IN_PLACE, &last_arrival, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &first_departure, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
  EXPECT_GE(first_departure, last_arrival);
}

TEST(TensorCollectives, OddSizesAcrossBucketBoundariesMixedDtypesNonContiguous) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  const double r = comm->rank() + 1;
  const double n = comm->size();
  auto fill = [&](torch::Tensor t) {
    // Value at flat index i: r * (i + 1); the group sum is n(n+1)/2 * (i + 1).
    return (torch::arange(1, t.numel() + 1, t.options()).view(t.sizes()) * r);
  };
  std::vector<torch::Tensor> tensors = {
      fill(torch::empty({3})),
      fill(torch::empty({17})),
      fill(torch::empty({4, 3}, torch::kFloat64)),
      fill(torch::empty({1})),
      fill(torch::empty({5, 7})).t(),  // non-contiguous view
      fill(torch::empty({33})),
      fill(torch::empty({0})),
      fill(torch::empty({}, torch::kFloat64)),
  };
  std::vector<torch::Tensor> originals;
  for (const auto& t : tensors) originals.push_back(t.clone() / r);
  // 20-byte buckets: 5 floats or 2 doubles, so most tensors straddle bucket boundaries.
  ASSERT_TRUE(AllreduceTensors(*comm, tensors, ReduceOp::kSum, 20).ok());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_TRUE(torch::equal(tensors[i], originals[i] * (n * (n + 1) / 2))) << "tensor " << i;
  }
  EXPECT_FALSE(tensors[4].is_contiguous()) << "written back into the caller's view";
  ASSERT_TRUE(AllreduceTensors(*comm, tensors, ReduceOp::kAverage, 20).ok());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_TRUE(torch::allclose(tensors[i], originals[i] * (n * (n + 1) / 2)))
        << "average of equal values is the value, tensor " << i;
  }
}

TEST(TensorCollectives, RejectsUnsupportedTensorsBeforeCommunicating) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  std::vector<torch::Tensor> ints = {torch::zeros({3}), torch::zeros({2}, torch::kInt64)};
  const Status s = AllreduceTensors(*comm, ints, ReduceOp::kSum);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "tensor 1 has dtype Long")) << s.message();
  std::vector<torch::Tensor> undefined = {torch::Tensor()};
  EXPECT_EQ(AllreduceTensors(*comm, undefined, ReduceOp::kSum).code(),
            Status::Code::kInvalidArgument);
  // Nothing was sent: the communicator still works.
  EXPECT_TRUE(comm->Barrier().ok());
}

TEST(GradientSynchronizer, BroadcastFromRootThenAverageGradients) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  torch::manual_seed(100 + comm->rank());  // different weights on every rank
  torch::nn::Linear model(4, 3);
  GradientSynchronizer sync(*comm, 16);
  auto params = model->parameters();
  ASSERT_TRUE(sync.VerifyParameters(params).ok());
  ASSERT_TRUE(sync.BroadcastFromRoot(params).ok());
  torch::manual_seed(100);
  torch::nn::Linear root_model(4, 3);
  EXPECT_TRUE(torch::equal(model->weight, root_model->weight));
  EXPECT_TRUE(torch::equal(model->bias, root_model->bias));
  EXPECT_TRUE(model->weight.requires_grad()) << "still a trainable leaf";

  // Gradient of sum(W x) with x = rank+1 everywhere is rank+1 in every weight; the bias is
  // unused, so its gradient is undefined and becomes zero.
  const double r = comm->rank() + 1;
  const double n = comm->size();
  (model->weight.matmul(torch::full({4}, r))).sum().backward();
  ASSERT_FALSE(model->bias.grad().defined());
  ASSERT_TRUE(sync.AllreduceAverageGradients(params).ok());
  EXPECT_TRUE(torch::allclose(model->weight.grad(), torch::full({3, 4}, (n + 1) / 2)));
  ASSERT_TRUE(model->bias.grad().defined());
  EXPECT_TRUE(torch::equal(model->bias.grad(), torch::zeros({3})));
}

TEST(ProcessGroup, SplitsIntoGroupsOfConsecutiveRanks) {
  const int n = WorldSize();
  const int w = WorldRank();
  for (int g = 1; g <= n; ++g) {
    if (n % g != 0) continue;
    GroupOptions options;
    options.group_size = g;
    options.communicator.timeout = std::chrono::seconds(20);
    auto pg = SetUpProcessGroup(MPI_COMM_WORLD, options);
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    const GroupLayout& l = pg->layout;
    EXPECT_EQ(l.world_rank, w);
    EXPECT_EQ(l.world_size, n);
    EXPECT_EQ(l.local_rank, w) << "all ranks share this host";
    EXPECT_EQ(l.local_size, n);
    EXPECT_EQ(l.group_index, w / g);
    EXPECT_EQ(l.group_count, n / g);
    EXPECT_EQ(l.group_rank, w % g);
    EXPECT_EQ(l.group_size, g);
    EXPECT_EQ(l.device, -1);
    Communicator& comm = *pg->communicator;
    EXPECT_EQ(comm.rank(), w % g);
    EXPECT_EQ(comm.size(), g);
    const int first = (w / g) * g;
    EXPECT_EQ(comm.name(), "group " + std::to_string(w / g) + " (ranks " + std::to_string(first) +
                               "-" + std::to_string(first + g - 1) + ")");
    EXPECT_EQ(comm.world_rank(0), first);
    // Each group sums only its own members' world ranks.
    double value = w;
    ASSERT_TRUE(comm.Allreduce(&value, 1, ReduceOp::kSum).ok());
    EXPECT_EQ(value, g * first + g * (g - 1) / 2.0);
  }
}

TEST(ProcessGroup, GroupSizeNotDividingRanksIsAClearErrorOnEveryRank) {
  const int n = WorldSize();
  for (int g : {0, n + 1, n == 4 ? 3 : 2 * n}) {
    GroupOptions options;
    options.group_size = g;
    auto pg = SetUpProcessGroup(MPI_COMM_WORLD, options);
    ASSERT_FALSE(pg.ok());
    EXPECT_EQ(pg.status().code(), Status::Code::kInvalidArgument);
    EXPECT_TRUE(Contains(pg.status().message(), "data-parallel group size " + std::to_string(g) +
                                                    " does not divide the " + std::to_string(n) +
                                                    " ranks"))
        << pg.status().message();
  }
}

TEST(ProcessGroup, NcclWithoutNcclBuildOrDeviceIsAClearError) {
  GroupOptions options;
  options.backend = Backend::kNccl;
  auto pg = SetUpProcessGroup(MPI_COMM_WORLD, options);
  if (!NcclBackendBuilt()) {
    ASSERT_FALSE(pg.ok());
    EXPECT_EQ(pg.status().code(), Status::Code::kUnimplemented);
    EXPECT_TRUE(Contains(pg.status().message(), "PHASESWEEP_WITH_NCCL=ON"));
  } else if (!pg.ok()) {
    // An NCCL build on a machine without a GPU (CI): the set-up says so on every rank.
    EXPECT_EQ(pg.status().code(), Status::Code::kFailedPrecondition) << pg.status().message();
    EXPECT_TRUE(Contains(pg.status().message(), "needs a CUDA device")) << pg.status().message();
  }
}

TEST(VerifySameShapes, MismatchNamesTheOddRankOnEveryRank) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  const int last = comm->size() - 1;
  std::vector<torch::Tensor> params = {torch::zeros({4, 3}), torch::zeros({3})};
  ASSERT_TRUE(VerifySameShapes(*comm, params).ok());
  if (comm->rank() == last) params[0] = torch::zeros({3, 4});  // a transposed layer
  const Status s = VerifySameShapes(*comm, params);
  ASSERT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "parameter shapes differ across group (ranks 0-" +
                                        std::to_string(last) + "): rank " + std::to_string(last) +
                                        " has 2 tensors (checksum "))
      << s.message();
  EXPECT_TRUE(Contains(s.message(), "but the group root rank 0 has 2 tensors")) << s.message();
}

TEST(MpiCommunicator, MismatchedCollectivesAreAnErrorNotAHang) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  std::vector<float> data(10, 1.0f);
  Status s;
  if (comm->rank() == 1) {
    s = comm->Broadcast(data.data(), 10, DataType::kFloat32, 0);
  } else {
    s = comm->Allreduce(data.data(), 10, ReduceOp::kSum);
  }
  ASSERT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.message();
  EXPECT_TRUE(Contains(s.message(), "does not match")) << s.message();
  if (comm->rank() != 1) {
    EXPECT_TRUE(Contains(s.message(), "allreduce #1 (10 x float32, sum) in group (ranks 0-"))
        << s.message();
    EXPECT_TRUE(Contains(s.message(),
                         "does not match rank 1, which called broadcast #1 (10 x "
                         "float32 from group rank 0)"))
        << s.message();
  }
  // The communicator is now unusable, and says why, at once.
  const Status again = comm->Barrier();
  EXPECT_EQ(again.code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(again.message(), "unusable after an earlier failure")) << again.message();
}

// The same collective from the other side: the root is in a broadcast (check-in) while the
// others are in a small (folded) allreduce; then a barrier (check-in) against a small allreduce
// on a non-root rank, whose note reaches the root while the root is inside the folded exchange.
TEST(MpiCommunicator, MismatchBetweenTheTwoProtocolsIsNamedOnEveryRank) {
  for (const int odd : {0, WorldSize() - 1}) {
    auto comm = World();
    ASSERT_NE(comm, nullptr);
    std::vector<float> data(10, 1.0f);
    Status s;
    const bool is_odd = comm->rank() == odd;
    if (is_odd) {
      s = odd == 0 ? comm->Broadcast(data.data(), 10, DataType::kFloat32, 0) : comm->Barrier();
    } else {
      s = comm->Allreduce(data.data(), 10, ReduceOp::kSum);
    }
    ASSERT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.message();
    EXPECT_TRUE(Contains(s.message(), "does not match")) << s.message();
    const std::string odd_call =
        odd == 0 ? "broadcast #1 (10 x float32 from group rank 0)" : "barrier #1";
    if (is_odd) {
      EXPECT_TRUE(Contains(s.message(), odd_call + " in group")) << s.message();
      EXPECT_TRUE(Contains(s.message(), "which called allreduce #1 (10 x float32, sum)"))
          << s.message();
    } else {
      EXPECT_TRUE(Contains(s.message(), "allreduce #1 (10 x float32, sum) in group"))
          << s.message();
      EXPECT_TRUE(Contains(
          s.message(), "does not match rank " + std::to_string(odd) + ", which called " + odd_call))
          << s.message();
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// Two small allreduces of different lengths: both are folded, and the notes that travel with
// the data disagree. Every rank names the odd one, directly or from a partner's verdict.
TEST(MpiCommunicator, SmallAllreducesOfDifferentLengthsNameTheOddRank) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  const int odd = comm->size() - 1;
  std::vector<float> data(20, 1.0f);
  const size_t count = comm->rank() == odd ? 20 : 10;
  const Status s = comm->Allreduce(data.data(), count, ReduceOp::kSum);
  ASSERT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.message();
  if (comm->rank() == odd) {
    EXPECT_TRUE(Contains(s.message(), "allreduce #1 (20 x float32, sum) in group")) << s.message();
    EXPECT_TRUE(Contains(s.message(), "which called allreduce #1 (10 x float32, sum)"))
        << s.message();
  } else {
    EXPECT_TRUE(Contains(s.message(), "does not match rank " + std::to_string(odd) +
                                          ", which called allreduce #1 (20 x float32, sum)"))
        << s.message();
  }
  EXPECT_EQ(comm->Barrier().code(), Status::Code::kFailedPrecondition);
  MPI_Barrier(MPI_COMM_WORLD);
}

// Folded allreduces back to back with check-in collectives: a rank that finishes an allreduce
// early checks in to the next barrier while the root is still exchanging; that note must wait
// for the barrier, not be taken for a mismatch. Ranks are staggered to vary who is early.
TEST(MpiCommunicator, SmallAllreducesInterleaveWithOtherCollectives) {
  auto comm = World();
  ASSERT_NE(comm, nullptr);
  const int n = comm->size();
  for (int i = 0; i < 300; ++i) {
    if (i % 50 == comm->rank()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<double> small(17, comm->rank() + i);
    ASSERT_TRUE(comm->Allreduce(small.data(), small.size(), ReduceOp::kSum).ok()) << i;
    const double expected = n * (n - 1) / 2.0 + double(n) * i;
    ASSERT_EQ(small[16], expected) << i;
    if (i % 3 == 0) {
      ASSERT_TRUE(comm->Barrier().ok()) << i;
    } else if (i % 3 == 1) {
      double value = comm->rank() == 0 ? i : -1;
      ASSERT_TRUE(comm->Broadcast(&value, 1, DataType::kFloat64, 0).ok()) << i;
      ASSERT_EQ(value, i);
    } else {
      std::vector<float> large(300000, 1.0f);  // 1.2 MB: check-in and ring
      ASSERT_TRUE(comm->Allreduce(large.data(), large.size(), ReduceOp::kAverage).ok()) << i;
      ASSERT_EQ(large[299999], 1.0f);
    }
  }
}

// One rank never joins; the others must get an error naming it (or the root) within about the
// deadline, and later calls must fail at once.
void ExpectTimeoutWithoutRank(int absent, bool barrier) {
  const auto timeout = std::chrono::milliseconds(1000);
  auto comm = World(timeout);
  ASSERT_NE(comm, nullptr);
  if (comm->rank() != absent) {
    double x = 1.0;
    const auto start = Clock::now();
    const Status s = barrier ? comm->Barrier() : comm->Allreduce(&x, 1, ReduceOp::kSum);
    const auto waited = Clock::now() - start;
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Status::Code::kInternal);
    EXPECT_TRUE(
        Contains(s.message(), barrier ? "barrier #1 in group" : "allreduce #1 (1 x float64"))
        << s.message();
    EXPECT_TRUE(Contains(s.message(), "timed out after 1 s")) << s.message();
    if (absent == 0 && barrier) {
      // Check-in: the others wait for the root's answer.
      EXPECT_TRUE(Contains(s.message(), "no answer from the group root rank 0")) << s.message();
    } else {
      EXPECT_TRUE(Contains(s.message(), "rank " + std::to_string(absent) + " did not arrive"))
          << s.message();
    }
    // Not exactly the deadline: a rank that arrived late hears the root's verdict early.
    EXPECT_GE(waited, timeout * 8 / 10);
    EXPECT_LT(waited, timeout + std::chrono::seconds(3)) << "bounded by the deadline";
    const Status again = comm->Allreduce(&x, 1, ReduceOp::kSum);
    EXPECT_EQ(again.code(), Status::Code::kFailedPrecondition);
  }
  MPI_Barrier(MPI_COMM_WORLD);  // the absent rank waits here for the others to finish
}

TEST(Deadline, AllreduceNamesTheRankThatNeverJoined) {
  ExpectTimeoutWithoutRank(WorldSize() - 1, /*barrier=*/false);
}

TEST(Deadline, BarrierNamesTheRankThatNeverJoined) {
  ExpectTimeoutWithoutRank(WorldSize() - 1, /*barrier=*/true);
}

TEST(Deadline, MissingGroupRootIsReportedByTheOthers) {
  ExpectTimeoutWithoutRank(0, /*barrier=*/false);  // folded: rank 0's partners name it
  ExpectTimeoutWithoutRank(0, /*barrier=*/true);   // check-in: nobody hears from the root
}

}  // namespace
}  // namespace phasesweep::collectives
