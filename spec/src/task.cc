// The task section's rules and the shape of each task's data (the generation is the worker's,
// worker/src/tasks.cc).
#include "phasesweep/spec/task.h"

#include <cmath>
#include <string>

#include "phasesweep/spec/catalog.h"

namespace phasesweep::spec {

bool FirstBlockPerToken(const ModelSpec& model, const TaskInfo& task, int64_t batch) {
  return !model.layer_norm && task.vocab + task.seq_len < batch * task.seq_len;
}

bool KeysValuesPerToken(const ModelSpec& model, const TaskInfo& task, int64_t batch) {
  return model.layers == 1 && !model.tied_unembed && FirstBlockPerToken(model, task, batch);
}

bool IsPrime(int64_t p) {
  if (p < 2) return false;
  for (int64_t d = 2; d * d <= p; ++d) {
    if (p % d == 0) return false;
  }
  return true;
}

Result<TaskInfo> DescribeTask(const TaskSpec& task) {
  PackSpec pack;
  pack.task = task;
  for (const KeySpec* k : SectionKeys("task")) {
    PHASESWEEP_RETURN_IF_ERROR(CheckValue(*k, k->get(pack, {})));
  }
  TaskInfo info;
  if (task.name == "modular_arithmetic") {
    if (task.op == "div" && !IsPrime(task.p)) {
      return Status::InvalidArgument(
          "task.p = " + std::to_string(task.p) +
          " is not prime, but task.op = div needs a prime task.p (division mod p is defined only "
          "then, every b != 0 invertible), e.g. 23, 59, 97, 113");
    }
    const int64_t total = task.p * (task.op == "div" ? task.p - 1 : task.p);
    info.vocab = task.p + 1;  // 0..p-1 and "="
    info.seq_len = 3;
    info.n_classes = task.p;
    info.n_train = static_cast<int64_t>(std::llround(task.train_fraction * total));
    info.n_test = total - info.n_train;
    if (info.n_train < 1) {
      return Status::InvalidArgument("task.train_fraction: " + std::to_string(task.train_fraction) +
                                     " of " + std::to_string(total) +
                                     " examples leaves none for training; raise it or task.p");
    }
  } else if (task.name == "sparse_parity") {
    if (task.k > task.n_bits) {
      return Status::InvalidArgument("task.k (" + std::to_string(task.k) +
                                     ") must be <= task.n_bits (" + std::to_string(task.n_bits) +
                                     "): the parity bits are chosen among the input bits");
    }
    info.vocab = 2;
    info.seq_len = task.n_bits;
    info.n_classes = 2;
    info.n_train = task.n_train;
    info.n_test = task.n_test;
  } else {  // in_context_copy (the name is one of the catalog's choices)
    info.vocab = task.vocab;
    info.seq_len = task.seq_len;
    info.n_classes = task.vocab;
    info.n_train = task.n_train;
    info.n_test = task.n_test;
  }
  return info;
}

}  // namespace phasesweep::spec
