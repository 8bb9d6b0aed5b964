// End-to-end check that a collective never hangs: rank 1 never joins (it sleeps 120 s), rank 0's
// allreduce must time out after 2 s, print one line naming rank 1, and Abort() must end the whole
// job — including the sleeping rank — long before 120 s. Run by ctest (collectives_abort_np2)
// under mpirun -np 2; the test passes when the expected line appears and mpirun returns in time.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "phasesweep/collectives/mpi_communicator.h"

using phasesweep::collectives::CommunicatorOptions;
using phasesweep::collectives::MpiCommunicator;
using phasesweep::collectives::ReduceOp;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  CommunicatorOptions options;
  options.timeout = std::chrono::seconds(2);
  options.name = "abort-check group";
  auto comm = MpiCommunicator::Create(MPI_COMM_WORLD, options);
  if (!comm.ok()) {
    std::fprintf(stderr, "set-up failed: %s\n", comm.status().message().c_str());
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  if (rank == 1) {
    std::this_thread::sleep_for(std::chrono::seconds(120));  // never joins the allreduce
    MPI_Finalize();
    return 0;
  }
  float x = 1.0f;
  const auto status = (*comm)->Allreduce(&x, 1, ReduceOp::kSum);
  if (status.ok()) {
    std::fprintf(stderr, "unexpected: the allreduce succeeded without rank 1\n");
    MPI_Abort(MPI_COMM_WORLD, 4);
  }
  (*comm)->Abort(status);  // prints "phasesweep: error: ..." and ends every rank
}
