// Answers 4, 6 and 7: hyperparameter effects on the test-accuracy jump, the late equilibrium of
// the embedding, and the ranking of every metric as an early signal of the jump. See answers.h.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "phasesweep/analysis/answers.h"
#include "phasesweep/analysis/descriptive.h"
#include "sweep/answers_internal.h"

namespace phasesweep::analysis {

using namespace answers_internal;  // NOLINT: this module's own helpers

namespace {

bool IsControlSlice(const std::string& fixed, const std::string& key) {
  for (const char* v : {"=true", "=1", "=yes", "=True"}) {
    if (fixed.find(key + v) != std::string::npos) return true;
  }
  return false;
}

// Median of band medians over [from, to) probe indices.
double BandMedian(const Band& b, std::size_t from, std::size_t to) {
  std::vector<double> v;
  for (std::size_t i = from; i < to && i < b.points.size(); ++i)
    if (std::isfinite(b.points[i].median)) v.push_back(b.points[i].median);
  return v.empty() ? kNoValue : Median(v);
}

}  // namespace

// 4.
std::string AnswerHyperparameters(const AnalysisResult& r) {
  std::string s = "4. Weight decay and data: ";
  const JumpRef jump = Jump(r);
  const std::string key = Setting(r, "control_key", "task.random_labels");
  const double alpha = SettingNumber(r, "alpha", 0.05);
  std::map<std::string, std::vector<const EffectResult*>> by_axis;
  for (const auto& e : r.effects) {
    if (e.metric != jump.metric || e.axis == key || IsControlSlice(e.fixed, key)) continue;
    by_axis[e.axis].push_back(&e);
  }
  if (jump.metric.empty()) return s + "not enough evidence: test_acc is not analysed";
  if (by_axis.empty()) {
    return s + "not enough evidence: the study sweeps no hyperparameter besides the control "
               "(add optimizer.weight_decay or task.train_fraction to sweep.grid)";
  }
  std::string sep;
  for (const auto& [axis, effects] : by_axis) {
    s += sep + axis + " (" + jump.metric + ":" +
         std::string(TransitionKindName(effects.front()->kind)) + " median step per level): ";
    sep = "; ";
    std::int64_t tested = 0, rejected = 0, smallest_group = -1;
    std::string inner;
    for (const EffectResult* e : effects) {
      std::string levels, medians;
      for (std::size_t l = 0; l < e->levels.size(); ++l) {
        levels += (l ? " -> " : "") + e->levels[l];
        medians += (l ? " -> " : "") +
                   (e->steps[l].empty() ? std::string("none") : Num(Median(e->steps[l])));
        const auto n = static_cast<std::int64_t>(e->steps[l].size());
        smallest_group = smallest_group < 0 ? n : std::min(smallest_group, n);
      }
      inner += (inner.empty() ? "" : ", ") + levels + ": " + medians;
      if (!e->fixed.empty()) inner += " [" + e->fixed + "]";
      if (e->kruskal_test < 0) {
        inner += " (" + e->note + ")";
        continue;
      }
      const TestRecord& t = r.tests[static_cast<std::size_t>(e->kruskal_test)];
      ++tested;
      rejected += t.rejected;
      inner += " (adjusted " + PText(t.pvalue_adjusted).substr(2) + (t.rejected ? " *" : "") + ")";
    }
    s += inner;
    const std::int64_t need = MinSeedsMannWhitney(static_cast<std::int64_t>(r.tests.size()), alpha);
    if (rejected > 0) {
      s += ": moves it, significant in " + std::to_string(rejected) + "/" + std::to_string(tested) +
           " slices";
    } else if (smallest_group < need) {
      s += ": not enough evidence, needs >= " + std::to_string(need) +
           " seeds with the jump per level (has " + std::to_string(std::max<std::int64_t>(
                                                        smallest_group, 0)) + ")";
    } else {
      s += ": no significant effect";
    }
  }
  return s + ".";
}

// 6.
std::string AnswerEquilibrium(const AnalysisResult& r) {
  std::string s = "6. Late stability vs the lr/weight-decay equilibrium: ";
  const std::set<std::int64_t> control = ControlGrids(r);
  std::map<std::string, std::vector<const Band*>> bands;
  for (const auto& b : r.bands)
    if (!control.count(b.grid_index) && !b.points.empty()) bands[b.metric].push_back(&b);
  for (const char* m : {"emb_cos_prev", "rel_update", "emb_cos_init"}) {
    if (!bands.count(m)) {
      return s + "not enough evidence: needs regular traces of emb_cos_prev, rel_update and "
                 "emb_cos_init with summary bands (missing " + std::string(m) + ")";
    }
  }
  // Late window: the last 20% of the probes, split in halves to see whether updates still shrink.
  std::vector<double> cos_late, ratio, drift, update;
  for (const auto& [metric, list] : bands) {
    for (const Band* b : list) {
      const std::size_t n = b->points.size(), from = n - std::max<std::size_t>(n / 5, 2),
                        mid = (from + n) / 2;
      if (n < 4) continue;
      if (metric == "emb_cos_prev") cos_late.push_back(BandMedian(*b, from, n));
      if (metric == "rel_update") {
        const double a = BandMedian(*b, from, mid), c = BandMedian(*b, mid, n);
        update.push_back(c);
        if (a > 0) ratio.push_back(c / a);
      }
      if (metric == "emb_cos_init") {
        drift.push_back(b->points[from].median - b->points[n - 1].median);
      }
    }
  }
  if (cos_late.empty() || ratio.empty() || drift.empty()) {
    return s + "not enough evidence: the regular traces are too short for a late window";
  }
  const double c = Median(cos_late), q = Median(ratio), d = Median(drift), u = Median(update);
  s += "over the last 20% of training emb_cos_prev is " + Num(c) + " (the embedding turns by " +
       Num(1.0 - c) + " per probe interval), rel_update stays at " + Num(u) +
       " per interval (late/early ratio " + Num(q) + ") and emb_cos_init moves by " + Num(-d);
  if (q >= 0.8 && q <= 1.25 && u > 0 && d > 0.005) {
    return s + ": parameters keep moving at a steady rate and the embedding keeps drifting from "
               "its start, so the late stability is largely the optimiser's equilibrium, not a "
               "frozen embedding.";
  }
  if (q < 0.8) {
    return s + ": updates are still shrinking, so the stability is convergence rather than an "
               "equilibrium.";
  }
  if (q >= 0.8 && q <= 1.25 && d <= 0.005) {
    return s + ": steady updates but the embedding no longer drifts: an equilibrium in which the "
               "embedding direction is fixed, so the stability reflects learned structure.";
  }
  return s + ": updates grow late: neither convergence nor a steady state.";
}

// 7.
std::string AnswerSignals(const AnalysisResult& r) {
  std::string s = "7. Early signals of the test-accuracy jump: ";
  const JumpRef jump = Jump(r);
  if (jump.metric.empty()) return s + "not enough evidence: test_acc is not analysed";
  const std::set<std::int64_t> control = ControlGrids(r);
  std::map<std::string, std::map<std::string, const TraceResult*>> by_job;  // job -> metric
  for (const auto& t : r.traces)
    if (!control.count(t.grid_index)) by_job[t.job_id][t.metric] = &t;
  struct Row {
    std::string name;
    std::int64_t lead = 0, n = 0;
    ConfidenceInterval ci;
  };
  std::vector<Row> rows;
  std::int64_t with_jump = 0;
  for (const auto& [job, m] : by_job) {
    auto it = m.find(jump.metric);
    with_jump += it != m.end() && it->second->Get(jump.kind).found;
  }
  if (with_jump == 0) {
    return s + "not enough evidence: " + jump.label + " was reached in no regular seed";
  }
  for (const std::string& metric : r.metrics) {
    if (metric == jump.metric) continue;
    const TransitionKind kind = DefaultKind(metric);
    Row row;
    row.name = metric + (kind == TransitionKind::kSettle ? ":settle" : "");
    std::vector<double> leads;
    for (const auto& [job, m] : by_job) {
      auto j = m.find(jump.metric), a = m.find(metric);
      if (j == m.end() || a == m.end()) continue;
      const Transition &tj = j->second->Get(jump.kind), &ta = a->second->Get(kind);
      if (!tj.found || !ta.found) continue;
      leads.push_back(tj.Midpoint() - ta.Midpoint());
      row.lead += leads.back() > 0;
    }
    row.n = static_cast<std::int64_t>(leads.size());
    if (row.n == 0) continue;
    row.ci = MedianCi(r, leads, "signals/" + metric);
    rows.push_back(row);
  }
  if (rows.empty()) return s + "not enough evidence: no other metric has a transition";
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    const double fa = static_cast<double>(a.lead) / a.n, fb = static_cast<double>(b.lead) / b.n;
    return std::tie(fb, b.ci.estimate, a.name) < std::tie(fa, a.ci.estimate, b.name);
  });
  s += "ranked by the fraction of regular seeds whose transition comes before " + jump.label +
       ", then by median lead in steps [interval]: ";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    s += (i ? "; " : "") + rows[i].name + " " + std::to_string(rows[i].lead) + "/" +
         std::to_string(rows[i].n) + " " +
         StepsCi(rows[i].ci.estimate, rows[i].ci.low, rows[i].ci.high);
  }
  const Row* loss = nullptr;
  for (const Row& row : rows)
    if (row.name.rfind("train_loss", 0) == 0 || row.name.rfind("test_loss", 0) == 0) {
      loss = &row;
      break;
    }
  s += ". Best: " + rows.front().name;
  if (loss && &rows.front() != loss) s += " (ahead of the best loss signal, " + loss->name + ")";
  return s + ".";
}

}  // namespace phasesweep::analysis
