// Training behaviour: members of a pack are independent (same trace as alone), runs are
// reproducible bit for bit, the tasks are learnable, divergence is contained, the run loop
// honours its hooks and the probe schedule.
#include <gtest/gtest.h>

#include <cmath>

#include "phasesweep/worker/trainer.h"
#include "test_specs.h"

namespace phasesweep::worker {
namespace {

std::unique_ptr<PackTrainer> Train(const PackSpec& spec) {
  auto t = PackTrainer::Create(spec, torch::kCPU);
  EXPECT_TRUE(t.ok()) << t.status().message();
  Result<RunOutcome> r = (*t)->Run();
  EXPECT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, RunOutcome::kFinished);
  return std::move(*t);
}

PackSpec Only(const PackSpec& pack, size_t k) {
  PackSpec s = pack;
  s.members = {pack.members[k]};
  return s;
}

void ExpectTracesClose(const Trace& a, const Trace& b, double rel, const std::string& what) {
  ASSERT_EQ(a.steps, b.steps) << what;
  ASSERT_EQ(a.metrics.size(), b.metrics.size()) << what;
  double worst = 0;
  for (const auto& [name, va] : a.metrics) {
    const std::vector<double>& vb = b.metrics.at(name);
    for (size_t i = 0; i < va.size(); ++i) {
      const double scale = std::max(std::abs(va[i]), std::abs(vb[i]));
      const double r = scale == 0 ? 0 : std::abs(va[i] - vb[i]) / scale;
      worst = std::max(worst, r);
      EXPECT_LE(r, rel) << what << " " << name << " at step " << a.steps[i] << ": " << va[i]
                        << " vs " << vb[i];
    }
  }
  std::cout << "[ info ] " << what << ": largest relative difference " << worst << "\n";
}

// Four members with different seeds AND different optimizer scalars, trained together, each
// give the trace they give alone, over 240 minibatch steps (many epochs of reshuffling).
void ExpectMembersIndependent(PackSpec pack, const std::string& what) {
  for (size_t k = 0; k < pack.members.size(); ++k) {
    MemberOptimizerScalars& s = pack.members[k].scalars;
    s.lr *= 1.0 + 0.5 * static_cast<double>(k);
    s.weight_decay *= static_cast<double>(k);
    s.beta2 = k % 2 ? 0.99 : 0.98;
    s.grad_clip = k == 3 ? 0.5 : 0.0;
  }
  auto together = Train(pack);
  for (size_t k = 0; k < pack.members.size(); ++k) {
    auto alone = Train(Only(pack, k));
    ExpectTracesClose(together->traces()[k], alone->traces()[0], 1e-5,
                      what + " member " + std::to_string(k));
  }
}

TEST(TrainingTest, TransformerMembersTrainedTogetherEqualMembersTrainedAlone) {
  ExpectMembersIndependent(testing::SmallModularPack({11, 12, 13, 14}, 240), "transformer");
}

TEST(TrainingTest, MlpSgdCosineMembersTrainedTogetherEqualMembersTrainedAlone) {
  PackSpec p = testing::SmallParityPack({21, 22, 23, 24}, 240);
  p.optimizer.name = "sgd";
  p.optimizer.schedule = "cosine";
  for (MemberSpec& m : p.members) m.scalars.lr = 0.05;
  ExpectMembersIndependent(p, "mlp");
}

TEST(TrainingTest, RerunningTheSamePackIsBitwiseIdentical) {
  const PackSpec p = testing::SmallModularPack({5, 6}, 60);
  auto a = Train(p), b = Train(p);
  EXPECT_EQ(a->traces()[0], b->traces()[0]);
  EXPECT_EQ(a->traces()[1], b->traces()[1]);
  EXPECT_TRUE(torch::equal(a->model().params().flat_params(), b->model().params().flat_params()));
}

TEST(TrainingTest, FullBatchModularAdditionReachesFullTrainAccuracy) {
  PackSpec p = testing::SmallModularPack({1, 2}, 300);
  p.training.batch_size = 0;
  for (MemberSpec& m : p.members) m.scalars.lr = 1e-2;
  auto t = Train(p);
  for (int k = 0; k < 2; ++k) {
    const Trace& tr = t->traces()[static_cast<size_t>(k)];
    EXPECT_EQ(tr.steps.back(), 300);
    EXPECT_EQ(tr.metrics.at("train_acc").back(), 1.0) << "member " << k;
    EXPECT_LT(tr.metrics.at("train_loss").back(), 0.1 * tr.metrics.at("train_loss").front());
  }
}

TEST(TrainingTest, SparseParityIsLearned) {
  PackSpec p = testing::SmallParityPack({3, 4}, 400);
  for (MemberSpec& m : p.members) m.scalars.lr = 1e-2;
  auto t = Train(p);
  for (int k = 0; k < 2; ++k) {
    const Trace& tr = t->traces()[static_cast<size_t>(k)];
    EXPECT_LT(tr.metrics.at("test_acc").front(), 0.7);
    EXPECT_GE(tr.metrics.at("test_acc").back(), 0.95) << "member " << k;
  }
}

TEST(TrainingTest, RandomLabelsAreMemorisedButDoNotGeneralise) {
  PackSpec p = testing::SmallModularPack({7}, 300);
  p.task.random_labels = true;
  p.training.batch_size = 0;
  p.members[0].scalars.lr = 1e-2;
  p.members[0].scalars.weight_decay = 0.0;
  auto t = Train(p);
  const Trace& tr = t->traces()[0];
  EXPECT_GT(tr.metrics.at("train_acc").back(), 0.5);
  EXPECT_LT(tr.metrics.at("test_acc").back(), 0.15);  // chance is 1/23
}

TEST(TrainingTest, InContextCopyTransformerTrains) {
  PackSpec p = testing::SmallModularPack({8, 9}, 60);
  p.task.name = "in_context_copy";
  p.task.vocab = 8;
  p.task.seq_len = 6;
  p.task.n_train = 256;
  p.task.n_test = 64;
  p.model.layers = 2;
  auto t = Train(p);
  for (const Trace& tr : t->traces()) {
    EXPECT_LT(tr.metrics.at("train_loss").back(), tr.metrics.at("train_loss").front());
  }
}

TEST(TrainingTest, DivergedMemberIsMarkedAndDoesNotDisturbTheOthers) {
  PackSpec p = testing::SmallModularPack({1, 2}, 100);
  p.optimizer.name = "sgd";
  p.optimizer.warmup_steps = 0;
  p.members[0].scalars.lr = 0.05;
  // The largest step the catalog allows and a decay that multiplies the weights by 1e7 a step.
  p.members[1].scalars.lr = 10;
  p.members[1].scalars.weight_decay = 1e6;
  auto t = Train(p);
  std::vector<MemberStatus> st = t->statuses();
  EXPECT_EQ(st[0].state, JobStatus::kDone);
  ASSERT_EQ(st[1].state, JobStatus::kDiverged);
  EXPECT_GE(st[1].diverged_at, 1);
  EXPECT_LT(st[1].diverged_at, 100);
  for (int64_t s : t->traces()[1].steps) EXPECT_LT(s, st[1].diverged_at);
  EXPECT_EQ(t->traces()[0].steps, t->probe_steps());
  auto alone = Train(Only(p, 0));
  ExpectTracesClose(t->traces()[0], alone->traces()[0], 1e-5, "neighbour of a diverged member");
}

TEST(TrainingTest, ProbeSchedules) {
  ProbeSpec s;
  s.every = 30;
  EXPECT_EQ(ProbeSteps(s, 100), (std::vector<int64_t>{0, 30, 60, 90, 100}));
  s.schedule = "log";
  s.count = 5;
  // exp(ln(1000) i / 4), i = 0..4, rounded: 1, 6 (5.62), 32 (31.6), 178 (177.8), 1000.
  EXPECT_EQ(ProbeSteps(s, 1000), (std::vector<int64_t>{0, 1, 6, 32, 178, 1000}));
  PackSpec p = testing::SmallModularPack({1}, 50);
  p.probes.schedule = "log";
  p.probes.count = 6;
  auto t = Train(p);
  EXPECT_EQ(t->traces()[0].steps, ProbeSteps(p.probes, 50));
  EXPECT_EQ(t->traces()[0].steps.front(), 0);
  EXPECT_EQ(t->traces()[0].steps.back(), 50);
}

TEST(TrainingTest, RunStopsBetweenStepsOnRequestAndContinuesAfterwards) {
  const PackSpec p = testing::SmallModularPack({1, 2}, 60);
  auto t = PackTrainer::Create(p, torch::kCPU).value();
  std::vector<int64_t> stepped, probed;
  RunHooks hooks;
  hooks.should_stop = [&] { return t->step() == 33; };
  hooks.after_step = [&](int64_t s) {
    stepped.push_back(s);
    return Status::Ok();
  };
  hooks.after_probe = [&](int64_t s) { probed.push_back(s); };
  Result<RunOutcome> r = t->Run(hooks);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RunOutcome::kStopped);
  EXPECT_EQ(t->step(), 33);
  EXPECT_EQ(stepped.size(), 33u);
  EXPECT_EQ(stepped.back(), 33);
  EXPECT_EQ(probed, (std::vector<int64_t>{0, 25}));
  EXPECT_EQ(t->statuses()[0].state, JobStatus::kRunning);
  hooks.should_stop = nullptr;
  r = t->Run(hooks);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RunOutcome::kFinished);
  EXPECT_EQ(stepped.size(), 60u);
  EXPECT_EQ(t->statuses()[1].state, JobStatus::kDone);
  auto straight = Train(p);
  EXPECT_EQ(t->traces()[0], straight->traces()[0]);
  EXPECT_EQ(t->Step().code(), Status::Code::kFailedPrecondition);
  // An error from a hook aborts the run with that error.
  auto u = PackTrainer::Create(p, torch::kCPU).value();
  hooks.after_step = [](int64_t) { return Status::Cancelled("stop now"); };
  EXPECT_EQ(u->Run(hooks).status().code(), Status::Code::kCancelled);
}

}  // namespace
}  // namespace phasesweep::worker
