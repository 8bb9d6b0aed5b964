// The one rule set of a configuration, section by section. Each Validate* checks every key of its
// section against its catalog row (type, range, choices: catalog.h) and then the rules between
// keys. The orchestrator calls ValidatePack on every grid point before planning anything, the
// worker again before it trains, so both refuse the same input with the same words. Every error is one line naming the key, the
// value found and what is valid.
#pragma once

#include <cstdint>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/sections.h"
#include "phasesweep/spec/task.h"

namespace phasesweep::spec {

// model.*: ranges and choices; heads divide d_model; a tied unembedding needs as many tokens as
// classes.
Status ValidateModel(const ModelSpec& model, const TaskInfo& task);

// optimizer.*: ranges and choices, each member's scalars (the error names the job), warmup
// within the steps.
Status ValidateOptimizer(const OptimizerSpec& optimizer, const std::vector<MemberSpec>& members,
                         int64_t total_steps);

// training.*: ranges and choices; the minibatch within the training set.
Status ValidateTraining(const TrainingSpec& training, const TaskInfo& task);

// probes.*: ranges and choices (metric names, duplicates, schedule, ...); the probe batch within
// the data.
Status ValidateProbes(const ProbeSpec& probes, const TaskInfo& task);

// probes.metrics against the task and model: each metric's rule in ProbeCatalog() (a test-set
// metric needs test examples, representation and gradient metrics enough probe rows,
// fourier_gini modular arithmetic). The error names the metric:
// "probes.metrics: 'fourier_gini': applies only to ...".
Status ValidateProbeMetrics(const PackSpec& pack, const TaskInfo& task);

// A whole pack: at least one member, every section above, the rules between sections
// (in_context_copy reads token sequences, so it needs a transformer) and ValidateProbeMetrics.
// Returns the task's shape.
Result<TaskInfo> ValidatePack(const PackSpec& pack);

}  // namespace phasesweep::spec
