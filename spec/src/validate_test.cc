// The one rule set: ranges and choices from the catalog, then the rules between keys, worded the
// same for the orchestrator and the worker.
#include "phasesweep/spec/validate.h"

#include <gtest/gtest.h>

namespace phasesweep::spec {
namespace {

PackSpec Small() {
  PackSpec s;
  s.pack_id = "p";
  s.task.p = 13;
  s.task.train_fraction = 0.5;
  s.model.d_model = 16;
  s.model.heads = 2;
  s.model.d_mlp = 32;
  s.training.steps = 100;
  s.probes.batch = 32;
  MemberSpec m;
  m.job_id = "j1";
  s.members.push_back(m);
  return s;
}

std::string ErrorOf(const PackSpec& s) {
  Result<TaskInfo> r = ValidatePack(s);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().ExitCode(), 2);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  return r.status().message();
}

TEST(ValidateTest, SmallPackIsValidAndSized) {
  Result<TaskInfo> r = ValidatePack(Small());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->n_train + r->n_test, 13 * 13);
  EXPECT_EQ(r->vocab, 14);
}

// The catalog's limit is the only one: p = 1000 is the largest modulus (the worker used to
// accept up to 4096, the config refused above 1000).
TEST(ValidateTest, ModulusLimitIsTheCatalogs) {
  TaskSpec t;
  t.p = 1000;
  EXPECT_TRUE(DescribeTask(t).ok());
  t.p = 1001;
  EXPECT_EQ(DescribeTask(t).status().message(),
            "task.p = 1001 is out of range; valid: >= 2.0 and <= 1e+03");
  t.p = 21;
  t.op = "div";
  EXPECT_NE(DescribeTask(t).status().message().find(
                "task.p = 21 is not prime, but task.op = div needs a prime task.p"),
            std::string::npos);
  t.p = 23;
  EXPECT_TRUE(DescribeTask(t).ok());
  EXPECT_TRUE(IsPrime(2));
  EXPECT_TRUE(IsPrime(113));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_FALSE(IsPrime(91));
}

TEST(ValidateTest, RulesBetweenKeys) {
  PackSpec s = Small();
  s.model.heads = 3;
  EXPECT_EQ(ErrorOf(s), "model.heads (3) must divide model.d_model (16)");
  s = Small();
  s.task.name = "sparse_parity";
  s.task.n_bits = 4;
  s.task.k = 5;
  EXPECT_NE(ErrorOf(s).find("task.k (5) must be <= task.n_bits (4)"), std::string::npos);
  s = Small();
  s.task.name = "in_context_copy";
  s.model.name = "mlp";
  EXPECT_NE(ErrorOf(s).find("needs model.name = transformer"), std::string::npos);
  s = Small();
  s.probes.batch = 100;
  EXPECT_EQ(ErrorOf(s),
            "probes.batch (100) is larger than the data (85 train, 84 test examples); use at "
            "most 84");
  s = Small();
  s.training.batch_size = 86;
  EXPECT_NE(ErrorOf(s).find("training.batch_size (86) exceeds the 85 training examples"),
            std::string::npos);
  s = Small();
  s.optimizer.warmup_steps = 101;
  EXPECT_EQ(ErrorOf(s), "optimizer.warmup_steps (101) exceeds training.steps (100)");
  s = Small();
  s.members.clear();
  EXPECT_EQ(ErrorOf(s), "pack p has no members");
}

TEST(ValidateTest, MemberScalarErrorsNameTheJob) {
  PackSpec s = Small();
  s.members[0].scalars.beta2 = 1.0;
  EXPECT_EQ(ErrorOf(s),
            "optimizer.beta2 = 1.0 is out of range; valid: >= 0.0 and <= 0.999999 (job j1)");
  s = Small();
  s.optimizer.name = "lion";
  EXPECT_EQ(ErrorOf(s), "optimizer.name = 'lion' is not valid; valid: adamw, sgd");
}

}  // namespace
}  // namespace phasesweep::spec
