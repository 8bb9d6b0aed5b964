// Checkpoint files of a pack: everything needed to continue training so that the rest of every
// trace is bitwise identical (on CPU) to an uninterrupted run.
//
// Format (little-endian), version kCheckpointVersion:
//   "PSWCKPT\n"  u32 version  u64 payload_bytes  payload  u64 checksum(everything before it)
// payload: spec fingerprint, step, total steps, members, data-order position (epoch, batch),
// per-member diverged_at, named tensors (parameters "params", optimizer state "optim.<name>",
// probe state "probe.<probe>.<key>"), traces. All randomness in training is counter-based
// (rng.h), so (seeds, step) IS the RNG state: the seeds are inside the fingerprint.
//
// Writing is atomic: a temporary file in the same directory, fsync, rename over the target,
// fsync of the directory. Reading validates magic, version, length, checksum and structure;
// every failure is a Status naming the file.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/worker/probe.h"
#include "phasesweep/worker/spec.h"
#include "phasesweep/worker/trace.h"

namespace phasesweep::worker {

inline constexpr uint32_t kCheckpointVersion = 1;

struct CheckpointData {
  std::string fingerprint;  // SpecFingerprint of the pack it belongs to
  int64_t step = 0;         // optimizer updates taken
  int64_t total_steps = 0;
  int64_t members = 0;
  int64_t epoch = 0;                 // data-order position of the NEXT update: epoch ...
  int64_t batch_in_epoch = 0;        // ... and minibatch within it (0, 0 for full batch)
  std::vector<int64_t> diverged_at;  // per member, -1 = alive
  TensorMap tensors;                 // CPU tensors
  std::vector<Trace> traces;         // per member
};

// A stable digest of everything in the spec that determines a member's trajectory and trace:
// task, model, optimizer, training.steps and batch_size, probes, and every member's job id,
// seed and scalars. Not: pack_id, checkpoint_every, device, threads, allow_tf32 (they may change
// between a run and its resume). 16 hex digits.
std::string SpecFingerprint(const PackSpec& spec);

// Writes `data` to `path` atomically. IOError names the file and the OS error.
Status WriteCheckpoint(const std::string& path, const CheckpointData& data);

// Reads and validates `path`: NotFound if it does not exist; Corruption if it is truncated, not
// a checkpoint, fails its checksum or is malformed; FailedPrecondition for another format
// version. Does NOT compare the fingerprint (the trainer does, against its own spec).
Result<CheckpointData> ReadCheckpoint(const std::string& path);

}  // namespace phasesweep::worker
