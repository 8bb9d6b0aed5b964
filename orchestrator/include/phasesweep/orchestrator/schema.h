// The configuration schema: every key phasesweep accepts, its type, default, valid range and
// meaning, in one table (schema.cc). Parsing, validation, `plan`, docs/CONFIG.md (checked by a
// test) and job identity all read this table, so a key exists in exactly one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::orchestrator {

enum class ValueType {
  kBool,
  kInt,
  kDouble,
  kString,      // free text, or one of KeySpec::choices when those are given
  kStringList,  // a YAML sequence of strings (each one of KeySpec::choices when given)
  kIntOrAuto,   // a positive integer or the word "auto" (stored as 0)
};

// A configuration value. Doubles keep the exact binary value parsed; Canonical() prints it
// with 17 significant digits so "1e-3" and "0.001" give the same identity.
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
  bool operator==(const Value& o) const { return v_ == o.v_; }
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  Storage v_;
};

// How a key takes part in a job's identity and in packing.
enum class KeyRole {
  kStructural,    // part of the job id; jobs in one pack share it (shapes, task, steps, probes)
  kMemberScalar,  // part of the job id; may differ between members of one pack (lr, wd, betas)
  kRuntime,       // not part of the job id or config hash (device, threads, pack size, output)
};

struct KeySpec {
  std::string key;  // dotted, e.g. "optimizer.lr"
  ValueType type;
  std::string default_yaml;  // default as YAML text
  KeyRole role;
  std::string doc;                   // one line for docs/CONFIG.md and `plan --schema`
  std::vector<std::string> choices;  // valid words for kString / each element of kStringList
  std::optional<double> min;         // inclusive unless min_exclusive
  bool min_exclusive = false;
  std::optional<double> max;  // inclusive
  bool sweepable = true;      // may appear in sweep.grid / sweep.random / comma overrides
};

// All keys in documentation order (section by section).
const std::vector<KeySpec>& Schema();

// The spec of `key`, or nullptr.
const KeySpec* FindKey(const std::string& key);

// The valid key closest to `key` by edit distance, if close enough to be a likely typo.
std::optional<std::string> DidYouMean(const std::string& key);

// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> NearestWord(const std::string& word,
                                       const std::vector<std::string>& candidates);

// Top-level sections in order: name, task, model, optimizer, training, probes, sweep, analysis,
// output.
const std::vector<std::string>& Sections();

// Converts YAML scalar text to a value of `spec`'s type and checks choices and range.
// `where` prefixes the error ("file:line:col" or "override 'k=v'").
Result<Value> ValueFromText(const KeySpec& spec, const std::string& text, const std::string& where);
Result<Value> ValueFromList(const KeySpec& spec, const std::vector<std::string>& items,
                            const std::string& where);

// The valid probe names (probes.metrics) with a line of documentation each; whether a probe
// applies to a task or model is the worker registry's to say (worker::ProbeRegistry::Validate).
struct ProbeInfo {
  std::string name;
  std::string doc;
};
const std::vector<ProbeInfo>& ProbeCatalog();

}  // namespace phasesweep::orchestrator
