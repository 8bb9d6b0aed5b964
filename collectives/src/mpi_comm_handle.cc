// MpiCommHandle: the owning MPI_Comm handle.
#include "phasesweep/collectives/mpi_comm_handle.h"

#include "check.h"

namespace phasesweep::collectives {

Result<MpiCommHandle> MpiCommHandle::Duplicate(MPI_Comm comm) {
  MPI_Comm copy = MPI_COMM_NULL;
  PHASESWEEP_MPI_CHECK(MPI_Comm_dup(comm, &copy));
  MpiCommHandle owned(copy);
  PHASESWEEP_MPI_CHECK(MPI_Comm_set_errhandler(copy, MPI_ERRORS_RETURN));
  return owned;
}

int MpiCommHandle::rank() const {
  int r = -1;
  if (valid() && MPI_Comm_rank(comm_, &r) != MPI_SUCCESS) r = -1;
  return r;
}

int MpiCommHandle::size() const {
  int s = -1;
  if (valid() && MPI_Comm_size(comm_, &s) != MPI_SUCCESS) s = -1;
  return s;
}

void MpiCommHandle::Reset() noexcept {
  if (comm_ == MPI_COMM_NULL) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  // After MPI_Finalize no MPI call is allowed; the handle dies with the library.
  if (!finalized && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_SELF) MPI_Comm_free(&comm_);
  comm_ = MPI_COMM_NULL;
}

}  // namespace phasesweep::collectives
