// Internal error plumbing: code deep inside the storage library throws StorageError (carrying a
// ready-made Status); every public entry point runs its body through Guard(), which turns the
// exception back into a Status. Exceptions never cross the public API.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "phasesweep/base/status.h"

namespace phasesweep::storage::detail {

class StorageError : public std::exception {
 public:
  explicit StorageError(Status status) : status_(std::move(status)) {}
  const char* what() const noexcept override { return status_.message().c_str(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

[[noreturn]] inline void Throw(Status status) { throw StorageError(std::move(status)); }

// Runs fn() (returning Status or Result<T>) and converts a thrown StorageError, or any
// std::exception, into a Status prefixed with `context` (usually the file path).
template <typename Fn>
auto Guard(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const StorageError& e) {
    return e.status().WithContext(context);
  } catch (const std::bad_alloc&) {
    return Status::Internal(context + ": out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(context + ": " + e.what());
  }
}

}  // namespace phasesweep::storage::detail
