// Sweep configuration: YAML (or the embedded default study) + command-line overrides, validated
// against the catalog (spec/catalog.h; docs/CONFIG.md lists every key) and resolved into a
// SweepSpec.
//
// Contract: LoadSweepSpec either returns a fully validated SweepSpec — every grid point is a
// valid training configuration — or a Status whose one-line message names the file:line:column
// or the override, what was found and what is valid. Nothing is written either way.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "phasesweep/base/hparams.h"
#include "phasesweep/base/status.h"
#include "phasesweep/spec/catalog.h"

namespace phasesweep::orchestrator {

// The sweep definition speaks the catalog's vocabulary.
using spec::DidYouMean;
using spec::FindKey;
using spec::KeyRole;
using spec::KeySpec;
using spec::NearestWord;
using spec::Schema;
using spec::Sections;
using spec::Value;
using spec::ValueFromList;
using spec::ValueFromText;
using spec::ValueType;

// One swept axis: a schema key and the values it takes, in the order given.
struct GridAxis {
  std::string key;
  std::vector<Value> values;
};

// A reproducible random search over some keys (sweep.random).
struct RandomSpace {
  int64_t n = 0;      // number of samples; 0 = no random search
  uint64_t seed = 0;  // sampler seed
  // key -> distribution text, e.g. "loguniform(1e-4,1e-2)", "uniform(0,1)", "choice(relu,gelu)".
  std::map<std::string, std::string> space;
};

struct SweepSpec {
  std::string source;                 // file path, or "<embedded default>"
  std::map<std::string, Value> base;  // every schema key -> its fixed (non-swept) resolved value
  std::vector<GridAxis> grid;         // sorted by key, so the order of keys in YAML is irrelevant
  RandomSpace random;
  std::vector<uint64_t> seeds;
};

// One point of the grid × random samples: the swept keys' values (empty when nothing is swept).
struct GridPoint {
  int64_t index = 0;
  std::map<std::string, Value> values;
  std::string Label() const;        // "optimizer.lr=0.001, model.heads=4"
  Hparams ToHparams() const;        // the swept values as the job's typed hyperparameters
};

// Grid points in a fixed order: the cartesian product of sweep.grid (keys sorted, values in the
// order given, last key fastest) × the random samples (sample i for every grid point).
Result<std::vector<GridPoint>> ExpandGrid(const SweepSpec& spec);

// Every schema key's value at one grid point.
std::map<std::string, Value> ResolvePoint(const SweepSpec& spec, const GridPoint& point);

// Checks one resolved point with the rules the worker applies before training (spec::ValidatePack
// and the probe registry: heads divide d_model, prime p for div, k <= n_bits, probes that apply
// to the task, probe batch within the data, ...). `where` prefixes errors.
Status ValidateResolved(const std::map<std::string, Value>& resolved, const std::string& where);

// Where the configuration comes from: a YAML file, or the study compiled into the binary.
struct ConfigSource {
  std::string path;  // empty = embedded default
};

// Parses, merges overrides ("key=value", "key=v1,v2" sweeps, "sweep.seeds=range(16)") and
// validates. Overrides are applied in order; the same key twice is an error.
Result<SweepSpec> LoadSweepSpec(const ConfigSource& source,
                                const std::vector<std::string>& overrides);

// Same, from YAML text (tests, and the embedded default). `name` labels error messages.
Result<SweepSpec> ParseSweepSpec(const std::string& yaml_text, const std::string& name,
                                 const std::vector<std::string>& overrides);

// The embedded default study (configs/embedding_stability.yaml, compiled in).
const std::string& EmbeddedDefaultConfig();

// The resolved configuration as YAML: every key with its value, the grid, seeds and random space.
// Stored in results files as provenance; ParseSweepSpec(ResolvedYaml(s)) gives back s.
std::string ResolvedYaml(const SweepSpec& spec);

// Stable hash of everything that decides the sweep's results (not output paths, threads, device
// or pack sizes). A results file from a different hash is refused on resume.
std::string ConfigHash(const SweepSpec& spec);

}  // namespace phasesweep::orchestrator
