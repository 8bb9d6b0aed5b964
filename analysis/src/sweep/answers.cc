// Answers 1, 2, 3 and 5 (the pattern, its ordering, early stopping, the control), the shared
// helpers and the assembly; answers 4, 6 and 7 are in answers_trends.cc. See answers.h.
#include "phasesweep/analysis/answers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "phasesweep/analysis/bootstrap.h"
#include "phasesweep/analysis/descriptive.h"
#include "phasesweep/analysis/hypothesis_tests.h"
#include "phasesweep/analysis/random.h"
#include "sweep/answers_internal.h"

namespace phasesweep::analysis {
namespace answers_internal {

std::string Setting(const AnalysisResult& r, const std::string& key, const std::string& fallback) {
  for (const auto& [k, v] : r.settings)
    if (k == key) return v;
  return fallback;
}

double SettingNumber(const AnalysisResult& r, const std::string& key, double fallback) {
  const std::string v = Setting(r, key, "");
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  return v.empty() || *end != '\0' ? fallback : d;
}

std::set<std::int64_t> ControlGrids(const AnalysisResult& r) {
  std::set<std::int64_t> out;
  for (const auto& g : r.grid_points)
    if (g.control) out.insert(g.grid_index);
  return out;
}

std::vector<std::int64_t> RegularGrids(const AnalysisResult& r) {
  std::vector<std::int64_t> out;
  for (const auto& g : r.grid_points)
    if (!g.control) out.push_back(g.grid_index);
  return out;
}

std::int64_t SeedsPerRegularGrid(const AnalysisResult& r) {
  std::int64_t n = -1;
  for (const auto& g : r.grid_points)
    if (!g.control) n = n < 0 ? g.n_jobs : std::min(n, g.n_jobs);
  return std::max<std::int64_t>(n, 0);
}

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

std::string PText(double p) {
  if (std::isnan(p)) return "p=-";
  if (p < 1e-12) return "p<1e-12";
  return "p=" + Num(p);
}

std::string Frac(std::int64_t k, std::int64_t n) {
  if (n <= 0) return std::to_string(k) + "/" + std::to_string(n);
  return std::to_string(k) + "/" + std::to_string(n) + " (" +
         std::to_string(static_cast<int>(std::lround(100.0 * k / n))) + "%)";
}

std::string StepsCi(double est, double lo, double hi) {
  auto s = [](double v) { return std::isnan(v) ? std::string("-") : std::to_string(std::lround(v)); };
  return s(est) + " [" + s(lo) + ", " + s(hi) + "]";
}

TransitionKind DefaultKind(const std::string& metric) {
  const bool loss = metric.size() >= 5 && metric.compare(metric.size() - 5, 5, "_loss") == 0;
  return loss ? TransitionKind::kSettle : TransitionKind::kChangePoint;
}

JumpRef Jump(const AnalysisResult& r) {
  JumpRef j;
  if (std::find(r.metrics.begin(), r.metrics.end(), "test_acc") == r.metrics.end()) return j;
  j.metric = "test_acc";
  for (const auto& [k, v] : r.settings) {
    if (k == "threshold" && v.rfind("test_acc>=", 0) == 0) {
      j.kind = TransitionKind::kThreshold;
      j.label = v.substr(0, v.find(':'));
      return j;
    }
  }
  j.label = "test_acc:changepoint";
  return j;
}

ConfidenceInterval MedianCi(const AnalysisResult& r, const std::vector<double>& v,
                            const std::string& tag) {
  const int resamples = static_cast<int>(SettingNumber(r, "bootstrap", 2000));
  const double conf = SettingNumber(r, "confidence", 0.95);
  const auto seed = static_cast<std::uint64_t>(SettingNumber(r, "seed", 0));
  return BootstrapMedianBca(v, resamples, conf, StreamSeed(seed, "answers/" + tag));
}

}  // namespace answers_internal

using namespace answers_internal;  // NOLINT: this file's own helpers

std::int64_t MinSeedsPaired(std::int64_t family, double alpha, bool two_sided) {
  const double m = static_cast<double>(std::max<std::int64_t>(family, 1));
  for (std::int64_t n = 1; n < 64; ++n)
    if ((two_sided ? 2.0 : 1.0) * std::ldexp(1.0, -static_cast<int>(n)) * m <= alpha) return n;
  return 64;
}

std::int64_t MinSeedsBinomial(std::int64_t family, double alpha) {
  const double m = static_cast<double>(std::max<std::int64_t>(family, 1));
  for (std::int64_t n = 1; n < 1000; ++n)
    if (std::pow(alpha, static_cast<double>(n)) * m <= alpha) return n;
  return 1000;
}

std::int64_t MinSeedsMannWhitney(std::int64_t family, double alpha) {
  const double m = static_cast<double>(std::max<std::int64_t>(family, 1));
  for (std::int64_t n = 1; n < 64; ++n) {
    double c = 1.0;  // C(2n, n)
    for (std::int64_t i = 1; i <= n; ++i) c = c * static_cast<double>(n + i) / static_cast<double>(i);
    if (2.0 / c * m <= alpha) return n;
  }
  return 64;
}

namespace {

double Alpha(const AnalysisResult& r) { return SettingNumber(r, "alpha", 0.05); }
std::int64_t Family(const AnalysisResult& r) { return static_cast<std::int64_t>(r.tests.size()); }

const TestRecord* Test(const AnalysisResult& r, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= r.tests.size()) return nullptr;
  return &r.tests[static_cast<std::size_t>(index)];
}

std::string AdjText(const TestRecord& t) {
  return t.test + " " + PText(t.pvalue) + ", adjusted " + PText(t.pvalue_adjusted).substr(2) +
         (t.rejected ? " (significant)" : " (not significant)");
}

std::string NeedSeeds(std::int64_t need, std::int64_t have, const AnalysisResult& r) {
  return "needs >= " + std::to_string(need) + " seeds per grid point (has " +
         std::to_string(have) + "; " + std::to_string(Family(r)) + " p-values adjusted together)";
}

}  // namespace

