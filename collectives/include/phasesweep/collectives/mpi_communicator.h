// MpiCommunicator: the Communicator backend for host memory over MPI (CPU training).
//
// Every collective runs in two phases, each bounded by CommunicatorOptions::timeout:
//  1. Check-in. Each rank sends a 32-byte note (sequence number, operation, count, type, root) to
//     group rank 0, which answers "go" once all have arrived and agree. At the deadline rank 0
//     knows exactly who is missing and tells the ranks that did arrive, so the error names them;
//     a rank whose note disagrees (a different operation, count or order) is named too.
//  2. Data. Allreduce as a ring of MPI_Isend/MPI_Irecv (src/ring_allreduce.h says why not
//     MPI_Iallreduce), broadcast as MPI_Ibcast, completed by MPI_Test polling against a second
//     deadline of the same length. Exception: an allreduce of at most 64 KiB on a power-of-two
//     group is one blocking MPI_Allreduce (every rank is known to be inside it; it finishes in
//     microseconds unless a rank dies, which ends an Open MPI job anyway). Allreduce results are
//     bit-identical on every rank.
// Barrier is the check-in alone. The check-in costs two small messages per collective, which is
// why gradient buckets should be large (bench/README.md, "Collectives", has the figures).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/mpi_comm.h"

namespace phasesweep::collectives {

class MpiCommunicator final : public Communicator {
 public:
  // Builds a communicator over the ranks of `comm` on a private duplicate of it (so that its
  // messages never mix with other traffic on `comm`). A collective call over `comm`: every rank
  // of `comm` must call it. Fails (Status) if MPI is not initialised.
  static Result<std::unique_ptr<MpiCommunicator>> Create(MPI_Comm comm,
                                                         CommunicatorOptions options = {});

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  MemorySpace memory_space() const override { return MemorySpace::kHost; }
  const char* backend_name() const override { return "mpi"; }

  Status Allreduce(void* data, size_t count, DataType type, ReduceOp op) override;
  using Communicator::Allreduce;
  Status Broadcast(void* data, size_t count, DataType type, int root) override;
  Status Barrier() override;

  // The private duplicate the collectives run on.
  MPI_Comm comm() const { return comm_.get(); }

 private:
  struct Operation;
  MpiCommunicator(MpiComm comm, int rank, int size, CommunicatorOptions options,
                  std::vector<int> world_ranks);

  // Phase 1 (see above). Returns OK when every rank arrived with the same operation.
  Status CheckIn(const Operation& op);
  Status CoordinateCheckIn(const Operation& op);
  Status JoinCheckIn(const Operation& op);
  // Phase 2: waits for `n` requests until the deadline.
  Status Complete(const Operation& op, MPI_Request* requests, int n);
  // Records the first failure; later calls fail fast with it.
  Status Fail(Status status);
  std::string Describe(const Operation& op) const;

  MpiComm comm_;
  int rank_ = 0;
  int size_ = 1;
  CommunicatorOptions options_;
  uint64_t sequence_ = 0;
  Status broken_;
  std::vector<char> ring_scratch_;  // reused by the ring allreduce
};

}  // namespace phasesweep::collectives
