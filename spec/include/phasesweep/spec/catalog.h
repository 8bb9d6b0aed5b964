// The configuration catalog: every key phasesweep accepts, one table per section (task, model,
// optimizer, training, probes, analysis, plus name and output), each row giving the key, the
// typed member it fills (sections.h), its type, default, valid range or choices, whether it is
// part of a job's identity or a runtime setting, whether it may be swept, and one line of
// documentation. Parsing (orchestrator/config), validation (validate.h), job identity, the
// analysis options and docs/CONFIG.md (its key tables are DocRow of these rows, checked by a
// test) all read these tables, so a key exists in exactly one place.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"
#include "phasesweep/spec/sections.h"
#include "phasesweep/spec/task.h"
#include "phasesweep/spec/value.h"

namespace phasesweep::spec {

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
  std::string doc;                   // one line for docs/CONFIG.md
  std::vector<std::string> choices;  // valid words for kString / each element of kStringList
  std::optional<double> min;         // inclusive unless min_exclusive
  bool min_exclusive = false;
  std::optional<double> max;  // inclusive unless max_exclusive
  bool max_exclusive = false;
  bool sweepable = true;  // may appear in sweep.grid / sweep.random / comma overrides
  std::string valid_doc;  // docs/CONFIG.md's "valid" column when the choices are listed elsewhere
  // The typed member the key fills, where a section struct has one: `get` reads it (member
  // scalars from `member`), `set` writes a value of the key's type. Both empty for keys their
  // consumer reads as plain values (name, training.pack/retries/data_parallel, analysis.*,
  // output.path).
  std::function<Value(const PackSpec& pack, const MemberOptimizerScalars& member)> get;
  std::function<void(const Value& v, PackSpec* pack, MemberOptimizerScalars* member)> set;
};

// All keys in documentation order (section by section).
const std::vector<KeySpec>& Schema();

// The rows of one section ("task", ..., "analysis"; "name" and "output" hold one key each), in
// documentation order; empty for an unknown section.
std::vector<const KeySpec*> SectionKeys(const std::string& section);

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

// Checks a typed value against the row's range and choices (what ValueFromText checks after
// parsing): "task.p = 5000 is out of range; valid: >= 2 and <= 1000", prefixed "where: " when
// `where` is not empty.
Status CheckValue(const KeySpec& spec, const Value& value, const std::string& where = "");

// The typed sections of one resolved configuration (every bound key present in `resolved`):
// the pack's sections (members not filled) and the member scalars.
void FillSections(const std::map<std::string, Value>& resolved, PackSpec* pack,
                  MemberOptimizerScalars* member);

// The row's line in docs/CONFIG.md: | `key` | type | `default` | valid | meaning |.
std::string DocRow(const KeySpec& spec);

// The valid probe names (probes.metrics) with a line of documentation each and the rule that says
// whether the metric can be measured for a pack (null: every task and model). The rule's error
// is the reason alone; ValidateProbeMetrics (validate.h) names the key and the metric. The worker
// registers one probe for each of these names (worker::ProbeRegistry checks it at start-up).
struct ProbeInfo {
  std::string name;
  std::string doc;
  Status (*applies)(const PackSpec& pack, const TaskInfo& task) = nullptr;
};
const std::vector<ProbeInfo>& ProbeCatalog();

}  // namespace phasesweep::spec
