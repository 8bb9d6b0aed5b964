// Test helpers shared by the analysis tests that need a real results file: a scratch folder
// removed at exit, and results files written with the storage writer from TraceJobs or
// JobRecords (merged, so plain readers see every job).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "phasesweep/analysis/trace_set.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"

namespace phasesweep::analysis::testutil {

class Scratch {
 public:
  explicit Scratch(const std::string& prefix = "analysis_test") {
    std::string tmpl = std::string(PHASESWEEP_BINARY_DIR) + "/" + prefix + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string operator/(const std::string& n) const { return path_ + "/" + n; }

 private:
  std::string path_;
};

// The typed hyperparameters the plan would have made for the value texts of `j`.
inline Hparams HparamsOf(const TraceJob& j) {
  Hparams hp;
  for (const auto& [k, v] : j.hparams) {
    if (v == "true" || v == "false") {
      hp[k] = HparamValue::Bool(v == "true");
    } else if (!v.empty() && std::isdigit(static_cast<unsigned char>(v[0]))) {
      hp[k] = HparamValue::Number(v);
    } else {
      hp[k] = HparamValue::String(v);
    }
  }
  return hp;
}

// A done record of `j` (status and error are the caller's to change).
inline storage::JobRecord ToRecord(const TraceJob& j) {
  storage::JobRecord r;
  r.job_id = j.job_id;
  r.seed = j.seed;
  r.grid_index = j.grid_index;
  r.hparams = HparamsOf(j);
  r.trace = j.trace;
  return r;
}

// Writes `records` (and `plan` into /index) into a new results file dir/results.h5, merged.
inline std::string WriteRecords(const Scratch& dir, const std::vector<storage::JobRecord>& records,
                                const std::string& config,
                                const std::vector<storage::PlannedJob>& plan = {}) {
  const std::string path = dir / "results.h5";
  storage::OpenOptions o;
  o.provenance.config_hash = "test";
  o.provenance.config_yaml = config;
  o.plan = plan;
  auto w = storage::ResultsWriter::Open(path, o);
  EXPECT_TRUE(w.ok()) << w.status().message();
  if (!records.empty()) {
    auto shard = storage::WriteShard(path, storage::ShardInfo{"p", 0, "test"}, records);
    EXPECT_TRUE(shard.ok()) << shard.status().message();
  }
  auto merged = w->Merge();
  EXPECT_TRUE(merged.ok()) << merged.status().message();
  return path;
}

inline std::string WriteTraceJobs(const Scratch& dir, const std::vector<TraceJob>& jobs,
                                  const std::string& config) {
  std::vector<storage::JobRecord> records;
  for (const auto& j : jobs) records.push_back(ToRecord(j));
  return WriteRecords(dir, records, config);
}

}  // namespace phasesweep::analysis::testutil
