// POSIX file-system steps the storage library builds its crash safety from: fsync of files and
// directories, durable rename, whole-file copy, directory listing. Each returns a Status whose
// one-line message names the path and carries strerror(errno).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phasesweep/base/status.h"

namespace phasesweep::storage::detail {

enum class PathKind { kMissing, kFile, kDirectory, kOther };
// What is at `path` (following symlinks); *size gets the file size when non-null. kMissing also
// when stat() fails for another reason (a parent directory this user may not search): then
// *error, when non-null, gets that errno (0 otherwise; ENOENT or ENOTDIR when truly missing).
PathKind Inspect(const std::string& path, int64_t* size = nullptr, int* error = nullptr);

std::string ParentDir(const std::string& path);  // "." for a bare name
std::string BaseName(const std::string& path);
std::string ErrnoText(int err);

// Creates `dir` if missing (one level); OK if it is already a directory.
Status MakeDir(const std::string& dir);
// fsync() of a file or directory by path.
Status FsyncPath(const std::string& path);
// rename(from, to), then fsync of the directory holding `to` so the rename survives power loss.
Status RenameDurable(const std::string& from, const std::string& to);
// Copies the bytes of `from` into a new file `to` (which must not exist), in the kernel
// (copy_file_range) where possible. Does not fsync.
Status CopyFile(const std::string& from, const std::string& to);
// Removes a file; OK if it does not exist.
Status RemoveFile(const std::string& path);
// Names in `dir` (not "." or ".."), sorted. NotFound if the directory does not exist.
Result<std::vector<std::string>> ListDir(const std::string& dir);
// Reads up to `n` bytes from the start of a file.
Result<std::string> ReadPrefix(const std::string& path, size_t n);

// Throws StorageError when !status.ok(): for use inside Guard() bodies.
void Must(const Status& status);

}  // namespace phasesweep::storage::detail
