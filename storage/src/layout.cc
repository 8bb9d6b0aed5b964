// Writes and reads the docs/FORMAT.md layout (see layout.h).
#include "layout.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fs.h"
#include "h5_io.h"

namespace phasesweep::storage::detail {

void IndexTable::Append(const std::string& id, uint64_t s, int64_t g, JobStatus st, int32_t a,
                        const Hparams& hp) {
  job_id.push_back(id);
  seed.push_back(s);
  grid_index.push_back(g);
  status.emplace_back(JobStatusName(st));
  attempts.push_back(a);
  hparams.push_back(hp);
}

namespace {

std::vector<std::string> HparamsTexts(std::vector<Hparams>::const_iterator begin,
                                      std::vector<Hparams>::const_iterator end) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(end - begin));
  for (auto it = begin; it != end; ++it) out.push_back(HparamsJson(*it));
  return out;
}

// The one place stored hparams text becomes typed: anything but what HparamsJson writes is a
// corrupt file.
Hparams ParseStoredHparams(const std::string& text, const std::string& where) {
  auto hp = ParseHparams(text);
  if (!hp.ok()) Throw(Status::Corruption(where + ": " + hp.status().message()));
  return std::move(*hp);
}

}  // namespace

std::unordered_map<std::string, size_t> IndexTable::RowMap() const {
  std::unordered_map<std::string, size_t> rows;
  rows.reserve(job_id.size());
  for (size_t i = 0; i < job_id.size(); ++i) rows.emplace(job_id[i], i);
  return rows;
}

void WriteProvenance(hid_t file, const Provenance& p) {
  WriteStringAttr(file, "format", kResultsFormat);
  WriteScalarAttr<int32_t>(file, "format_version", kFormatVersion);
  WriteStringAttr(file, "phasesweep_version", p.phasesweep_version);
  WriteStringAttr(file, "git_commit", p.git_commit);
  WriteStringAttr(file, "config_yaml", p.config_yaml);
  WriteStringAttr(file, "config_hash", p.config_hash);
  WriteStringAttr(file, "command_line", p.command_line);
  WriteStringAttr(file, "libtorch_version", p.libtorch_version);
  WriteStringAttr(file, "mpi_version", p.mpi_version);
  WriteStringAttr(file, "hdf5_version", p.hdf5_version);
  WriteStringAttr(file, "created_utc", p.created_utc);
}

Provenance ReadProvenance(hid_t file) {
  Provenance p;
  p.format_version = ReadScalarAttr<int32_t>(file, "format_version");
  auto opt = [&](const char* name) {
    return AttrExists(file, name) ? ReadStringAttr(file, name) : std::string();
  };
  p.phasesweep_version = opt("phasesweep_version");
  p.git_commit = opt("git_commit");
  p.config_yaml = opt("config_yaml");
  p.config_hash = opt("config_hash");
  p.command_line = opt("command_line");
  p.libtorch_version = opt("libtorch_version");
  p.mpi_version = opt("mpi_version");
  p.hdf5_version = opt("hdf5_version");
  p.created_utc = opt("created_utc");
  p.last_merge_utc = opt("last_merge_utc");
  return p;
}

void CreateIndex(hid_t loc, const IndexTable& t) {
  Handle g = GroupCreate(loc, "index");
  CreateVarStrings(g.get(), "job_id", t.job_id);
  CreateExtendible(g.get(), "seed", t.seed);
  CreateExtendible(g.get(), "grid_index", t.grid_index);
  CreateFixedStrings(g.get(), "status", kStatusWidth, t.status);
  CreateExtendible(g.get(), "attempts", t.attempts);
  CreateVarStrings(g.get(), "hparams", HparamsTexts(t.hparams.begin(), t.hparams.end()));
}

IndexTable ReadIndex(hid_t loc) {
  Handle g = GroupOpen(loc, "index");
  IndexTable t;
  t.job_id = ReadStrings(g.get(), "job_id");
  t.seed = ReadVector<uint64_t>(g.get(), "seed");
  t.grid_index = ReadVector<int64_t>(g.get(), "grid_index");
  t.status = ReadStrings(g.get(), "status");
  t.attempts = ReadVector<int32_t>(g.get(), "attempts");
  const std::vector<std::string> hparams = ReadStrings(g.get(), "hparams");
  const size_t n = t.job_id.size();
  if (t.seed.size() != n || t.grid_index.size() != n || t.status.size() != n ||
      t.attempts.size() != n || hparams.size() != n) {
    Throw(Status::Corruption("/index columns have different lengths"));
  }
  t.hparams.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    t.hparams.push_back(ParseStoredHparams(hparams[i], "/index/hparams of job " + t.job_id[i]));
  }
  return t;
}

