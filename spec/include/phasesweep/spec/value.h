// A configuration value: what one key of the catalog (catalog.h) holds once parsed.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "phasesweep/base/hparams.h"

namespace phasesweep::spec {

enum class ValueType {
  kBool,
  kInt,
  kDouble,
  kString,      // free text, or one of KeySpec::choices when those are given
  kStringList,  // a YAML sequence of strings (each one of KeySpec::choices when given)
  kIntOrAuto,   // a positive integer or the word "auto" (stored as 0)
};

// Doubles keep the exact binary value parsed; Canonical() prints the shortest text that reads
// back as that value, so "1e-3" and "0.001" give the same identity.
class Value {
 public:
  using Storage = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;
  Value() = default;
  explicit Value(Storage s) : v_(std::move(s)) {}

  bool AsBool() const { return std::get<bool>(v_); }
  int64_t AsInt() const { return std::get<int64_t>(v_); }
  double AsDouble() const { return std::get<double>(v_); }
  const std::string& AsString() const { return std::get<std::string>(v_); }
  const std::vector<std::string>& AsStringList() const {
    return std::get<std::vector<std::string>>(v_);
  }
  const Storage& storage() const { return v_; }

  // Unambiguous text used for hashing (JSON scalar / array syntax).
  std::string Canonical() const;
  // Short human text for tables and YAML ("1e-03" stays "0.001").
  std::string Display() const;
  // The value as a job's hyperparameter; its Json() is Canonical().
  HparamValue AsHparam() const;
  bool operator==(const Value& o) const { return v_ == o.v_; }
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  Storage v_;
};

// The canonical text of a double in job ids, config hashes and config messages: the shortest
// that reads back as exactly `v` in printf's %g layout (base's DoubleFormat::kShortestG, frozen
// because job ids are hashed from it), always recognisable as a real number ("1.0", "1e+02").
std::string CanonicalDouble(double v);

}  // namespace phasesweep::spec
