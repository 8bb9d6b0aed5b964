// The one explicit set-up of data-parallel groups, in a fixed order (as in nccl-tests):
//   1. local rank: MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) — ranks sharing this host;
//   2. groups: MPI_Comm_split into world_size / G groups of G consecutive ranks
//      (group g = world ranks g*G .. g*G+G-1, group rank = world rank - g*G);
//   3. the group's Communicator: MPI over the group, or for NCCL: pick the device
//      (local_rank % visible devices unless given), ncclGetUniqueId on the group root,
//      broadcast of the id over the group (MPI, with a deadline), ncclCommInitRank (its
//      non-blocking form, ncclCommInitRankConfig, so that waiting for the peers has a deadline).
// Everything here is a collective over `world`: every rank calls SetUpProcessGroup once, at
// start, with the same options.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "phasesweep/base/status.h"
#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/mpi_comm_handle.h"

namespace phasesweep::collectives {

enum class Backend {
  kMpi,   // host memory, MPI collectives (CPU training)
  kNccl,  // CUDA device memory, NCCL collectives (GPU training); needs an NCCL build
};

// True when this build contains the NCCL backend (configured with PHASESWEEP_WITH_NCCL=ON/AUTO
// and NCCL found).
bool NcclBackendBuilt();

struct GroupOptions {
  int group_size = 1;  // G: ranks per data-parallel group; must divide the number of ranks
  Backend backend = Backend::kMpi;
  int device = -1;  // NCCL: CUDA device ordinal; -1 picks local_rank % visible devices
  // name is filled in ("group g (ranks a-b)") when empty; spin is chosen here: kSpinDedicated,
  // or kSpinOversubscribed when this host runs more ranks than it has cores.
  CommunicatorOptions communicator;
};

// Where this rank sits. All ranks are numbered in `world` (usually MPI_COMM_WORLD).
struct GroupLayout {
  int world_rank = 0;
  int world_size = 1;
  int local_rank = 0;  // among the ranks on this host
  int local_size = 1;
  int group_index = 0;  // which group: world_rank / group_size
  int group_count = 1;
  int group_rank = 0;  // rank inside the group; 0 is the group root
  int group_size = 1;
  int device = -1;  // CUDA device used by the NCCL backend; -1 for MPI
};

// Returns OK when `group_size` splits `world_size` ranks into whole groups, else
// InvalidArgument naming both numbers and the valid group sizes. Pure; no MPI.
Status CheckGroupSize(int group_size, int world_size);

// The group this rank belongs to. Move-only; destroys its communicator before the MPI handles.
struct ProcessGroup {
  GroupLayout layout;
  MpiCommHandle local;  // ranks on this host
  MpiCommHandle group;  // the ranks of this group (free for the caller's own messages)
  std::unique_ptr<Communicator> communicator;  // collectives over the group (private duplicate)
};

// Sets up this rank's group as described at the top of this file. Errors: InvalidArgument when
// G does not divide the number of ranks or the ranks disagree about G (every rank gets the same
// error); Unimplemented for kNccl in a build without NCCL; FailedPrecondition for NCCL with no
// CUDA device; Internal for MPI/NCCL/CUDA failures (with host, rank, file:line and the library's
// message). Blocks in MPI_Comm_split like any MPI set-up; the NCCL steps have deadlines.
Result<ProcessGroup> SetUpProcessGroup(MPI_Comm world, const GroupOptions& options);

}  // namespace phasesweep::collectives
