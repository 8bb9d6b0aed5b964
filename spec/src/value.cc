// Value's canonical and display text.
#include "phasesweep/spec/value.h"

#include <cmath>

#include "phasesweep/base/json.h"

namespace phasesweep::spec {
namespace {

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

// The %g layout (kShortestG) is what job ids and config hashes are made of: it must never change.
std::string CanonicalDouble(double v) {
  std::string s = JsonNumber(v, DoubleFormat::kShortestG);
  if (std::isfinite(v) && s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Value::Canonical() const {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return CanonicalDouble(d); }  // exact, shortest
    std::string operator()(const std::string& s) const { return JsonQuote(s); }
    std::string operator()(const std::vector<std::string>& l) const {
      std::vector<std::string> q;
      for (const auto& s : l) q.push_back(JsonQuote(s));
      return "[" + Join(q, ",") + "]";
    }
  };
  return std::visit(V{}, v_);
}

HparamValue Value::AsHparam() const {
  struct V {
    HparamValue operator()(bool b) const { return HparamValue::Bool(b); }
    HparamValue operator()(int64_t i) const { return HparamValue::Number(std::to_string(i)); }
    HparamValue operator()(double d) const { return HparamValue::Number(CanonicalDouble(d)); }
    HparamValue operator()(const std::string& s) const { return HparamValue::String(s); }
    HparamValue operator()(const std::vector<std::string>& l) const {
      return {HparamValue::Kind::kStringList, Value(Storage(l)).Canonical()};
    }
  };
  return std::visit(V{}, v_);
}

std::string Value::Display() const {
  if (const double* d = std::get_if<double>(&v_)) return CanonicalDouble(*d);
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  if (const auto* l = std::get_if<std::vector<std::string>>(&v_)) return "[" + Join(*l, ", ") + "]";
  return Canonical();
}

}  // namespace phasesweep::spec
