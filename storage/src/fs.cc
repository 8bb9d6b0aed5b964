// POSIX helpers for durable file operations (see fs.h).
#include "fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "storage_error.h"

namespace phasesweep::storage::detail {
namespace {

Status Errno(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " '" + path + "': " + ErrnoText(err));
}

// Closes an fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports deferred write errors (NFS), so the last close is checked.
  int Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd);
  }

 private:
  int fd_;
};

}  // namespace

std::string ErrnoText(int err) {
  if (err == ENOSPC) return std::string(std::strerror(err)) + " (disk full)";
  if (err == EDQUOT) return std::string(std::strerror(err)) + " (quota exceeded)";
  if (err == EFBIG) return std::string(std::strerror(err)) + " (file size limit)";
  return std::strerror(err);
}

PathKind Inspect(const std::string& path, int64_t* size, int* error) {
  struct stat st;
  if (error != nullptr) *error = 0;
  if (::stat(path.c_str(), &st) != 0) {
    if (error != nullptr) *error = errno;
    return PathKind::kMissing;
  }
  if (size != nullptr) *size = static_cast<int64_t>(st.st_size);
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  if (S_ISREG(st.st_mode)) return PathKind::kFile;
  return PathKind::kOther;
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0777) == 0) return Status::Ok();
  int err = errno;
  if (err == EEXIST) {
    if (Inspect(dir) == PathKind::kDirectory) return Status::Ok();
    return Status::IOError("cannot create directory '" + dir +
                           "': a file of that name exists; move it away");
  }
  return Errno("cannot create directory", dir, err);
}

Status FsyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open for fsync", path, errno);
  // Directories on some file systems refuse fsync with EINVAL; nothing more can be done there.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return Errno("fsync failed for", path, errno);
  if (fd.Close() != 0) return Errno("close failed for", path, errno);
  return Status::Ok();
}

Status RenameDurable(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    int err = errno;
    return Status::IOError("cannot rename '" + from + "' to '" + to + "': " + ErrnoText(err));
  }
  return FsyncPath(ParentDir(to));
}

Status CopyFile(const std::string& from, const std::string& to) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("cannot open", from, errno);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.get() < 0) return Errno("cannot create", to, errno);
  bool kernel_copy = true;
  std::vector<char> buf;
  for (;;) {
    ssize_t n = -1;
    if (kernel_copy) {
      n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, size_t{1} << 30, 0);
      if (n < 0 && (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP)) {
        kernel_copy = false;  // not supported here: fall back to read/write
        continue;
      }
      if (n < 0) return Errno("cannot copy into", to, errno);
    } else {
      if (buf.empty()) buf.resize(size_t{1} << 20);
      n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", from, errno);
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(out.get(), buf.data() + done, static_cast<size_t>(n - done));
        if (w < 0) {
          if (errno == EINTR) continue;
          return Errno("cannot write", to, errno);
        }
        done += w;
      }
    }
    if (n == 0) break;
  }
  if (out.Close() != 0) return Errno("close failed for", to, errno);
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return Errno("cannot remove", path, errno);
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no directory '" + dir + "'");
    return Errno("cannot list directory", dir, err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return Errno("cannot list directory", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> ReadPrefix(const std::string& path, size_t n) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open", path, errno);
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd.get(), buf.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("cannot read", path, errno);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

void Must(const Status& status) {
  if (!status.ok()) Throw(status);
}

}  // namespace phasesweep::storage::detail
