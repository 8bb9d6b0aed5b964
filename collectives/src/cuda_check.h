// Checked calls into the CUDA runtime and NCCL, the twins of PHASESWEEP_MPI_CHECK (check.h): on
// failure the enclosing function returns an Internal Status naming the call, the library's error
// name and string, the host, the world rank and file:line. Never exits. Internal to collectives/;
// NCCL builds only.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include "check.h"

namespace phasesweep::collectives::internal {

Status CudaError(cudaError_t code, const char* call, const char* file, int line);
Status NcclError(ncclResult_t code, const char* call, const char* file, int line);

}  // namespace phasesweep::collectives::internal

#define PHASESWEEP_CUDA_CHECK(call)                                                       \
  do {                                                                                    \
    cudaError_t _ps_cuda_rc = (call);                                                     \
    if (_ps_cuda_rc != cudaSuccess)                                                       \
      return ::phasesweep::collectives::internal::CudaError(_ps_cuda_rc, #call, __FILE__, \
                                                            __LINE__);                    \
  } while (0)

// ncclInProgress counts as success: on a non-blocking communicator it means "queued", and the
// caller then polls ncclCommGetAsyncError.
#define PHASESWEEP_NCCL_CHECK(call)                                                       \
  do {                                                                                    \
    ncclResult_t _ps_nccl_rc = (call);                                                    \
    if (_ps_nccl_rc != ncclSuccess && _ps_nccl_rc != ncclInProgress)                      \
      return ::phasesweep::collectives::internal::NcclError(_ps_nccl_rc, #call, __FILE__, \
                                                            __LINE__);                    \
  } while (0)
