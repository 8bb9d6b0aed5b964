// Shared fixtures for the storage tests: scratch directories, plus test_records.h.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "test_records.h"

namespace phasesweep::storage::testing {

// A fresh directory under the build tree, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = std::string(PHASESWEEP_BINARY_DIR) + "/storage_test_XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace phasesweep::storage::testing
