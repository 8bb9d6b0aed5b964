// MpiCommHandle: owner of one MPI communicator handle (the RAII wrapper around MPI_Comm; the
// Communicator backend over MPI is MpiCommunicator, mpi_communicator.h). Move-only; frees the
// handle with MPI_Comm_free in its destructor (skipped after MPI_Finalize, when freeing is no
// longer allowed). Never owns MPI_COMM_WORLD, MPI_COMM_SELF or MPI_COMM_NULL.
#pragma once

#include <mpi.h>

#include "phasesweep/base/status.h"

namespace phasesweep::collectives {

class MpiCommHandle {
 public:
  MpiCommHandle() = default;
  // Takes ownership of `comm`, a communicator created by MPI_Comm_dup/split/split_type/create.
  explicit MpiCommHandle(MPI_Comm comm) : comm_(comm) {}
  ~MpiCommHandle() { Reset(); }

  MpiCommHandle(MpiCommHandle&& other) noexcept : comm_(other.Release()) {}
  MpiCommHandle& operator=(MpiCommHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      comm_ = other.Release();
    }
    return *this;
  }
  MpiCommHandle(const MpiCommHandle&) = delete;
  MpiCommHandle& operator=(const MpiCommHandle&) = delete;

  // Duplicates `comm` (a collective call over `comm`) and sets MPI_ERRORS_RETURN on the copy, so
  // that failures come back as error codes (and then as a Status) instead of ending the process.
  static Result<MpiCommHandle> Duplicate(MPI_Comm comm);

  MPI_Comm get() const { return comm_; }
  bool valid() const { return comm_ != MPI_COMM_NULL; }
  // Rank and size in this communicator; -1 when it is null.
  int rank() const;
  int size() const;

  // Gives up ownership and returns the handle; this object becomes null.
  MPI_Comm Release() noexcept {
    MPI_Comm c = comm_;
    comm_ = MPI_COMM_NULL;
    return c;
  }
  // Frees the handle now (no-throw); this object becomes null.
  void Reset() noexcept;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace phasesweep::collectives
