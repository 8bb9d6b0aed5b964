// Launcher detection (see launch.h).
#include "phasesweep/orchestrator/launch.h"

#include <algorithm>
#include <cstdlib>

namespace phasesweep::orchestrator {
namespace {

// A non-negative integer variable, or -1 when unset or malformed. SLURM_TASKS_PER_NODE-style
// values ("2(x3),1") are not integers and give -1.
int IntVar(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0 || x > (1 << 30)) return -1;
  return static_cast<int>(x);
}

}  // namespace

LaunchLayout DetectLaunch(const std::function<const char*(const char*)>& getenv,
                          const LaunchLayout& mpi) {
  LaunchLayout out = mpi;
  out.launcher = "mpi";
  struct Names {
    const char *launcher, *rank, *size, *local_rank, *local_size;
  };
  const Names sources[] = {
      {"mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
       "OMPI_COMM_WORLD_LOCAL_SIZE"},
      {"srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
  };
  for (const Names& n : sources) {
    const int rank = IntVar(getenv, n.rank), size = IntVar(getenv, n.size);
    // Variables of another world (e.g. a singleton `run` in an sbatch shell that has
    // SLURM_NTASKS=8) do not describe this process.
    if (rank < 0 || size <= rank || size != mpi.size) continue;
    out.launcher = n.launcher;
    out.rank = rank;
    out.size = size;
    const int local_rank = IntVar(getenv, n.local_rank);
    const int local_size = IntVar(getenv, n.local_size);
    if (local_rank >= 0) out.local_rank = local_rank;
    if (local_size > out.local_rank) out.local_size = local_size;
    break;
  }
  out.cpus_per_task = std::max(0, IntVar(getenv, "SLURM_CPUS_PER_TASK"));
  return out;
}

int64_t ThreadsPerRank(const LaunchLayout& layout, int64_t cores) {
  if (layout.cpus_per_task > 0) return layout.cpus_per_task;
  return std::max<int64_t>(1, std::max<int64_t>(1, cores) / std::max(1, layout.local_size));
}

}  // namespace phasesweep::orchestrator
