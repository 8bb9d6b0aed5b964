// In-memory input of a sweep analysis: every job's probe traces and identity, and the options
// of AnalyzeSweep (analyze.h). storage/ fills a TraceSet from the results file; tests and
// benchmarks build one directly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phasesweep/analysis/hypothesis_tests.h"
#include "phasesweep/analysis/multiple_testing.h"
#include "phasesweep/analysis/surrogate.h"
#include "phasesweep/analysis/transitions.h"
#include "phasesweep/base/hparams.h"
#include "phasesweep/base/status.h"
#include "phasesweep/base/trace.h"

namespace phasesweep::analysis {

// One job of the sweep: its identity, its grid values and its trace (base/trace.h), as the
// results file stores them.
struct TraceJob {
  std::string job_id;
  std::uint64_t seed = 0;
  std::int64_t grid_index = 0;                 // jobs of one grid point differ only in seed
  std::map<std::string, std::string> hparams;  // resolved grid values, key -> value text
  JobStatus status = JobStatus::kDone;
  Trace trace;
};

// A job's hyperparameters as TraceJob holds them: key -> value text (numbers and booleans as
// written, strings as they are).
std::map<std::string, std::string> HparamTexts(const Hparams& hparams);

struct TraceSet {
  std::vector<TraceJob> jobs;
};

// Sorted names of every metric stored by at least one job.
std::vector<std::string> AvailableMetrics(const TraceSet& traces);

// "Transition of A precedes transition of B", tested on per-seed lags A - B.
struct OrderingPair {
  std::string a_metric;
  TransitionKind a_kind = TransitionKind::kChangePoint;
  std::string b_metric;
  TransitionKind b_kind = TransitionKind::kChangePoint;
};
// "A<B" or "A:kind<B:kind" (kinds: changepoint, steepest, threshold, settle). A metric without a
// kind uses its change point, except a loss (name ending in "_loss"), whose transition is its
// plateau onset ("settle"): "emb_cos_prev<train_loss" compares the embedding transition with the
// loss plateau.
Result<OrderingPair> ParseOrderingPair(std::string_view text);
std::string FormatOrderingPair(const OrderingPair& pair);

// What `analyze` does. Every field is one key of the configuration's analysis section, and its
// default is that key's default in the catalog (spec/src/keys_analysis.cc, docs/CONFIG.md): the
// constructor applies each catalog default through the same setters as a stored config
// (analysis_config.cc), so the defaults live in the catalog alone.
struct AnalysisOptions {
  AnalysisOptions();  // the catalog's defaults

  // Metrics to analyse (analysis.metrics); empty = every stored metric. Hypotheses that name a
  // metric outside this set, or absent from the file, are skipped with a note.
  std::vector<std::string> metrics;
  // Change points and transition definitions (TransitionOptions::threshold is ignored here: the
  // rules below are matched to metrics by name).
  TransitionOptions transition;
  std::vector<ThresholdRule> thresholds;  // analysis.thresholds
  // analysis.min_change: the smallest transition height (metric units) that counts as
  // significant, per metric; a metric without an entry has no minimum.
  std::map<std::string, double> min_change;
  std::vector<OrderingPair> orderings;  // analysis.pairs
  Alternative ordering_alternative{};   // kLess: A precedes B
  // Three-phase (volatile -> transitional -> stable) classification applies to these.
  std::vector<std::string> stability_metrics;
  // A job is a control when hparams[control_key] is true/1/yes (case-insensitive).
  std::string control_key;
  // Hyperparameter effects use this transition of every analysed metric.
  TransitionKind effect_kind{};
  // Early-stopping counterfactual: patience on `early_stop_metric` (lower is better), compared
  // with the `early_stop_reference` transition of the same job.
  std::string early_stop_metric;
  int patience{};  // probes without an improvement larger than min_delta
  double min_delta{};
  std::string early_stop_reference;
  TransitionKind early_stop_reference_kind{};

  double alpha{};
  Adjustment adjust{};
  SurrogateMethod surrogate{};
  int surrogates{};  // per trace; 0 skips significance (and the binomial tests)
  int bootstrap{};   // resamples for BCa intervals
  double confidence{};
  std::uint64_t seed{};
  int threads{};  // 0: std::thread::hardware_concurrency(); results do not depend on it
  bool bands{};   // per-step summary bands

 private:
  struct Unset {};
  explicit AnalysisOptions(Unset) {}
  friend const AnalysisOptions& CatalogAnalysisDefaults();
};

// InvalidArgument naming the first bad option.
Status ValidateAnalysisOptions(const AnalysisOptions& options);

}  // namespace phasesweep::analysis
