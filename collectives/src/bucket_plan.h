// How a list of tensors is cut into flat buckets for one collective each. Pure arithmetic on
// sizes (no LibTorch), so every rank computes the same plan from the same shapes, and the plan
// can be tested on its own. Internal to collectives/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace phasesweep::collectives::internal {

struct TensorExtent {
  int type_key = 0;  // tensors with equal keys share buckets (the dtype)
  int64_t numel = 0;
  size_t element_bytes = 4;
};

// `length` elements of tensor `tensor`, from element `offset` of its flattened view, sit at
// `bucket_offset` in the bucket.
struct BucketSlice {
  size_t tensor = 0;
  int64_t offset = 0;
  int64_t length = 0;
  int64_t bucket_offset = 0;
};

struct Bucket {
  int type_key = 0;
  int64_t numel = 0;
  std::vector<BucketSlice> slices;
};

// Buckets for each type key in order of first appearance; within one key the tensors are laid
// end to end in list order and cut every max(1, bucket_bytes / element_bytes) elements, so a
// tensor may span several buckets and a bucket may hold many tensors. Empty tensors get no slice.
// Every element of every tensor appears in exactly one slice.
std::vector<Bucket> PlanBuckets(const std::vector<TensorExtent>& tensors, size_t bucket_bytes);

}  // namespace phasesweep::collectives::internal