// 1. Three phases per seed, significance per seed (binomial over seeds) and whether the seeds
// agree on when (the cross-seed agreement test, seed_agreement.h).
std::string AnswerPattern(const AnalysisResult& r) {
  std::string s = "1. Pattern across seeds: ";
  const PhaseComparison* cmp = nullptr;
  for (const auto& c : r.phase_comparisons)
    if (c.n_regular > 0 || c.n_control > 0) {
      cmp = &c;
      break;
    }
  if (!cmp) return s + "not enough evidence: no stability metric analysed with traces long enough "
                       "for the three-phase fit (analysis.stability_metrics)";
  if (cmp->n_regular == 0) return s + "not enough evidence: only control jobs have " + cmp->metric;
  const std::set<std::int64_t> control = ControlGrids(r);
  std::int64_t n_tested = 0, n_sig = 0, grids = 0, grids_rejected = 0;
  std::int64_t agree_grids = 0, agree_rejected = 0;
  double worst_adj = 0.0, agree_worst_adj = 0.0;
  std::vector<double> dispersion, null_dispersion;
  std::string agree_note;
  for (const auto& g : r.significance) {
    if (g.metric != cmp->metric || control.count(g.grid_index)) continue;
    n_tested += g.n_tested;
    n_sig += g.n_significant;
    if (const TestRecord* t = Test(r, g.test)) {
      ++grids;
      grids_rejected += t->rejected;
      worst_adj = std::max(worst_adj, t->pvalue_adjusted);
    }
    if (const TestRecord* t = Test(r, g.agreement_test)) {
      ++agree_grids;
      agree_rejected += t->rejected;
      agree_worst_adj = std::max(agree_worst_adj, t->pvalue_adjusted);
      dispersion.push_back(g.dispersion);
      null_dispersion.push_back(g.null_dispersion);
    } else if (agree_note.empty()) {
      agree_note = g.agreement_note;
    }
  }
  const double frac = static_cast<double>(cmp->k_regular) / static_cast<double>(cmp->n_regular);
  s += cmp->metric + " goes volatile -> transitional -> stable in " +
       Frac(cmp->k_regular, cmp->n_regular) + " regular seeds";
  if (n_tested > 0) {
    s += "; its transition beats the surrogate null in " + Frac(n_sig, n_tested) +
         " (binomial vs alpha significant at " + std::to_string(grids_rejected) + "/" +
         std::to_string(grids) + " grid points, largest adjusted " + PText(worst_adj).substr(2) +
         ")";
  }
  if (agree_grids > 0) {
    s += "; the seeds agree on when it happens at " + std::to_string(agree_rejected) + "/" +
         std::to_string(agree_grids) +
         " grid points (median distance from the seeds' median transition " +
         Num(Median(dispersion)) + " probes vs " + Num(Median(null_dispersion)) +
         " for transitions placed by each seed's own null; surrogate-dispersion test, largest "
         "adjusted " +
         PText(agree_worst_adj).substr(2) + ")";
  } else if (n_tested > 0) {
    s += "; whether the seeds agree on when was not tested (" +
         (agree_note.empty() ? std::string("no seed has a fitted transition") : agree_note) + ")";
  }
  const bool agree = agree_grids > 0 && agree_rejected == agree_grids;
  const std::int64_t need = MinSeedsBinomial(Family(r), Alpha(r));
  const std::int64_t have = SeedsPerRegularGrid(r);
  if (grids_rejected == 0 && agree_rejected == 0 && have < need)
    return s + ". Not enough evidence: " + NeedSeeds(need, have, r);
  if (frac >= 0.8 && grids > 0 && grids_rejected == grids && agree)
    return s + ". Consistent across seeds: each seed has the transition and they agree on when.";
  if (frac >= 0.5)
    return s + ". In most seeds, not all: partly consistent" +
           (agree ? std::string(" (the seeds do agree on when the transition happens).")
                  : std::string("."));
  return s + ". Not consistent: most seeds do not show the three phases" +
         (agree ? std::string(", although their transitions agree on when they happen.")
                : std::string("."));
}