void UpdateIndex(hid_t loc, const IndexTable& t, size_t first_new_row,
                 const std::set<size_t>& changed_rows) {
  Handle g = GroupOpen(loc, "index");
  WriteFixedStringsRange(g.get(), "status", kStatusWidth, 0, t.status);
  WriteRange(g.get(), "attempts", 0, t.attempts);
  for (size_t row : changed_rows) {
    if (row >= first_new_row) continue;
    WriteRange(g.get(), "seed", row, std::vector<uint64_t>{t.seed[row]});
    WriteRange(g.get(), "grid_index", row, std::vector<int64_t>{t.grid_index[row]});
    WriteVarStringAt(g.get(), "hparams", row, HparamsJson(t.hparams[row]));
  }
  if (first_new_row >= t.size()) return;
  auto tail = [first_new_row](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    return V(v.begin() + static_cast<std::ptrdiff_t>(first_new_row), v.end());
  };
  AppendVarStrings(g.get(), "job_id", tail(t.job_id));
  WriteRange(g.get(), "seed", first_new_row, tail(t.seed));
  WriteRange(g.get(), "grid_index", first_new_row, tail(t.grid_index));
  AppendVarStrings(g.get(), "hparams",
                   HparamsTexts(t.hparams.begin() + static_cast<std::ptrdiff_t>(first_new_row),
                                t.hparams.end()));
}

void WriteJob(hid_t jobs, const JobRecord& r) {
  Handle g = GroupCreate(jobs, r.job_id);
  WriteScalarAttr<uint64_t>(g.get(), "seed", r.seed);
  WriteScalarAttr<int64_t>(g.get(), "grid_index", r.grid_index);
  WriteStringAttr(g.get(), "hparams", HparamsJson(r.hparams));
  WriteStringAttr(g.get(), "status", std::string(JobStatusName(r.status)));
  WriteScalarAttr<int32_t>(g.get(), "attempts", r.attempts);
  WriteScalarAttr<double>(g.get(), "wall_seconds", r.wall_seconds);
  WriteScalarAttr<int32_t>(g.get(), "rank", r.rank);
  WriteStringAttr(g.get(), "device", r.device);
  WriteStringAttr(g.get(), "pack_id", r.pack_id);
  WriteStringAttr(g.get(), "error", r.error);
  WriteVector(g.get(), "step", r.trace.steps, /*compress=*/true);
  for (const auto& [name, values] : r.trace.metrics) WriteVector(g.get(), name, values, true);
  if (!r.snapshots.empty()) {
    Handle s = GroupCreate(g.get(), "snapshots");
    for (const auto& [name, snap] : r.snapshots) {
      WriteFloatArray(s.get(), name, snap.shape, snap.data);
    }
  }
}

std::vector<std::string> JobMetricNames(hid_t jobs, const std::string& job_id) {
  Handle g = GroupOpen(jobs, job_id);
  std::vector<std::string> names = ListLinks(g.get());
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) { return n == "step" || n == "snapshots"; }),
              names.end());
  return names;
}

JobRecord ReadJob(hid_t jobs, const std::string& job_id, const std::vector<std::string>& metrics,
                  bool snapshots) {
  Handle g = GroupOpen(jobs, job_id);
  JobRecord r;
  r.job_id = job_id;
  r.seed = ReadScalarAttr<uint64_t>(g.get(), "seed");
  r.grid_index = ReadScalarAttr<int64_t>(g.get(), "grid_index");
  r.hparams = ParseStoredHparams(ReadStringAttr(g.get(), "hparams"), "job " + job_id + " hparams");
  auto status = ParseJobStatus(ReadStringAttr(g.get(), "status"));
  if (!status.ok()) Throw(Status::Corruption("job " + job_id + ": " + status.status().message()));
  r.status = *status;
  r.attempts = ReadScalarAttr<int32_t>(g.get(), "attempts");
  r.wall_seconds = ReadScalarAttr<double>(g.get(), "wall_seconds");
  r.rank = ReadScalarAttr<int32_t>(g.get(), "rank");
  r.device = ReadStringAttr(g.get(), "device");
  r.pack_id = ReadStringAttr(g.get(), "pack_id");
  r.error = ReadStringAttr(g.get(), "error");
  r.trace.steps = ReadVector<int64_t>(g.get(), "step");
  std::vector<std::string> names = metrics;
  if (names.empty()) {
    names = ListLinks(g.get());
  } else {
    for (const std::string& m : names) {
      if (!LinkExists(g.get(), m)) {
        Throw(Status::NotFound("job " + job_id + " has no metric '" + m + "'"));
      }
    }
  }
  for (const std::string& m : names) {
    if (m == "step" || m == "snapshots") continue;
    std::vector<double> values = ReadVector<double>(g.get(), m);
    if (values.size() != r.trace.steps.size()) {
      Throw(Status::Corruption("job " + job_id + " metric '" + m + "' has " +
                               std::to_string(values.size()) + " values for " +
                               std::to_string(r.trace.steps.size()) + " steps"));
    }
    r.trace.metrics.emplace(m, std::move(values));
  }
  if (snapshots && LinkExists(g.get(), "snapshots")) {
    Handle s = GroupOpen(g.get(), "snapshots");
    for (const std::string& name : ListLinks(s.get())) {
      Snapshot snap;
      ReadFloatArray(s.get(), name, &snap.shape, &snap.data);
      r.snapshots.emplace(name, std::move(snap));
    }
  }
  return r;
}

