// Data-parallel training inside a group: what a training loop calls so that G ranks, each on its
// share of the global batch, follow the trajectory one rank would follow on the whole batch.
//
//   auto shard = SplitGlobalBatch(global_batch, comm.rank(), comm.size());   // once per step
//   GradientSynchronizer sync(comm);                                         // once
//   sync.VerifyParameters(model->parameters());    // at start: same shapes on every rank
//   sync.BroadcastFromRoot(params);                // at start and after resume
//   loss = shard->mean_loss_scale * loss_on(rows shard->begin .. shard->end); loss.backward();
//   sync.AllreduceAverageGradients(model->parameters());  // then optimizer.step()
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/tensor_collectives.h"

namespace phasesweep::collectives {

// This rank's contiguous part [begin, end) of a global batch of `global_size` rows.
struct BatchShard {
  int64_t begin = 0;
  int64_t end = 0;
  // Multiply this rank's mean loss (mean over its own rows) by this factor so that averaging
  // the gradients over the group gives exactly the gradient of the mean loss over the global
  // batch: count * group_size / global_size (1.0 when the batch divides evenly).
  double mean_loss_scale = 1.0;
  int64_t count() const { return end - begin; }
};

// Splits rows 0 .. global_size-1 over `group_size` ranks deterministically: consecutive ranges,
// the first global_size % group_size ranks get one row more. InvalidArgument when
// group_size < 1, group_rank is outside [0, group_size) or global_size < group_size (a rank
// would get no rows).
Result<BatchShard> SplitGlobalBatch(int64_t global_size, int group_rank, int group_size);

class GradientSynchronizer {
 public:
  // `comm` must outlive this object. Buckets of DefaultBucketBytes(comm), or of `bucket_bytes`
  // (see AllreduceTensors).
  explicit GradientSynchronizer(Communicator& comm)
      : GradientSynchronizer(comm, DefaultBucketBytes(comm)) {}
  GradientSynchronizer(Communicator& comm, size_t bucket_bytes)
      : comm_(comm), bucket_bytes_(bucket_bytes) {}

  Communicator& communicator() const { return comm_; }
  size_t bucket_bytes() const { return bucket_bytes_; }

  // VerifySameShapes over `params`: call once before training.
  Status VerifyParameters(const std::vector<torch::Tensor>& params) const {
    return VerifySameShapes(comm_, params, "parameter");
  }

  // Replaces every gradient by its mean over the group, in place. All must be defined.
  Status AllreduceAverage(std::vector<torch::Tensor>& grads);

  // The same for the .grad() of each parameter. A parameter without a gradient (unused in this
  // step) gets zeros first, so that every rank packs the same buckets.
  Status AllreduceAverageGradients(const std::vector<torch::Tensor>& params);

  // Overwrites every parameter (or buffer) with the group root's values: at start, so that every
  // rank starts from the same weights, and after resuming from a checkpoint.
  Status BroadcastFromRoot(std::vector<torch::Tensor>& params);

 private:
  Communicator& comm_;
  size_t bucket_bytes_;
  BucketWorkspace workspace_;  // staging memory reused by every call
};

}  // namespace phasesweep::collectives
