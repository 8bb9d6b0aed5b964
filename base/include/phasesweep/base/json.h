// The one JSON reader and writer of phasesweep (RFC 8259). Writing: JsonQuote for strings and
// JsonNumber (number_format.h) for numbers, assembled by the caller — every --json mode, the
// plan's hparams text and the stored attributes. Reading: ParseJson / ParseJsonObject, for the
// hparams objects stored in results files. Not a DOM library: values keep their literal text
// so that a number reads back exactly as it was written.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phasesweep/base/number_format.h"
#include "phasesweep/base/status.h"

namespace phasesweep {

// `s` as a JSON string literal, with its quotes. Escapes '"' and '\\', writes \n \r \t in their
// short form and every other control character (U+0000..U+001F) as \u00XX with lowercase hex
// (\b and \f included: "\u0008", "\u000c"). Every other byte, UTF-8 and DEL included, is copied
// as it is, as Python's json.dumps(s, ensure_ascii=False) does.
std::string JsonQuote(std::string_view s);

// A number as JSON: JsonNumber(v, format) is FormatDouble(v, format) for finite v and "null"
// for NaN and the infinities (JSON has none).
std::string JsonNumber(double v, DoubleFormat format = DoubleFormat::kShortest);

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  // kString: the decoded string (UTF-8). kNumber, kBool, kNull: the literal as written ("1e-3",
  // "true", "null"). kArray, kObject: the value written again without whitespace, its strings
  // through JsonQuote (e.g. "[1,2]", "{\"a\":\"b\"}").
  std::string text;
  std::vector<JsonValue> items;                            // kArray: the elements in order
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject: the members in text order
};

// Parses one JSON value with optional whitespace around it. \uXXXX escapes are decoded to
// UTF-8, a surrogate pair to its one code point. InvalidArgument "invalid JSON at byte N: ..."
// for anything else: a lone surrogate, a raw control character in a string, a key given twice in
// one object, more than 64 nested arrays and objects, trailing text.
Result<JsonValue> ParseJson(std::string_view text);

// ParseJson for text that must be one object; its members in text order.
Result<std::vector<std::pair<std::string, JsonValue>>> ParseJsonObject(std::string_view text);

}  // namespace phasesweep
