// Internal to spec/: the per-section tables (keys.cc, keys_analysis.cc) and the helpers that
// build their rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phasesweep/spec/catalog.h"

namespace phasesweep::spec {

std::vector<KeySpec> NameKeys();
std::vector<KeySpec> TaskKeys();
std::vector<KeySpec> ModelKeys();
std::vector<KeySpec> OptimizerKeys();
std::vector<KeySpec> TrainingKeys();
std::vector<KeySpec> ProbeKeys();
std::vector<KeySpec> AnalysisKeys();
std::vector<KeySpec> OutputKeys();

using R = KeyRole;
using T = ValueType;

inline KeySpec Key(std::string key, T type, std::string def, R role, std::string doc) {
  KeySpec k;
  k.key = std::move(key);
  k.type = type;
  k.default_yaml = std::move(def);
  k.role = role;
  k.doc = std::move(doc);
  return k;
}
inline KeySpec Choice(std::string key, std::string def, R role, std::vector<std::string> choices,
                      std::string doc) {
  KeySpec k = Key(std::move(key), T::kString, std::move(def), role, std::move(doc));
  k.choices = std::move(choices);
  return k;
}
inline KeySpec Ranged(KeySpec k, std::optional<double> min, std::optional<double> max,
                      bool min_exclusive = false) {
  k.min = min;
  k.max = max;
  k.min_exclusive = min_exclusive;
  return k;
}
// A range open at both ends: (min, max).
inline KeySpec Open(KeySpec k, double min, double max) {
  k = Ranged(std::move(k), min, max, /*min_exclusive=*/true);
  k.max_exclusive = true;
  return k;
}
inline KeySpec Fixed(KeySpec k) {
  k.sweepable = false;
  return k;
}

}  // namespace phasesweep::spec
