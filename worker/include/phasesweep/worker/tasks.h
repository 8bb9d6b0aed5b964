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
#include "phasesweep/worker/spec.h"

namespace phasesweep::worker {

// Shape of a task's data, known without generating it (config validation uses it).
struct TaskInfo {
  int64_t vocab = 0;      // input tokens are in [0, vocab)
  int64_t seq_len = 0;    // tokens per example
  int64_t n_classes = 0;  // labels are in [0, n_classes)
  int64_t n_train = 0;    // training examples per member
  int64_t n_test = 0;     // test examples per member
};

// Validates `task` and returns its shape. Errors name the config key (task.p, task.k, ...), the
// value found and what is valid: unknown task or op, p < 2, op div with p not prime, k > n_bits,
// a train_fraction that leaves no training or no test example, ...
Result<TaskInfo> DescribeTask(const TaskSpec& task);

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

// True when p is prime (trial division; p is at most a few thousand here).
bool IsPrime(int64_t p);

}  // namespace phasesweep::worker