namespace {

constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";

// Opens any HDF5 file read-only with one-line errors for the non-HDF5 and damaged cases.
Result<Handle> OpenHdf5ReadOnly(const std::string& path) {
  int64_t size = 0;
  switch (Inspect(path, &size)) {
    case PathKind::kMissing:
      return Status::NotFound(path + ": no such file");
    case PathKind::kDirectory:
      return Status::InvalidArgument(path + " is a directory, not a results file");
    case PathKind::kOther:
      return Status::InvalidArgument(path + " is not a regular file");
    case PathKind::kFile:
      break;
  }
  if (size == 0) {
    return Status::Corruption(path +
                              " is empty (0 bytes), not an HDF5 file: a write that never "
                              "completed, or the wrong path");
  }
  auto prefix = ReadPrefix(path, 8);
  if (!prefix.ok()) return prefix.status();
  const bool signature = *prefix == std::string(kHdf5Signature, 8);
  try {
    return FileOpen(path, /*writable=*/false);
  } catch (const StorageError& e) {
    if (!signature) {
      return Status::Corruption(path +
                                " is not an HDF5 file (no HDF5 signature at its start); "
                                "phasesweep results files are HDF5");
    }
    return Status::Corruption(path + " is a truncated or damaged HDF5 file (" +
                              std::to_string(size) + " bytes on disk; " + e.status().message() +
                              "); restore it from a copy or start fresh");
  }
}

}  // namespace

Result<OpenedResults> OpenResultsReadOnly(const std::string& path) {
  auto file = OpenHdf5ReadOnly(path);
  if (!file.ok()) return file.status();
  return Guard(path, [&]() -> Result<OpenedResults> {
    hid_t f = file->get();
    if (!AttrExists(f, "format")) {
      return Status::Corruption(path +
                                " is an HDF5 file but not a phasesweep results file (no "
                                "root attribute 'format')");
    }
    const std::string format = ReadStringAttr(f, "format");
    if (format == kShardFormat) {
      return Status::Corruption(path +
                                " is a phasesweep shard, not a results file; open the "
                                "results file next to its .d directory");
    }
    if (format != kResultsFormat) {
      return Status::Corruption(path +
                                " is an HDF5 file but not a phasesweep results file "
                                "(root attribute format='" +
                                format + "')");
    }
    if (!AttrExists(f, "format_version")) {
      return Status::Corruption(path + " has no root attribute 'format_version'");
    }
    const int version = ReadScalarAttr<int32_t>(f, "format_version");
    if (version > kFormatVersion) {
      return Status::FailedPrecondition(
          path + " has format_version " + std::to_string(version) + " but this phasesweep reads " +
          "format_version <= " + std::to_string(kFormatVersion) + ": upgrade phasesweep");
    }
    if (version < 1) {
      return Status::Corruption(path + " has an invalid format_version " + std::to_string(version));
    }
    OpenedResults out{std::move(*file), ReadProvenance(f)};
    return out;
  });
}

Result<Handle> OpenShardReadOnly(const std::string& path) {
  auto file = OpenHdf5ReadOnly(path);
  if (!file.ok()) return file.status();
  return Guard(path, [&]() -> Result<Handle> {
    if (!AttrExists(file->get(), "format") ||
        ReadStringAttr(file->get(), "format") != kShardFormat) {
      return Status::Corruption(path + " is not a phasesweep shard");
    }
    return std::move(*file);
  });
}

}  // namespace phasesweep::storage::detail
