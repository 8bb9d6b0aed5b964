// Checked calls into MPI: PHASESWEEP_MPI_CHECK(call) returns (from the enclosing function, which
// returns Status or Result<T>) an Internal Status naming the call, the library's own error string,
// the host, the world rank and file:line. Never exits. Internal to collectives/.
#pragma once

#include <mpi.h>

#include <string>

#include "phasesweep/base/status.h"

namespace phasesweep::collectives::internal {

// "host <name>, rank <world rank>, <file relative to the repo>:<line>". The rank is "?" when MPI
// is not initialised (or already finalised).
std::string CallSite(const char* file, int line);

// Status for a failed MPI call: "<call> failed: <MPI error string> (<CallSite>)".
Status MpiError(int code, const char* call, const char* file, int line);

}  // namespace phasesweep::collectives::internal

#define PHASESWEEP_MPI_CHECK(call)                                                                 \
  do {                                                                                             \
    int _ps_mpi_rc = (call);                                                                       \
    if (_ps_mpi_rc != MPI_SUCCESS)                                                                 \
      return ::phasesweep::collectives::internal::MpiError(_ps_mpi_rc, #call, __FILE__, __LINE__); \
  } while (0)
