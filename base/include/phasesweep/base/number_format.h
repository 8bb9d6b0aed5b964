// The one formatter of doubles as decimal text, for JSON, CSV, printed results and the hparams
// text that job ids are hashed from. Everything printed or written uses kShortest. The other two
// layouts are identities, hashed rather than read, kept because existing ids and checkpoints
// must not change by a byte:
//
//  - kShortestG is the form inside every job id and config hash (the plan hashes the hparams
//    text, e.g. {"optimizer.lr":0.0001}). It has the fewest significant digits that read back
//    exactly, like kShortest, but in printf's %g layout, which differs from std::to_chars' choice
//    between fixed and exponent form: 100 is "1e+02" (kShortest: "100"), 0.0001 is "0.0001"
//    (kShortest: "1e-04"), 1e21 is "1e+21" in both. It is computed the way ids were always
//    computed (the smallest %.Ng precision that strtod reads back as v), never through
//    std::to_chars, so that ids cannot move; base/tests/number_format_test.cc pins both forms.
//  - kDigits17 is printf's %.17g, the training spec fingerprint in checkpoints (a different
//    layout would make every existing checkpoint look like another run's).
#pragma once

#include <string>

namespace phasesweep {

enum class DoubleFormat {
  kShortest,   // std::to_chars: "0.1", "100", "1e-05", "1.5e+300"
  kShortestG,  // printf %g with the fewest digits: "0.1", "1e+02", "1e-05" (job ids)
  kDigits17,   // printf %.17g: "0.10000000000000001", "100"
};

// `v` as decimal text in `format`, always read back by strtod as exactly `v`. Non-finite values:
// "nan", "inf", "-inf" (kDigits17: whatever printf writes, "-nan" included, as it always did).
std::string FormatDouble(double v, DoubleFormat format = DoubleFormat::kShortest);

}  // namespace phasesweep
