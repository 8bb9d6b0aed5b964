// Traces of results files for the integration tests (see traces.h).
#include "traces.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "phasesweep/storage/reader.h"

namespace phasesweep::testing {

// Every job's traces of a results file: job id -> (metric -> values), plus steps as "step".
Traces Load(const std::string& path) {
  auto reader = storage::ResultsReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  Traces out;
  if (!reader.ok()) return out;
  for (const auto& job : reader->jobs()) {
    auto record = reader->LoadJob(job.job_id);
    EXPECT_TRUE(record.ok()) << record.status().message();
    auto& t = out[job.job_id];
    t = record->trace.metrics;
    t["step"] = std::vector<double>(record->trace.steps.begin(), record->trace.steps.end());
    EXPECT_EQ(record->status, JobStatus::kDone) << job.job_id;
  }
  return out;
}

// Calls compare(job, metric, i, x, y) for every value x of `a` and its counterpart y in `b`, after
// checking that both hold the same jobs, metrics and lengths. Where x or y is NaN (a value
// undefined by design, like a metric against the previous probe at the first probe step), both
// must be, and compare is not called.
void ForEachValuePair(const Traces& a, const Traces& b,
                      const std::function<void(const std::string& job, const std::string& metric,
                                               size_t i, double x, double y)>& compare) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [job, metrics] : a) {
    ASSERT_TRUE(b.count(job)) << job;
    for (const auto& [name, values] : metrics) {
      const auto& other = b.at(job).at(name);
      ASSERT_EQ(values.size(), other.size()) << job << " " << name;
      for (size_t i = 0; i < values.size(); ++i) {
        if (std::isnan(values[i]) || std::isnan(other[i])) {
          EXPECT_EQ(std::isnan(values[i]), std::isnan(other[i]))
              << job << " " << name << " [" << i << "]";
          continue;
        }
        compare(job, name, i, values[i], other[i]);
      }
    }
  }
}

// Bitwise equal (rel = 0), or |x - y| <= rel * max(1, |x|).
void ExpectClose(const Traces& a, const Traces& b, double rel) {
  ForEachValuePair(
      a, b, [&](const std::string& job, const std::string& name, size_t i, double x, double y) {
        if (rel == 0) {
          EXPECT_EQ(x, y) << job << " " << name << " [" << i << "]";
        } else {
          EXPECT_NEAR(x, y, rel * std::max(1.0, std::abs(x))) << job << " " << name;
        }
      });
}

}  // namespace phasesweep::testing
