// Status and Result<T>: how phasesweep libraries report errors a user can cause or act on
// (bad config, unreadable file, corrupt checkpoint) across module boundaries. Programming errors
// (broken invariants) still throw or TORCH_CHECK; a Status is for the outside world.
//
// A Status message is one line, written for the user: it names the file, key or line and what
// would be valid. Code() picks the process exit status at the command line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace phasesweep {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the user's input is wrong: config, override, CLI value (exit 2)
    kNotFound,            // a named file, key, job or metric does not exist
    kIOError,             // the operating system refused: unwritable path, disk full
    kCorruption,          // a file exists but is not what it claims: truncated, wrong magic
    kFailedPrecondition,  // the state refuses the request: config hash mismatch, file locked
    kUnimplemented,       // a feature not in this build (e.g. CUDA without a CUDA LibTorch)
    kInternal,            // a bug or an unexpected library failure
    kCancelled,           // stopped on request (SIGTERM, SIGUSR1)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return Status(Code::kInvalidArgument, std::move(m));
  }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status FailedPrecondition(std::string m) {
    return Status(Code::kFailedPrecondition, std::move(m));
  }
  static Status Unimplemented(std::string m) { return Status(Code::kUnimplemented, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
  static Status Cancelled(std::string m) { return Status(Code::kCancelled, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>"; Ok stays Ok.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

  // Process exit status for this error at the command line: 2 for input the user must fix,
  // 1 for everything else that failed.
  int ExitCode() const {
    if (ok()) return 0;
    return code_ == Code::kInvalidArgument ? 2 : 1;
  }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok())
      status_ = Status::Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace phasesweep

// Returns early from the enclosing function with the status of `expr` when it is not OK.
#define PHASESWEEP_RETURN_IF_ERROR(expr)      \
  do {                                        \
    ::phasesweep::Status _ps_status = (expr); \
    if (!_ps_status.ok()) return _ps_status;  \
  } while (0)
