// AnalyzeSweep: input checks, per-trace transitions and significance (in parallel, seeded per
// trace), per-grid-point summaries and bands, then the hypotheses (analyze_hypotheses.cc) and one
// multiple-testing adjustment over every p-value.
#include "phasesweep/analysis/analyze.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "phasesweep/analysis/random.h"
#include "phasesweep/analysis/seed_agreement.h"
#include "phasesweep/base/number_format.h"
#include "sweep/analyze_internal.h"
#include "sweep/answers_internal.h"

namespace phasesweep::analysis {
namespace internal {

std::string AnalysisContext::MetricList() const {
  std::string s;
  for (const auto& m : metrics) s += (s.empty() ? "" : ", ") + m;
  return s;
}

bool AnalysisContext::IsControl(const TraceJob& job) const {
  auto it = job.hparams.find(options.control_key);
  if (it == job.hparams.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true" || v == "1" || v == "yes";
}

TestRecord MakeRecord(std::string family, std::string description, std::string test,
                      Alternative alternative, std::int64_t n, const TestResult& r) {
  TestRecord rec;
  rec.family = std::move(family);
  rec.description = std::move(description);
  rec.test = std::move(test);
  rec.alternative = std::string(AlternativeName(alternative));
  rec.method = std::string(TestMethodName(r.method));
  rec.n = n;
  rec.statistic = r.statistic;
  rec.pvalue = r.pvalue;
  return rec;
}

}  // namespace internal

namespace {

using internal::AnalysisContext;

Status CheckInput(const TraceSet& traces, const AnalysisOptions& options, AnalysisContext& ctx) {
  PHASESWEEP_RETURN_IF_ERROR(ValidateAnalysisOptions(options));
  if (traces.jobs.empty()) return Status::NotFound("no traces: the trace set holds no jobs");
  std::set<std::string> ids;
  for (const auto& job : traces.jobs) {
    if (!ids.insert(job.job_id).second) {
      return Status::InvalidArgument("job '" + job.job_id + "' appears twice");
    }
    for (const auto& [name, values] : job.trace.metrics) {
      if (values.size() != job.trace.steps.size()) {
        return Status::InvalidArgument("job '" + job.job_id + "' metric '" + name + "' has " +
                                       std::to_string(values.size()) + " values for " +
                                       std::to_string(job.trace.steps.size()) + " probe steps");
      }
    }
  }
  const std::vector<std::string> available = AvailableMetrics(traces);
  if (available.empty()) return Status::NotFound("no traces: no job stores any metric");
  std::string list;
  for (const auto& m : available) list += (list.empty() ? "" : ", ") + m;
  if (options.metrics.empty()) {
    ctx.metrics.insert(available.begin(), available.end());
  } else {
    for (const auto& m : options.metrics) {
      if (!std::binary_search(available.begin(), available.end(), m)) {
        return Status::NotFound("metric '" + m + "' is not in the traces (available: " + list +
                                ")");
      }
      ctx.metrics.insert(m);
    }
  }
  std::int64_t failed = 0;
  for (std::size_t j = 0; j < traces.jobs.size(); ++j) {
    if (traces.jobs[j].status == JobStatus::kFailed) {
      ++failed;
      continue;
    }
    ctx.jobs.push_back(j);
    ctx.grid_jobs[traces.jobs[j].grid_index].push_back(j);
  }
  for (const auto& [grid, jobs] : ctx.grid_jobs) {
    GridPointInfo info;
    info.grid_index = grid;
    info.n_jobs = static_cast<std::int64_t>(jobs.size());
    const TraceJob& first = traces.jobs[jobs.front()];
    info.control = ctx.IsControl(first);
    info.hparams.assign(first.hparams.begin(), first.hparams.end());
    ctx.result.grid_points.push_back(std::move(info));
  }
  ctx.result.n_jobs = static_cast<std::int64_t>(ctx.jobs.size());
  ctx.result.n_jobs_skipped = failed;
  if (failed > 0) ctx.Note(std::to_string(failed) + " failed job(s) skipped");
  if (ctx.jobs.empty()) return Status::NotFound("no traces: every job failed");
  return Status::Ok();
}

// Transitions and significance of one trace.
Result<TraceResult> AnalyzeTrace(const TraceJob& job, const std::string& metric,
                                 const AnalysisOptions& options) {
  TraceResult tr;
  tr.job_id = job.job_id;
  tr.seed = job.seed;
  tr.grid_index = job.grid_index;
  tr.metric = metric;
  TransitionOptions to = options.transition;
  to.threshold.reset();
  for (const auto& rule : options.thresholds)
    if (rule.metric == metric) to.threshold = rule;
  auto t = DetectTransitions(job.trace.steps, job.trace.metrics.at(metric), to);
  if (!t.ok()) return t.status().WithContext("job '" + job.job_id + "' metric '" + metric + "'");
  tr.n_probes = t->n_probes;
  tr.n_valid = t->n_valid;
  tr.excluded = t->excluded;
  tr.penalty = t->penalty;
  tr.breakpoint_steps = t->breakpoint_steps;
  tr.changepoint = t->changepoint;
  tr.steepest = t->steepest;
  tr.threshold = t->threshold;
  tr.settle = t->settle;
  tr.note = t->note;
  if (options.surrogates > 0 && t->note != "constant trace: no change") {
    SurrogateOptions so;
    so.method = options.surrogate;
    so.count = options.surrogates;
    so.min_size = options.transition.segmentation.min_size;
    so.seed = StreamSeed(options.seed, job.job_id + "/" + metric);
    // The probe at step 0 (the initialisation, before any update) is left out of the test: every
    // metric moves with the first updates, which is training starting, not a transition.
    const std::size_t skip =
        !t->valid_index.empty() && job.trace.steps[t->valid_index.front()] == 0 ? 1 : 0;
    const std::vector<double> tested(t->valid_values.begin() + skip, t->valid_values.end());
    auto sig = TransitionSignificance(tested, so);
    if (!sig.ok())
      return sig.status().WithContext("job '" + job.job_id + "' metric '" + metric + "'");
    tr.statistic = sig->statistic;
    tr.pvalue = sig->pvalue;
    tr.level_pvalue = sig->level_pvalue;
    tr.increment_pvalue = sig->increment_pvalue;
    tr.height = sig->height;
    if (sig->statistic > 0.0 && !std::isnan(sig->pvalue)) {
      tr.principal_index = static_cast<double>(t->valid_index[sig->split + skip]);
      tr.null_indices.reserve(sig->null_splits.size());
      for (std::size_t k : sig->null_splits)
        tr.null_indices.push_back(static_cast<double>(t->valid_index[k + skip]));
    }
    if (!sig->note.empty() && tr.note.empty()) tr.note = sig->note;
  } else if (options.surrogates > 0) {
    tr.statistic = 0.0;
    tr.pvalue = 1.0;  // a constant trace has no transition
  }
  tr.significant = tr.pvalue <= options.alpha;
  // A significant transition smaller than the metric's smallest relevant change (an accuracy
  // moving by a few test examples) is real but not what the question is about: not counted.
  const auto relevant = options.min_change.find(metric);
  if (tr.significant && relevant != options.min_change.end() &&
      !(std::abs(tr.height) >= relevant->second)) {
    tr.significant = false;
    if (tr.note.empty())
      tr.note = answers_internal::PText(tr.pvalue) + " but the transition's height " +
                answers_internal::Num(std::abs(tr.height)) + " is below analysis.min_change " +
                FormatDouble(relevant->second) + ": not counted";
  }
  return tr;
}

Status AnalyzeTraces(AnalysisContext& ctx) {
  std::vector<std::pair<std::size_t, std::string>> work;
  for (std::size_t j : ctx.jobs)
    for (const auto& [name, values] : ctx.traces.jobs[j].trace.metrics)
      if (ctx.metrics.count(name)) work.emplace_back(j, name);
  std::vector<std::optional<TraceResult>> out(work.size());
  std::atomic<std::size_t> next{0};
  std::mutex error_mu;
  Status error;
  auto worker = [&] {
    for (std::size_t i = next++; i < work.size(); i = next++) {
      auto r = AnalyzeTrace(ctx.traces.jobs[work[i].first], work[i].second, ctx.options);
      if (!r.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (error.ok()) error = r.status();
        return;
      }
      out[i] = std::move(r.value());
    }
  };
  unsigned threads = ctx.options.threads > 0 ? static_cast<unsigned>(ctx.options.threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  threads =
      std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(work.size(), 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  PHASESWEEP_RETURN_IF_ERROR(error);
  ctx.result.traces.reserve(work.size());
  std::size_t constant = 0;
  // Metrics against the previous probe step have no value at the first one (docs/METRICS.md):
  // one note per metric instead of one per job.
  std::map<std::string, std::size_t> first_step_only;
  for (std::size_t i = 0; i < work.size(); ++i) {
    ctx.trace_of[work[i]] = ctx.result.traces.size();
    TraceResult& tr = *out[i];
    const std::vector<std::int64_t>& steps = ctx.traces.jobs[work[i].first].trace.steps;
    if (tr.excluded.size() == 1 && !steps.empty() &&
        tr.excluded[0] == std::make_pair(steps.front(), steps.front())) {
      ++first_step_only[tr.metric];
    } else if (!tr.excluded.empty()) {
      std::string ranges;
      for (const auto& [a, b] : tr.excluded)
        ranges += (ranges.empty() ? "" : ", ") + std::to_string(a) + "-" + std::to_string(b);
      ctx.Note("job " + tr.job_id + " " + tr.metric + ": non-finite values excluded at steps " +
               ranges);
    }
    if (tr.changepoint.note.rfind("too short", 0) == 0) {
      ctx.Note("job " + tr.job_id + " " + tr.metric + ": " + tr.changepoint.note);
    }
    constant += tr.note == "constant trace: no change";
    ctx.result.traces.push_back(std::move(tr));
  }
  for (const auto& [metric, jobs] : first_step_only) {
    ctx.Note(metric + ": no finite value at the first probe step in " + std::to_string(jobs) +
             " job(s) (as for every metric against the previous probe); that step is left out");
  }
  if (constant > 0) ctx.Note(std::to_string(constant) + " constant trace(s): no change");
  return Status::Ok();
}

// The cross-seed agreement test (seed_agreement.h) over the traces of one grid point x metric
// whose per-trace test fitted a transition.
// M = 19,999 lets p reach 5e-5, so an agreement can survive adjustment with hundreds of p-values.
constexpr int kAgreementDraws = 19999;

void AddAgreement(AnalysisContext& ctx, const std::vector<const TraceResult*>& traces,
                  SignificanceSummary& sig) {
  std::vector<AgreementSeed> seeds;
  for (const TraceResult* t : traces) {
    if (std::isnan(t->principal_index) || t->null_indices.empty()) continue;
    seeds.push_back({t->principal_index, t->null_indices});
  }
  const std::string where = "grid " + std::to_string(sig.grid_index) + " " + sig.metric;
  auto r = SeedAgreementTest(seeds, kAgreementDraws,
                             StreamSeed(ctx.options.seed, "agreement/" + where));
  if (!r.ok()) {
    sig.agreement_note = r.status().message();
    return;
  }
  sig.n_agreement = r->n_seeds;
  sig.dispersion = r->dispersion;
  sig.null_dispersion = r->null_dispersion;
  sig.agreement_note = r->note;
  if (std::isnan(r->pvalue)) return;
  TestResult tr;
  tr.statistic = r->dispersion;
  tr.pvalue = r->pvalue;
  tr.method = TestMethod::kApprox;  // Monte Carlo
  sig.agreement_test = ctx.AddTest(internal::MakeRecord(
      "agreement", where + ": seeds' transition times more concentrated than their nulls",
      "surrogate-dispersion", Alternative::kLess, r->n_seeds, tr));
}

void GridSummaries(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  for (const auto& [grid, jobs] : ctx.grid_jobs) {
    for (const auto& metric : ctx.metrics) {
      std::vector<const TraceResult*> traces;
      for (std::size_t j : jobs)
        if (const TraceResult* t = ctx.Trace(j, metric)) traces.push_back(t);
      if (traces.empty()) continue;
      bool has_rule = false;
      for (const auto& rule : o.thresholds) has_rule |= rule.metric == metric;
      for (TransitionKind kind : kAllTransitionKinds) {
        if (kind == TransitionKind::kThreshold && !has_rule) continue;
        TransitionSummary s;
        s.grid_index = grid;
        s.metric = metric;
        s.kind = kind;
        s.n_seeds = static_cast<std::int64_t>(traces.size());
        std::vector<double> mids;
        for (const TraceResult* t : traces)
          if (t->Get(kind).found) mids.push_back(t->Get(kind).Midpoint());
        s.n_found = static_cast<std::int64_t>(mids.size());
        s.median_step =
            BootstrapMedianBca(mids, o.bootstrap, o.confidence,
                               StreamSeed(o.seed, "median/" + std::to_string(grid) + "/" + metric +
                                                      "/" + std::string(TransitionKindName(kind))));
        ctx.result.transitions.push_back(s);
      }
      if (o.surrogates > 0) {
        SignificanceSummary sig;
        sig.grid_index = grid;
        sig.metric = metric;
        for (const TraceResult* t : traces) {
          if (std::isnan(t->pvalue)) continue;
          ++sig.n_tested;
          sig.n_significant += t->significant;
        }
        if (sig.n_tested > 0) {
          sig.fraction = static_cast<double>(sig.n_significant) / sig.n_tested;
          auto r = BinomTest(sig.n_significant, sig.n_tested, o.alpha, Alternative::kGreater);
          if (r.ok()) {
            sig.test = ctx.AddTest(internal::MakeRecord(
                "significance",
                "grid " + std::to_string(grid) + " " + metric +
                    ": fraction of seeds with a significant transition vs alpha",
                "binomtest", Alternative::kGreater, sig.n_tested, *r));
          }
        }
        AddAgreement(ctx, traces, sig);
        ctx.result.significance.push_back(sig);
      }
      if (o.bands) {
        Band band;
        band.grid_index = grid;
        band.metric = metric;
        const TraceJob* first = nullptr;
        std::vector<const TraceJob*> members;
        for (std::size_t j : jobs) {
          const TraceJob& job = ctx.traces.jobs[j];
          if (!job.trace.metrics.count(metric)) continue;
          if (!first) first = &job;
          if (job.trace.steps == first->trace.steps) {
            members.push_back(&job);
          } else {
            ctx.Note("band grid " + std::to_string(grid) + " " + metric + ": job " + job.job_id +
                     " has different probe steps, left out of the band");
          }
        }
        if (!first) continue;
        band.steps = first->trace.steps;
        band.n_seeds = static_cast<std::int64_t>(members.size());
        std::vector<double> column(members.size());
        for (std::size_t i = 0; i < band.steps.size(); ++i) {
          for (std::size_t m = 0; m < members.size(); ++m)
            column[m] = members[m]->trace.metrics.at(metric)[i];
          band.points.push_back(SummarizeAcrossSeeds(column, o.confidence));
        }
        ctx.result.bands.push_back(std::move(band));
      }
    }
  }
}

void Settings(AnalysisContext& ctx) {
  const AnalysisOptions& o = ctx.options;
  auto& s = ctx.result.settings;
  auto num = [](double v) {
    std::ostringstream os;
    os.precision(10);
    os << v;
    return os.str();
  };
  s = {{"cost", std::string(CostKindName(o.transition.cost))},
       {"min_size", std::to_string(o.transition.segmentation.min_size)},
       {"jump", std::to_string(o.transition.segmentation.jump)},
       {"penalty", o.transition.penalty ? num(*o.transition.penalty)
                                        : "default x " + num(o.transition.penalty_scale)},
       {"smooth_sigma", num(o.transition.smooth_sigma)},
       {"settle_tolerance", num(o.transition.settle_tolerance)},
       {"alpha", num(o.alpha)},
       {"adjust", std::string(AdjustmentName(o.adjust))},
       {"surrogate", std::string(SurrogateMethodName(o.surrogate))},
       {"surrogates", std::to_string(o.surrogates)},
       {"bootstrap", std::to_string(o.bootstrap)},
       {"confidence", num(o.confidence)},
       {"seed", std::to_string(o.seed)},
       {"patience", std::to_string(o.patience)},
       {"early_stop", o.early_stop_metric + " vs " + o.early_stop_reference + ":" +
                          std::string(TransitionKindName(o.early_stop_reference_kind))},
       {"control_key", o.control_key}};
  for (const auto& rule : o.thresholds) s.emplace_back("threshold", FormatThresholdRule(rule));
  for (const auto& [metric, value] : o.min_change)
    s.emplace_back("min_change", metric + ":" + FormatDouble(value));
  for (const auto& pair : o.orderings) s.emplace_back("ordering", FormatOrderingPair(pair));
}

}  // namespace

Result<AnalysisResult> AnalyzeSweep(const TraceSet& traces, const AnalysisOptions& options) {
  AnalysisResult result;
  AnalysisContext ctx{traces, options, result, {}, {}, {}, {}};
  PHASESWEEP_RETURN_IF_ERROR(CheckInput(traces, options, ctx));
  result.metrics.assign(ctx.metrics.begin(), ctx.metrics.end());
  Settings(ctx);
  PHASESWEEP_RETURN_IF_ERROR(AnalyzeTraces(ctx));
  GridSummaries(ctx);
  internal::RunOrderings(ctx);
  internal::RunPhases(ctx);
  internal::RunEffects(ctx);
  internal::RunEarlyStopping(ctx);
  std::vector<double> p;
  for (const auto& t : result.tests) p.push_back(t.pvalue);
  const std::vector<double> adjusted = AdjustPValues(p, options.adjust);
  for (std::size_t i = 0; i < result.tests.size(); ++i) {
    result.tests[i].pvalue_adjusted = adjusted[i];
    result.tests[i].rejected = adjusted[i] <= options.alpha;
  }
  return result;
}

}  // namespace phasesweep::analysis
