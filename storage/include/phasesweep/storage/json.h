// A small reader for the one JSON shape phasesweep stores: an object of resolved grid values,
// e.g. {"lr":0.001,"optimizer":"adamw","layers":[1,2]}. It exists so storage needs no JSON
// dependency; it is not a general JSON library.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::storage {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  // kString: the decoded string. Others: the value's JSON text, whitespace removed
  // (e.g. "0.001", "true", "[1,2]").
  std::string text;
};

// Parses a JSON object into its members in file order. InvalidArgument with the byte offset
// when the text is not one JSON object (duplicate keys are an error too).
Result<std::vector<std::pair<std::string, JsonValue>>> ParseJsonObject(std::string_view json);

// Quotes and escapes `s` as a JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace phasesweep::storage
