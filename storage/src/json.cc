// Minimal JSON object reader for hparams (see json.h). Recursive descent over RFC 8259.
#include "phasesweep/storage/json.h"

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace phasesweep::storage {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status Error(const std::string& what) const {
    return Status::InvalidArgument("invalid JSON object at byte " + std::to_string(pos_) + ": " +
                                   what);
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }

  static void AppendUtf8(uint32_t cp, std::string* out) {
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

  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      *v <<= 4;
      if (c >= '0' && c <= '9')
        *v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  Status String(std::string* out) {
    if (Peek() != '"') return Error("expected '\"'");
    ++pos_;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (AtEnd()) break;
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
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
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Error("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 6 <= s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            pos_ += 2;
            uint32_t lo = 0;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return Error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error(std::string("bad escape '\\") + e + "'");
      }
    }
    return Error("unterminated string");
  }

  Status Number(std::string* out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t d = pos_;
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

  // Parses any value; `depth` bounds recursion on hostile input.
  Status Value(JsonValue* v, int depth) {
    if (depth > 64) return Error("nesting too deep");
    SkipSpace();
    char c = Peek();
    if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      return String(&v->text);
    }
    if (c == '{' || c == '[') {
      v->kind = c == '{' ? JsonValue::Kind::kObject : JsonValue::Kind::kArray;
      const char close = c == '{' ? '}' : ']';
      v->text.push_back(c);
      ++pos_;
      SkipSpace();
      if (Peek() == close) {
        ++pos_;
        v->text.push_back(close);
        return Status::Ok();
      }
      for (;;) {
        if (close == '}') {
          SkipSpace();
          std::string key;
          PHASESWEEP_RETURN_IF_ERROR(String(&key));
          v->text += JsonQuote(key);
          SkipSpace();
          if (Peek() != ':') return Error("expected ':'");
          ++pos_;
          v->text.push_back(':');
        }
        JsonValue child;
        PHASESWEEP_RETURN_IF_ERROR(Value(&child, depth + 1));
        v->text += child.kind == JsonValue::Kind::kString ? JsonQuote(child.text) : child.text;
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
    for (const char* word : {"true", "false", "null"}) {
      std::string_view w(word);
      if (s_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        v->kind = w == "null" ? JsonValue::Kind::kNull : JsonValue::Kind::kBool;
        v->text = std::string(w);
        return Status::Ok();
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v->kind = JsonValue::Kind::kNumber;
      return Number(&v->text);
    }
    return Error(AtEnd() ? "unexpected end" : std::string("unexpected '") + c + "'");
  }

  Result<std::vector<std::pair<std::string, JsonValue>>> Object() {
    std::vector<std::pair<std::string, JsonValue>> members;
    std::set<std::string> seen;
    SkipSpace();
    if (Peek() != '{') return Error("expected '{'");
    ++pos_;
    SkipSpace();
    if (Peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        SkipSpace();
        std::string key;
        PHASESWEEP_RETURN_IF_ERROR(String(&key));
        if (!seen.insert(key).second) return Error("duplicate key \"" + key + "\"");
        SkipSpace();
        if (Peek() != ':') return Error("expected ':'");
        ++pos_;
        JsonValue v;
        PHASESWEEP_RETURN_IF_ERROR(Value(&v, 1));
        members.emplace_back(std::move(key), std::move(v));
        SkipSpace();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        if (Peek() == '}') {
          ++pos_;
          break;
        }
        return Error("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (!AtEnd()) return Error("trailing characters");
    return members;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<std::pair<std::string, JsonValue>>> ParseJsonObject(std::string_view json) {
  return Parser(json).Object();
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace phasesweep::storage
