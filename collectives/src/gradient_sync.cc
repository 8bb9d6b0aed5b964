// GradientSynchronizer and the deterministic split of a global batch over a group.
#include "phasesweep/collectives/gradient_sync.h"

#include <string>

namespace phasesweep::collectives {

Result<BatchShard> SplitGlobalBatch(int64_t global_size, int group_rank, int group_size) {
  if (group_size < 1) {
    return Status::InvalidArgument("group size " + std::to_string(group_size) +
                                   " must be at least 1");
  }
  if (group_rank < 0 || group_rank >= group_size) {
    return Status::InvalidArgument("group rank " + std::to_string(group_rank) + " is outside 0.." +
                                   std::to_string(group_size - 1));
  }
  if (global_size < group_size) {
    return Status::InvalidArgument("global batch of " + std::to_string(global_size) +
                                   " rows cannot be split over " + std::to_string(group_size) +
                                   " ranks; the global batch must be at least the group size");
  }
  const int64_t base = global_size / group_size;
  const int64_t extra = global_size % group_size;
  BatchShard shard;
  shard.begin = group_rank * base + std::min<int64_t>(group_rank, extra);
  shard.end = shard.begin + base + (group_rank < extra ? 1 : 0);
  shard.mean_loss_scale =
      static_cast<double>(shard.count()) * group_size / static_cast<double>(global_size);
  return shard;
}

Status GradientSynchronizer::AllreduceAverage(std::vector<torch::Tensor>& grads) {
  return AllreduceTensors(comm_, grads, ReduceOp::kAverage, bucket_bytes_, &workspace_);
}

Status GradientSynchronizer::AllreduceAverageGradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const torch::Tensor& p : params) {
    if (!p.requires_grad()) continue;  // frozen on every rank alike
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  return AllreduceTensors(comm_, grads, ReduceOp::kAverage, bucket_bytes_, &workspace_);
}

Status GradientSynchronizer::BroadcastFromRoot(std::vector<torch::Tensor>& params) {
  return BroadcastTensors(comm_, params, 0, bucket_bytes_, &workspace_);
}

}  // namespace phasesweep::collectives
