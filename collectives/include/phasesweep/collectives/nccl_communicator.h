// NcclCommunicator: the Communicator backend for CUDA device memory over NCCL (GPU training).
// Written against the CUDA runtime API and NCCL with raw device pointers and its own stream; it
// does not need a CUDA LibTorch. Only in builds with PHASESWEEP_HAVE_NCCL (PHASESWEEP_WITH_NCCL).
//
// Ordering: collectives run on a stream created with default flags, so they start after the work
// already queued on the legacy default stream (LibTorch's default stream) and work queued there
// later waits for them. Work on other streams must be synchronised by the caller. Every call
// returns only when its collective has finished (cudaStreamQuery polling), or at the deadline,
// when the NCCL communicator is aborted (ncclCommAbort) and the call returns an error.
#pragma once

#if !PHASESWEEP_HAVE_NCCL
#error "nccl_communicator.h needs a build with the NCCL backend (PHASESWEEP_WITH_NCCL=ON)"
#endif

#include <cuda_runtime.h>
#include <nccl.h>

#include <memory>
#include <string>

#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/mpi_communicator.h"

namespace phasesweep::collectives {

// Owner of one ncclComm_t. Move-only. The destructor finalises the communicator (bounded wait)
// and destroys it, or aborts it when finalising fails or takes too long; it never throws.
class NcclComm {
 public:
  NcclComm() = default;
  explicit NcclComm(ncclComm_t comm) : comm_(comm) {}
  ~NcclComm() { Reset(); }
  NcclComm(NcclComm&& other) noexcept : comm_(other.comm_) { other.comm_ = nullptr; }
  NcclComm& operator=(NcclComm&& other) noexcept {
    if (this != &other) {
      Reset();
      comm_ = other.comm_;
      other.comm_ = nullptr;
    }
    return *this;
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  ncclComm_t get() const { return comm_; }
  // ncclCommAbort without waiting for peers; this object becomes null.
  void Abort() noexcept;
  // Finalise + destroy (see above); this object becomes null.
  void Reset() noexcept;

 private:
  ncclComm_t comm_ = nullptr;
};

class NcclCommunicator final : public Communicator {
 public:
  // Collective over the ranks of `bootstrap`: selects `device` (cudaSetDevice), creates the
  // unique id on group rank 0, broadcasts it through `bootstrap` (deadline-bounded), and runs
  // ncclCommInitRank (non-blocking configuration, polled against the deadline). All ranks agree
  // on success before returning; if any rank failed, every rank gets an error.
  static Result<std::unique_ptr<NcclCommunicator>> Create(MpiCommunicator& bootstrap, int device,
                                                          CommunicatorOptions options = {});
  ~NcclCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  MemorySpace memory_space() const override { return MemorySpace::kDevice; }
  const char* backend_name() const override { return "nccl"; }
  int device() const override { return device_; }
  cudaStream_t stream() const { return stream_; }

  Status Allreduce(void* data, size_t count, DataType type, ReduceOp op) override;
  using Communicator::Allreduce;
  Status Broadcast(void* data, size_t count, DataType type, int root) override;
  // A one-element allreduce on a private device scalar.
  Status Barrier() override;

 protected:
  void AbortBackend() noexcept override { comm_.Abort(); }

 private:
  NcclCommunicator(NcclComm comm, int rank, int size, int device, cudaStream_t stream,
                   float* scratch, CommunicatorOptions options, std::vector<int> world_ranks);
  // Polls ncclCommGetAsyncError + cudaStreamQuery until the queued collective finished; aborts
  // the communicator at the deadline or on an asynchronous NCCL error.
  Status Wait(const std::string& what);
  Status Fail(Status status);

  NcclComm comm_;
  int rank_ = 0;
  int size_ = 1;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  float* scratch_ = nullptr;  // one float on the device, for Barrier
  CommunicatorOptions options_;
  uint64_t sequence_ = 0;
  Status broken_;
};

}  // namespace phasesweep::collectives
