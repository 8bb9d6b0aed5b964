// Where this process sits in the job, from the launcher's environment, in one place: Open MPI's
// mpirun (OMPI_COMM_WORLD_*), Slurm's srun (SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS, ...) or,
// when neither is present, what MPI itself says (MPI_COMM_WORLD and its shared-memory split).
// The device of a rank follows from its local rank (worker::ResolveDevice: cuda:<local rank %
// visible GPUs>), which is why Slurm scripts must not isolate GPUs per task: every rank must see
// every GPU of its node (and NCCL then keeps its peer-to-peer paths).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace phasesweep::orchestrator {

struct LaunchLayout {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  int local_size = 1;
  int cpus_per_task = 0;  // SLURM_CPUS_PER_TASK (srun --cpus-per-task); 0 = not given
  std::string launcher;   // "mpirun", "srun" or "mpi" (neither variable set)
};

// Reads the launcher variables through `getenv` (returns nullptr when unset). Values missing or
// malformed in the environment are taken from `mpi` (what MPI_COMM_WORLD says); a launcher whose
// world size differs from MPI's is ignored (a singleton run inside an sbatch shell). Open MPI's
// variables win over Slurm's: under mpirun inside an allocation both are set and mpirun's are
// this process's.
LaunchLayout DetectLaunch(const std::function<const char*(const char*)>& getenv,
                          const LaunchLayout& mpi);

// Intra-op threads per rank: --cpus-per-task when Slurm gave it, else the node's cores shared by
// its ranks; at least 1.
int64_t ThreadsPerRank(const LaunchLayout& layout, int64_t cores);

}  // namespace phasesweep::orchestrator
