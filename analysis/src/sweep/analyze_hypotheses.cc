// The hypotheses of AnalyzeSweep: ordering of transitions (paired lags), the three-phase pattern
// of stability metrics (vs random-label controls), hyperparameter effects across grid axes, and
// the early-stopping counterfactual. See docs/STATISTICS.md.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/random.h"
#include "sweep/analyze_internal.h"

namespace phasesweep::analysis::internal {
namespace {

std::string Grid(std::int64_t g) { return "grid " + std::to_string(g); }

bool Has(const AnalysisContext& ctx, const std::string& metric) {
  return ctx.metrics.count(metric) > 0;
}

// Wilcoxon on lags: exact only without zeros or tied |lag| (SciPy's exact distribution assumes
// neither; with ties it truncates R+), otherwise the normal approximation.
TestMethod LagMethod(const std::vector<double>& lags) {
  std::vector<double> a;
  for (double l : lags) {
    if (l == 0.0) return TestMethod::kApprox;
    a.push_back(std::fabs(l));
  }
  if (!TieGroupSizes(a).empty() || a.size() > 50) return TestMethod::kApprox;
  return TestMethod::kExact;
}

std::optional<double> AsNumber(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

void RunOrderings(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  for (const OrderingPair& pair : o.orderings) {
    const std::string name = FormatOrderingPair(pair);
    bool skip = false;
    for (const std::string& m : {pair.a_metric, pair.b_metric}) {
      if (!Has(ctx, m) && !skip) {
        ctx.Note("ordering " + name + " skipped: metric '" + m +
                 "' not analysed (analysed: " + ctx.MetricList() + ")");
        skip = true;
      }
    }
    if (skip) continue;
    for (const auto& [grid, jobs] : ctx.grid_jobs) {
      OrderingResult r;
      r.pair = name;
      r.grid_index = grid;
      std::int64_t missing = 0;
      for (std::size_t j : jobs) {
        const TraceResult* a = ctx.Trace(j, pair.a_metric);
        const TraceResult* b = ctx.Trace(j, pair.b_metric);
        if (!a || !b) continue;
        const Transition& ta = a->Get(pair.a_kind);
        const Transition& tb = b->Get(pair.b_kind);
        if (!ta.found || !tb.found) {
          ++missing;
          continue;
        }
        const double lag = ta.Midpoint() - tb.Midpoint();
        r.job_ids.push_back(ctx.traces.jobs[j].job_id);
        r.lags.push_back(lag);
        r.n_a_first += lag < 0;
        r.n_b_first += lag > 0;
        r.n_tied += lag == 0;
      }
      if (missing > 0) {
        r.note = std::to_string(missing) + " seed(s) without both transitions left out";
      }
      if (r.lags.empty()) {
        if (r.note.empty()) r.note = "no seed has both metrics";
        ctx.result.orderings.push_back(std::move(r));
        continue;
      }
      r.median_lag =
          BootstrapMedianBca(r.lags, o.bootstrap, o.confidence,
                             StreamSeed(o.seed, "lag/" + name + "/" + std::to_string(grid)));
      const std::string desc = Grid(grid) + " " + name + ": per-seed lag A - B";
      if (r.n_tied == static_cast<std::int64_t>(r.lags.size())) {
        r.note += std::string(r.note.empty() ? "" : "; ") + "every lag is zero: no test";
      } else {
        auto w = WilcoxonSignedRank(r.lags, o.ordering_alternative, LagMethod(r.lags));
        if (w.ok()) {
          r.wilcoxon_test =
              ctx.AddTest(MakeRecord("ordering", desc, "wilcoxon", o.ordering_alternative,
                                     static_cast<std::int64_t>(r.lags.size()), *w));
        }
        auto s = SignTest(r.lags, o.ordering_alternative);
        if (s.ok()) {
          r.sign_test = ctx.AddTest(MakeRecord("ordering", desc, "sign", o.ordering_alternative,
                                               r.n_a_first + r.n_b_first, *s));
        }
      }
      ctx.result.orderings.push_back(std::move(r));
    }
  }
}

PhaseFit FitThreePhases(const std::vector<double>& values, std::size_t min_segment, double alpha) {
  PhaseFit fit;
  const std::size_t seg = std::max<std::size_t>(min_segment, 3);
  if (values.size() < 3 * seg + 1) {
    fit.note = "too short for three phases: " + std::to_string(values.size()) +
               " finite probes, needs " + std::to_string(3 * seg + 1);
    return fit;
  }
  std::vector<double> d(values.size() - 1);
  for (std::size_t i = 0; i + 1 < values.size(); ++i) d[i] = std::fabs(values[i + 1] - values[i]);
  const double med = Median(d);
  double scale = 0.0;
  for (double v : values) scale = std::max(scale, std::fabs(v));
  const double eps = std::max(1e-3 * med, 1e-12 * (1.0 + scale));
  std::vector<double> u(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) u[i] = std::log(d[i] + eps);
  auto cost = MakeSegmentCost(CostKind::kL2, u);
  if (!cost.ok()) {
    fit.note = cost.status().message();
    return fit;
  }
  auto bkps = BinarySegmentation(**cost, {seg, 1}, {std::size_t{2}, std::nullopt});
  if (!bkps.ok() || bkps->size() != 3) {
    fit.note = "no three-segment split of the volatility";
    return fit;
  }
  fit.ok = true;
  const std::size_t bounds[4] = {0, (*bkps)[0], (*bkps)[1], u.size()};
  double within = 0.0;
  std::size_t len[3];
  for (int k = 0; k < 3; ++k) {
    len[k] = bounds[k + 1] - bounds[k];
    double s = 0.0;
    for (std::size_t i = bounds[k]; i < bounds[k + 1]; ++i) s += u[i];
    fit.means[k] = s / static_cast<double>(len[k]);
    for (std::size_t i = bounds[k]; i < bounds[k + 1]; ++i)
      within += (u[i] - fit.means[k]) * (u[i] - fit.means[k]);
  }
  // A volatility difference i sits between values i and i+1: segment k+1 of the differences
  // starts at value index bounds[k+1] (the first value whose step into the next is calmer).
  fit.boundary[0] = bounds[1];
  fit.boundary[1] = bounds[2];
  const double s2 = within / static_cast<double>(u.size() - 3);
  const double z = NormalQuantile(1.0 - alpha);
  auto drop = [&](int a, int b) {
    const double se = std::sqrt(s2 * (1.0 / len[a] + 1.0 / len[b]));
    return fit.means[a] - fit.means[b] > z * se;
  };
  fit.three_phase = drop(0, 1) && drop(1, 2);
  return fit;
}

void RunPhases(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  for (const std::string& metric : o.stability_metrics) {
    if (!Has(ctx, metric)) {
      ctx.Note("three-phase analysis of '" + metric +
               "' skipped: not analysed (analysed: " + ctx.MetricList() + ")");
      continue;
    }
    PhaseComparison cmp;
    cmp.metric = metric;
    for (const auto& [grid, jobs] : ctx.grid_jobs) {
      PhaseSummary sum[2];  // [regular, control]
      for (std::size_t j : jobs) {
        const TraceJob& job = ctx.traces.jobs[j];
        auto it = job.trace.metrics.find(metric);
        if (it == job.trace.metrics.end()) continue;
        std::vector<double> v;
        std::vector<std::size_t> idx;
        for (std::size_t i = 0; i < it->second.size(); ++i) {
          if (std::isfinite(it->second[i])) {
            v.push_back(it->second[i]);
            idx.push_back(i);
          }
        }
        PhaseTrace pt;
        pt.job_id = job.job_id;
        pt.grid_index = grid;
        pt.metric = metric;
        pt.control = ctx.IsControl(job);
        const PhaseFit fit = FitThreePhases(v, o.transition.segmentation.min_size, o.alpha);
        pt.note = fit.note;
        if (fit.ok) {
          pt.three_phase = fit.three_phase;
          pt.transitional_start_step = job.trace.steps[idx[fit.boundary[0]]];
          pt.stable_start_step = job.trace.steps[idx[fit.boundary[1]]];
          for (int k = 0; k < 3; ++k) pt.log_volatility[k] = fit.means[k];
          PhaseSummary& s = sum[pt.control ? 1 : 0];
          ++s.n;
          s.n_three_phase += pt.three_phase;
        }
        ctx.result.phases.push_back(std::move(pt));
      }
      for (int c = 0; c < 2; ++c) {
        if (sum[c].n == 0) continue;
        sum[c].grid_index = grid;
        sum[c].metric = metric;
        sum[c].control = c == 1;
        sum[c].fraction = static_cast<double>(sum[c].n_three_phase) / sum[c].n;
        (c == 0 ? cmp.n_regular : cmp.n_control) += sum[c].n;
        (c == 0 ? cmp.k_regular : cmp.k_control) += sum[c].n_three_phase;
        ctx.result.phase_summaries.push_back(sum[c]);
      }
    }
    if (cmp.n_control == 0 || cmp.n_regular == 0) {
      cmp.note = cmp.n_control == 0 ? "no control jobs (" + o.control_key + "=true): no comparison"
                                    : "only control jobs: no comparison";
    } else {
      auto f = FisherExact(cmp.k_regular, cmp.n_regular - cmp.k_regular, cmp.k_control,
                           cmp.n_control - cmp.k_control, Alternative::kGreater);
      if (f.ok()) {
        cmp.test = ctx.AddTest(
            MakeRecord("phases", metric + ": three-phase fraction, regular configs vs controls",
                       "fisher", Alternative::kGreater, cmp.n_regular + cmp.n_control, *f));
      }
    }
    ctx.result.phase_comparisons.push_back(std::move(cmp));
  }
}

void RunEffects(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  // Hyperparameter values of each grid point (from its first job) and the varying keys.
  std::map<std::int64_t, const std::map<std::string, std::string>*> hp;
  std::map<std::string, std::set<std::string>> values;
  for (const auto& [grid, jobs] : ctx.grid_jobs) {
    hp[grid] = &ctx.traces.jobs[jobs.front()].hparams;
    for (const auto& [k, v] : *hp[grid]) values[k].insert(v);
  }
  for (const auto& [axis, levels_set] : values) {
    if (levels_set.size() < 2 || axis == "seed") continue;
    // Slices: grid points sharing every other hyperparameter.
    std::map<std::string, std::map<std::string, std::vector<std::int64_t>>> slices;
    for (const auto& [grid, params] : hp) {
      auto it = params->find(axis);
      if (it == params->end()) continue;
      std::string fixed;
      for (const auto& [k, v] : *params)
        if (k != axis && k != "seed") fixed += (fixed.empty() ? "" : ", ") + k + "=" + v;
      slices[fixed][it->second].push_back(grid);
    }
    for (const auto& [fixed, by_level] : slices) {
      if (by_level.size() < 2) continue;
      std::vector<std::string> levels;
      for (const auto& [level, grids] : by_level) levels.push_back(level);
      const bool numeric = std::all_of(levels.begin(), levels.end(), [](const std::string& l) {
        return AsNumber(l).has_value();
      });
      if (numeric) {
        std::sort(levels.begin(), levels.end(), [](const std::string& a, const std::string& b) {
          return *AsNumber(a) < *AsNumber(b);
        });
      }
      for (const std::string& metric : ctx.metrics) {
        EffectResult e;
        e.axis = axis;
        e.fixed = fixed;
        e.metric = metric;
        e.kind = o.effect_kind;
        e.levels = levels;
        std::vector<std::vector<double>> groups;
        for (const std::string& level : levels) {
          std::vector<double> g;
          for (std::int64_t grid : by_level.at(level))
            for (std::size_t j : ctx.grid_jobs[grid])
              if (const TraceResult* t = ctx.Trace(j, metric))
                if (t->Get(o.effect_kind).found) g.push_back(t->Get(o.effect_kind).Midpoint());
          groups.push_back(g);
        }
        e.steps = groups;
        std::vector<int> nonempty;
        std::vector<std::vector<double>> kw_groups;
        std::vector<double> all;
        for (std::size_t l = 0; l < groups.size(); ++l) {
          if (groups[l].empty()) continue;
          nonempty.push_back(static_cast<int>(l));
          kw_groups.push_back(groups[l]);
          all.insert(all.end(), groups[l].begin(), groups[l].end());
        }
        const std::string desc = axis + " [" + fixed + "] " + metric + ":" +
                                 std::string(TransitionKindName(o.effect_kind));
        if (nonempty.size() < 2) {
          e.note = "fewer than two levels with a transition: no test";
        } else if (std::all_of(all.begin(), all.end(), [&](double v) { return v == all[0]; })) {
          e.note = "every transition step is identical: no test";
        } else {
          auto kw = KruskalWallis(kw_groups);
          if (kw.ok()) {
            e.kruskal_test = ctx.AddTest(MakeRecord("effect", desc + ": across levels", "kruskal",
                                                    Alternative::kTwoSided,
                                                    static_cast<std::int64_t>(all.size()), *kw));
          }
          for (std::size_t a = 0; a < nonempty.size(); ++a) {
            for (std::size_t b = a + 1; b < nonempty.size(); ++b) {
              const auto& ga = groups[nonempty[a]];
              const auto& gb = groups[nonempty[b]];
              auto mw = MannWhitneyU(ga, gb, Alternative::kTwoSided);
              if (!mw.ok()) continue;
              e.pairs.emplace_back(nonempty[a], nonempty[b]);
              e.mannwhitney_tests.push_back(ctx.AddTest(MakeRecord(
                  "effect", desc + ": " + levels[nonempty[a]] + " vs " + levels[nonempty[b]],
                  "mannwhitney", Alternative::kTwoSided,
                  static_cast<std::int64_t>(ga.size() + gb.size()), *mw)));
            }
          }
          if (numeric) {
            std::vector<double> x, y;
            for (std::size_t l = 0; l < groups.size(); ++l)
              for (double v : groups[l]) {
                x.push_back(*AsNumber(levels[l]));
                y.push_back(v);
              }
            auto sp = Spearman(x, y, Alternative::kTwoSided);
            if (sp.ok() && !std::isnan(sp->pvalue)) {
              e.spearman_test = ctx.AddTest(MakeRecord("effect", desc + ": monotone trend",
                                                       "spearman", Alternative::kTwoSided,
                                                       static_cast<std::int64_t>(x.size()), *sp));
            }
          }
        }
        ctx.result.effects.push_back(std::move(e));
      }
    }
  }
}

std::optional<std::size_t> EarlyStopIndex(const std::vector<double>& values, int patience,
                                          double min_delta) {
  double best = std::numeric_limits<double>::infinity();
  int wait = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i]) && values[i] < best - min_delta) {
      best = values[i];
      wait = 0;
    } else if (++wait >= patience) {
      return i;
    }
  }
  return std::nullopt;
}

