// Opening/creating the results file and merging shards into it by copy + rename
// (see results_writer.h for the contract and docs/FORMAT.md for the reasoning).
#include "phasesweep/storage/results_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog.h"
#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "lock_file.h"
#include "phasesweep/storage/paths.h"
#include "results_writer_impl.h"
#include "storage_error.h"

namespace phasesweep::storage {

using detail::Handle;

namespace {

Status ValidatePlan(const std::vector<PlannedJob>& plan) {
  std::set<std::string> ids;
  for (const PlannedJob& j : plan) {
    if (j.job_id.empty() || j.job_id.find('/') != std::string::npos || j.job_id == ".") {
      return Status::InvalidArgument("planned job_id '" + j.job_id +
                                     "' is not valid: non-empty, no '/'");
    }
    if (!ids.insert(j.job_id).second) {
      return Status::InvalidArgument("the plan lists job " + j.job_id + " twice");
    }
  }
  return Status::Ok();
}

std::string CompactUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// results.h5 -> results.prev-<time>.h5 (first free name).
std::string AsideName(const std::string& path) {
  std::string stem = path, ext;
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0) {
    stem = path.substr(0, path.size() - 3);
    ext = ".h5";
  }
  const std::string base = stem + ".prev-" + CompactUtc();
  std::string candidate = base + ext;
  for (int n = 1; detail::Inspect(candidate) != detail::PathKind::kMissing ||
                  detail::Inspect(candidate + ".d") != detail::PathKind::kMissing;
       ++n) {
    candidate = base + "-" + std::to_string(n) + ext;
  }
  return candidate;
}

// Publishes `tmp` as `path` without replacing anything that appeared there: link() fails with
// EEXIST where rename() would overwrite. File systems without hard links fall back to rename.
Status PublishNew(const std::string& tmp, const std::string& path) {
  if (::link(tmp.c_str(), path.c_str()) == 0) {
    PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(tmp));
    return detail::FsyncPath(detail::ParentDir(path));
  }
  const int err = errno;
  if (err == EEXIST) {
    return Status::FailedPrecondition(path +
                                      " appeared while it was being created; not "
                                      "overwriting it");
  }
  if (err == EPERM || err == EOPNOTSUPP || err == EMLINK) return detail::RenameDurable(tmp, path);
  return Status::IOError("cannot create " + path + ": " + detail::ErrnoText(err));
}

// Config hashes this file has been run with: the creator's and every recorded session's.
std::set<std::string> KnownHashes(hid_t file, const Provenance& p) {
  std::set<std::string> hashes = {p.config_hash};
  if (!detail::LinkExists(file, "sessions")) return hashes;
  Handle sessions = detail::GroupOpen(file, "sessions");
  for (const std::string& name : detail::ListLinks(sessions.get())) {
    Handle g = detail::GroupOpen(sessions.get(), name);
    hashes.insert(detail::ReadStringAttr(g.get(), "config_hash"));
  }
  return hashes;
}

std::string Hdf5Version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

// Writes a new, empty results file at `path` via side.create_tmp.
Status CreateResultsFile(const std::string& path, const SidecarPaths& side, const Provenance& prov,
                         const std::vector<PlannedJob>& plan, const Session& session) {
  Status s = detail::Guard(path, [&]() -> Status {
    Handle file = detail::FileCreate(side.create_tmp);
    hid_t f = file.get();
    detail::WriteProvenance(f, prov);
    std::vector<const PlannedJob*> rows;
    for (const PlannedJob& j : plan) rows.push_back(&j);
    std::sort(rows.begin(), rows.end(), [](const PlannedJob* a, const PlannedJob* b) {
      return std::tie(a->grid_index, a->seed, a->job_id) <
             std::tie(b->grid_index, b->seed, b->job_id);
    });
    detail::IndexTable index;
    for (const PlannedJob* j : rows) {
      index.Append(j->job_id, j->seed, j->grid_index, JobStatus::kPending, 0, j->hparams);
    }
    detail::CreateIndex(f, index);
    detail::GroupCreate(f, "jobs");
    detail::CreateVarStrings(f, "merged_shards", {});
    detail::WriteSession(f, session);
    file.CloseChecked(side.create_tmp);
    detail::Must(detail::FsyncPath(side.create_tmp));
    detail::Must(PublishNew(side.create_tmp, path));
    return Status::Ok();
  });
  if (!s.ok()) (void)detail::RemoveFile(side.create_tmp);
  return s;
}

