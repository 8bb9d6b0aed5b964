// A job's hyperparameters: the keys its grid point sweeps and their values, typed. The plan makes
// them from the configuration's values (spec::Value::AsHparam); results files store them as the
// text HparamsJson writes (the text job ids are hashed from); ParseHparams reads that text back
// once, where a file is read, so nothing downstream parses JSON again.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "phasesweep/base/status.h"

namespace phasesweep {

// One swept value. `text` is a number or bool literal exactly as the plan wrote it ("0.001", "4",
// "true"), the decoded string, or a list of strings as compact JSON (["a","b"]). Keeping the
// literal makes text -> Hparams -> text the identity, so ids and stored files cannot move.
struct HparamValue {
  enum class Kind { kNumber, kString, kBool, kStringList };
  Kind kind = Kind::kString;
  std::string text;

  static HparamValue Number(std::string literal) { return {Kind::kNumber, std::move(literal)}; }
  static HparamValue String(std::string s) { return {Kind::kString, std::move(s)}; }
  static HparamValue Bool(bool b) { return {Kind::kBool, b ? "true" : "false"}; }

  std::string Json() const;  // kString: JsonQuote(text); the others: text
  bool operator==(const HparamValue& o) const { return kind == o.kind && text == o.text; }
  bool operator!=(const HparamValue& o) const { return !(*this == o); }
};

using Hparams = std::map<std::string, HparamValue>;  // keys sorted

// {"key":value,...}: keys sorted, no whitespace, "{}" when empty.
std::string HparamsJson(const Hparams& hparams);

// Reads what HparamsJson writes: one JSON object whose values are numbers, strings, booleans or
// lists of strings. InvalidArgument "hparams TEXT: WHAT; expected a flat object of
// number/string/bool values" otherwise (null, nested objects, invalid JSON).
Result<Hparams> ParseHparams(std::string_view json);

}  // namespace phasesweep