void RunEarlyStopping(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  for (const std::string& m : {o.early_stop_metric, o.early_stop_reference}) {
    if (!Has(ctx, m)) {
      ctx.Note("early-stopping counterfactual skipped: metric '" + m +
               "' not analysed (analysed: " + ctx.MetricList() + ")");
      return;
    }
  }
  for (const auto& [grid, jobs] : ctx.grid_jobs) {
    EarlyStopSummary s;
    s.grid_index = grid;
    for (std::size_t j : jobs) {
      const TraceJob& job = ctx.traces.jobs[j];
      auto it = job.trace.metrics.find(o.early_stop_metric);
      const TraceResult* ref = ctx.Trace(j, o.early_stop_reference);
      if (it == job.trace.metrics.end() || !ref) continue;
      EarlyStopTrace e;
      e.job_id = job.job_id;
      e.grid_index = grid;
      const auto stop = EarlyStopIndex(it->second, o.patience, o.min_delta);
      e.stopped = stop.has_value();
      if (stop) e.stop_step = job.trace.steps[*stop];
      const Transition& t = ref->Get(o.early_stop_reference_kind);
      e.has_reference = t.found;
      e.reference_step = t.step_hi;
      e.cut_short = e.stopped && e.has_reference && e.stop_step < e.reference_step;
      ++s.n;
      s.n_stopped += e.stopped;
      s.n_with_reference += e.has_reference;
      s.n_cut_short += e.cut_short;
      ctx.result.early_stops.push_back(e);
    }
    if (s.n == 0) continue;
    if (s.n_with_reference > 0) {
      s.fraction = static_cast<double>(s.n_cut_short) / s.n_with_reference;
      std::tie(s.ci_low, s.ci_high) =
          ClopperPearson(s.n_cut_short, s.n_with_reference, o.confidence);
    }
    ctx.result.early_stop_summaries.push_back(s);
  }
}

}  // namespace phasesweep::analysis::internal
