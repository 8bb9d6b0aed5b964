// BuildAnalysisTables: every part of an AnalysisResult as a column table for /analysis
// (docs/FORMAT.md lists the tables and columns; keep the two in step).
#include "sweep/result_tables.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "phasesweep/analysis/answers.h"
#include "phasesweep/analysis/descriptive.h"

namespace phasesweep::analysis::internal {
namespace {

using storage::Column;
using storage::Table;

// A column of `rows` mapped through `fn`, which returns double, int64_t or std::string.
template <class Row, class Fn>
Column Col(const std::vector<Row>& rows, std::string name, Fn fn) {
  using V = std::decay_t<decltype(fn(std::declval<const Row&>()))>;
  std::vector<V> values;
  values.reserve(rows.size());
  for (const Row& r : rows) values.push_back(fn(r));
  return {std::move(name), std::move(values)};
}

std::int64_t I(bool b) { return b ? 1 : 0; }
std::int64_t I(std::size_t v) { return static_cast<std::int64_t>(v); }
std::int64_t I(int v) { return v; }

Table Make(std::string name, std::vector<Column> columns) {
  Table t;
  t.name = std::move(name);
  t.columns = std::move(columns);
  return t;
}

std::string StepList(const std::vector<std::int64_t>& steps) {
  std::string s;
  for (std::int64_t v : steps) s += (s.empty() ? "" : " ") + std::to_string(v);
  return s;
}

Table Traces(const AnalysisResult& r) {
  using T = TraceResult;
  std::vector<Column> c = {
      Col(r.traces, "job_id", [](const T& t) { return t.job_id; }),
      Col(r.traces, "metric", [](const T& t) { return t.metric; }),
      Col(r.traces, "note", [](const T& t) { return t.note; }),
      // int64 in the file (docs/FORMAT.md): a seed >= 2^63 keeps its bits, as it always did.
      Col(r.traces, "seed", [](const T& t) { return static_cast<std::int64_t>(t.seed); }),
      Col(r.traces, "grid_index", [](const T& t) { return t.grid_index; }),
      Col(r.traces, "n_probes", [](const T& t) { return I(t.n_probes); }),
      Col(r.traces, "n_valid", [](const T& t) { return I(t.n_valid); }),
      Col(r.traces, "n_excluded_ranges", [](const T& t) { return I(t.excluded.size()); }),
      Col(r.traces, "excluded_steps",
          [](const T& t) {
            std::string s;
            for (const auto& [a, b] : t.excluded)
              s += (s.empty() ? "" : " ") + std::to_string(a) + "-" + std::to_string(b);
            return s;
          }),
      Col(r.traces, "penalty", [](const T& t) { return t.penalty; }),
      Col(r.traces, "breakpoint_steps", [](const T& t) { return StepList(t.breakpoint_steps); }),
      Col(r.traces, "pvalue", [](const T& t) { return t.pvalue; }),
      Col(r.traces, "statistic", [](const T& t) { return t.statistic; }),
      Col(r.traces, "level_pvalue", [](const T& t) { return t.level_pvalue; }),
      Col(r.traces, "increment_pvalue", [](const T& t) { return t.increment_pvalue; }),
      Col(r.traces, "height", [](const T& t) { return t.height; }),
      Col(r.traces, "significant", [](const T& t) { return I(t.significant); })};
  for (TransitionKind k : kAllTransitionKinds) {
    const std::string name(TransitionKindName(k));
    c.push_back(Col(r.traces, name + "_step_lo", [k](const T& t) {
      return t.Get(k).found ? t.Get(k).step_lo : std::int64_t{-1};
    }));
    c.push_back(Col(r.traces, name + "_step_hi", [k](const T& t) {
      return t.Get(k).found ? t.Get(k).step_hi : std::int64_t{-1};
    }));
  }
  return Make("traces", std::move(c));
}

Table Transitions(const AnalysisResult& r) {
  using T = TransitionSummary;
  const auto& v = r.transitions;
  return Make("transitions",
              {Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
               Col(v, "metric", [](const T& t) { return t.metric; }),
               Col(v, "kind", [](const T& t) { return std::string(TransitionKindName(t.kind)); }),
               Col(v, "n_seeds", [](const T& t) { return t.n_seeds; }),
               Col(v, "n_found", [](const T& t) { return t.n_found; }),
               Col(v, "median_step", [](const T& t) { return t.median_step.estimate; }),
               Col(v, "median_step_low", [](const T& t) { return t.median_step.low; }),
               Col(v, "median_step_high", [](const T& t) { return t.median_step.high; })});
}

Table Significance(const AnalysisResult& r) {
  using T = SignificanceSummary;
  const auto& v = r.significance;
  return Make("significance", {Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
                               Col(v, "metric", [](const T& t) { return t.metric; }),
                               Col(v, "n_tested", [](const T& t) { return t.n_tested; }),
                               Col(v, "n_significant", [](const T& t) { return t.n_significant; }),
                               Col(v, "fraction", [](const T& t) { return t.fraction; }),
                               Col(v, "binomial_test", [](const T& t) { return I(t.test); }),
                               Col(v, "n_agreement", [](const T& t) { return t.n_agreement; }),
                               Col(v, "dispersion", [](const T& t) { return t.dispersion; }),
                               Col(v, "null_dispersion",
                                   [](const T& t) { return t.null_dispersion; }),
                               Col(v, "agreement_test",
                                   [](const T& t) { return I(t.agreement_test); })});
}

// Long format: one row per grid point x metric x probe step.
Table Bands(const AnalysisResult& r) {
  struct Row {
    const Band* band;
    std::size_t i;
  };
  std::vector<Row> rows;
  for (const Band& b : r.bands)
    for (std::size_t i = 0; i < b.points.size(); ++i) rows.push_back({&b, i});
  auto p = [](const Row& x) -> const BandPoint& { return x.band->points[x.i]; };
  return Make("bands", {Col(rows, "grid_index", [](const Row& x) { return x.band->grid_index; }),
                        Col(rows, "metric", [](const Row& x) { return x.band->metric; }),
                        Col(rows, "step", [](const Row& x) { return x.band->steps[x.i]; }),
                        Col(rows, "n_seeds", [](const Row& x) { return x.band->n_seeds; }),
                        Col(rows, "count", [&](const Row& x) { return I(p(x).count); }),
                        Col(rows, "median", [&](const Row& x) { return p(x).median; }),
                        Col(rows, "q25", [&](const Row& x) { return p(x).q25; }),
                        Col(rows, "q75", [&](const Row& x) { return p(x).q75; }),
                        Col(rows, "mean", [&](const Row& x) { return p(x).mean; }),
                        Col(rows, "mean_low", [&](const Row& x) { return p(x).mean_low; }),
                        Col(rows, "mean_high", [&](const Row& x) { return p(x).mean_high; })});
}

Table Orderings(const AnalysisResult& r) {
  using T = OrderingResult;
  const auto& v = r.orderings;
  return Make("orderings", {Col(v, "pair", [](const T& t) { return t.pair; }),
                            Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
                            Col(v, "n_seeds", [](const T& t) { return I(t.lags.size()); }),
                            Col(v, "n_a_first", [](const T& t) { return t.n_a_first; }),
                            Col(v, "n_b_first", [](const T& t) { return t.n_b_first; }),
                            Col(v, "n_tied", [](const T& t) { return t.n_tied; }),
                            Col(v, "median_lag", [](const T& t) { return t.median_lag.estimate; }),
                            Col(v, "median_lag_low", [](const T& t) { return t.median_lag.low; }),
                            Col(v, "median_lag_high", [](const T& t) { return t.median_lag.high; }),
                            Col(v, "wilcoxon_test", [](const T& t) { return I(t.wilcoxon_test); }),
                            Col(v, "sign_test", [](const T& t) { return I(t.sign_test); }),
                            Col(v, "note", [](const T& t) { return t.note; })});
}

Table OrderingLags(const AnalysisResult& r) {
  struct Row {
    std::int64_t ordering;
    const OrderingResult* o;
    std::size_t i;
  };
  std::vector<Row> rows;
  for (std::size_t k = 0; k < r.orderings.size(); ++k)
    for (std::size_t i = 0; i < r.orderings[k].lags.size(); ++i)
      rows.push_back({static_cast<std::int64_t>(k), &r.orderings[k], i});
  return Make("ordering_lags",
              {Col(rows, "ordering", [](const Row& x) { return x.ordering; }),
               Col(rows, "pair", [](const Row& x) { return x.o->pair; }),
               Col(rows, "grid_index", [](const Row& x) { return x.o->grid_index; }),
               Col(rows, "job_id", [](const Row& x) { return x.o->job_ids[x.i]; }),
               Col(rows, "lag", [](const Row& x) { return x.o->lags[x.i]; })});
}

Table Phases(const AnalysisResult& r) {
  using T = PhaseTrace;
  const auto& v = r.phases;
  return Make(
      "phases",
      {Col(v, "job_id", [](const T& t) { return t.job_id; }),
       Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
       Col(v, "metric", [](const T& t) { return t.metric; }),
       Col(v, "control", [](const T& t) { return I(t.control); }),
       Col(v, "three_phase", [](const T& t) { return I(t.three_phase); }),
       Col(v, "transitional_start_step",
           [](const T& t) {
             return std::isnan(t.log_volatility[0]) ? std::int64_t{-1} : t.transitional_start_step;
           }),
       Col(v, "stable_start_step",
           [](const T& t) {
             return std::isnan(t.log_volatility[0]) ? std::int64_t{-1} : t.stable_start_step;
           }),
       Col(v, "log_volatility_volatile", [](const T& t) { return t.log_volatility[0]; }),
       Col(v, "log_volatility_transitional", [](const T& t) { return t.log_volatility[1]; }),
       Col(v, "log_volatility_stable", [](const T& t) { return t.log_volatility[2]; }),
       Col(v, "note", [](const T& t) { return t.note; })});
}

Table PhaseSummaries(const AnalysisResult& r) {
  using T = PhaseSummary;
  const auto& v = r.phase_summaries;
  return Make("phase_summaries",
              {Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
               Col(v, "metric", [](const T& t) { return t.metric; }),
               Col(v, "control", [](const T& t) { return I(t.control); }),
               Col(v, "n", [](const T& t) { return t.n; }),
               Col(v, "n_three_phase", [](const T& t) { return t.n_three_phase; }),
               Col(v, "fraction", [](const T& t) { return t.fraction; })});
}

Table PhaseComparisons(const AnalysisResult& r) {
  using T = PhaseComparison;
  const auto& v = r.phase_comparisons;
  return Make("phase_comparisons", {Col(v, "metric", [](const T& t) { return t.metric; }),
                                    Col(v, "n_regular", [](const T& t) { return t.n_regular; }),
                                    Col(v, "k_regular", [](const T& t) { return t.k_regular; }),
                                    Col(v, "n_control", [](const T& t) { return t.n_control; }),
                                    Col(v, "k_control", [](const T& t) { return t.k_control; }),
                                    Col(v, "fisher_test", [](const T& t) { return I(t.test); }),
                                    Col(v, "note", [](const T& t) { return t.note; })});
}

Table Effects(const AnalysisResult& r) {
  using T = EffectResult;
  const auto& v = r.effects;
  return Make("effects",
              {Col(v, "axis", [](const T& t) { return t.axis; }),
               Col(v, "fixed", [](const T& t) { return t.fixed; }),
               Col(v, "metric", [](const T& t) { return t.metric; }),
               Col(v, "kind", [](const T& t) { return std::string(TransitionKindName(t.kind)); }),
               Col(v, "n_levels", [](const T& t) { return I(t.levels.size()); }),
               Col(v, "kruskal_test", [](const T& t) { return I(t.kruskal_test); }),
               Col(v, "spearman_test", [](const T& t) { return I(t.spearman_test); }),
               Col(v, "note", [](const T& t) { return t.note; })});
}

Table EffectLevels(const AnalysisResult& r) {
  struct Row {
    std::int64_t effect;
    const EffectResult* e;
    std::size_t level;
  };
  std::vector<Row> rows;
  for (std::size_t k = 0; k < r.effects.size(); ++k)
    for (std::size_t l = 0; l < r.effects[k].levels.size(); ++l)
      rows.push_back({static_cast<std::int64_t>(k), &r.effects[k], l});
  return Make("effect_levels",
              {Col(rows, "effect", [](const Row& x) { return x.effect; }),
               Col(rows, "level_index", [](const Row& x) { return I(x.level); }),
               Col(rows, "level", [](const Row& x) { return x.e->levels[x.level]; }),
               Col(rows, "n", [](const Row& x) { return I(x.e->steps[x.level].size()); }),
               Col(rows, "median_step", [](const Row& x) { return Median(x.e->steps[x.level]); }),
               Col(rows, "steps", [](const Row& x) {
                 std::string s;
                 for (double d : x.e->steps[x.level]) {
                   char buf[32];
                   std::snprintf(buf, sizeof(buf), "%.10g", d);
                   s += (s.empty() ? "" : " ") + std::string(buf);
                 }
                 return s;
               })});
}

Table EffectPairs(const AnalysisResult& r) {
  struct Row {
    std::int64_t effect;
    const EffectResult* e;
    std::size_t i;
  };
  std::vector<Row> rows;
  for (std::size_t k = 0; k < r.effects.size(); ++k)
    for (std::size_t i = 0; i < r.effects[k].pairs.size(); ++i)
      rows.push_back({static_cast<std::int64_t>(k), &r.effects[k], i});
  return Make(
      "effect_pairs",
      {Col(rows, "effect", [](const Row& x) { return x.effect; }),
       Col(rows, "level_a", [](const Row& x) { return x.e->levels[x.e->pairs[x.i].first]; }),
       Col(rows, "level_b", [](const Row& x) { return x.e->levels[x.e->pairs[x.i].second]; }),
       Col(rows, "mannwhitney_test", [](const Row& x) { return I(x.e->mannwhitney_tests[x.i]); })});
}

Table EarlyStops(const AnalysisResult& r) {
  using T = EarlyStopTrace;
  const auto& v = r.early_stops;
  return Make(
      "early_stops",
      {Col(v, "job_id", [](const T& t) { return t.job_id; }),
       Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
       Col(v, "stopped", [](const T& t) { return I(t.stopped); }),
       Col(v, "stop_step", [](const T& t) { return t.stopped ? t.stop_step : std::int64_t{-1}; }),
       Col(v, "has_reference", [](const T& t) { return I(t.has_reference); }),
       Col(v, "reference_step",
           [](const T& t) { return t.has_reference ? t.reference_step : std::int64_t{-1}; }),
       Col(v, "cut_short", [](const T& t) { return I(t.cut_short); })});
}

Table EarlyStopSummaries(const AnalysisResult& r) {
  using T = EarlyStopSummary;
  const auto& v = r.early_stop_summaries;
  return Make("early_stop_summaries",
              {Col(v, "grid_index", [](const T& t) { return t.grid_index; }),
               Col(v, "n", [](const T& t) { return t.n; }),
               Col(v, "n_stopped", [](const T& t) { return t.n_stopped; }),
               Col(v, "n_with_reference", [](const T& t) { return t.n_with_reference; }),
               Col(v, "n_cut_short", [](const T& t) { return t.n_cut_short; }),
               Col(v, "fraction", [](const T& t) { return t.fraction; }),
               Col(v, "fraction_low", [](const T& t) { return t.ci_low; }),
               Col(v, "fraction_high", [](const T& t) { return t.ci_high; })});
}

Table Tests(const AnalysisResult& r) {
  using T = TestRecord;
  const auto& v = r.tests;
  return Make("tests", {Col(v, "family", [](const T& t) { return t.family; }),
                        Col(v, "description", [](const T& t) { return t.description; }),
                        Col(v, "test", [](const T& t) { return t.test; }),
                        Col(v, "alternative", [](const T& t) { return t.alternative; }),
                        Col(v, "method", [](const T& t) { return t.method; }),
                        Col(v, "n", [](const T& t) { return t.n; }),
                        Col(v, "statistic", [](const T& t) { return t.statistic; }),
                        Col(v, "pvalue", [](const T& t) { return t.pvalue; }),
                        Col(v, "pvalue_adjusted", [](const T& t) { return t.pvalue_adjusted; }),
                        Col(v, "rejected", [](const T& t) { return I(t.rejected); })});
}

Table Answers(const AnalysisResult& r) {
  const std::vector<Answer> answers = BuildAnswers(r);
  using A = Answer;
  return Make("answers", {Col(answers, "id", [](const A& a) { return I(a.id); }),
                          Col(answers, "topic", [](const A& a) { return a.topic; }),
                          Col(answers, "answer", [](const A& a) { return a.text; })});
}

}  // namespace

std::vector<Table> BuildAnalysisTables(const AnalysisResult& r) {
  std::vector<Table> tables = {
      Answers(r),
      Traces(r),
      Transitions(r),
      Significance(r),
      Bands(r),
      Orderings(r),
      OrderingLags(r),
      Phases(r),
      PhaseSummaries(r),
      PhaseComparisons(r),
      Effects(r),
      EffectLevels(r),
      EffectPairs(r),
      EarlyStops(r),
      EarlyStopSummaries(r),
      Tests(r),
      Make("notes", {Col(r.notes, "text", [](const std::string& s) { return s; })})};
  return tables;
}

}  // namespace phasesweep::analysis::internal
