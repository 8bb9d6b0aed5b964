// The trace record's status spellings (those of the results file) and its bitwise equality.
#include "phasesweep/base/trace.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace phasesweep {
namespace {

TEST(JobStatusTest, StatusNamesRoundTrip) {
  for (JobStatus s : {JobStatus::kPending, JobStatus::kRunning, JobStatus::kDone,
                      JobStatus::kFailed, JobStatus::kDiverged}) {
    auto parsed = ParseJobStatus(JobStatusName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseJobStatus("finished");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("valid: pending, running, done, failed, diverged"),
            std::string::npos);
}

TEST(JobStatusTest, TerminalStates) {
  EXPECT_FALSE(IsTerminal(JobStatus::kPending));
  EXPECT_FALSE(IsTerminal(JobStatus::kRunning));
  EXPECT_TRUE(IsTerminal(JobStatus::kDone));
  EXPECT_TRUE(IsTerminal(JobStatus::kFailed));
  EXPECT_TRUE(IsTerminal(JobStatus::kDiverged));
}

TEST(TraceTest, EqualityIsBitwise) {
  Trace a;
  a.steps = {0, 10};
  a.metrics["loss"] = {std::nan(""), 0.0};
  Trace b = a;
  EXPECT_TRUE(a == b);  // the same NaN bits compare equal
  b.metrics["loss"][1] = -0.0;
  EXPECT_FALSE(a == b);  // 0.0 and -0.0 differ
  b = a;
  b.steps[1] = 11;
  EXPECT_TRUE(a != b);
  b = a;
  b.metrics["acc"] = {1.0, 1.0};
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace phasesweep
