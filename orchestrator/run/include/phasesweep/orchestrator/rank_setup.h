// The one set-up of a rank for `phasesweep run`, in a fixed order:
//   1. MpiSession: MPI_Init_thread (MPI_THREAD_FUNNELED) and, at the end of its scope,
//      MPI_Finalize (owned by the command line around RunSweep);
//   2. StartRank: world rank and size, the host's shared-memory split, and the launcher's view
//      of them (launch.h: mpirun's, srun's or MPI's local rank, which picks the device);
//   3. SetUpRankGroup, once the config is agreed: the data-parallel group of
//      training.data_parallel = G ranks through the collectives process group (process_group.h),
//      for G = 1 too (every rank its own group), and the communicator of the group roots over
//      which the scheduler runs (every rank when G = 1).
// Every MPI call is checked (a failure is an Internal Status naming the call); every
// communicator is owned by an MpiCommHandle and freed before MPI_Finalize.
#pragma once

#include <mpi.h>

#include "phasesweep/base/status.h"
#include "phasesweep/collectives/mpi_comm_handle.h"
#include "phasesweep/collectives/process_group.h"
#include "phasesweep/orchestrator/launch.h"

namespace phasesweep::orchestrator {

// MPI for the lifetime of this object (MPI_THREAD_FUNNELED). One per process; finalises only
// what it initialised.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  // Not OK when MPI could not be initialised (then nothing else may call MPI).
  const Status& status() const { return status_; }

  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  Status status_;
  bool initialised_here_ = false;
};

// Internal Status "<call> failed: <MPI's error string>" unless `code` is MPI_SUCCESS.
Status CheckMpi(int code, const char* call);

// Step 2: where this rank sits in `world` and on its host, as the launcher says (launch.h).
Result<LaunchLayout> StartRank(MPI_Comm world);

// Step 3: this rank's group and the scheduler's communicator.
struct RankGroup {
  collectives::ProcessGroup group;
  collectives::MpiCommHandle roots;  // the group roots; null on the other ranks of a group
  int size() const { return group.layout.group_size; }
  int rank() const { return group.layout.group_rank; }
};
// `on_cuda`: the group trains on CUDA devices (NCCL backend); ignored when G = 1, whose
// one-rank group never communicates.
Result<RankGroup> SetUpRankGroup(MPI_Comm world, int group_size, bool on_cuda);

}  // namespace phasesweep::orchestrator
