// The answers to the study's questions, one plain line each, built from an AnalysisResult and
// nothing else (pure functions: same result, same text). `phasesweep analyze` prints them before
// the tables and stores them as /analysis/answers (docs/FORMAT.md). Every number in a line comes
// from the result; where the result cannot answer, the line says so ("not enough evidence: ...",
// "needs >= N seeds per grid point ...") instead of guessing.
//
// The questions (issue 13, from the post that started the project):
//   1 pattern         is instability -> abstraction -> stabilisation consistent across seeds
//   2 ordering        does embedding stabilisation precede or follow the loss plateau and the
//                     test-accuracy jump
//   3 early_stopping  would loss-based early stopping have cut training before the abstraction
//   4 hyperparameters does weight decay move it, and does the amount of data
//   5 control         does the random-label control show it
//   6 equilibrium     how much of the late cosine stability is the lr / weight-decay equilibrium
//   7 signals         which probed metric signals the test-accuracy jump earlier than loss
// Regular seeds are those of grid points that are not controls (GridPointInfo::control).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/analysis/analysis_result.h"

namespace phasesweep::analysis {

struct Answer {
  int id = 0;         // 1..7, the question
  std::string topic;  // short name: pattern, ordering, ... (above)
  std::string text;   // the full line, starting "<id>. "
};

std::string AnswerPattern(const AnalysisResult& r);
std::string AnswerOrdering(const AnalysisResult& r);
std::string AnswerEarlyStopping(const AnalysisResult& r);
std::string AnswerHyperparameters(const AnalysisResult& r);
std::string AnswerControl(const AnalysisResult& r);
std::string AnswerEquilibrium(const AnalysisResult& r);
std::string AnswerSignals(const AnalysisResult& r);

// All seven, in question order.
std::vector<Answer> BuildAnswers(const AnalysisResult& r);

// "Answers\n" then one line per answer.
std::string FormatAnswers(const std::vector<Answer>& answers);

// The fewest seeds per group with which an exact test whose smallest p-value is `min_p(n)` can
// still be significant after adjusting `family` p-values at `alpha` (the smallest p is
// multiplied by the family size under Holm and under BH alike). Used to say "needs >= N seeds".
//   paired exact (Wilcoxon, sign) two-sided: 2 / 2^n;  one-sided: 1 / 2^n
//   binomial vs alpha (every seed significant): alpha^n
//   Mann-Whitney, two groups of n, two-sided: 2 / C(2n, n)
std::int64_t MinSeedsPaired(std::int64_t family, double alpha, bool two_sided);
std::int64_t MinSeedsBinomial(std::int64_t family, double alpha);
std::int64_t MinSeedsMannWhitney(std::int64_t family, double alpha);

}  // namespace phasesweep::analysis
