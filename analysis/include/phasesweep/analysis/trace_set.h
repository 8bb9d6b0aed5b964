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
#include "phasesweep/base/status.h"

namespace phasesweep::analysis {

struct TraceJob {
  std::string job_id;
  std::int64_t seed = 0;
  std::int64_t grid_index = 0;                         // jobs of one grid point differ only in seed
  std::map<std::string, std::string> hparams;          // resolved grid values, key -> value text
  std::vector<std::int64_t> steps;                     // probe steps, strictly increasing
  std::map<std::string, std::vector<double>> metrics;  // metric -> one value per step
  std::string status = "done";                         // done | diverged | failed | ...
};

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

struct AnalysisOptions {
  // Metrics to analyse; empty = every stored metric. Hypotheses that name a metric outside this
  // set, or absent from the file, are skipped with a note.
  std::vector<std::string> metrics;
  // Change points and transition definitions (TransitionOptions::threshold is ignored here: the
  // rules below are matched to metrics by name).
  TransitionOptions transition;
  std::vector<ThresholdRule> thresholds = {{"test_acc", true, 0.9, 3},
                                           {"emb_cos_prev", true, 0.98, 3}};
  std::vector<OrderingPair> orderings = {
      {"emb_cos_prev", TransitionKind::kChangePoint, "test_acc", TransitionKind::kChangePoint},
      {"emb_cos_prev", TransitionKind::kChangePoint, "train_loss", TransitionKind::kSettle},
      {"cka_prev", TransitionKind::kChangePoint, "test_acc", TransitionKind::kChangePoint}};
  Alternative ordering_alternative = Alternative::kTwoSided;  // kLess: A precedes B
  // Three-phase (volatile -> transitional -> stable) classification applies to these.
  std::vector<std::string> stability_metrics = {"emb_cos_prev", "cka_prev"};
  // A job is a control when hparams[control_key] is true/1/yes (case-insensitive).
  std::string control_key = "task.random_labels";
  // Hyperparameter effects use this transition of every analysed metric.
  TransitionKind effect_kind = TransitionKind::kChangePoint;
  // Early-stopping counterfactual: patience on `early_stop_metric` (lower is better), compared
  // with the `early_stop_reference` transition of the same job.
  std::string early_stop_metric = "test_loss";
  int patience = 10;  // probes without an improvement larger than min_delta
  double min_delta = 0.0;
  std::string early_stop_reference = "emb_cos_prev";
  TransitionKind early_stop_reference_kind = TransitionKind::kChangePoint;

  double alpha = 0.05;
  Adjustment adjust = Adjustment::kHolm;
  SurrogateMethod surrogate = SurrogateMethod::kAr1;
  int surrogates = 199;  // per trace; 0 skips significance (and the binomial tests)
  int bootstrap = 2000;  // resamples for BCa intervals
  double confidence = 0.95;
  std::uint64_t seed = 0;
  int threads = 0;    // 0: std::thread::hardware_concurrency(); results do not depend on it
  bool bands = true;  // per-step summary bands
};

// InvalidArgument naming the first bad option.
Status ValidateAnalysisOptions(const AnalysisOptions& options);

}  // namespace phasesweep::analysis
