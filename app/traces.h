// Every job's traces of a results file, and their comparison (bitwise or within a tolerance),
// for the integration tests: run_e2e_test, shard_e2e_test, slurm_test.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace phasesweep::testing {

// job id -> (metric -> values), plus the steps as "step". Every job must be done (gtest
// expectation).
using Traces = std::map<std::string, std::map<std::string, std::vector<double>>>;
Traces Load(const std::string& path);

// Calls compare(job, metric, i, x, y) for every value x of `a` and its counterpart y in `b`, after
// checking that both hold the same jobs, metrics and lengths. Where x or y is NaN (a value
// undefined by design, like a metric against the previous probe at the first probe step), both
// must be, and compare is not called.
void ForEachValuePair(const Traces& a, const Traces& b,
                      const std::function<void(const std::string& job, const std::string& metric,
                                               size_t i, double x, double y)>& compare);

// Bitwise equal (rel = 0), or |x - y| <= rel * max(1, |x|).
void ExpectClose(const Traces& a, const Traces& b, double rel);

}  // namespace phasesweep::testing
