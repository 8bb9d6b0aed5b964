// FormatSummary: the readable text `phasesweep analyze` prints (analyze.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "phasesweep/analysis/analyze.h"
#include "phasesweep/analysis/answers.h"

namespace phasesweep::analysis {
namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

std::string P(const AnalysisResult& r, int test) {
  if (test < 0) return "no test";
  const TestRecord& t = r.tests[static_cast<std::size_t>(test)];
  return t.test + " p=" + Num(t.pvalue) + " adj=" + Num(t.pvalue_adjusted) +
         (t.rejected ? " *" : "");
}

std::string Interval(const ConfidenceInterval& ci) {
  if (std::isnan(ci.estimate)) return "-";
  return Num(ci.estimate) + " [" + Num(ci.low) + ", " + Num(ci.high) + "]";
}

}  // namespace

std::string FormatSummary(const AnalysisResult& r) {
  std::ostringstream os;
  std::string adjust = "holm", alpha = "0.05", conf = "0.95";
  for (const auto& [k, v] : r.settings) {
    if (k == "adjust") adjust = v;
    if (k == "alpha") alpha = v;
    if (k == "confidence") conf = v;
  }
  os << "phasesweep analysis: " << r.n_jobs << " jobs";
  if (r.n_jobs_skipped > 0) os << " (" << r.n_jobs_skipped << " skipped)";
  os << ", " << r.traces.size() << " traces, metrics:";
  for (const auto& m : r.metrics) os << " " << m;
  os << "\n"
     << r.tests.size() << " p-values adjusted together (" << adjust << "), alpha " << alpha
     << "; * = rejected after adjustment\n\n"
     << FormatAnswers(BuildAnswers(r));

  os << "\nTransition steps (median of seed midpoints, " << conf << " BCa interval; found/seeds)\n";
  std::map<std::pair<std::string, std::int64_t>, std::vector<const TransitionSummary*>> by;
  for (const auto& t : r.transitions) by[{t.metric, t.grid_index}].push_back(&t);
  std::map<std::pair<std::string, std::int64_t>, const SignificanceSummary*> sig;
  for (const auto& s : r.significance) sig[{s.metric, s.grid_index}] = &s;
  std::string last_metric;
  for (const auto& [key, list] : by) {
    if (key.first != last_metric) {
      os << "  " << key.first << "\n";
      last_metric = key.first;
    }
    os << "    grid " << key.second << ":";
    for (const TransitionSummary* t : list) {
      os << "  " << TransitionKindName(t->kind) << " " << Interval(t->median_step) << " "
         << t->n_found << "/" << t->n_seeds;
    }
    os << "\n";
    auto it = sig.find(key);
    if (it != sig.end() && it->second->n_tested > 0) {
      const SignificanceSummary& s = *it->second;
      os << "      significant seeds " << s.n_significant << "/" << s.n_tested
         << " (vs alpha: " << P(r, s.test) << ")";
      if (s.agreement_test >= 0) {
        os << "; seeds agree on when: dispersion " << Num(s.dispersion) << " probes vs "
           << Num(s.null_dispersion) << " by chance (" << P(r, s.agreement_test) << ")";
      } else if (!s.agreement_note.empty()) {
        os << "; agreement: " << s.agreement_note;
      }
      os << "\n";
    }
  }

  if (!r.orderings.empty()) {
    os << "\nOrdering (lag = A - B in steps; < 0: A first)\n";
    for (const auto& o : r.orderings) {
      os << "  grid " << o.grid_index << " " << o.pair << ": ";
      if (o.lags.empty()) {
        os << o.note << "\n";
        continue;
      }
      os << "median lag " << Interval(o.median_lag) << ", A first " << o.n_a_first << ", B first "
         << o.n_b_first << ", tied " << o.n_tied << "; " << P(r, o.wilcoxon_test) << "; "
         << P(r, o.sign_test);
      if (!o.note.empty()) os << " (" << o.note << ")";
      os << "\n";
    }
  }

  if (!r.phase_summaries.empty() || !r.phase_comparisons.empty()) {
    os << "\nThree phases (volatile -> transitional -> stable), seeds showing the order\n";
    for (const auto& s : r.phase_summaries) {
      os << "  " << s.metric << " grid " << s.grid_index << (s.control ? " (control)" : "") << ": "
         << s.n_three_phase << "/" << s.n << "\n";
    }
    for (const auto& c : r.phase_comparisons) {
      os << "  " << c.metric << " regular " << c.k_regular << "/" << c.n_regular << " vs control "
         << c.k_control << "/" << c.n_control << ": " << (c.test >= 0 ? P(r, c.test) : c.note)
         << "\n";
    }
  }

  if (!r.effects.empty()) {
    os << "\nHyperparameter effects on transition steps\n";
    for (const auto& e : r.effects) {
      os << "  " << e.axis << (e.fixed.empty() ? "" : " [" + e.fixed + "]") << " " << e.metric
         << ":" << TransitionKindName(e.kind) << ": medians";
      for (std::size_t l = 0; l < e.levels.size(); ++l) {
        std::vector<double> v = e.steps[l];
        double med = std::nan("");
        if (!v.empty()) {
          std::sort(v.begin(), v.end());
          med = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
        }
        os << " " << e.levels[l] << ":" << Num(med);
      }
      if (e.kruskal_test < 0) {
        os << "; " << e.note << "\n";
        continue;
      }
      os << "; " << P(r, e.kruskal_test);
      if (e.spearman_test >= 0) os << "; " << P(r, e.spearman_test);
      std::size_t rejected = 0;
      for (int t : e.mannwhitney_tests) rejected += r.tests[static_cast<std::size_t>(t)].rejected;
      os << "; pairwise mannwhitney rejected " << rejected << "/" << e.mannwhitney_tests.size()
         << "\n";
    }
  }

  if (!r.early_stop_summaries.empty()) {
    std::string what;
    for (const auto& [k, v] : r.settings)
      if (k == "early_stop") what = v;
    os << "\nEarly stopping (" << what << "): seeds cut short before the reference transition\n";
    for (const auto& s : r.early_stop_summaries) {
      os << "  grid " << s.grid_index << ": stops " << s.n_stopped << "/" << s.n << ", cut short "
         << s.n_cut_short << "/" << s.n_with_reference << " = " << Num(s.fraction) << " ["
         << Num(s.ci_low) << ", " << Num(s.ci_high) << "]\n";
    }
  }

  if (!r.tests.empty()) {
    os << "\nAll tests\n";
    for (const auto& t : r.tests) {
      os << "  [" << t.family << "] " << t.description << ": " << t.test << " (" << t.alternative
         << ", " << t.method << ", n=" << t.n << ") statistic=" << Num(t.statistic)
         << " p=" << Num(t.pvalue) << " adj=" << Num(t.pvalue_adjusted) << (t.rejected ? " *" : "")
         << "\n";
    }
  }
  if (!r.notes.empty()) {
    os << "\nNotes\n";
    for (const auto& n : r.notes) os << "  - " << n << "\n";
  }
  return os.str();
}

}  // namespace phasesweep::analysis
