// Hyperparameters as JSON text and back (see hparams.h).
#include "phasesweep/base/hparams.h"

#include "phasesweep/base/json.h"

namespace phasesweep {

std::string HparamValue::Json() const { return kind == Kind::kString ? JsonQuote(text) : text; }

std::string HparamsJson(const Hparams& hparams) {
  std::string out = "{";
  for (const auto& [key, value] : hparams)
    out += (out.size() > 1 ? "," : "") + JsonQuote(key) + ":" + value.Json();
  return out + "}";
}

Result<Hparams> ParseHparams(std::string_view json) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("hparams " + std::string(json) + ": " + what +
                                   "; expected a flat object of number/string/bool values");
  };
  auto members = ParseJsonObject(json);
  if (!members.ok()) return bad(members.status().message());
  Hparams out;
  for (auto& [key, value] : *members) {
    HparamValue v;
    switch (value.kind) {
      case JsonValue::Kind::kNumber:
        v = HparamValue::Number(std::move(value.text));
        break;
      case JsonValue::Kind::kString:
        v = HparamValue::String(std::move(value.text));
        break;
      case JsonValue::Kind::kBool:
        v = {HparamValue::Kind::kBool, std::move(value.text)};
        break;
      case JsonValue::Kind::kArray: {
        bool strings = true;
        for (const JsonValue& item : value.items)
          strings = strings && item.kind == JsonValue::Kind::kString;
        if (!strings) return bad("key " + JsonQuote(key) + " has the value " + value.text);
        v = {HparamValue::Kind::kStringList, std::move(value.text)};
        break;
      }
      default:
        return bad("key " + JsonQuote(key) + " has the value " + value.text);
    }
    out.emplace(key, std::move(v));
  }
  return out;
}

}  // namespace phasesweep
