// NCCL backend tests (label gpu), run under mpirun -np 1. They compile in every NCCL build; with
// no CUDA device they check that the set-up says so clearly and then skip. With a device, a
// size-1 NCCL group must allreduce (sum, average), broadcast and barrier on raw device buffers —
// no CUDA LibTorch involved.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "phasesweep/collectives/nccl_communicator.h"
#include "phasesweep/collectives/process_group.h"

namespace phasesweep::collectives {
namespace {

bool HaveDevice() {
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  cudaGetLastError();
  return rc == cudaSuccess && count > 0;
}

template <typename T>
void ExpectRoundTrip(Communicator& comm, size_t count, ReduceOp op) {
  std::vector<T> host(count);
  for (size_t i = 0; i < count; ++i) host[i] = T(i + 1) / T(2);
  T* device = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), count * sizeof(T)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(device, host.data(), count * sizeof(T), cudaMemcpyHostToDevice),
            cudaSuccess);
  const Status s = comm.Allreduce(device, count, op);
  std::vector<T> back(count, T(-1));
  const cudaError_t copy =
      cudaMemcpy(back.data(), device, count * sizeof(T), cudaMemcpyDeviceToHost);
  cudaFree(device);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(copy, cudaSuccess);
  // One rank: the sum and the mean are the values themselves.
  for (size_t i = 0; i < count; ++i) ASSERT_EQ(back[i], host[i]) << i;
}

TEST(NcclCommunicator, SizeOneGroupAllreduceBroadcastBarrier) {
  GroupOptions options;
  options.backend = Backend::kNccl;
  options.communicator.timeout = std::chrono::seconds(60);
  if (!HaveDevice()) {
    auto pg = SetUpProcessGroup(MPI_COMM_SELF, options);
    ASSERT_FALSE(pg.ok());
    EXPECT_EQ(pg.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(pg.status().message().find("the NCCL backend needs a CUDA device"), std::string::npos)
        << pg.status().message();
    GTEST_SKIP() << "no CUDA device";
  }
  auto pg = SetUpProcessGroup(MPI_COMM_SELF, options);
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  Communicator& comm = *pg->communicator;
  EXPECT_STREQ(comm.backend_name(), "nccl");
  EXPECT_EQ(comm.memory_space(), MemorySpace::kDevice);
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.size(), 1);
  EXPECT_EQ(comm.device(), 0);
  EXPECT_EQ(pg->layout.device, 0);
  for (size_t count : {size_t{1}, size_t{1001}, size_t{1} << 20}) {
    ExpectRoundTrip<float>(comm, count, ReduceOp::kSum);
    ExpectRoundTrip<float>(comm, count, ReduceOp::kAverage);
    ExpectRoundTrip<double>(comm, count, ReduceOp::kSum);
  }
  double* device = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), 8 * sizeof(double)), cudaSuccess);
  ASSERT_EQ(cudaMemset(device, 0, 8 * sizeof(double)), cudaSuccess);
  EXPECT_TRUE(comm.Broadcast(device, 8, DataType::kFloat64, 0).ok());
  EXPECT_EQ(comm.Broadcast(device, 8, DataType::kFloat64, 1).code(),
            Status::Code::kInvalidArgument);
  cudaFree(device);
  EXPECT_TRUE(comm.Barrier().ok());
}

TEST(NcclCommunicator, InvalidDeviceIsAClearError) {
  if (!HaveDevice()) GTEST_SKIP() << "no CUDA device";
  GroupOptions options;
  options.backend = Backend::kNccl;
  options.device = 1 << 20;
  auto pg = SetUpProcessGroup(MPI_COMM_SELF, options);
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(pg.status().message().find("was requested but only"), std::string::npos)
      << pg.status().message();
}

}  // namespace
}  // namespace phasesweep::collectives
