// JSON text in and out (see json.h). The reader is a recursive descent over RFC 8259 that keeps
// each scalar's literal text.
#include "phasesweep/base/json.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>

namespace phasesweep {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<JsonValue> Document() {
    JsonValue v;
    PHASESWEEP_RETURN_IF_ERROR(Value(&v, 0));
    SkipSpace();
    if (!AtEnd()) return Error("trailing characters");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }

  void SkipSpace() {
    while (!AtEnd() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }

  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // After "\u": one code point, a surrogate pair taking both escapes.
  Status Escape(std::string* out) {
    uint32_t cp = 0;
    if (!Hex4(&cp)) return Error("bad \\u escape (expected four hex digits)");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return Error("high surrogate without its low half");
      pos_ += 2;
      uint32_t lo = 0;
      if (!Hex4(&lo)) return Error("bad \\u escape (expected four hex digits)");
      if (lo < 0xDC00 || lo > 0xDFFF) return Error("high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    AppendUtf8(cp, out);
    return Status::Ok();
  }

  Status String(std::string* out) {
    if (Peek() != '"') return Error("expected '\"'");
    ++pos_;
    while (!AtEnd()) {
      const char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (AtEnd()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u':
          PHASESWEEP_RETURN_IF_ERROR(Escape(out));
          break;
        default:
          return Error(std::string("bad escape '\\") + e + "'");
      }
    }
    return Error("unterminated string");
  }

  Status Number(std::string* out) {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t d = pos_;
      while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
      return pos_ > d;
    };
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (!digits()) {
      return Error("bad number");
    }
    if (Peek() == '.') {
      ++pos_;
      if (!digits()) return Error("bad number fraction");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!digits()) return Error("bad number exponent");
    }
    *out = std::string(s_.substr(start, pos_ - start));
    return Status::Ok();
  }

  // An array or object; `v->text` is rebuilt compactly as its parts are read.
  Status Container(JsonValue* v, int depth) {
    if (depth >= 64) return Error("more than 64 nested arrays and objects");
    const bool object = Peek() == '{';
    const char close = object ? '}' : ']';
    v->kind = object ? JsonValue::Kind::kObject : JsonValue::Kind::kArray;
    v->text.push_back(Peek());
    ++pos_;
    SkipSpace();
    if (Peek() == close) {
      ++pos_;
      v->text.push_back(close);
      return Status::Ok();
    }
    std::set<std::string> keys;
    for (;;) {
      std::string key;
      if (object) {
        SkipSpace();
        const size_t key_at = pos_;
        PHASESWEEP_RETURN_IF_ERROR(String(&key));
        if (!keys.insert(key).second) {
          pos_ = key_at;
          return Error("duplicate key " + JsonQuote(key));
        }
        v->text += JsonQuote(key);
        SkipSpace();
        if (Peek() != ':') return Error("expected ':'");
        ++pos_;
        v->text.push_back(':');
      }
      JsonValue child;
      PHASESWEEP_RETURN_IF_ERROR(Value(&child, depth + 1));
      v->text += child.kind == JsonValue::Kind::kString ? JsonQuote(child.text) : child.text;
      if (object) {
        v->members.emplace_back(std::move(key), std::move(child));
      } else {
        v->items.push_back(std::move(child));
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        v->text.push_back(',');
        continue;
      }
      if (Peek() == close) {
        ++pos_;
        v->text.push_back(close);
        return Status::Ok();
      }
      return Error(std::string("expected ',' or '") + close + "'");
    }
  }

  // Any value; `depth` (the containers around it) bounds the recursion on hostile input.
  Status Value(JsonValue* v, int depth) {
    SkipSpace();
    const char c = Peek();
    if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      return String(&v->text);
    }
    if (c == '{' || c == '[') return Container(v, depth);
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        v->kind = word == "null" ? JsonValue::Kind::kNull : JsonValue::Kind::kBool;
        v->text = std::string(word);
        return Status::Ok();
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v->kind = JsonValue::Kind::kNumber;
      return Number(&v->text);
    }
    return Error(AtEnd() ? "unexpected end" : std::string("unexpected '") + c + "'");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonNumber(double v, DoubleFormat format) {
  return std::isfinite(v) ? FormatDouble(v, format) : "null";
}

Result<JsonValue> ParseJson(std::string_view text) { return Parser(text).Document(); }

Result<std::vector<std::pair<std::string, JsonValue>>> ParseJsonObject(std::string_view text) {
  auto v = ParseJson(text);
  if (!v.ok()) return v.status();
  if (v->kind != JsonValue::Kind::kObject) {
    return Status::InvalidArgument("invalid JSON at byte 0: expected an object");
  }
  return std::move(v->members);
}

}  // namespace phasesweep
