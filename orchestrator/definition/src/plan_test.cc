// Tests of job identity and packing.
#include "phasesweep/orchestrator/plan.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "phasesweep/orchestrator/plan_listing.h"

namespace phasesweep::orchestrator {
namespace {

const char* kA = R"(task:
  p: 13
  train_fraction: 0.5
model:
  d_model: 16
  heads: 2
probes:
  batch: 32
  metrics: [train_loss, test_acc]
)";
// The same configuration with keys and sections in another order and numbers spelled otherwise.
const char* kB = R"(probes:
  metrics: [train_loss, test_acc]
  batch: 32
model:
  heads: 2
  d_model: 16
task:
  train_fraction: 5e-1
  p: 13
)";

SweepPlan PlanOf(const std::string& yaml, std::vector<std::string> overrides, int ranks = 1) {
  auto spec = ParseSweepSpec(yaml, "cfg.yaml", overrides);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  PlanOptions options;
  options.ranks = ranks;
  auto plan = MakePlan(*spec, options);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return *plan;
}

TEST(PlanTest, WeightDecayGridTimesFourSeedsGivesEightJobs) {
  SweepPlan p = PlanOf(kA, {"optimizer.weight_decay=0.1,1.0", "sweep.seeds=range(4)"});
  ASSERT_EQ(p.jobs.size(), 8u);
  EXPECT_EQ(p.points.size(), 2u);
  std::set<std::string> ids;
  for (const Job& j : p.jobs) {
    EXPECT_EQ(j.id.size(), 16u);
    ids.insert(j.id);
  }
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(HparamsJson(p.jobs[0].hparams), "{\"optimizer.weight_decay\":0.1}");
  EXPECT_EQ(p.jobs[4].label, "optimizer.weight_decay=1.0");
  // Weight decay is a member scalar: all eight jobs share one structure, so one pack.
  ASSERT_EQ(p.packs.size(), 1u);
  EXPECT_EQ(p.packs[0].spec.members.size(), 8u);
  EXPECT_DOUBLE_EQ(p.packs[0].spec.members[0].scalars.weight_decay, 0.1);
  EXPECT_DOUBLE_EQ(p.packs[0].spec.members[7].scalars.weight_decay, 1.0);
}

TEST(PlanTest, IdsAreStableAcrossRunsKeyOrderAndSpelling) {
  SweepPlan a = PlanOf(kA, {"optimizer.weight_decay=0.1,1.0", "sweep.seeds=range(4)"});
  SweepPlan b = PlanOf(kB, {"sweep.seeds=range(4)", "optimizer.weight_decay=1e-1,1"});
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  for (size_t i = 0; i < a.jobs.size(); ++i) EXPECT_EQ(a.jobs[i].id, b.jobs[i].id);
  EXPECT_EQ(a.config_hash, b.config_hash);
  // Golden ids: a change here changes every stored results file's identity. Update only on
  // purpose (and bump the results format), never to make this test pass.
  EXPECT_EQ(a.jobs[0].id,
            PlanOf(kA, {"optimizer.weight_decay=0.1,1.0", "sweep.seeds=range(4)"}).jobs[0].id);
  EXPECT_EQ(a.jobs[0].id, "a8a8a73397265114");
}

TEST(PlanTest, RuntimeKeysDoNotChangeIds) {
  SweepPlan a = PlanOf(kA, {});
  SweepPlan b =
      PlanOf(kA, {"training.threads=1", "training.pack=3", "training.checkpoint_every=7"});
  for (size_t i = 0; i < a.jobs.size(); ++i) EXPECT_EQ(a.jobs[i].id, b.jobs[i].id);
}

TEST(PlanTest, StructuralDifferencesSplitPacks) {
  SweepPlan p = PlanOf(kA, {"model.d_mlp=16,32", "sweep.seeds=range(3)"});
  ASSERT_EQ(p.packs.size(), 2u);
  for (const Pack& pack : p.packs) {
    EXPECT_EQ(pack.spec.members.size(), 3u);
    for (size_t j : pack.job_index) EXPECT_EQ(p.jobs[j].pack_id, pack.id);
  }
  EXPECT_EQ(p.packs[0].spec.model.d_mlp, 16);
  EXPECT_EQ(p.packs[1].spec.model.d_mlp, 32);
}

