// Collectives over lists of LibTorch tensors, on top of any Communicator: the tensors are packed
// into flat buckets of at most `bucket_bytes`, one collective per bucket, and unpacked in place.
// A tensor may straddle bucket boundaries. Tensors must be float32 or float64, defined, and live
// where the communicator expects them: CPU for the MPI backend, one CUDA device for NCCL (which
// needs a CUDA LibTorch). Anything else is InvalidArgument, checked before any communication.
//
// Every rank must pass tensors of the same dtypes and sizes in the same order (VerifySameShapes
// checks this once at start); the values may differ.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/collectives/communicator.h"

namespace phasesweep::collectives {

// Default bucket sizes. Device memory (NCCL): DDP's 25 MiB, large enough that per-collective
// costs disappear. Host memory (MPI): 1 MiB, so that packing, reducing and unpacking a bucket
// stay in cache — the bucket-size sweep in bench/README.md ("Collectives") is fastest there.
inline constexpr size_t kDefaultBucketBytes = size_t{25} << 20;
inline constexpr size_t kDefaultHostBucketBytes = size_t{1} << 20;

// kDefaultHostBucketBytes for host-memory communicators, kDefaultBucketBytes for device memory.
inline size_t DefaultBucketBytes(const Communicator& comm) {
  return comm.memory_space() == MemorySpace::kHost ? kDefaultHostBucketBytes : kDefaultBucketBytes;
}

// Staging buffers kept between calls: allocating a large bucket anew each time costs a page
// fault per 4 KiB (on the benchmark machine, more than the copies themselves). One per
// synchronizer; not thread-safe.
class BucketWorkspace {
 public:
  // A contiguous buffer of `numel` elements with `like`'s dtype and device, reusing memory.
  torch::Tensor Get(int64_t numel, const torch::Tensor& like);

 private:
  std::vector<torch::Tensor> buffers_;
};

// In-place allreduce of every tensor (sum, or sum / size for kAverage). A bucket holds
// max(1, bucket_bytes / element size) elements of one dtype. `workspace` (optional) keeps the
// staging memory for the next call.
Status AllreduceTensors(Communicator& comm, std::vector<torch::Tensor>& tensors, ReduceOp op,
                        size_t bucket_bytes = kDefaultBucketBytes,
                        BucketWorkspace* workspace = nullptr);

// Overwrites every tensor with group rank `root`'s values. Works on leaf parameters that require
// grad (the copy is made without autograd recording).
Status BroadcastTensors(Communicator& comm, std::vector<torch::Tensor>& tensors, int root,
                        size_t bucket_bytes = kDefaultBucketBytes,
                        BucketWorkspace* workspace = nullptr);

// Stable 64-bit checksum of the dtypes and shapes (not the values) of `tensors`, in order.
uint64_t ShapeChecksum(const std::vector<torch::Tensor>& tensors);

// Compares ShapeChecksum and the tensor count across the group (one small allreduce). Returns
// FailedPrecondition naming every rank whose tensors differ from the group root's, e.g.
// "parameter shapes differ across group 0 (ranks 0-1): rank 1 has 3 tensors, checksum ..., group
// root rank 0 has 2, checksum ...; every rank of a group must build the same model".
// `what` names the tensors in the message ("parameter", "gradient").
Status VerifySameShapes(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                        const std::string& what = "parameter");

}  // namespace phasesweep::collectives
