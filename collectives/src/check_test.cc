// Tests for the MPI checked-call macro: a failing call becomes an Internal Status carrying the
// call, MPI's own error string, the host, the rank and file:line — and the function returns.
#include "check.h"

#include <gtest/gtest.h>

#include <string>

#include "deadline.h"

namespace phasesweep::collectives::internal {
namespace {

Status ReturnsThroughMacro(int code, bool* reached_end) {
  PHASESWEEP_MPI_CHECK(code);
  *reached_end = true;
  return Status::Ok();
}

TEST(MpiCheck, FailureReturnsStatusWithCallSiteEvenBeforeMpiInit) {
  // This process never initialises MPI (the multi-rank suite checks MPI's own error text);
  // Open MPI aborts on MPI_Error_string before MPI_Init, so the code must not call it then.
  bool reached_end = false;
  const Status s = ReturnsThroughMacro(MPI_ERR_COUNT, &reached_end);
  EXPECT_FALSE(reached_end);
  ASSERT_EQ(s.code(), Status::Code::kInternal);
  const std::string& m = s.message();
  EXPECT_EQ(m.rfind("code failed: MPI error code " + std::to_string(MPI_ERR_COUNT) + " (host ", 0),
            0u)
      << m;
  EXPECT_NE(m.find(", rank ?, collectives/src/check_test.cc:"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
}

TEST(MpiCheck, SuccessFallsThrough) {
  bool reached_end = false;
  EXPECT_TRUE(ReturnsThroughMacro(MPI_SUCCESS, &reached_end).ok());
  EXPECT_TRUE(reached_end);
}

TEST(FormatSeconds, ReadableDurations) {
  EXPECT_EQ(FormatSeconds(std::chrono::milliseconds(2000)), "2 s");
  EXPECT_EQ(FormatSeconds(std::chrono::milliseconds(1500)), "1.5 s");
  EXPECT_EQ(FormatSeconds(std::chrono::minutes(5)), "300 s");
}

TEST(Poller, ExpiresAtTheDeadlineNotBefore) {
  const auto start = Clock::now();
  Poller poller(start + std::chrono::milliseconds(50), std::chrono::milliseconds(5),
                std::chrono::milliseconds(10));
  while (!poller.Expired()) poller.Pause();
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(50));
  EXPECT_LT(waited, std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace phasesweep::collectives::internal
