// The task section's arithmetic: the shape of a synthetic task's data, known without generating
// it (the worker generates it, worker/tasks.h; config validation sizes batches with it).
#pragma once

#include <cstdint>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/sections.h"

namespace phasesweep::spec {

// Shape of a task's data.
struct TaskInfo {
  int64_t vocab = 0;      // input tokens are in [0, vocab)
  int64_t seq_len = 0;    // tokens per example
  int64_t n_classes = 0;  // labels are in [0, n_classes)
  int64_t n_train = 0;    // training examples per member
  int64_t n_test = 0;     // test examples per member
};

// Validates `task` (every task.* key against its catalog row, then the rules between keys: op
// div needs a prime p, k <= n_bits, a train_fraction that leaves a training example) and returns
// its shape. Errors are one line naming the config key, the value found and what is valid.
Result<TaskInfo> DescribeTask(const TaskSpec& task);

// Whether the transformer's first block computes its queries, keys and values once per
// vocabulary row and position (worker token_projection.h) rather than once per position of a
// batch of `batch` sequences: without layer norm the block is linear in the embedding stream, and
// it pays when the vocabulary and the positions have fewer rows than the batch has positions.
bool FirstBlockPerToken(const ModelSpec& model, const TaskInfo& task, int64_t batch);

// Whether, beyond that, the attention gathers its keys and values from those per-row products
// and keeps none per position (worker token_attention.h): a single block and an untied
// unembedding (with a tied one the embedding's gradient would sum in another order). What the
// worker computes and what the plan's memory estimate counts.
bool KeysValuesPerToken(const ModelSpec& model, const TaskInfo& task, int64_t batch);

// True when p is prime (trial division; p is at most a few thousand here).
bool IsPrime(int64_t p);

}  // namespace phasesweep::spec