// The typed hyperparameters write the text results files have always held (keys sorted, ints as
// ints, doubles in the id layout, strings quoted), and read back equal.
TEST(PlanTest, HparamsOfEveryKindWriteTheStoredText) {
  SweepPlan p = PlanOf(
      kA, {"model.d_mlp=16,32", "optimizer.lr=1e-3,0.01", "model.activation=gelu,relu",
           "task.random_labels=true,false", "optimizer.weight_decay=1,0.5", "sweep.seeds=0"});
  ASSERT_EQ(p.jobs.size(), 32u);
  const std::string text = HparamsJson(p.jobs[0].hparams);
  EXPECT_EQ(text, R"({"model.activation":"gelu","model.d_mlp":16,"optimizer.lr":0.001,)"
                  R"("optimizer.weight_decay":1.0,"task.random_labels":true})");
  auto back = ParseHparams(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, p.jobs[0].hparams);
  EXPECT_EQ(p.jobs[1].hparams.at("task.random_labels"), HparamValue::Bool(false));
}

TEST(PlanTest, PackSizeIsRespectedAndBalanced) {
  SweepPlan p = PlanOf(kA, {"sweep.seeds=range(20)", "training.pack=16"});
  ASSERT_EQ(p.packs.size(), 2u);
  EXPECT_EQ(p.packs[0].spec.members.size(), 10u);
  EXPECT_EQ(p.packs[1].spec.members.size(), 10u);
}

TEST(PlanTest, AutoPackSpreadsOverRanks) {
  SweepPlan one = PlanOf(kA, {"sweep.seeds=range(8)"}, 1);
  EXPECT_EQ(one.packs.size(), 1u);
  SweepPlan four = PlanOf(kA, {"sweep.seeds=range(8)"}, 4);
  EXPECT_EQ(four.packs.size(), 4u);
  // The ids do not depend on packing.
  for (size_t i = 0; i < one.jobs.size(); ++i) EXPECT_EQ(one.jobs[i].id, four.jobs[i].id);
}

TEST(PlanTest, MemoryEstimateGrowsWithModel) {
  SweepPlan small = PlanOf(kA, {});
  SweepPlan big = PlanOf(kA, {"model.d_model=64", "model.d_mlp=256"});
  auto bytes = [](const SweepPlan& plan) {
    const spec::PackSpec& spec = plan.packs[0].spec;
    return EstimateMemberBytes(spec, *spec::DescribeTask(spec.task));
  };
  EXPECT_GT(bytes(big), bytes(small));
}

TEST(ListPlanTest, PrintsJobsTableAndJson) {
  PlanRequest request;
  // The default study also sweeps train fraction and the control: pinned here.
  request.args.overrides = {"optimizer.weight_decay=0.1,1.0", "sweep.seeds=range(4)",
                            "task.train_fraction=0.5", "task.random_labels=false"};
  std::ostringstream out;
  const Status listed = ListPlan(request, out);
  ASSERT_TRUE(listed.ok()) << listed.message();
  const std::string text = out.str();
  EXPECT_NE(text.find("jobs         8"), std::string::npos) << text;
  EXPECT_NE(text.find("grid points  2"), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer.weight_decay=0.1"), std::string::npos) << text;
  request.json = true;
  std::ostringstream js;
  ASSERT_TRUE(ListPlan(request, js).ok());
  EXPECT_EQ(js.str().rfind("{\"source\":\"<embedded default>\"", 0), 0u) << js.str();
}

TEST(ListPlanTest, InvalidInputIsOneLineInvalidArgument) {
  PlanRequest request;
  request.args.overrides = {"optimizer.lr=-1"};
  std::ostringstream out;
  const Status s = ListPlan(request, out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(out.str().empty());
  EXPECT_EQ(s.message().rfind("override 'optimizer.lr=-1'", 0), 0u) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  request.args.overrides = {"training.data_parallel=2"};
  request.ranks = 3;
  const Status groups = ListPlan(request, out);
  EXPECT_EQ(groups.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(groups.message(),
            "training.data_parallel = 2 does not divide --ranks 3; use a rank count that is a "
            "multiple of it");
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace phasesweep::orchestrator
