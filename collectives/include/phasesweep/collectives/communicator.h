// Communicator: the collective operations a data-parallel group of ranks needs (allreduce,
// broadcast, barrier) behind one interface, with an MPI backend for host memory and an NCCL
// backend for CUDA device memory. This header knows nothing of LibTorch: lists of tensors are
// handled by tensor_collectives.h, which calls into this interface.
//
// Contracts shared by every backend:
//  - Every rank of the group must issue the same collectives, with the same count, type and root,
//    in the same order. Backends detect what they can (the MPI backend compares a small check-in
//    message) and return an error rather than computing garbage.
//  - No call blocks forever: each one has a deadline (CommunicatorOptions::timeout). On a timeout
//    or any backend failure the call returns a non-OK Status naming the operation, the group and,
//    where the backend can tell, the ranks that did not arrive. After such an error the
//    communicator is unusable (every later call fails at once) and the only safe way on is to end
//    the job: call Abort(status), which prints one line and aborts every rank.
//  - Calls are made from one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::collectives {

enum class DataType { kFloat32, kFloat64, kByte };
enum class ReduceOp { kSum, kAverage };

// Where a backend expects the buffers it is given.
enum class MemorySpace {
  kHost,    // ordinary host memory (MPI backend)
  kDevice,  // CUDA device memory of the communicator's device (NCCL backend)
};

// "float32", "float64", "byte" — for messages.
const char* DataTypeName(DataType type);
// Size of one element in bytes.
size_t DataTypeSize(DataType type);

inline constexpr std::chrono::microseconds kSpinDedicated = std::chrono::milliseconds(50);
inline constexpr std::chrono::microseconds kSpinOversubscribed = std::chrono::milliseconds(1);

struct CommunicatorOptions {
  // Longest a rank waits for the others to arrive at a collective, and then again for the data
  // to move. Generous by default: a group member may be busy checkpointing or coordinating.
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
  // Names the group in messages, e.g. "group 1 (ranks 2-3)". Empty: "group".
  std::string name;
  // How long a waiting rank polls flat out before it starts yielding its core between polls.
  // Long is fastest when every rank has a core of its own; short lets oversubscribed ranks (more
  // ranks than cores) run their peers. SetUpProcessGroup picks by comparing the ranks on the host
  // with its cores (kSpinDedicated / kSpinOversubscribed).
  std::chrono::microseconds spin = kSpinOversubscribed;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  // This rank's position in the group, 0 <= rank() < size(). Rank 0 is the group root.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual MemorySpace memory_space() const = 0;
  // "mpi" or "nccl".
  virtual const char* backend_name() const = 0;
  // CUDA device ordinal the buffers must live on (kDevice backends); -1 for host memory.
  virtual int device() const { return -1; }

  // In-place allreduce of `count` elements at `data` (memory_space() memory). kAverage divides
  // the sum by size(). type must be kFloat32 or kFloat64 (InvalidArgument otherwise). count == 0
  // is allowed. On success every rank holds the same values.
  virtual Status Allreduce(void* data, size_t count, DataType type, ReduceOp op) = 0;
  Status Allreduce(float* data, size_t count, ReduceOp op) {
    return Allreduce(data, count, DataType::kFloat32, op);
  }
  Status Allreduce(double* data, size_t count, ReduceOp op) {
    return Allreduce(data, count, DataType::kFloat64, op);
  }

  // In-place broadcast of `count` elements from group rank `root` (0 <= root < size()).
  virtual Status Broadcast(void* data, size_t count, DataType type, int root) = 0;

  // Returns once every rank of the group has called Barrier (or with an error at the deadline).
  virtual Status Barrier() = 0;

  // The group's name for messages (CommunicatorOptions::name or "group").
  const std::string& name() const { return name_; }
  // Rank in MPI_COMM_WORLD of group rank `group_rank`.
  int world_rank(int group_rank) const { return world_ranks_.at(static_cast<size_t>(group_rank)); }
  // "rank 3" when group and world rank agree, else "rank 3 (group rank 1)" — for messages.
  std::string DescribeRank(int group_rank) const;

  // Prints "phasesweep: error: <why>" to stderr, releases backend resources without waiting for
  // peers (ncclCommAbort), and ends every rank of the job with MPI_Abort. For use after a
  // collective failed: other ranks may be stuck in it and only an abort frees them.
  [[noreturn]] void Abort(const Status& why);

 protected:
  Communicator(std::string name, std::vector<int> world_ranks);
  // Backend hook for Abort: release without waiting. Must not throw or block.
  virtual void AbortBackend() noexcept {}

 private:
  std::string name_;
  std::vector<int> world_ranks_;
};

}  // namespace phasesweep::collectives
