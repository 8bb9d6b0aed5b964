// The plan of a sweep: grid points × seeds -> jobs with stable ids -> packs of jobs that train
// together as one ensemble (spec::PackSpec).
//
// Job id: the first 16 hex digits of FNV-1a-64 over the canonical text of every non-runtime key's
// resolved value (keys sorted, doubles as shortest round-trip text) and the seed. It is the same
// on every machine, for every key order in the YAML and every spelling of a number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/base/hparams.h"
#include "phasesweep/base/status.h"
#include "phasesweep/orchestrator/config.h"
#include "phasesweep/spec/sections.h"

namespace phasesweep::orchestrator {

struct Job {
  std::string id;
  uint64_t seed = 0;
  int64_t grid_index = 0;
  Hparams hparams;     // the grid point's swept values, e.g. {"optimizer.lr":0.001}
  std::string label;   // "optimizer.lr=0.001" ("" when nothing is swept)
  std::string pack_id;
};

struct Pack {
  std::string id;                 // "pack-0003"
  std::vector<size_t> job_index;  // into SweepPlan::jobs
  spec::PackSpec spec;
  int64_t estimated_bytes = 0;  // training memory estimate for the whole pack
};

struct SweepPlan {
  SweepSpec sweep;
  std::string config_hash;
  std::vector<GridPoint> points;
  std::vector<Job> jobs;  // grid point major, seed minor
  std::vector<Pack> packs;
};

struct PlanOptions {
  // Ranks that will train; with training.pack = auto the planner spreads each group of packable
  // jobs over at least this many packs so no rank idles when there is work for it.
  int ranks = 1;
  // Memory budget per pack for training.pack = auto.
  int64_t memory_budget_bytes = int64_t{2} << 30;
  int64_t max_auto_pack = 32;
};

Result<SweepPlan> MakePlan(const SweepSpec& sweep, const PlanOptions& options);

// Estimated bytes to train one member of `spec` (parameters, gradients, optimizer state, probe
// copies and activations) whose data has the shape `task` (spec::DescribeTask); the basis of
// training.pack = auto.
int64_t EstimateMemberBytes(const spec::PackSpec& spec, const spec::TaskInfo& task);

// The per-member optimizer scalars of one resolved grid point.
spec::MemberOptimizerScalars ScalarsFromResolved(const std::map<std::string, Value>& resolved);

// The worker's view of one resolved grid point (members not filled).
spec::PackSpec PackSpecFromResolved(const std::map<std::string, Value>& resolved);

}  // namespace phasesweep::orchestrator
