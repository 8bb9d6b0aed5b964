// Synthetic tasks: modular arithmetic, sparse parity, in-context copy — the data a pack trains on.
//
// Every example is a sequence of `seq_len` integer tokens whose label is read at the LAST position
// (the "=" token of modular arithmetic, the last bit of sparse parity, the query token of
// in-context copy). Each member's data — its examples and its train/test split — is a pure
// function of (TaskSpec, member seed) (see rng.h), so members of one pack have different splits
// and a member's data never depends on the pack it ran in.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/task.h"
#include "phasesweep/worker/spec.h"

namespace phasesweep::worker {

// The shape of a task's data and the task section's rules are spec/'s (spec/task.h): the
// config validation sizes batches with the same arithmetic.
using spec::DescribeTask;
using spec::IsPrime;
using spec::TaskInfo;

// One member's data on the CPU. tokens int64 [n, seq_len], labels int64 [n].
struct MemberData {
  torch::Tensor train_tokens, train_labels, test_tokens, test_labels;
};

// Generates one member's data. With task.random_labels the TRAINING labels are a seeded
// permutation of the true ones (test labels stay true, so test accuracy shows chance).
// `task` must be valid (DescribeTask ok).
MemberData MakeMemberData(const TaskSpec& task, uint64_t seed);

// The data of all K members, stacked on the leading member dimension and placed on `device`:
// tokens int64 [K, n, seq_len], labels int64 [K, n].
struct PackData {
  TaskInfo info;
  torch::Tensor train_tokens, train_labels, test_tokens, test_labels;
};

// Validates the task and builds the pack's data; seeds[k] is member k's job seed.
Result<PackData> MakePackData(const TaskSpec& task, const std::vector<uint64_t>& seeds,
                              torch::Device device);

}  // namespace phasesweep::worker
