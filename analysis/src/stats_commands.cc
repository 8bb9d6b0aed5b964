// `phasesweep stats changepoints | test | adjust`; see stats_commands.h.
#include "phasesweep/analysis/stats_commands.h"

#include <cmath>
#include <fstream>
#include <vector>

#include "phasesweep/analysis/changepoint.h"
#include "phasesweep/analysis/hypothesis_tests.h"
#include "phasesweep/analysis/multiple_testing.h"
#include "phasesweep/base/json.h"
#include "phasesweep/base/number_rows.h"

namespace phasesweep::analysis {
namespace {

// The numbers of every row (the stats input grammar, base/number_rows.h).
Result<std::vector<std::vector<double>>> ReadLines(std::istream& in, const std::string& name) {
  Result<std::vector<NumberRow>> rows = ReadNumberRows(in, name);
  if (!rows.ok()) return rows.status();
  std::vector<std::vector<double>> lines;
  for (NumberRow& row : *rows) lines.push_back(std::move(row.values));
  return lines;
}

std::vector<double> Flatten(const std::vector<std::vector<double>>& lines) {
  std::vector<double> all;
  for (const auto& l : lines) all.insert(all.end(), l.begin(), l.end());
  return all;
}

bool IsInteger(double v) { return v == std::floor(v) && std::fabs(v) < 9e15; }

}  // namespace

Status RunChangepoints(const ChangepointsRequest& q, std::istream& in, std::ostream& out) {
  if (q.method != "pelt" && q.method != "binseg") {
    return Status::InvalidArgument("unknown --method '" + q.method + "' (valid: pelt, binseg)");
  }
  auto cost_kind = ParseCostKind(q.cost);
  if (!cost_kind.ok()) return cost_kind.status().WithContext("--cost");
  if (q.penalty && q.n_bkps) return Status::InvalidArgument("give --pen or --n-bkps, not both");
  if (q.method == "pelt" && q.n_bkps) {
    return Status::InvalidArgument("pelt takes --pen; --n-bkps is for --method binseg");
  }
  if (q.n_bkps && *q.n_bkps < 0) return Status::InvalidArgument("--n-bkps must be >= 0");
  if (q.min_size < 1) return Status::InvalidArgument("--min-size must be >= 1");
  if (q.jump < 1) return Status::InvalidArgument("--jump must be >= 1");
  auto lines = ReadLines(in, q.input_name);
  if (!lines.ok()) return lines.status();
  const std::vector<double> y = Flatten(*lines);
  if (y.empty()) return Status::InvalidArgument(q.input_name + ": no values to segment");
  auto cost = MakeSegmentCost(*cost_kind, y);
  if (!cost.ok()) return cost.status().WithContext(q.input_name);
  const SegmentationParams params{static_cast<std::size_t>(q.min_size),
                                  static_cast<std::size_t>(q.jump)};
  double penalty = q.penalty ? *q.penalty : DefaultPenalty(*cost_kind, y);
  Result<std::vector<std::size_t>> bkps =
      q.method == "pelt" ? Pelt(**cost, params, penalty)
      : q.n_bkps
          ? BinarySegmentation(**cost, params, {static_cast<std::size_t>(*q.n_bkps), std::nullopt})
          : BinarySegmentation(**cost, params, {std::nullopt, penalty});
  if (!bkps.ok()) return bkps.status().WithContext(q.input_name);
  if (q.json) {
    out << "{\"method\": " << JsonQuote(q.method) << ", \"cost\": " << JsonQuote(q.cost)
        << ", \"min_size\": " << q.min_size << ", \"jump\": " << q.jump << ", ";
    if (q.n_bkps) {
      out << "\"n_bkps\": " << *q.n_bkps;
    } else {
      out << "\"penalty\": " << JsonNumber(penalty);
    }
    out << ", \"n\": " << y.size() << ", \"breakpoints\": [";
    for (std::size_t i = 0; i < bkps->size(); ++i) out << (i ? ", " : "") << (*bkps)[i];
    out << "]}\n";
  } else {
    for (std::size_t i = 0; i < bkps->size(); ++i) out << (i ? " " : "") << (*bkps)[i];
    out << "\n";
  }
  return Status::Ok();
}

Status RunTest(const TestRequest& q, std::istream& in, std::ostream& out) {
  static const char* kTests = "wilcoxon, sign, mannwhitney, kruskal, spearman, binom, permutation";
  const std::string& t = q.test;
  const bool known = t == "wilcoxon" || t == "sign" || t == "mannwhitney" || t == "kruskal" ||
                     t == "spearman" || t == "binom" || t == "permutation";
  if (!known) return Status::InvalidArgument("unknown test '" + t + "' (valid: " + kTests + ")");
  auto alternative = ParseAlternative(q.alternative);
  if (!alternative.ok()) return alternative.status().WithContext("--alternative");
  auto method = ParseTestMethod(q.method);
  if (!method.ok()) return method.status().WithContext("--method");
  const bool has_method = t == "wilcoxon" || t == "mannwhitney" || t == "permutation";
  if (!has_method && *method != TestMethod::kAuto) {
    return Status::InvalidArgument(
        "--method applies to wilcoxon, mannwhitney and permutation, "
        "not " +
        t);
  }
  if (t == "kruskal" && *alternative != Alternative::kTwoSided) {
    return Status::InvalidArgument("kruskal has no one-sided alternative (use two-sided)");
  }
  auto lines = ReadLines(in, q.input_name);
  if (!lines.ok()) return lines.status();
  const auto& s = *lines;
  auto need = [&](std::size_t lo, std::size_t hi, const char* what) -> Status {
    if (s.size() < lo || s.size() > hi) {
      return Status::InvalidArgument(q.input_name + ": " + t + " needs " + what + ", got " +
                                     std::to_string(s.size()) + " non-empty line(s)");
    }
    return Status::Ok();
  };
  Result<TestResult> r = Status::Internal("no test run");
  std::size_t n = 0;
  if (t == "wilcoxon" || t == "sign") {
    PHASESWEEP_RETURN_IF_ERROR(need(1, 2, "one line of differences or two lines x and y"));
    std::vector<double> d = s[0];
    if (s.size() == 2) {
      if (s[0].size() != s[1].size()) {
        return Status::InvalidArgument(q.input_name + ": paired samples differ in length (" +
                                       std::to_string(s[0].size()) + " and " +
                                       std::to_string(s[1].size()) + ")");
      }
      for (std::size_t i = 0; i < d.size(); ++i) d[i] = s[0][i] - s[1][i];
    }
    n = d.size();
    r = t == "wilcoxon" ? WilcoxonSignedRank(d, *alternative, *method) : SignTest(d, *alternative);
  } else if (t == "mannwhitney" || t == "spearman" || t == "permutation") {
    PHASESWEEP_RETURN_IF_ERROR(need(2, 2, "two lines (two samples)"));
    n = s[0].size() + s[1].size();
    if (t == "mannwhitney") {
      r = MannWhitneyU(s[0], s[1], *alternative, *method);
    } else if (t == "spearman") {
      n = s[0].size();
      r = Spearman(s[0], s[1], *alternative);
    } else {
      r = PermutationMeanDifference(s[0], s[1], *alternative, *method);
    }
  } else if (t == "kruskal") {
    PHASESWEEP_RETURN_IF_ERROR(need(2, static_cast<std::size_t>(-1), "two or more lines (groups)"));
    for (const auto& g : s) n += g.size();
    r = KruskalWallis(s);
  } else {  // binom
    PHASESWEEP_RETURN_IF_ERROR(need(1, 1, "one line 'k n p0'"));
    if (s[0].size() != 3 || !IsInteger(s[0][0]) || !IsInteger(s[0][1])) {
      return Status::InvalidArgument(q.input_name +
                                     ": binom needs one line 'k n p0' with integers k and n");
    }
    n = static_cast<std::size_t>(std::max(0.0, s[0][1]));
    r = BinomTest(static_cast<std::int64_t>(s[0][0]), static_cast<std::int64_t>(s[0][1]), s[0][2],
                  *alternative);
  }
  if (!r.ok()) return r.status().WithContext(q.input_name);
  if (q.json) {
    out << "{\"test\": " << JsonQuote(t) << ", \"alternative\": " << JsonQuote(q.alternative)
        << ", \"method\": " << JsonQuote(TestMethodName(r->method)) << ", \"n\": " << n
        << ", \"statistic\": " << JsonNumber(r->statistic)
        << ", \"pvalue\": " << JsonNumber(r->pvalue) << "}\n";
  } else {
    out << "statistic=" << FormatDouble(r->statistic) << " pvalue=" << FormatDouble(r->pvalue)
        << "\n";
  }
  return Status::Ok();
}

Status RunAdjust(const AdjustRequest& q, std::istream& in, std::ostream& out) {
  auto method = ParseAdjustment(q.method);
  if (!method.ok()) return method.status();
  auto lines = ReadLines(in, q.input_name);
  if (!lines.ok()) return lines.status();
  std::vector<double> p;
  for (std::size_t l = 0; l < lines->size(); ++l) {
    for (std::size_t k = 0; k < (*lines)[l].size(); ++k) {
      const double v = (*lines)[l][k];
      if (!(v >= 0.0 && v <= 1.0)) {
        return Status::InvalidArgument(q.input_name + ": value " + FormatDouble(v) + " (p-value " +
                                       std::to_string(p.size() + 1) +
                                       ") is not a p-value in [0, 1]");
      }
      p.push_back(v);
    }
  }
  if (p.empty()) return Status::InvalidArgument(q.input_name + ": no p-values");
  const std::vector<double> adj = AdjustPValues(p, *method);
  if (q.json) {
    out << "{\"method\": " << JsonQuote(AdjustmentName(*method)) << ", \"pvalues\": [";
    for (std::size_t i = 0; i < p.size(); ++i) out << (i ? ", " : "") << JsonNumber(p[i]);
    out << "], \"adjusted\": [";
    for (std::size_t i = 0; i < adj.size(); ++i) out << (i ? ", " : "") << JsonNumber(adj[i]);
    out << "]}\n";
  } else {
    for (double v : adj) out << FormatDouble(v) << "\n";
  }
  return Status::Ok();
}

}  // namespace phasesweep::analysis
