// Tests for the CUDA and NCCL checked-call macros (NCCL builds). The calls chosen fail the same
// way with or without a GPU, so these run everywhere.
#include "cuda_check.h"

#include <gtest/gtest.h>

#include <string>

namespace phasesweep::collectives::internal {
namespace {

Status FailingCuda() {
  PHASESWEEP_CUDA_CHECK(cudaSetDevice(-1));
  return Status::Ok();
}

Status FailingNccl() {
  int count = 0;
  PHASESWEEP_NCCL_CHECK(ncclCommCount(nullptr, &count));
  return Status::Ok();
}

TEST(CudaCheck, FailureNamesCallErrorAndCallSite) {
  const Status s = FailingCuda();
  cudaGetLastError();  // leave no sticky error for other tests
  ASSERT_EQ(s.code(), Status::Code::kInternal);
  const std::string& m = s.message();
  // cudaErrorInvalidDevice with a GPU; cudaErrorNoDevice / cudaErrorInsufficientDriver without.
  EXPECT_EQ(m.rfind("cudaSetDevice(-1) failed: cudaError", 0), 0u) << m;
  EXPECT_NE(m.find("collectives/src/cuda_check_test.cc:"), std::string::npos) << m;
  EXPECT_NE(m.find("(host "), std::string::npos) << m;
}

TEST(NcclCheck, FailureNamesCallErrorAndCallSite) {
  const Status s = FailingNccl();
  ASSERT_EQ(s.code(), Status::Code::kInternal);
  const std::string& m = s.message();
  EXPECT_EQ(m.rfind("ncclCommCount(nullptr, &count) failed: ", 0), 0u) << m;
  // ncclGetErrorString(ncclInvalidArgument) == "invalid argument (run with NCCL_DEBUG=WARN for
  // details)"
  EXPECT_NE(m.find("invalid argument"), std::string::npos) << m;
  EXPECT_NE(m.find("collectives/src/cuda_check_test.cc:"), std::string::npos) << m;
}

}  // namespace
}  // namespace phasesweep::collectives::internal