// 2.
std::string AnswerOrdering(const AnalysisResult& r) {
  std::string s = "2. Ordering: ";
  if (r.orderings.empty()) {
    for (const auto& n : r.notes)
      if (n.rfind("ordering ", 0) == 0) return s + "not enough evidence: " + n;
    return s + "not asked (analysis.pairs is empty)";
  }
  const std::set<std::int64_t> control = ControlGrids(r);
  std::vector<std::string> pairs;
  for (const auto& o : r.orderings)
    if (std::find(pairs.begin(), pairs.end(), o.pair) == pairs.end()) pairs.push_back(o.pair);
  bool two_sided = true;
  for (const auto& o : r.orderings)
    if (const TestRecord* t = Test(r, o.wilcoxon_test)) two_sided = t->alternative == "two-sided";
  std::string sep;
  for (const std::string& pair : pairs) {
    std::vector<double> lags;
    std::int64_t a_first = 0, seeds = 0, grids = 0, rejected = 0, need_more = 0;
    double lo_adj = 1.0, hi_adj = 0.0;
    std::string note;
    for (const auto& o : r.orderings) {
      if (o.pair != pair || control.count(o.grid_index)) continue;
      lags.insert(lags.end(), o.lags.begin(), o.lags.end());
      a_first += o.n_a_first;
      seeds += static_cast<std::int64_t>(o.lags.size());
      if (note.empty()) note = o.note;
      const TestRecord* t = Test(r, o.wilcoxon_test);
      if (!t) continue;
      ++grids;
      rejected += t->rejected;
      lo_adj = std::min(lo_adj, t->pvalue_adjusted);
      hi_adj = std::max(hi_adj, t->pvalue_adjusted);
      need_more += static_cast<std::int64_t>(o.lags.size()) <
                   MinSeedsPaired(Family(r), Alpha(r), two_sided);
    }
    const std::string a = pair.substr(0, pair.find('<'));
    const std::string b = pair.substr(pair.find('<') + 1);
    s += sep + a + " vs " + b + ": ";
    sep = "; ";
    if (lags.empty()) {
      s += "no regular seed has both transitions" + (note.empty() ? "" : " (" + note + ")");
      continue;
    }
    const ConfidenceInterval ci = MedianCi(r, lags, "ordering/" + pair);
    const bool first = ci.estimate < 0;
    s += a.substr(0, a.find(':')) + (first ? " first" : ci.estimate > 0 ? " after" : " together") +
         " in " + Frac(first ? a_first : seeds - a_first, seeds) + " regular seeds, median " +
         (first ? "lead " : "lag ") +
         StepsCi(std::fabs(ci.estimate), first ? -ci.high : ci.low, first ? -ci.low : ci.high) +
         " steps";
    if (grids == 0) {
      s += ", no test (" + (note.empty() ? std::string("too few seeds") : note) + ")";
      continue;
    }
    s += ", Wilcoxon adjusted p " + Num(lo_adj) + (grids > 1 ? ".." + Num(hi_adj) : "") +
         ", significant at " + std::to_string(rejected) + "/" + std::to_string(grids) +
         " grid points";
    if (rejected == 0 && need_more > 0) {
      s += " (not enough evidence: " +
           NeedSeeds(MinSeedsPaired(Family(r), Alpha(r), two_sided), SeedsPerRegularGrid(r), r) +
           ")";
    }
  }
  return s + ".";
}

