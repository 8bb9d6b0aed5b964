// Checkpoint + resume: a run interrupted at any step and continued from its checkpoint in a
// fresh trainer ends bitwise identical (traces, parameters, optimizer state) to an
// uninterrupted run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "phasesweep/worker/trainer.h"
#include "test_specs.h"

namespace phasesweep::worker {
namespace {

namespace fs = std::filesystem;

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() /
          ("phasesweep_resume_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::unique_ptr<PackTrainer> Make(const PackSpec& spec, const std::string& ckpt = "") {
  TrainerOptions o;
  o.checkpoint_path = ckpt;
  auto t = PackTrainer::Create(spec, torch::kCPU, o);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(*t);
}

void ExpectBitwiseEqual(PackTrainer& a, PackTrainer& b) {
  ASSERT_EQ(a.step(), b.step());
  ASSERT_EQ(a.traces().size(), b.traces().size());
  for (size_t k = 0; k < a.traces().size(); ++k) {
    EXPECT_EQ(a.traces()[k], b.traces()[k]) << "member " << k;
  }
  EXPECT_TRUE(torch::equal(a.model().params().flat_params(), b.model().params().flat_params()));
  auto sa = a.optimizer().StateTensors(), sb = b.optimizer().StateTensors();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
  }
  for (size_t k = 0; k < a.statuses().size(); ++k) {
    EXPECT_EQ(a.statuses()[k].state, b.statuses()[k].state);
    EXPECT_EQ(a.statuses()[k].diverged_at, b.statuses()[k].diverged_at);
    EmbeddingSnapshots sa = a.snapshots(static_cast<int64_t>(k));
    EmbeddingSnapshots sb = b.snapshots(static_cast<int64_t>(k));
    EXPECT_EQ(sa.steps, sb.steps);
    EXPECT_EQ(sa.embed.defined(), sb.embed.defined());
    if (sa.embed.defined() && sb.embed.defined()) {
      EXPECT_TRUE(torch::equal(sa.embed, sb.embed));
    }
  }
}

// Interrupts at `stop`, saves, loads into a new trainer, finishes; compares with a straight run.
void ExpectResumeBitwise(const PackSpec& spec, int64_t stop) {
  const std::string path = TempPath("manual_" + std::to_string(stop) + ".ckpt");
  auto straight = Make(spec);
  ASSERT_TRUE(straight->Run().ok());
  {
    auto first = Make(spec);
    RunHooks h;
    h.should_stop = [&] { return first->step() == stop; };
    ASSERT_TRUE(first->Run(h).ok());
    ASSERT_EQ(first->step(), stop);
    ASSERT_TRUE(first->SaveCheckpoint(path).ok());
  }
  auto second = Make(spec);
  Status s = second->LoadCheckpoint(path);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(second->step(), stop);
  Result<RunOutcome> r = second->Run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RunOutcome::kFinished);
  ExpectBitwiseEqual(*straight, *second);
  fs::remove(path);
}

TEST(ResumeTest, AdamWMinibatchTransformerResumesBitwiseMidEpoch) {
  // 264 training examples / batch 32 = 8 batches per epoch: step 37 is inside epoch 4.
  ExpectResumeBitwise(testing::SmallModularPack({3, 4, 5}, 90), 37);
}

TEST(ResumeTest, SgdCosineMlpResumesBitwise) {
  PackSpec p = testing::SmallParityPack({6, 7}, 90);
  p.optimizer.name = "sgd";
  p.optimizer.schedule = "cosine";
  p.members[1].scalars.grad_clip = 0.3;
  ExpectResumeBitwise(p, 50);
}

TEST(ResumeTest, ResumesAtStepZeroAtAProbeStepAndAtTheEnd) {
  const PackSpec p = testing::SmallModularPack({1, 2}, 40);
  ExpectResumeBitwise(p, 0);
  ExpectResumeBitwise(p, 25);
  ExpectResumeBitwise(p, 40);
}

TEST(ResumeTest, AutomaticCheckpointsEveryNStepsResumeBitwise) {
  PackSpec p = testing::SmallModularPack({8, 9}, 100);
  p.training.checkpoint_every = 40;
  const std::string path = TempPath("auto.ckpt");
  fs::remove(path);
  auto straight = Make(p);
  ASSERT_TRUE(straight->Run().ok());
  {
    auto crashed = Make(p, path);
    RunHooks h;
    h.should_stop = [&] { return crashed->step() == 55; };  // "killed" after step 55
    ASSERT_TRUE(crashed->Run(h).ok());
  }
  auto resumed = Make(p, path);
  ASSERT_TRUE(resumed->LoadCheckpoint(path).ok());
  EXPECT_EQ(resumed->step(), 40);  // the last automatic checkpoint
  ASSERT_TRUE(resumed->Run().ok());
  ExpectBitwiseEqual(*straight, *resumed);
  fs::remove(path);
}

TEST(ResumeTest, DivergedMemberStaysDivergedAfterResume) {
  PackSpec p = testing::SmallModularPack({1, 2}, 60);
  p.optimizer.name = "sgd";
  p.optimizer.warmup_steps = 0;
  p.members[0].scalars.lr = 0.05;
  // The largest step the catalog allows and a decay that multiplies the weights by 1e7 a step.
  p.members[1].scalars.lr = 10;
  p.members[1].scalars.weight_decay = 1e6;
  ExpectResumeBitwise(p, 45);
}

// Every probe with state (embedding and representation vs previous/initial, relative updates)
// and the embedding snapshots continue bitwise after a resume, between and at probe steps.
TEST(ResumeTest, AllProbesAndSnapshotsResumeBitwise) {
  PackSpec p = testing::SmallModularPack({3, 4}, 40);
  p.probes.metrics = ProbeRegistry::Builtin().MetricNames();
  p.probes.every = 10;
  p.probes.snapshot_every = 15;
  ExpectResumeBitwise(p, 17);
  ExpectResumeBitwise(p, 20);
}

}  // namespace
}  // namespace phasesweep::worker
