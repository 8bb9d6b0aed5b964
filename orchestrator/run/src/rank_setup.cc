// MPI session, rank and group set-up of `phasesweep run` (see rank_setup.h).
#include "phasesweep/orchestrator/rank_setup.h"

#include <cstdlib>
#include <string>

namespace phasesweep::orchestrator {

Status CheckMpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return Status::Ok();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  return Status::Internal(std::string(call) + " failed: " +
                          (length > 0 ? std::string(text, static_cast<size_t>(length))
                                      : "MPI error " + std::to_string(code)));
}

MpiSession::MpiSession() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) {
    status_ = Status::FailedPrecondition("MPI is already initialised: one MpiSession per process");
    return;
  }
  int provided = 0;
  status_ = CheckMpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
                     "MPI_Init_thread");
  initialised_here_ = status_.ok();
}

MpiSession::~MpiSession() {
  if (!initialised_here_) return;
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

Result<LaunchLayout> StartRank(MPI_Comm world) {
  LaunchLayout mpi;
  PHASESWEEP_RETURN_IF_ERROR(CheckMpi(MPI_Comm_rank(world, &mpi.rank), "MPI_Comm_rank"));
  PHASESWEEP_RETURN_IF_ERROR(CheckMpi(MPI_Comm_size(world, &mpi.size), "MPI_Comm_size"));
  MPI_Comm split = MPI_COMM_NULL;
  PHASESWEEP_RETURN_IF_ERROR(
      CheckMpi(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, mpi.rank, MPI_INFO_NULL, &split),
               "MPI_Comm_split_type"));
  const collectives::MpiCommHandle local(split);
  mpi.local_rank = local.rank();
  mpi.local_size = local.size();
  // Local rank (hence the device) and threads per rank: mpirun's, srun's or MPI's (launch.h).
  return DetectLaunch([](const char* name) { return std::getenv(name); }, mpi);
}

Result<RankGroup> SetUpRankGroup(MPI_Comm world, int group_size, bool on_cuda) {
  collectives::GroupOptions options;
  options.group_size = group_size;
  options.backend =
      group_size > 1 && on_cuda ? collectives::Backend::kNccl : collectives::Backend::kMpi;
  auto group = collectives::SetUpProcessGroup(world, options);
  if (!group.ok()) return group.status();
  RankGroup out{std::move(*group), {}};
  int world_rank = 0;
  PHASESWEEP_RETURN_IF_ERROR(CheckMpi(MPI_Comm_rank(world, &world_rank), "MPI_Comm_rank"));
  MPI_Comm roots = MPI_COMM_NULL;
  PHASESWEEP_RETURN_IF_ERROR(
      CheckMpi(MPI_Comm_split(world, out.rank() == 0 ? 0 : MPI_UNDEFINED, world_rank, &roots),
               "MPI_Comm_split"));
  out.roots = collectives::MpiCommHandle(roots);
  return Result<RankGroup>(std::move(out));
}

}  // namespace phasesweep::orchestrator