// 3.
std::string AnswerEarlyStopping(const AnalysisResult& r) {
  std::string s = "3. Early stopping: ";
  if (r.early_stop_summaries.empty()) {
    for (const auto& n : r.notes)
      if (n.rfind("early-stopping", 0) == 0) return s + "not enough evidence: " + n;
    return s + "not enough evidence: no early-stopping counterfactual was computed";
  }
  const std::set<std::int64_t> control = ControlGrids(r);
  std::int64_t n = 0, stopped = 0, with_ref = 0, cut = 0;
  for (const auto& e : r.early_stop_summaries) {
    if (control.count(e.grid_index)) continue;
    n += e.n;
    stopped += e.n_stopped;
    with_ref += e.n_with_reference;
    cut += e.n_cut_short;
  }
  const std::string what = Setting(r, "early_stop", "?");
  const std::string monitor = what.substr(0, what.find(" vs "));
  const std::string ref =
      what.find(" vs ") == std::string::npos ? what : what.substr(what.find(" vs ") + 4);
  s += monitor + " with patience " + Setting(r, "patience", "?") + " probes stops " +
       Frac(stopped, n) + " regular seeds; ";
  if (with_ref == 0) return s + "not enough evidence: " + ref + " was found in no regular seed.";
  const auto [lo, hi] = ClopperPearson(cut, with_ref, SettingNumber(r, "confidence", 0.95));
  s += "it would have cut " + std::to_string(cut) + "/" + std::to_string(with_ref) +
       " of those with " + ref + " short before it: " + Num(100.0 * cut / with_ref) + "% [" +
       Num(100.0 * lo) + "%, " + Num(100.0 * hi) + "%]";
  return s + (lo > 0.5   ? ". Yes, in most seeds."
              : hi < 0.5 ? ". No, in most seeds."
                         : ". Undecided at this number of seeds.");
}

// 5.
std::string AnswerControl(const AnalysisResult& r) {
  std::string s = "5. Random-label control: ";
  const std::set<std::int64_t> control = ControlGrids(r);
  const std::string key = Setting(r, "control_key", "task.random_labels");
  if (control.empty()) {
    return s + "not enough evidence: no control jobs (sweep " + key + ": [false, true])";
  }
  if (RegularGrids(r).empty()) {
    return s + "not enough evidence: only control jobs, no regular seeds to compare with";
  }
  const JumpRef jump = Jump(r);
  std::string sep;
  if (!jump.metric.empty()) {
    std::int64_t found[2] = {0, 0}, total[2] = {0, 0};
    for (const auto& t : r.traces) {
      if (t.metric != jump.metric) continue;
      const int c = control.count(t.grid_index) ? 1 : 0;
      ++total[c];
      found[c] += t.Get(jump.kind).found;
    }
    s += jump.label + " reached in " + Frac(found[1], total[1]) + " control vs " +
         Frac(found[0], total[0]) + " regular seeds";
    sep = "; ";
  }
  for (const auto& c : r.phase_comparisons) {
    s += sep + c.metric + " three phases in " + Frac(c.k_control, c.n_control) + " controls vs " +
         Frac(c.k_regular, c.n_regular) + " regular";
    sep = "; ";
    const TestRecord* t = Test(r, c.test);
    if (!t) {
      s += " (" + c.note + ")";
      continue;
    }
    s += " (" + AdjText(*t) + ")";
    if (t->rejected) {
      s += ": the pattern needs the real labels";
    } else if (c.n_control > 0 && c.n_regular > 0 &&
               c.k_control * c.n_regular >= c.k_regular * c.n_control) {
      s += ": controls show it at least as often, so it is not evidence of learned structure";
    } else {
      s += ": not enough evidence that regular seeds show it more often";
    }
  }
  return s + ".";
}

std::vector<Answer> BuildAnswers(const AnalysisResult& r) {
  return {{1, "pattern", AnswerPattern(r)},
          {2, "ordering", AnswerOrdering(r)},
          {3, "early_stopping", AnswerEarlyStopping(r)},
          {4, "hyperparameters", AnswerHyperparameters(r)},
          {5, "control", AnswerControl(r)},
          {6, "equilibrium", AnswerEquilibrium(r)},
          {7, "signals", AnswerSignals(r)}};
}

std::string FormatAnswers(const std::vector<Answer>& answers) {
  std::ostringstream os;
  os << "Answers\n";
  for (const auto& a : answers) os << "  " << a.text << "\n";
  return os.str();
}

}  // namespace phasesweep::analysis
