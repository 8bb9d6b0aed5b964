// PlanBuckets: cutting tensors laid end to end into fixed-size buckets.
#include "bucket_plan.h"

#include <algorithm>

namespace phasesweep::collectives::internal {

std::vector<Bucket> PlanBuckets(const std::vector<TensorExtent>& tensors, size_t bucket_bytes) {
  std::vector<int> keys;
  for (const TensorExtent& t : tensors) {
    if (std::find(keys.begin(), keys.end(), t.type_key) == keys.end()) keys.push_back(t.type_key);
  }
  std::vector<Bucket> buckets;
  for (int key : keys) {
    Bucket current;
    current.type_key = key;
    int64_t capacity = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const TensorExtent& t = tensors[i];
      if (t.type_key != key) continue;
      capacity = std::max<int64_t>(
          1, static_cast<int64_t>(bucket_bytes / std::max<size_t>(1, t.element_bytes)));
      for (int64_t offset = 0; offset < t.numel;) {
        const int64_t length = std::min(t.numel - offset, capacity - current.numel);
        current.slices.push_back({i, offset, length, current.numel});
        current.numel += length;
        offset += length;
        if (current.numel == capacity) {
          buckets.push_back(std::move(current));
          current = Bucket();
          current.type_key = key;
        }
      }
    }
    if (current.numel > 0) buckets.push_back(std::move(current));
  }
  return buckets;
}

}  // namespace phasesweep::collectives::internal
