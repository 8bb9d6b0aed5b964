// Seeds, comma lists and random-search distributions (see sweep_grammar.h for the grammar).
#include "phasesweep/orchestrator/sweep_grammar.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace phasesweep::orchestrator {

using spec::KeySpec;
using spec::Value;
using spec::ValueType;

namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool ParseNonNegative(const std::string& text, uint64_t* out) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), ::isdigit) || text.size() > 19)
    return false;
  *out = std::stoull(text);
  return true;
}

// Returns the inside of "name(...)" or nullopt if `text` is not such a call.
std::optional<std::string> CallArgs(const std::string& text, const std::string& name) {
  if (text.rfind(name + "(", 0) != 0 || text.back() != ')') return std::nullopt;
  return text.substr(name.size() + 1, text.size() - name.size() - 2);
}

}  // namespace

std::vector<std::string> SplitTopLevelCommas(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!Trim(cur).empty() || !out.empty()) out.push_back(Trim(cur));
  return out;
}

Result<std::vector<uint64_t>> ParseSeeds(const std::string& raw, const std::string& where) {
  const std::string text = Trim(raw);
  std::vector<uint64_t> seeds;
  if (auto args = CallArgs(text, "range")) {
    const auto parts = SplitTopLevelCommas(*args);
    std::vector<uint64_t> n(parts.size());
    bool ok = !parts.empty() && parts.size() <= 3;
    for (size_t i = 0; ok && i < parts.size(); ++i) ok = ParseNonNegative(parts[i], &n[i]);
    if (!ok) {
      return Status::InvalidArgument(
          where + ": bad seeds '" + text +
          "'; valid: range(N), range(A,B), range(A,B,STEP) with non-negative "
          "integers, or a list like 0,3,7");
    }
    uint64_t lo = parts.size() == 1 ? 0 : n[0];
    uint64_t hi = parts.size() == 1 ? n[0] : n[1];
    uint64_t step = parts.size() == 3 ? n[2] : 1;
    if (step == 0)
      return Status::InvalidArgument(where + ": bad seeds '" + text + "': step must be >= 1");
    if (hi <= lo) {
      return Status::InvalidArgument(where + ": bad seeds '" + text +
                                     "': the range is empty (need A < B)");
    }
    if ((hi - lo) / step > 1000000) {
      return Status::InvalidArgument(where + ": bad seeds '" + text +
                                     "': more than 1,000,000 seeds");
    }
    for (uint64_t s = lo; s < hi; s += step) seeds.push_back(s);
    return seeds;
  }
  if (text.empty())
    return Status::InvalidArgument(where + ": seeds are empty; give at least one seed");
  std::set<uint64_t> seen;
  for (const auto& part : SplitTopLevelCommas(text)) {
    uint64_t s = 0;
    if (!ParseNonNegative(part, &s)) {
      return Status::InvalidArgument(
          where + ": bad seed '" + part +
          "'; seeds are non-negative integers, a list like 0,3,7 or range(N)");
    }
    if (!seen.insert(s).second) {
      return Status::InvalidArgument(where + ": seed " + part + " is listed twice");
    }
    seeds.push_back(s);
  }
  return seeds;
}

Result<Distribution> ParseDistribution(const KeySpec& spec, const std::string& raw,
                                       const std::string& where) {
  const std::string text = Trim(raw);
  Distribution d;
  const std::string prefix = where + ": " + spec.key + " = '" + text + "': ";
  if (auto args = CallArgs(text, "choice")) {
    d.kind = Distribution::Kind::kChoice;
    for (const auto& item : SplitTopLevelCommas(*args)) {
      auto v = ValueFromText(spec, item, where);
      if (!v.ok()) return v.status();
      d.choices.push_back(*v);
    }
    if (d.choices.empty())
      return Status::InvalidArgument(prefix + "choice() needs at least one value");
    return d;
  }
  for (auto [name, kind] : {std::pair{"uniform", Distribution::Kind::kUniform},
                            std::pair{"loguniform", Distribution::Kind::kLogUniform}}) {
    auto args = CallArgs(text, name);
    if (!args) continue;
    if (spec.type != ValueType::kDouble) {
      return Status::InvalidArgument(prefix + std::string(name) +
                                     " needs a real-valued key; use choice(...)");
    }
    auto parts = SplitTopLevelCommas(*args);
    if (parts.size() != 2)
      return Status::InvalidArgument(prefix + "expected " + name + "(low,high)");
    auto lo = ValueFromText(spec, parts[0], where);
    if (!lo.ok()) return lo.status();
    auto hi = ValueFromText(spec, parts[1], where);
    if (!hi.ok()) return hi.status();
    d.kind = kind;
    d.lo = lo->AsDouble();
    d.hi = hi->AsDouble();
    if (!(d.lo < d.hi)) return Status::InvalidArgument(prefix + "needs low < high");
    if (kind == Distribution::Kind::kLogUniform && d.lo <= 0) {
      return Status::InvalidArgument(prefix + "loguniform needs low > 0");
    }
    return d;
  }
  return Status::InvalidArgument(
      prefix + "valid distributions: uniform(a,b), loguniform(a,b), choice(x,y,...)");
}

Value Distribution::Sample(std::mt19937_64& engine) const {
  const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;  // [0, 1), 53 random bits
  switch (kind) {
    case Kind::kUniform:
      return Value(lo + u * (hi - lo));
    case Kind::kLogUniform:
      return Value(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))));
    case Kind::kChoice:
      break;
  }
  return choices[std::min(choices.size() - 1,
                          static_cast<size_t>(u * static_cast<double>(choices.size())))];
}

}  // namespace phasesweep::orchestrator