Status RemoveLeftovers(const SidecarPaths& side) {
  PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(side.merge_tmp));
  PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(side.create_tmp));
  PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(side.analysis_tmp));
  auto names = detail::ListDir(side.shards);
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    if (n.rfind(".tmp-", 0) == 0)
      PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(side.shards + "/" + n));
  }
  return Status::Ok();
}

// Creates the sidecar directories, with a message that says what to fix.
Status MakeSidecar(const std::string& path, const SidecarPaths& side) {
  Status s = detail::MakeDir(side.dir);
  if (s.ok()) s = detail::MakeDir(side.shards);
  if (!s.ok()) return s.WithContext("cannot write results file " + path);
  return Status::Ok();
}

}  // namespace

namespace detail {
void WriteSession(hid_t file, const Session& s) {
  Handle sessions =
      LinkExists(file, "sessions") ? GroupOpen(file, "sessions") : GroupCreate(file, "sessions");
  char name[16];
  std::snprintf(name, sizeof(name), "%06zu", ListLinks(sessions.get()).size());
  Handle g = GroupCreate(sessions.get(), name);
  WriteStringAttr(g.get(), "opened_utc", s.utc);
  WriteStringAttr(g.get(), "mode", s.mode);
  WriteStringAttr(g.get(), "config_hash", s.provenance.config_hash);
  WriteStringAttr(g.get(), "command_line", s.provenance.command_line);
  WriteStringAttr(g.get(), "phasesweep_version", s.provenance.phasesweep_version);
  WriteStringAttr(g.get(), "git_commit", s.provenance.git_commit);
  WriteStringAttr(g.get(), "libtorch_version", s.provenance.libtorch_version);
  WriteStringAttr(g.get(), "mpi_version", s.provenance.mpi_version);
  WriteStringAttr(g.get(), "hdf5_version", s.provenance.hdf5_version);
}

}  // namespace detail

ResultsWriter::ResultsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;
ResultsWriter::~ResultsWriter() = default;

const std::string& ResultsWriter::path() const { return impl_->path; }
const Provenance& ResultsWriter::provenance() const { return impl_->provenance; }
bool ResultsWriter::created() const { return impl_->created; }
bool ResultsWriter::config_mismatch_accepted() const { return impl_->mismatch_accepted; }
const std::string& ResultsWriter::moved_aside_to() const { return impl_->moved_aside_to; }
const std::string& ResultsWriter::stale_lock_holder() const { return impl_->stale_lock_holder; }
void ResultsWriter::set_merge_policy(const MergePolicy& policy) { impl_->policy = policy; }

