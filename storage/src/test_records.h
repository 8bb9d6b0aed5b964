// Deterministic job records, plans and provenance for the storage tests and the crash-test
// helper: every stored value can be recomputed from (job id, metric, probe). No gtest here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "phasesweep/base/hash.h"
#include "phasesweep/storage/records.h"

namespace phasesweep::storage::testing {

// The value of metric `m` (index) of job `id` at probe `i`: smooth, distinct per job and metric,
// so a test can recompute what must have been stored.
inline double ExpectedValue(const std::string& id, int m, int64_t i) {
  const double phase = static_cast<double>(Fnv1a64(id) % 1000) / 1000.0;
  return std::exp(-0.01 * static_cast<double>(i)) * (1.0 + m) + phase + 0.001 * m * i;
}

inline std::string MetricName(int m) { return "metric_" + std::to_string(m); }

inline std::string JobId(int64_t grid, uint64_t seed) {
  return "job-g" + std::to_string(grid) + "-s" + std::to_string(seed);
}

inline Hparams HparamsFor(int64_t grid) {
  return {{"lr", HparamValue::Number(std::to_string(0.001 * static_cast<double>(grid + 1)))},
          {"optimizer", HparamValue::String("adamw")}};
}

inline JobRecord MakeRecord(int64_t grid, uint64_t seed, int n_steps = 5, int n_metrics = 3,
                            JobStatus status = JobStatus::kDone, int32_t attempts = 1) {
  JobRecord r;
  r.job_id = JobId(grid, seed);
  r.seed = seed;
  r.grid_index = grid;
  r.hparams = HparamsFor(grid);
  r.status = status;
  r.attempts = attempts;
  r.wall_seconds = 1.5;
  r.rank = 2;
  r.device = "cpu";
  r.pack_id = "pack-" + std::to_string(grid);
  for (int i = 0; i < n_steps; ++i) r.trace.steps.push_back(10 * i);
  for (int m = 0; m < n_metrics; ++m) {
    std::vector<double>& v = r.trace.metrics[MetricName(m)];
    for (int i = 0; i < n_steps; ++i) v.push_back(ExpectedValue(r.job_id, m, i));
  }
  return r;
}

// Runs a shell command; returns its wait status (0 = success) and appends stdout + stderr.
inline int RunShell(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
  return ::pclose(p);
}

inline Provenance MakeProvenance(const std::string& hash = "cafebabe00000001") {
  Provenance p;
  p.phasesweep_version = "0.1.0";
  p.git_commit = "abc1234";
  p.config_yaml = "sweep:\n  seeds: 4\n";
  p.config_hash = hash;
  p.command_line = "phasesweep run configs/smoke.yaml -o results.h5";
  p.libtorch_version = "1.13.0";
  p.mpi_version = "Open MPI v4.1.4";
  return p;
}

inline std::vector<PlannedJob> MakePlan(int64_t grids, uint64_t seeds) {
  std::vector<PlannedJob> plan;
  for (int64_t g = 0; g < grids; ++g) {
    for (uint64_t s = 0; s < seeds; ++s) plan.push_back({JobId(g, s), s, g, HparamsFor(g)});
  }
  return plan;
}

}  // namespace phasesweep::storage::testing
