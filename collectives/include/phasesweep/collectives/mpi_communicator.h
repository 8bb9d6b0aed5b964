// MpiCommunicator: the Communicator backend for host memory over MPI (CPU training).
//
// Every collective is bounded by CommunicatorOptions::timeout and ends in an error that names
// the rank at fault instead of a hang. Two protocols:
//  * Check-in (broadcast, barrier, and the allreduces that are not folded, below). Each rank
//    sends a 32-byte note (sequence number, operation, count, type, root) to group rank 0, which
//    answers "go" once all have arrived and agree. At the deadline rank 0 knows exactly who is
//    missing and tells the ranks that did arrive, so the error names them; a rank whose note
//    disagrees (a different operation, count or order) is named too. Then the data: allreduce as
//    a ring of MPI_Isend/MPI_Irecv (src/ring_allreduce.h says why not MPI_Iallreduce) completed
//    by MPI_Test polling against a second deadline of the same length, except up to 512 KiB on a
//    power-of-two group, where one blocking MPI_Allreduce is faster (every rank is known to be
//    inside it; it finishes in microseconds unless a rank dies, which ends an Open MPI job
//    anyway); broadcast as MPI_Ibcast, polled likewise. The check-in costs a round trip through
//    the root.
//  * Folded (allreduce of at most 64 KiB on a power-of-two group): recursive doubling over
//    MPI_Isend/MPI_Irecv in which the sender's note travels with its data (in messages below
//    Open MPI's eager limit, the note in the first), so arrival, agreement and data move together
//    in log2(size) exchanges and no round trip is added (bench/README.md, "Collectives"). A rank
//    whose partner's note disagrees names it; a rank whose partner does not come names it at the
//    deadline (step s waits s quarter-deadlines longer, capped at 5 s each, so the rank nearest
//    the fault reports first).
// Whoever detects a failure sends a verdict to every other rank; every waiting rank also listens
// for verdicts, and the group root for the other protocol's messages (a rank inside a different
// collective), so all ranks fail with the same cause. Allreduce results are bit-identical on
// every rank. After a failure the communicator refuses further calls (its MPI requests may still
// be pending); the caller aborts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/mpi_comm_handle.h"

namespace phasesweep::collectives {
namespace internal {
struct CheckInNote;  // src/mpi_protocol.h
}  // namespace internal

class MpiCommunicator final : public Communicator {
 public:
  // Builds a communicator over the ranks of `comm` on a private duplicate of it (so that its
  // messages never mix with other traffic on `comm`). A collective call over `comm`: every rank
  // of `comm` must call it. Fails (Status) if MPI is not initialised.
  static Result<std::unique_ptr<MpiCommunicator>> Create(MPI_Comm comm,
                                                         CommunicatorOptions options = {});
  ~MpiCommunicator() override;

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
  struct Interruption;
  MpiCommunicator(MpiCommHandle comm, int rank, int size, CommunicatorOptions options,
                  std::vector<int> world_ranks);

  // The check-in (see above). Returns OK when every rank arrived with the same operation.
  Status CheckIn(const Operation& op);
  Status CoordinateCheckIn(const Operation& op);
  Status JoinCheckIn(const Operation& op);
  // The check-in protocol's data phase: waits for `n` requests until the deadline.
  Status Complete(const Operation& op, MPI_Request* requests, int n);

  // The folded allreduce (above; mpi_fold.cc).
  Status FoldedAllreduce(const Operation& op, void* data, size_t count, DataType type,
                         ReduceOp reduce);
  // One exchange with `partner` at the step of distance `mask`: `requests` are `receives`
  // receives (the one with the partner's note first), then the sends, `total` in all. Waits for
  // the first `wait_for` until `deadline`; on failure abandons them all.
  Status AwaitPartner(const Operation& op, MPI_Request* requests, int total, size_t receives,
                      int wait_for, int partner, int mask,
                      std::chrono::steady_clock::time_point deadline);
  // Cancels the receives of an exchange and releases its sends (see mpi_fold.cc).
  void AbandonExchange(MPI_Request* requests, int total, size_t receives);
  // Probes once for a verdict from any rank, and for a message with one of `foreign_tags` (a
  // rank inside a collective of the other protocol). True if either ended this collective.
  bool Interrupted(const Operation& op, const std::vector<int>& foreign_tags, Interruption& out);
  // The group root, inside a folded allreduce, got the check-in note of rank `stray.odd_rank`:
  // answers it, tells the others, and returns the mismatch.
  Status AnswerStrayCheckIn(const Operation& op, const Interruption& stray);
  // Sends `message` (int64 values, tag `tag`) to `to` without waiting: failure paths only (the
  // buffer is leaked, since a failed peer may never take it).
  void SendAndForget(std::vector<int64_t> message, const std::vector<int>& to, int tag);
  // Every rank but this one and `except` (-1: none).
  std::vector<int> OtherRanks(int except) const;
  // A received verdict as this rank's error.
  Status VerdictStatus(const Operation& op, const std::vector<int64_t>& verdict) const;
  // "<op> does not match <rank>, which called <note><suffix>; every rank ... same order".
  Status MismatchStatus(const Operation& op, int odd_rank, const internal::CheckInNote& odd_note,
                        const std::string& suffix) const;
  // Records the first failure; later calls fail fast with it.
  Status Fail(Status status);
  std::string Describe(const Operation& op) const;

  MpiCommHandle comm_;
  int rank_ = 0;
  int size_ = 1;
  CommunicatorOptions options_;
  uint64_t sequence_ = 0;
  Status broken_;
  std::vector<char> ring_scratch_;  // reused by the ring allreduce
  std::vector<char> fold_send_;     // reused by the folded allreduce: note + the data's head
  std::vector<char> fold_receive_;
};

}  // namespace phasesweep::collectives
