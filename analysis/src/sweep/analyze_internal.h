// Internal: state shared by the steps of AnalyzeSweep (analyze.cc runs the per-trace work and
// the per-grid summaries, analyze_hypotheses.cc the hypotheses).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/analysis/analysis_result.h"
#include "phasesweep/analysis/trace_set.h"

namespace phasesweep::analysis::internal {

struct AnalysisContext {
  const TraceSet& traces;
  const AnalysisOptions& options;
  AnalysisResult& result;
  std::set<std::string> metrics;                                        // analysed metrics
  std::vector<std::size_t> jobs;                                        // indices of analysed jobs
  std::map<std::int64_t, std::vector<std::size_t>> grid_jobs;           // grid index -> job indices
  std::map<std::pair<std::size_t, std::string>, std::size_t> trace_of;  // (job, metric) -> trace

  // The trace of (job, metric), or nullptr.
  const TraceResult* Trace(std::size_t job, const std::string& metric) const {
    auto it = trace_of.find({job, metric});
    return it == trace_of.end() ? nullptr : &result.traces[it->second];
  }
  // Appends a test record and returns its index.
  int AddTest(TestRecord record) {
    result.tests.push_back(std::move(record));
    return static_cast<int>(result.tests.size()) - 1;
  }
  void Note(std::string text) { result.notes.push_back(std::move(text)); }
  // "a, b, c" of the analysed metrics.
  std::string MetricList() const;
  bool IsControl(const TraceJob& job) const;
};

// Record of a test result (p-value not yet adjusted).
TestRecord MakeRecord(std::string family, std::string description, std::string test,
                      Alternative alternative, std::int64_t n, const TestResult& r);

void RunOrderings(AnalysisContext& ctx);
void RunPhases(AnalysisContext& ctx);
void RunEffects(AnalysisContext& ctx);
void RunEarlyStopping(AnalysisContext& ctx);

// Three-phase classification of one trace's finite values (see docs/STATISTICS.md): segments the
// log absolute first differences into three by binary segmentation and asks whether their means
// decrease at each boundary by more than z(1-alpha) standard errors.
struct PhaseFit {
  bool ok = false;  // enough points to fit three segments
  bool three_phase = false;
  std::size_t boundary[2] = {0, 0};  // indices into the values where segments 2 and 3 start
  double means[3] = {kNoValue, kNoValue, kNoValue};
  std::string note;
};
PhaseFit FitThreePhases(const std::vector<double>& values, std::size_t min_segment, double alpha);

// First probe index at which patience-based early stopping on `values` (lower is better) stops,
// or nullopt if it never does.
std::optional<std::size_t> EarlyStopIndex(const std::vector<double>& values, int patience,
                                          double min_delta);

}  // namespace phasesweep::analysis::internal
