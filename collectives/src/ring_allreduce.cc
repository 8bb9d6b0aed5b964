// RingAllreduce: reduce-scatter then allgather around the ring of ranks.
#include "ring_allreduce.h"

#include "check.h"

namespace phasesweep::collectives::internal {
namespace {

// __restrict lets GCC vectorise these loops at -O2 (no run-time overlap check needed).
template <typename T>
void AddInto(T* __restrict target, const T* __restrict source, size_t n) {
  for (size_t i = 0; i < n; ++i) target[i] += source[i];
}

// (target + source) / divisor: rounded twice, exactly like an addition followed by a division.
template <typename T>
void AddIntoAndDivide(T* __restrict target, const T* __restrict source, size_t n, T divisor) {
  for (size_t i = 0; i < n; ++i) target[i] = (target[i] + source[i]) / divisor;
}

template <typename T>
void Reduce(char* target, const char* source, size_t n, int divisor) {
  T* t = reinterpret_cast<T*>(target);
  const T* s = reinterpret_cast<const T*>(source);
  if (divisor != 1) {
    AddIntoAndDivide(t, s, n, static_cast<T>(divisor));
  } else {
    AddInto(t, s, n);
  }
}

template <typename T>
void Divide(T* __restrict data, size_t n, T divisor) {
  for (size_t i = 0; i < n; ++i) data[i] /= divisor;
}

}  // namespace

void DivideBy(void* data, size_t n, DataType type, int divisor) {
  if (type == DataType::kFloat64) {
    Divide(static_cast<double*>(data), n, static_cast<double>(divisor));
  } else {
    Divide(static_cast<float*>(data), n, static_cast<float>(divisor));
  }
}

void ReduceInto(char* target, const char* source, size_t n, DataType type, int divisor) {
  if (type == DataType::kFloat64) {
    Reduce<double>(target, source, n, divisor);
  } else {
    Reduce<float>(target, source, n, divisor);
  }
}

Status RingAllreduce(void* data, size_t count, DataType type, int divisor, MPI_Comm comm, int rank,
                     int size, int tag, std::vector<char>& scratch, const WaitForRequests& wait) {
  if (size == 1 || count == 0) return Status::Ok();
  const size_t element = DataTypeSize(type);
  const MPI_Datatype mpi_type = type == DataType::kFloat64 ? MPI_DOUBLE : MPI_FLOAT;
  char* bytes = static_cast<char*>(data);
  const auto p = static_cast<size_t>(size);
  // Chunk c covers elements [begin(c), begin(c + 1)).
  auto begin = [&](size_t c) { return count / p * c + std::min(c, count % p); };
  auto length = [&](size_t c) { return begin(c + 1) - begin(c); };
  scratch.resize(length(0) * element);  // chunk 0 is the largest
  const int right = (rank + 1) % size;
  const int left = (rank + size - 1) % size;

  // Step: send chunk `send` to the right, receive chunk `receive` from the left into `into`.
  auto step = [&](size_t send, size_t receive, char* into) -> Status {
    MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    PHASESWEEP_MPI_CHECK(MPI_Irecv(into, static_cast<int>(length(receive)), mpi_type, left, tag,
                                   comm, &requests[0]));
    PHASESWEEP_MPI_CHECK(MPI_Isend(bytes + begin(send) * element, static_cast<int>(length(send)),
                                   mpi_type, right, tag, comm, &requests[1]));
    const Status done = wait(requests, 2);
    if (!done.ok()) {
      if (requests[0] != MPI_REQUEST_NULL) {
        MPI_Cancel(&requests[0]);
        MPI_Wait(&requests[0], MPI_STATUS_IGNORE);
      }
      if (requests[1] != MPI_REQUEST_NULL) MPI_Request_free(&requests[1]);
    }
    return done;
  };

  // Reduce-scatter: after p-1 steps this rank holds the full sum of chunk (rank + 1) mod p.
  for (size_t s = 0; s + 1 < p; ++s) {
    const size_t send = (rank + p - s) % p;
    const size_t receive = (rank + 2 * p - s - 1) % p;
    PHASESWEEP_RETURN_IF_ERROR(step(send, receive, scratch.data()));
    char* target = bytes + begin(receive) * element;
    const bool last = s + 2 == p;  // this rank's own chunk is now complete
    ReduceInto(target, scratch.data(), length(receive), type, last ? divisor : 1);
  }
  // Allgather: pass the finished chunks around the ring.
  for (size_t s = 0; s + 1 < p; ++s) {
    const size_t send = (rank + 1 + p - s) % p;
    const size_t receive = (rank + p - s) % p;
    PHASESWEEP_RETURN_IF_ERROR(step(send, receive, bytes + begin(receive) * element));
  }
  return Status::Ok();
}

}  // namespace phasesweep::collectives::internal
