// Tests of the synthetic tasks: labels are right, splits are per member and deterministic.
#include "phasesweep/worker/tasks.h"

#include <gtest/gtest.h>

#include <set>

namespace phasesweep::worker {
namespace {

TaskSpec Modular(const std::string& op, int64_t p = 7, double fraction = 0.5) {
  TaskSpec t;
  t.name = "modular_arithmetic";
  t.op = op;
  t.p = p;
  t.train_fraction = fraction;
  return t;
}

int64_t Inverse(int64_t b, int64_t p) {
  for (int64_t x = 1; x < p; ++x) {
    if (b * x % p == 1) return x;
  }
  return -1;
}

TEST(TasksTest, ModularArithmeticLabelsAndSplitCoverEveryPairOnce) {
  for (const std::string op : {"add", "sub", "mul", "div"}) {
    const TaskSpec task = Modular(op);
    Result<TaskInfo> info = DescribeTask(task);
    ASSERT_TRUE(info.ok()) << info.status().message();
    const int64_t total = op == "div" ? 7 * 6 : 49;
    EXPECT_EQ(info->n_train + info->n_test, total) << op;
    EXPECT_EQ(info->vocab, 8);
    EXPECT_EQ(info->n_classes, 7);
    MemberData d = MakeMemberData(task, 42);
    std::set<std::pair<int64_t, int64_t>> pairs;
    for (const auto& [x, y] :
         {std::pair{d.train_tokens, d.train_labels}, std::pair{d.test_tokens, d.test_labels}}) {
      for (int64_t i = 0; i < x.size(0); ++i) {
        const int64_t a = x[i][0].item<int64_t>(), b = x[i][1].item<int64_t>();
        EXPECT_EQ(x[i][2].item<int64_t>(), 7);  // "="
        pairs.insert({a, b});
        int64_t want = 0;
        if (op == "add") want = (a + b) % 7;
        if (op == "sub") want = ((a - b) % 7 + 7) % 7;
        if (op == "mul") want = a * b % 7;
        if (op == "div") want = a * Inverse(b, 7) % 7;
        EXPECT_EQ(y[i].item<int64_t>(), want) << op << " " << a << " " << b;
      }
    }
    EXPECT_EQ(static_cast<int64_t>(pairs.size()), total) << op;
  }
}

TEST(TasksTest, SplitIsDeterministicPerSeedAndDiffersBetweenSeeds) {
  const TaskSpec task = Modular("add", 23, 0.3);
  MemberData a = MakeMemberData(task, 1), b = MakeMemberData(task, 1), c = MakeMemberData(task, 2);
  EXPECT_TRUE(torch::equal(a.train_tokens, b.train_tokens));
  EXPECT_TRUE(torch::equal(a.test_labels, b.test_labels));
  EXPECT_FALSE(torch::equal(a.train_tokens, c.train_tokens));
}

TEST(TasksTest, SparseParityLabelIsParityOfOneFixedSubsetOfKBits) {
  TaskSpec t;
  t.name = "sparse_parity";
  t.n_bits = 6;
  t.k = 2;
  t.n_train = 200;
  t.n_test = 50;
  MemberData d = MakeMemberData(t, 9);
  ASSERT_EQ(d.train_tokens.sizes(), (std::vector<int64_t>{200, 6}));
  torch::Tensor x = torch::cat({d.train_tokens, d.test_tokens});
  torch::Tensor y = torch::cat({d.train_labels, d.test_labels});
  int matches = 0;
  for (int i = 0; i < 6; ++i) {
    for (int j = i + 1; j < 6; ++j) {
      if (torch::equal(x.select(1, i).bitwise_xor(x.select(1, j)), y)) ++matches;
    }
  }
  EXPECT_EQ(matches, 1);
  EXPECT_GT(y.sum().item<int64_t>(), 60);  // both labels occur
}

TEST(TasksTest, InContextCopyAnswerFollowsTheOnlyEarlierOccurrenceOfTheQuery) {
  TaskSpec t;
  t.name = "in_context_copy";
  t.vocab = 5;
  t.seq_len = 8;
  t.n_train = 300;
  t.n_test = 10;
  MemberData d = MakeMemberData(t, 3);
  for (int64_t i = 0; i < d.train_tokens.size(0); ++i) {
    torch::Tensor row = d.train_tokens[i];
    const int64_t q = row[7].item<int64_t>();
    int64_t count = 0, at = -1;
    for (int64_t j = 0; j < 7; ++j) {
      if (row[j].item<int64_t>() == q) {
        ++count;
        at = j;
      }
    }
    ASSERT_EQ(count, 1) << "row " << i;
    ASSERT_LE(at, 5);
    EXPECT_EQ(d.train_labels[i].item<int64_t>(), row[at + 1].item<int64_t>());
  }
}

TEST(TasksTest, RandomLabelsPermuteOnlyTheTrainingLabels) {
  TaskSpec t = Modular("add", 23, 0.5);
  MemberData clean = MakeMemberData(t, 4);
  t.random_labels = true;
  MemberData noisy = MakeMemberData(t, 4);
  EXPECT_TRUE(torch::equal(clean.train_tokens, noisy.train_tokens));
  EXPECT_TRUE(torch::equal(clean.test_labels, noisy.test_labels));
  EXPECT_TRUE(
      torch::equal(std::get<0>(clean.train_labels.sort()), std::get<0>(noisy.train_labels.sort())));
  const double same =
      clean.train_labels.eq(noisy.train_labels).to(torch::kFloat64).mean().item<double>();
  EXPECT_LT(same, 0.2);
}

TEST(TasksTest, PackDataStacksEachMembersOwnData) {
  const TaskSpec task = Modular("mul", 11);
  Result<PackData> pack = MakePackData(task, {5, 6, 7}, torch::kCPU);
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(pack->train_tokens.size(0), 3);
  MemberData alone = MakeMemberData(task, 6);
  EXPECT_TRUE(torch::equal(pack->train_tokens[1], alone.train_tokens));
  EXPECT_TRUE(torch::equal(pack->test_labels[1], alone.test_labels));
}

TEST(TasksTest, PrimeCheck) {
  EXPECT_TRUE(IsPrime(2));
  EXPECT_TRUE(IsPrime(113));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_FALSE(IsPrime(91));
}

}  // namespace
}  // namespace phasesweep::worker
