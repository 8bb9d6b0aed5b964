// Single-process tests: the batch split, the shape checksum and the group-size check. The
// multi-rank behaviour is in collectives/tests (mpirun).
#include "phasesweep/collectives/gradient_sync.h"

#include <gtest/gtest.h>

#include "phasesweep/collectives/process_group.h"

namespace phasesweep::collectives {
namespace {

TEST(SplitGlobalBatch, EvenSplitIsContiguousWithUnitScale) {
  for (int r = 0; r < 4; ++r) {
    auto shard = SplitGlobalBatch(16, r, 4);
    ASSERT_TRUE(shard.ok());
    EXPECT_EQ(shard->begin, 4 * r);
    EXPECT_EQ(shard->end, 4 * r + 4);
    EXPECT_DOUBLE_EQ(shard->mean_loss_scale, 1.0);
  }
}

TEST(SplitGlobalBatch, RemainderGoesToFirstRanksAndScalesCompensate) {
  // 10 rows over 4 ranks: 3, 3, 2, 2.
  const int64_t begins[] = {0, 3, 6, 8};
  const int64_t ends[] = {3, 6, 8, 10};
  for (int r = 0; r < 4; ++r) {
    auto shard = SplitGlobalBatch(10, r, 4);
    ASSERT_TRUE(shard.ok());
    EXPECT_EQ(shard->begin, begins[r]);
    EXPECT_EQ(shard->end, ends[r]);
    EXPECT_DOUBLE_EQ(shard->mean_loss_scale, shard->count() * 4 / 10.0);
    // After the group average each row's gradient carries weight scale / (G * count), which
    // must be 1 / global, as in the mean loss over the whole batch.
    EXPECT_DOUBLE_EQ(shard->mean_loss_scale / (4.0 * shard->count()), 1.0 / 10.0);
  }
}

TEST(SplitGlobalBatch, RejectsImpossibleSplits) {
  EXPECT_EQ(SplitGlobalBatch(3, 0, 4).status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(SplitGlobalBatch(3, 0, 4).status().message().find("global batch of 3 rows"),
            std::string::npos);
  EXPECT_FALSE(SplitGlobalBatch(8, 4, 4).ok());
  EXPECT_FALSE(SplitGlobalBatch(8, -1, 4).ok());
  EXPECT_FALSE(SplitGlobalBatch(8, 0, 0).ok());
}

TEST(ShapeChecksum, DependsOnShapesDtypesAndOrderNotValues) {
  const auto a = torch::zeros({3, 4});
  const auto b = torch::ones({5}, torch::kFloat64);
  EXPECT_EQ(ShapeChecksum({a, b}),
            ShapeChecksum({torch::randn({3, 4}), torch::randn({5}, torch::kFloat64)}));
  EXPECT_NE(ShapeChecksum({a, b}), ShapeChecksum({b, a}));
  EXPECT_NE(ShapeChecksum({a}), ShapeChecksum({torch::zeros({4, 3})}));
  EXPECT_NE(ShapeChecksum({a}), ShapeChecksum({torch::zeros({3, 4}, torch::kFloat64)}));
  EXPECT_NE(ShapeChecksum({a}), ShapeChecksum({a, a}));
}

TEST(CheckGroupSize, DivisorsPassOthersNameTheValidSizes) {
  EXPECT_TRUE(CheckGroupSize(1, 4).ok());
  EXPECT_TRUE(CheckGroupSize(2, 4).ok());
  EXPECT_TRUE(CheckGroupSize(4, 4).ok());
  const Status s = CheckGroupSize(3, 4);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "data-parallel group size 3 does not divide the 4 ranks into whole groups; valid group "
            "sizes for 4 ranks: 1, 2, 4");
  EXPECT_FALSE(CheckGroupSize(0, 4).ok());
  EXPECT_FALSE(CheckGroupSize(8, 4).ok());
}

}  // namespace
}  // namespace phasesweep::collectives
