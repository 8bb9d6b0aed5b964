// The backend-independent parts of Communicator: names for messages and the job-wide abort.
#include "phasesweep/collectives/communicator.h"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace phasesweep::collectives {

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kFloat64:
      return "float64";
    case DataType::kByte:
      return "byte";
  }
  return "?";
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return 4;
    case DataType::kFloat64:
      return 8;
    case DataType::kByte:
      return 1;
  }
  return 1;
}

Communicator::Communicator(std::string name, std::vector<int> world_ranks)
    : name_(name.empty() ? std::string("group") : std::move(name)),
      world_ranks_(std::move(world_ranks)) {}

std::string Communicator::DescribeRank(int group_rank) const {
  const int world = world_rank(group_rank);
  if (world == group_rank) return "rank " + std::to_string(world);
  return "rank " + std::to_string(world) + " (group rank " + std::to_string(group_rank) + ")";
}

void Communicator::Abort(const Status& why) {
  std::fprintf(stderr, "phasesweep: error: %s\n", why.message().c_str());
  std::fflush(stderr);
  AbortBackend();
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, why.ok() ? 1 : why.ExitCode());
  std::abort();  // MPI_Abort does not return; this covers a run without MPI
}

}  // namespace phasesweep::collectives