Result<ResultsWriter> ResultsWriter::Open(const std::string& path, const OpenOptions& options) {
  if (path.empty()) return Status::InvalidArgument("results path is empty");
  if (options.provenance.config_hash.empty()) {
    return Status::InvalidArgument(path +
                                   ": provenance.config_hash is empty; it identifies the "
                                   "sweep for resume");
  }
  PHASESWEEP_RETURN_IF_ERROR(ValidatePlan(options.plan).WithContext(path));
  switch (detail::Inspect(path)) {
    case detail::PathKind::kDirectory:
      return Status::InvalidArgument("results path " + path +
                                     " is a directory; give a file path "
                                     "such as " +
                                     path + "/results.h5");
    case detail::PathKind::kOther:
      return Status::InvalidArgument("results path " + path + " is not a regular file");
    default:
      break;
  }
  const std::string parent = detail::ParentDir(path);
  int parent_error = 0;
  if (detail::Inspect(parent, nullptr, &parent_error) != detail::PathKind::kDirectory) {
    if (parent_error != 0 && parent_error != ENOENT && parent_error != ENOTDIR) {
      // E.g. a directory on the way that this user may not search: say so, not "missing".
      return Status::IOError("cannot write results file " + path + ": directory " + parent + ": " +
                             detail::ErrnoText(parent_error));
    }
    return Status::NotFound("cannot write results file " + path + ": directory " + parent +
                            " does not exist");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->side = SidecarFor(path);
  PHASESWEEP_RETURN_IF_ERROR(MakeSidecar(path, impl->side));
  auto lock = detail::WriterLock::Acquire(impl->side.lock, path);
  if (!lock.ok()) return lock.status();
  impl->lock = std::move(*lock);
  impl->stale_lock_holder = impl->lock.stale_holder();
  PHASESWEEP_RETURN_IF_ERROR(RemoveLeftovers(impl->side).WithContext(path));

  Provenance prov = options.provenance;
  prov.format_version = kFormatVersion;
  if (prov.created_utc.empty()) prov.created_utc = UtcNow();
  if (prov.hdf5_version.empty()) prov.hdf5_version = Hdf5Version();
  impl->session = Session{"create", prov, UtcNow()};

  if (detail::Inspect(path) == detail::PathKind::kFile) {
    if (options.existing == ExistingFile::kFresh) {
      const std::string aside = AsideName(path);
      PHASESWEEP_RETURN_IF_ERROR(detail::RenameDurable(path, aside));
      impl->moved_aside_to = aside;
      // The old sidecar (with its lock, held by us, and any unmerged shards) goes along.
      PHASESWEEP_RETURN_IF_ERROR(detail::RenameDurable(impl->side.dir, aside + ".d"));
      PHASESWEEP_RETURN_IF_ERROR(MakeSidecar(path, impl->side));
      auto fresh_lock = detail::WriterLock::Acquire(impl->side.lock, path);
      if (!fresh_lock.ok()) return fresh_lock.status();
      impl->lock = std::move(*fresh_lock);
      impl->session.mode = "fresh";
    } else {
      auto opened = detail::OpenResultsReadOnly(path);
      if (!opened.ok()) {
        const Status& s = opened.status();
        const std::string hint = "; --fresh moves it aside and starts a new file";
        if (s.code() == Status::Code::kCorruption) return Status::Corruption(s.message() + hint);
        if (s.code() == Status::Code::kFailedPrecondition) {
          return Status::FailedPrecondition(s.message() + hint);
        }
        return s;
      }
      Result<std::set<std::string>> known =
          detail::Guard(path, [&]() -> Result<std::set<std::string>> {
            return KnownHashes(opened->file.get(), opened->provenance);
          });
      if (!known.ok()) return known.status();
      impl->provenance = opened->provenance;
      impl->session.mode = "resume";
      if (known->count(prov.config_hash) == 0) {
        if (options.existing != ExistingFile::kAcceptMismatch) {
          return Status::FailedPrecondition(
              path + " belongs to a different config (config_hash " +
              opened->provenance.config_hash + ", this run " + prov.config_hash +
              "): use --fresh to move it aside and start a new file, or "
              "--accept-config-mismatch to continue it anyway");
        }
        impl->mismatch_accepted = true;
        impl->session.mode = "accept_mismatch";
      }
      impl->session_pending = true;  // recorded by the next merge
      return ResultsWriter(std::move(impl));
    }
  }
  // Shards without a results file belong to a file that was deleted or moved (Open creates the
  // file before any shard can exist): never merge them into this new one, but keep them.
  auto orphans = detail::ListShards(impl->side.shards);
  if (!orphans.ok()) return orphans.status();
  if (!orphans->empty()) {
    const std::string aside = impl->side.dir + "/orphaned-shards-" + CompactUtc();
    PHASESWEEP_RETURN_IF_ERROR(detail::RenameDurable(impl->side.shards, aside));
    PHASESWEEP_RETURN_IF_ERROR(detail::MakeDir(impl->side.shards));
    impl->moved_aside_to = aside;
  }
  PHASESWEEP_RETURN_IF_ERROR(
      CreateResultsFile(path, impl->side, prov, options.plan, impl->session));
  impl->provenance = prov;
  impl->created = true;
  return ResultsWriter(std::move(impl));
}

}  // namespace phasesweep::storage
