// Result of AnalyzeSweep: plain structs of numbers and strings, flat enough to be written as
// HDF5 tables under /analysis (one compound dataset per vector) or as JSON. Indices into
// `tests` tie each hypothesis to its p-value record (-1: no test was run).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "phasesweep/analysis/bootstrap.h"
#include "phasesweep/analysis/trace_set.h"
#include "phasesweep/analysis/transitions.h"

namespace phasesweep::analysis {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// One p-value of the analysis. All records of one analysis form one family for the adjustment.
struct TestRecord {
  std::string family;       // significance | ordering | phases | effect
  std::string description;  // what was tested, with grid index and metric
  std::string test;  // binomtest | wilcoxon | sign | fisher | kruskal | mannwhitney | spearman
  std::string alternative;  // two-sided | greater | less
  std::string method;       // exact | approx
  std::int64_t n = 0;       // sample size behind the test
  double statistic = kNoValue;
  double pvalue = kNoValue;
  double pvalue_adjusted = kNoValue;
  bool rejected = false;  // pvalue_adjusted <= alpha
};

// One job x metric.
struct TraceResult {
  std::string job_id;
  std::uint64_t seed = 0;
  std::int64_t grid_index = 0;
  std::string metric;
  std::size_t n_probes = 0, n_valid = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> excluded;  // non-finite step ranges
  double penalty = kNoValue;
  std::vector<std::int64_t> breakpoint_steps;
  Transition changepoint, steepest, threshold, settle;
  double statistic = kNoValue;  // surrogate-test statistic T (the ramp scan)
  double pvalue = kNoValue;     // surrogate p-value (per seed, not adjusted): both scans combined
  double level_pvalue = kNoValue;      // the ramp scan's own p-value
  double increment_pvalue = kNoValue;  // the increment scan's own p-value
  double height = kNoValue;  // the principal feature's height (metric units, signed)
  // pvalue <= alpha and |height| >= the metric's smallest relevant change (analysis.min_change)
  bool significant = false;
  // Probe index of the principal transition the test fitted (NaN without a test), and where its
  // null surrogates put theirs: inputs of the cross-seed agreement test (not stored).
  double principal_index = kNoValue;
  std::vector<double> null_indices;
  std::string note;
  const Transition& Get(TransitionKind kind) const;
};

// Median transition step of one grid point x metric x kind across seeds (midpoints of the
// step intervals), with a BCa interval.
struct TransitionSummary {
  std::int64_t grid_index = 0;
  std::string metric;
  TransitionKind kind = TransitionKind::kChangePoint;
  std::int64_t n_seeds = 0, n_found = 0;
  ConfidenceInterval median_step;
};

// Fraction of seeds with a significant transition, binomial test against alpha (the rate at
// which seeds are significant by chance).
struct SignificanceSummary {
  std::int64_t grid_index = 0;
  std::string metric;
  std::int64_t n_tested = 0, n_significant = 0;
  double fraction = kNoValue;
  int test = -1;
  // Do the seeds agree on when (seed_agreement.h)? Dispersion of the principal transitions'
  // probe indices vs the seeds' own nulls; -1 / NaN when not run (fewer than 3 seeds).
  std::int64_t n_agreement = 0;
  double dispersion = kNoValue, null_dispersion = kNoValue;
  int agreement_test = -1;
  std::string agreement_note;
};

struct Band {
  std::int64_t grid_index = 0;
  std::string metric;
  std::vector<std::int64_t> steps;
  std::vector<BandPoint> points;  // one per step
  std::int64_t n_seeds = 0;       // jobs summarised (same probe steps as the first job)
};

struct OrderingResult {
  std::string pair;  // FormatOrderingPair
  std::int64_t grid_index = 0;
  std::vector<std::string> job_ids;
  std::vector<double> lags;  // per seed: midpoint(A) - midpoint(B), in steps; < 0: A first
  std::int64_t n_a_first = 0, n_b_first = 0, n_tied = 0;
  ConfidenceInterval median_lag;
  int wilcoxon_test = -1, sign_test = -1;
  std::string note;
};

// Volatile -> transitional -> stable classification of one stability trace.
struct PhaseTrace {
  std::string job_id;
  std::int64_t grid_index = 0;
  std::string metric;
  bool control = false;
  bool three_phase = false;
  std::int64_t transitional_start_step = 0, stable_start_step = 0;  // segment boundaries
  double log_volatility[3] = {kNoValue, kNoValue, kNoValue};        // segment means
  std::string note;
};

struct PhaseSummary {
  std::int64_t grid_index = 0;
  std::string metric;
  bool control = false;
  std::int64_t n = 0, n_three_phase = 0;
  double fraction = kNoValue;
};

// Regular configs vs random-label controls, pooled over grid points, for one metric.
struct PhaseComparison {
  std::string metric;
  std::int64_t n_regular = 0, k_regular = 0, n_control = 0, k_control = 0;
  int test = -1;  // Fisher exact, 'greater': regular configs show the order more often
  std::string note;
};

// Effect of one hyperparameter axis on transition steps, other hyperparameters held fixed.
struct EffectResult {
  std::string axis;
  std::string fixed;  // the other hyperparameters, "k=v, k=v"
  std::string metric;
  TransitionKind kind = TransitionKind::kChangePoint;
  std::vector<std::string> levels;
  std::vector<std::vector<double>> steps;  // per level: transition midpoints of its seeds
  int kruskal_test = -1;
  std::vector<std::pair<int, int>> pairs;  // level indices of each Mann-Whitney test
  std::vector<int> mannwhitney_tests;
  int spearman_test = -1;  // only when every level is a number
  std::string note;
};

struct EarlyStopTrace {
  std::string job_id;
  std::int64_t grid_index = 0;
  bool stopped = false;
  std::int64_t stop_step = 0;
  bool has_reference = false;       // the reference transition was found
  std::int64_t reference_step = 0;  // its step_hi
  bool cut_short = false;           // stopped before reference_step
};

struct EarlyStopSummary {
  std::int64_t grid_index = 0;
  std::int64_t n = 0, n_stopped = 0, n_with_reference = 0, n_cut_short = 0;
  double fraction = kNoValue;                    // n_cut_short / n_with_reference
  double ci_low = kNoValue, ci_high = kNoValue;  // Clopper-Pearson
};

// One grid point of the analysed jobs: its hyperparameters (from its first job, the swept keys
// plus the control key) and whether it is a control (hparams[control_key] true/1/yes).
struct GridPointInfo {
  std::int64_t grid_index = 0;
  bool control = false;
  std::int64_t n_jobs = 0;
  std::vector<std::pair<std::string, std::string>> hparams;  // sorted by key
};

struct AnalysisResult {
  std::vector<std::string> metrics;  // analysed
  std::int64_t n_jobs = 0, n_jobs_skipped = 0;
  std::vector<std::pair<std::string, std::string>> settings;  // resolved options, for provenance
  std::vector<GridPointInfo> grid_points;                      // by grid index
  std::vector<TraceResult> traces;
  std::vector<TransitionSummary> transitions;
  std::vector<SignificanceSummary> significance;
  std::vector<Band> bands;
  std::vector<OrderingResult> orderings;
  std::vector<PhaseTrace> phases;
  std::vector<PhaseSummary> phase_summaries;
  std::vector<PhaseComparison> phase_comparisons;
  std::vector<EffectResult> effects;
  std::vector<EarlyStopTrace> early_stops;
  std::vector<EarlyStopSummary> early_stop_summaries;
  std::vector<TestRecord> tests;   // every p-value, adjusted together
  std::vector<std::string> notes;  // skipped hypotheses, excluded data, short traces
};

}  // namespace phasesweep::analysis
