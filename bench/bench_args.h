// The benchmarks' key=value command-line arguments (phasesweep_worker_bench, _probe_overhead).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace phasesweep::bench {

class BenchArgs {
 public:
  // Reads argv[1..] as key=value; an argument without '=' prints "usage: <argv[0]> <usage>" and
  // exits with status 2.
  BenchArgs(int argc, char** argv, const char* usage) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const size_t eq = a.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
        std::exit(2);
      }
      values_[a.substr(0, eq)] = a.substr(eq + 1);
    }
  }

  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  // The value of `key`, or `fallback` when it was not given.
  std::string Get(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace phasesweep::bench
