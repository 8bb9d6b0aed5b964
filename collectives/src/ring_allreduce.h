// Ring allreduce (sum or mean) over non-blocking point-to-point messages: the MPI backend's data
// phase. Why not MPI_Iallreduce: Open MPI's non-blocking collectives (libnbc) are far slower than
// its blocking ones here — on 2 ranks, ~50 us instead of ~3 us for 4 KiB, and for in-place buffers
// on fewer than four ranks a binomial reduce-then-broadcast (two full transfers in sequence) at
// bucket sizes (bench/README.md, "Collectives"). A ring (reduce-scatter, then allgather) moves
// 2(p-1)/p of the buffer per rank like the blocking allreduce does, and each step is polled with
// MPI_Test against the deadline. Every chunk is summed in one fixed order along the ring and then
// copied, so all ranks end with bit-identical values. Latency grows with 2(p-1) steps, which is
// fine for data-parallel groups of a few ranks. Internal to collectives/.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <functional>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/collectives/communicator.h"

namespace phasesweep::collectives::internal {

// Completes `n` requests or returns a non-OK Status (deadline, MPI error).
using WaitForRequests = std::function<Status(MPI_Request* requests, int n)>;

// In-place sum of `count` elements (float32 or float64, count < 2^31 * size) over the ranks of
// `comm`, divided by `divisor` when it is not 1 (each rank divides only the chunk it finishes,
// in the same pass as the last addition, so the mean costs no extra sweep). Uses messages with
// tag `tag`; `scratch` is reused between calls. On failure the pending receive is cancelled and
// the pending send released; the communicator must not be used again (the caller aborts).
Status RingAllreduce(void* data, size_t count, DataType type, int divisor, MPI_Comm comm, int rank,
                     int size, int tag, std::vector<char>& scratch, const WaitForRequests& wait);

// target[i] = target[i] + source[i] for n float32 or float64 values, then / divisor unless it is 1
// (rounded twice, exactly like an addition followed by a division). The sum is commutative, so
// two partners that add each other's values get the same bits.
void ReduceInto(char* target, const char* source, size_t n, DataType type, int divisor);

// data[i] /= divisor for n float32 or float64 values.
void DivideBy(void* data, size_t n, DataType type, int divisor);

}  // namespace phasesweep::collectives::internal
