// Tests for PlanBuckets: every element lands in exactly one slice, buckets respect their size,
// dtypes never share a bucket, and tensors straddle bucket boundaries where they must.
#include "bucket_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace phasesweep::collectives::internal {
namespace {

// Checks the invariants and returns, per tensor, how many times each element was covered.
void ExpectValidPlan(const std::vector<TensorExtent>& tensors, size_t bucket_bytes,
                     const std::vector<Bucket>& plan) {
  std::vector<std::vector<int>> covered(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) covered[i].assign(tensors[i].numel, 0);
  for (const Bucket& b : plan) {
    ASSERT_FALSE(b.slices.empty());
    int64_t expected_offset = 0;
    for (const BucketSlice& s : b.slices) {
      ASSERT_LT(s.tensor, tensors.size());
      EXPECT_EQ(tensors[s.tensor].type_key, b.type_key);
      EXPECT_EQ(s.bucket_offset, expected_offset);  // slices are packed without gaps
      EXPECT_GT(s.length, 0);
      expected_offset += s.length;
      for (int64_t e = s.offset; e < s.offset + s.length; ++e) ++covered[s.tensor][e];
    }
    EXPECT_EQ(b.numel, expected_offset);
    const size_t element = tensors[b.slices.front().tensor].element_bytes;
    const int64_t capacity = std::max<int64_t>(1, static_cast<int64_t>(bucket_bytes / element));
    EXPECT_LE(b.numel, capacity);
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    for (int64_t e = 0; e < tensors[i].numel; ++e) {
      ASSERT_EQ(covered[i][e], 1) << "tensor " << i << " element " << e;
    }
  }
}

TEST(PlanBuckets, OddSizesStraddleBucketBoundaries) {
  // float32 tensors of 3, 17, 1, 35, 33 elements; buckets of 20 bytes = 5 floats.
  std::vector<TensorExtent> t = {{6, 3, 4}, {6, 17, 4}, {6, 1, 4}, {6, 35, 4}, {6, 33, 4}};
  const auto plan = PlanBuckets(t, 20);
  ExpectValidPlan(t, 20, plan);
  // 89 elements in buckets of 5: 17 full buckets and one of 4.
  ASSERT_EQ(plan.size(), 18u);
  EXPECT_EQ(plan.back().numel, 4);
  // The first bucket holds the whole first tensor and the first 2 elements of the second.
  ASSERT_EQ(plan[0].slices.size(), 2u);
  EXPECT_EQ(plan[0].slices[1].tensor, 1u);
  EXPECT_EQ(plan[0].slices[1].length, 2);
}

TEST(PlanBuckets, DtypesNeverShareABucket) {
  std::vector<TensorExtent> t = {{6, 5, 4}, {7, 3, 8}, {6, 4, 4}, {7, 10, 8}};
  const auto plan = PlanBuckets(t, 64);  // 16 floats or 8 doubles
  ExpectValidPlan(t, 64, plan);
  // float32 first (order of first appearance): 9 floats in one bucket; then 13 doubles in 8 + 5.
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].type_key, 6);
  EXPECT_EQ(plan[0].numel, 9);
  EXPECT_EQ(plan[1].type_key, 7);
  EXPECT_EQ(plan[1].numel, 8);
  EXPECT_EQ(plan[2].numel, 5);
}

TEST(PlanBuckets, TinyBucketHoldsOneElementAndEmptyTensorsAreSkipped) {
  std::vector<TensorExtent> t = {{6, 0, 4}, {6, 3, 4}, {6, 0, 4}};
  const auto plan = PlanBuckets(t, 1);  // smaller than one float: one element per bucket
  ExpectValidPlan(t, 1, plan);
  EXPECT_EQ(plan.size(), 3u);
}

TEST(PlanBuckets, LargeBucketHoldsEverythingOfOneDtype) {
  std::vector<TensorExtent> t = {{6, 1000, 4}, {6, 7, 4}};
  const auto plan = PlanBuckets(t, size_t{25} << 20);
  ExpectValidPlan(t, size_t{25} << 20, plan);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].numel, 1007);
}

TEST(PlanBuckets, EmptyListGivesNoBuckets) { EXPECT_TRUE(PlanBuckets({}, 1024).empty()); }

}  // namespace
}  // namespace phasesweep::collectives::internal
