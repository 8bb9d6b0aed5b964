// The small grammars of sweeps, shared by YAML and command-line overrides:
//   seeds:          "range(8)", "range(4,8)", "range(0,20,5)", "0,3,7", "5"
//   comma lists:    "0.1,1.0" (commas inside [...] or (...) do not split)
//   distributions:  "uniform(a,b)", "loguniform(a,b)" (doubles), "choice(x,y,...)" (any type)
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/catalog.h"

namespace phasesweep::orchestrator {

// Seeds from the grammar above; errors name `where`. Duplicates and negatives are refused.
Result<std::vector<uint64_t>> ParseSeeds(const std::string& text, const std::string& where);

// Splits at commas that are not inside brackets or parentheses; trims spaces.
std::vector<std::string> SplitTopLevelCommas(const std::string& text);

struct Distribution {
  enum class Kind { kUniform, kLogUniform, kChoice } kind;
  double lo = 0, hi = 0;             // uniform / loguniform
  std::vector<spec::Value> choices;  // choice
  // Draws one value; uses only the engine's raw 64-bit output, so samples are the same on every
  // platform (std::uniform_real_distribution is implementation-defined).
  spec::Value Sample(std::mt19937_64& engine) const;
};
Result<Distribution> ParseDistribution(const spec::KeySpec& spec, const std::string& text,
                                       const std::string& where);

}  // namespace phasesweep::orchestrator
