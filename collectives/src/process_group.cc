// SetUpProcessGroup: local rank, groups of G consecutive ranks, and the group's communicator, in
// the fixed order described in process_group.h.
#include "phasesweep/collectives/process_group.h"

#include <thread>
#include <utility>

#include "check.h"
#include "phasesweep/collectives/mpi_communicator.h"
#if PHASESWEEP_HAVE_NCCL
#include "nccl_device.h"
#include "phasesweep/collectives/nccl_communicator.h"
#endif

namespace phasesweep::collectives {

bool NcclBackendBuilt() {
#if PHASESWEEP_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

Status CheckGroupSize(int group_size, int world_size) {
  if (group_size >= 1 && world_size >= 1 && world_size % group_size == 0) return Status::Ok();
  std::string valid;
  for (int g = 1; g <= world_size; ++g) {
    if (world_size % g != 0) continue;
    if (!valid.empty()) valid += ", ";
    valid += std::to_string(g);
  }
  return Status::InvalidArgument("data-parallel group size " + std::to_string(group_size) +
                                 " does not divide the " + std::to_string(world_size) +
                                 " ranks into whole groups; valid group sizes for " +
                                 std::to_string(world_size) + " ranks: " + valid);
}

Result<ProcessGroup> SetUpProcessGroup(MPI_Comm world, const GroupOptions& options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    return Status::FailedPrecondition(
        "MPI is not initialised: call MPI_Init before setting up "
        "process groups");
  }
  if (options.backend == Backend::kNccl && !NcclBackendBuilt()) {
    return Status::Unimplemented(
        "the NCCL backend is not in this build; configure with -DPHASESWEEP_WITH_NCCL=ON "
        "(needs the CUDA toolkit and NCCL) or use the MPI backend");
  }
  // A private copy of `world` that reports errors instead of ending the process.
  auto world_copy = MpiCommHandle::Duplicate(world);
  if (!world_copy.ok()) return world_copy.status();
  ProcessGroup pg;
  GroupLayout& layout = pg.layout;
  layout.world_rank = world_copy->rank();
  layout.world_size = world_copy->size();
  PHASESWEEP_RETURN_IF_ERROR(CheckGroupSize(options.group_size, layout.world_size));

  // Every rank must use the same G, or the splits below would not line up.
  int extremes[2] = {options.group_size, -options.group_size};
  PHASESWEEP_MPI_CHECK(
      MPI_Allreduce(MPI_IN_PLACE, extremes, 2, MPI_INT, MPI_MAX, world_copy->get()));
  if (extremes[0] != -extremes[1]) {
    return Status::InvalidArgument(
        "ranks disagree about the data-parallel group size: from " + std::to_string(-extremes[1]) +
        " to " + std::to_string(extremes[0]) + "; every rank must be given the same value");
  }

  MPI_Comm local = MPI_COMM_NULL;
  PHASESWEEP_MPI_CHECK(MPI_Comm_split_type(world_copy->get(), MPI_COMM_TYPE_SHARED,
                                           layout.world_rank, MPI_INFO_NULL, &local));
  pg.local = MpiCommHandle(local);
  layout.local_rank = pg.local.rank();
  layout.local_size = pg.local.size();

  const int g = options.group_size;
  layout.group_size = g;
  layout.group_index = layout.world_rank / g;
  layout.group_count = layout.world_size / g;
  MPI_Comm group = MPI_COMM_NULL;
  PHASESWEEP_MPI_CHECK(
      MPI_Comm_split(world_copy->get(), layout.group_index, layout.world_rank, &group));
  pg.group = MpiCommHandle(group);
  layout.group_rank = pg.group.rank();

  CommunicatorOptions comm_options = options.communicator;
  // Oversubscribed hosts (more ranks than cores) need waiting ranks to yield early.
  const unsigned cores = std::thread::hardware_concurrency();
  comm_options.spin = cores > 0 && static_cast<unsigned>(layout.local_size) > cores
                          ? kSpinOversubscribed
                          : kSpinDedicated;
  if (comm_options.name.empty()) {
    const int first = layout.group_index * g;
    comm_options.name = "group " + std::to_string(layout.group_index) + " (ranks " +
                        std::to_string(first) + "-" + std::to_string(first + g - 1) + ")";
  }
  auto mpi = MpiCommunicator::Create(pg.group.get(), comm_options);
  if (!mpi.ok()) return mpi.status();
  if (options.backend == Backend::kMpi) {
    pg.communicator = std::move(mpi).value();
    return Result<ProcessGroup>(std::move(pg));
  }
#if PHASESWEEP_HAVE_NCCL
  auto device = internal::SelectDevice(options.device, layout.local_rank);
  // Every rank of the group learns whether every other found a device, so none waits for a
  // peer that already gave up.
  float have_device = device.ok() ? 1.0f : 0.0f;
  PHASESWEEP_RETURN_IF_ERROR((*mpi)->Allreduce(&have_device, 1, ReduceOp::kSum));
  if (!device.ok()) return device.status();
  if (have_device < static_cast<float>(g)) {
    return Status::FailedPrecondition("NCCL set-up for " + comm_options.name +
                                      ": another rank of the group found no usable CUDA device");
  }
  layout.device = *device;
  auto nccl = NcclCommunicator::Create(**mpi, *device, comm_options);
  if (!nccl.ok()) return nccl.status();
  pg.communicator = std::move(nccl).value();
  return Result<ProcessGroup>(std::move(pg));
#else
  return Status::Unimplemented("the NCCL backend is not in this build");
#endif
}

}  // namespace phasesweep::collectives
