// /analysis tables: written by copy + rename under the writer lock (see analysis_tables.h).
#include "phasesweep/storage/analysis_tables.h"

#include <set>
#include <string>
#include <vector>

#include "fs.h"
#include "h5_io.h"
#include "layout.h"
#include "lock_file.h"
#include "phasesweep/storage/paths.h"
#include "storage_error.h"

namespace phasesweep::storage {
namespace {

using detail::Handle;

bool ValidName(const std::string& n) {
  return !n.empty() && n != "." && n.find('/') == std::string::npos;
}

size_t ColumnLength(const Column& c) {
  return std::visit([](const auto& v) { return v.size(); }, c.values);
}

Status Validate(const std::vector<Table>& tables) {
  std::set<std::string> names;
  for (const Table& t : tables) {
    if (!ValidName(t.name) || !names.insert(t.name).second) {
      return Status::InvalidArgument("analysis table name '" + t.name +
                                     "' is empty, contains '/', or is used twice");
    }
    std::set<std::string> columns;
    for (const Column& c : t.columns) {
      if (!ValidName(c.name) || !columns.insert(c.name).second) {
        return Status::InvalidArgument("analysis table " + t.name + ": column name '" + c.name +
                                       "' is empty, contains '/', or is used twice");
      }
      if (ColumnLength(c) != ColumnLength(t.columns.front())) {
        return Status::InvalidArgument("analysis table " + t.name + ": column " + c.name + " has " +
                                       std::to_string(ColumnLength(c)) + " rows, column " +
                                       t.columns.front().name + " has " +
                                       std::to_string(ColumnLength(t.columns.front())));
      }
    }
  }
  return Status::Ok();
}

void WriteTables(hid_t file, const std::vector<Table>& tables,
                 const std::map<std::string, std::string>& attributes) {
  if (detail::LinkExists(file, "analysis")) detail::LinkDelete(file, "analysis");
  Handle root = detail::GroupCreate(file, "analysis");
  for (const auto& [k, v] : attributes) detail::WriteStringAttr(root.get(), k, v);
  for (const Table& t : tables) {
    Handle g = detail::GroupCreate(root.get(), t.name);
    for (const auto& [k, v] : t.attributes) detail::WriteStringAttr(g.get(), k, v);
    for (const Column& c : t.columns) {
      if (const auto* d = std::get_if<std::vector<double>>(&c.values)) {
        detail::WriteVector(g.get(), c.name, *d, /*compress=*/true);
      } else if (const auto* i = std::get_if<std::vector<int64_t>>(&c.values)) {
        detail::WriteVector(g.get(), c.name, *i, /*compress=*/true);
      } else {
        detail::CreateVarStrings(g.get(), c.name, std::get<std::vector<std::string>>(c.values));
      }
    }
  }
}

}  // namespace

Status WriteAnalysis(const std::string& results_path, const std::vector<Table>& tables,
                     const std::map<std::string, std::string>& attributes) {
  PHASESWEEP_RETURN_IF_ERROR(Validate(tables));
  auto opened = detail::OpenResultsReadOnly(results_path);
  if (!opened.ok()) return opened.status();
  opened->file.Reset();
  const SidecarPaths side = SidecarFor(results_path);
  PHASESWEEP_RETURN_IF_ERROR(detail::MakeDir(side.dir));
  auto lock = detail::WriterLock::Acquire(side.lock, results_path);
  if (!lock.ok()) return lock.status();
  PHASESWEEP_RETURN_IF_ERROR(detail::RemoveFile(side.analysis_tmp));
  Status s = detail::Guard(results_path, [&]() -> Status {
    detail::Must(detail::CopyFile(results_path, side.analysis_tmp));
    Handle file = detail::FileOpen(side.analysis_tmp, /*writable=*/true);
    WriteTables(file.get(), tables, attributes);
    file.CloseChecked(side.analysis_tmp);
    detail::Must(detail::FsyncPath(side.analysis_tmp));
    detail::Must(detail::RenameDurable(side.analysis_tmp, results_path));
    return Status::Ok();
  });
  if (!s.ok()) {
    (void)detail::RemoveFile(side.analysis_tmp);
    return s.WithContext("writing /analysis failed (results file unchanged)");
  }
  return Status::Ok();
}

Result<std::vector<Table>> ReadAnalysis(const std::string& results_path,
                                        std::map<std::string, std::string>* attributes) {
  auto opened = detail::OpenResultsReadOnly(results_path);
  if (!opened.ok()) return opened.status();
  return detail::Guard(results_path, [&]() -> Result<std::vector<Table>> {
    std::vector<Table> tables;
    hid_t f = opened->file.get();
    if (!detail::LinkExists(f, "analysis")) return tables;
    Handle root = detail::GroupOpen(f, "analysis");
    if (attributes != nullptr) {
      for (const std::string& a : detail::AttrNames(root.get())) {
        (*attributes)[a] = detail::ReadStringAttr(root.get(), a);
      }
    }
    for (const std::string& name : detail::ListLinks(root.get())) {
      Table t;
      t.name = name;
      Handle g = detail::GroupOpen(root.get(), name);
      for (const std::string& a : detail::AttrNames(g.get())) {
        t.attributes[a] = detail::ReadStringAttr(g.get(), a);
      }
      for (const std::string& c : detail::ListLinks(g.get())) {
        Handle d = detail::DatasetOpen(g.get(), c);
        Handle type = detail::DatasetType(d.get());
        const H5T_class_t cls = detail::TypeClass(type.get());
        d.Reset();
        Column col{c, {}};
        if (cls == H5T_STRING) {
          col.values = detail::ReadStrings(g.get(), c);
        } else if (cls == H5T_INTEGER) {
          col.values = detail::ReadVector<int64_t>(g.get(), c);
        } else {
          col.values = detail::ReadVector<double>(g.get(), c);
        }
        t.columns.push_back(std::move(col));
      }
      tables.push_back(std::move(t));
    }
    return tables;
  });
}

}  // namespace phasesweep::storage
