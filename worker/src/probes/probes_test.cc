// The probes inside training: every built-in metric is produced at every probe step with values
// in its range, matches an independent computation from the model's own tensors (embedding
// snapshots, a plain backward pass), does not depend on the member's pack or on diverged
// neighbours, and survives checkpoint/resume bitwise (resume_test.cc). The probe mathematics
// itself is tested against numpy/SciPy/scikit-learn in representation_metrics_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "phasesweep/worker/representation_metrics.h"
#include "phasesweep/worker/rng.h"
#include "phasesweep/worker/trainer.h"
#include "train/test_specs.h"

namespace phasesweep::worker {
namespace {

std::vector<std::string> AllMetrics(bool modular) {
  std::vector<std::string> m = ProbeRegistry::Builtin().MetricNames();
  if (!modular) m.erase(std::find(m.begin(), m.end(), "fourier_gini"));
  return m;
}

std::unique_ptr<PackTrainer> Train(const PackSpec& spec) {
  auto t = PackTrainer::Create(spec, torch::kCPU);
  EXPECT_TRUE(t.ok()) << t.status().message();
  if (!t.ok()) return nullptr;
  Result<RunOutcome> r = (*t)->Run();
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*t);
}

PackSpec WithAllProbes(PackSpec p, bool modular = true) {
  p.probes.metrics = AllMetrics(modular);
  p.probes.every = 10;
  p.probes.sharpness_iters = 30;
  return p;
}

// Metrics against the previous probe step: NaN at the first probe step (docs/METRICS.md).
bool AgainstPreviousProbe(const std::string& metric) {
  return metric == "emb_cos_prev" || metric == "emb_rel_update" || metric == "rel_update" ||
         metric == "cka_prev";
}

const std::vector<double>& Values(const Trace& t, const std::string& metric) {
  return t.metrics.at(metric);
}

TEST(ProbesTest, RegistryAndCatalogNameTheSameMetrics) {
  // The orchestrator's config schema lists these names too (orchestrator config_test checks its
  // list against this registry); here: the names the issue asks for, once each.
  std::vector<std::string> names = ProbeRegistry::Builtin().MetricNames();
  for (const char* m : {"train_loss",
                        "test_loss",
                        "train_acc",
                        "test_acc",
                        "emb_norm",
                        "emb_row_norm_mean",
                        "emb_cos_prev",
                        "emb_cos_init",
                        "rel_update",
                        "emb_rel_update",
                        "cka_prev",
                        "cka_init",
                        "eff_rank",
                        "stable_rank",
                        "participation_ratio",
                        "emb_eff_rank",
                        "emb_stable_rank",
                        "emb_participation_ratio",
                        "silhouette",
                        "nc1",
                        "weight_norm",
                        "grad_norm",
                        "grad_noise_scale",
                        "sharpness",
                        "fourier_gini"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), m), 1) << m;
  }
  EXPECT_EQ(names.size(), 25u);
}

TEST(ProbesTest, EveryMetricAtEveryProbeStepWithinItsRange) {
  PackSpec spec = WithAllProbes(testing::SmallModularPack({3, 4}, 60));
  // Nearly all 265 training examples: the noise scale is resolvable only up to about the probe
  // batch size, and is NaN beyond (docs/METRICS.md).
  spec.probes.batch = 256;
  auto t = Train(spec);
  ASSERT_NE(t, nullptr);
  for (const Trace& tr : t->traces()) {
    ASSERT_EQ(tr.steps, (std::vector<int64_t>{0, 10, 20, 30, 40, 50, 60}));
    for (const std::string& m : AllMetrics(true)) {
      ASSERT_EQ(Values(tr, m).size(), tr.steps.size()) << m;
      // The noise scale is NaN where its unbiased |G|^2 estimate is <= 0 (docs/METRICS.md).
      if (m == "grad_noise_scale") continue;
      const std::vector<double>& v = Values(tr, m);
      for (size_t i = AgainstPreviousProbe(m) ? 1 : 0; i < v.size(); ++i) {
        EXPECT_TRUE(std::isfinite(v[i])) << m << " step " << tr.steps[i];
      }
    }
    int finite_noise_scales = 0;
    for (double v : Values(tr, "grad_noise_scale")) {
      if (std::isfinite(v)) {
        EXPECT_GT(v, 0.0);
        ++finite_noise_scales;
      }
    }
    EXPECT_GE(finite_noise_scales, 1);
    std::cout << "[ info ] grad_noise_scale:";
    for (double v : Values(tr, "grad_noise_scale")) std::cout << ' ' << v;
    std::cout << "\n";
    // At the first probe step there is no previous probe (NaN); the state is its own init.
    for (const char* m : {"emb_cos_prev", "rel_update", "emb_rel_update", "cka_prev"}) {
      EXPECT_TRUE(std::isnan(Values(tr, m)[0])) << m;
    }
    EXPECT_DOUBLE_EQ(Values(tr, "emb_cos_init")[0], 1.0);
    EXPECT_NEAR(Values(tr, "cka_init")[0], 1.0, 1e-9);
    for (size_t i = 1; i < tr.steps.size(); ++i) {
      EXPECT_LT(Values(tr, "emb_cos_prev")[i], 1.0);
      EXPECT_GT(Values(tr, "rel_update")[i], 0.0);
      EXPECT_GE(Values(tr, "cka_prev")[i], 0.0);
      EXPECT_LE(Values(tr, "cka_prev")[i], 1.0 + 1e-12);
    }
    const double width = 32, rows = 24;  // d_model; vocab p + 1
    for (size_t i = 0; i < tr.steps.size(); ++i) {
      EXPECT_GE(Values(tr, "eff_rank")[i], 1.0);
      EXPECT_LE(Values(tr, "eff_rank")[i], width);
      EXPECT_GE(Values(tr, "emb_stable_rank")[i], 1.0);
      EXPECT_LE(Values(tr, "emb_eff_rank")[i], rows);
      EXPECT_GE(Values(tr, "silhouette")[i], -1.0);
      EXPECT_LE(Values(tr, "silhouette")[i], 1.0);
      EXPECT_GE(Values(tr, "fourier_gini")[i], 0.0);
      EXPECT_LT(Values(tr, "fourier_gini")[i], 1.0);
      EXPECT_GT(Values(tr, "grad_norm")[i], 0.0);
      EXPECT_GT(Values(tr, "weight_norm")[i], Values(tr, "emb_norm")[i]);
      EXPECT_GE(Values(tr, "nc1")[i], 0.0);
    }
  }
}

TEST(ProbesTest, EmbeddingMetricsEqualTheirDefinitionOnSnapshots) {
  PackSpec p = testing::SmallModularPack({5}, 40);
  p.probes.metrics = {"emb_norm",     "emb_row_norm_mean", "emb_cos_prev",
                      "emb_cos_init", "emb_rel_update",    "fourier_gini"};
  p.probes.every = 10;
  p.probes.snapshot_every = 10;
  auto t = Train(p);
  ASSERT_NE(t, nullptr);
  EmbeddingSnapshots snap = t->snapshots(0);
  ASSERT_EQ(snap.steps, (std::vector<int64_t>{0, 10, 20, 30, 40}));
  ASSERT_EQ(snap.embed.sizes(), (std::vector<int64_t>{5, 24, 32}));
  const Trace& tr = t->traces()[0];
  for (size_t i = 0; i < snap.steps.size(); ++i) {
    torch::Tensor e = snap.embed[static_cast<int64_t>(i)].to(torch::kFloat64);
    torch::Tensor prev = snap.embed[static_cast<int64_t>(i == 0 ? 0 : i - 1)].to(torch::kFloat64);
    torch::Tensor init = snap.embed[0].to(torch::kFloat64);
    // Plain tensor expressions of the formulas in docs/METRICS.md.
    const double norm = e.norm().item<double>();
    EXPECT_NEAR(Values(tr, "emb_norm")[i], norm, 1e-12 * norm);
    EXPECT_NEAR(Values(tr, "emb_row_norm_mean")[i], e.norm(2, {1}).mean().item<double>(), 1e-12);
    EXPECT_NEAR(Values(tr, "emb_cos_init")[i],
                ((e * init).sum() / (e.norm() * init.norm())).item<double>(), 1e-12);
    if (i == 0) {  // no previous probe
      EXPECT_TRUE(std::isnan(Values(tr, "emb_cos_prev")[i]));
      EXPECT_TRUE(std::isnan(Values(tr, "emb_rel_update")[i]));
    } else {
      EXPECT_NEAR(Values(tr, "emb_cos_prev")[i],
                  ((e * prev).sum() / (e.norm() * prev.norm())).item<double>(), 1e-12);
      EXPECT_NEAR(Values(tr, "emb_rel_update")[i], ((e - prev).norm() / prev.norm()).item<double>(),
                  1e-12);
    }
    EXPECT_NEAR(Values(tr, "fourier_gini")[i], FourierGini(e.narrow(0, 0, 23)), 1e-12);
  }
}

TEST(ProbesTest, GradNormIsTheNormOfThePlainProbeBatchGradient) {
  PackSpec p = testing::SmallModularPack({6}, 20);
  p.probes.metrics = {"grad_norm", "grad_noise_scale"};
  p.probes.every = 20;
  auto t = Train(p);
  ASSERT_NE(t, nullptr);
  // Rebuild the probe batch's gradient with a plain backward pass at the final parameters.
  PackSpec q = p;
  q.probes.metrics = {"train_loss"};
  auto fresh = PackTrainer::Create(q, torch::kCPU);
  ASSERT_TRUE(fresh.ok());
  torch::NoGradGuard no_grad;
  (*fresh)->model().params().flat_params().copy_(t->model().params().flat_params());
  // The probe batch: the first 64 rows of the member's seeded permutation (trainer.cc).
  const PackData& data = t->data();
  Rng rng(DeriveSeed(6, kProbeBatchStream));
  std::vector<int64_t> perm = rng.Permutation(data.info.n_train);
  perm.resize(64);
  torch::Tensor idx = torch::tensor(perm, torch::kInt64);
  torch::Tensor tokens = data.train_tokens[0].index_select(0, idx).unsqueeze(0);
  torch::Tensor labels = data.train_labels[0].index_select(0, idx).unsqueeze(0);
  torch::AutoGradMode grad(true);
  EnsembleModel& m = (*fresh)->model();
  m.params().flat_grads().zero_();
  MemberLosses(m.Forward(tokens).logits, labels).sum().backward();
  const double expected = m.params().flat_grads().norm().item<double>();
  EXPECT_NEAR(Values(t->traces()[0], "grad_norm").back(), expected, 1e-5 * expected);
  // The noise scale is positive and finite here (noisy 16-example chunks of a trained model).
  const double b = Values(t->traces()[0], "grad_noise_scale").back();
  EXPECT_TRUE(std::isfinite(b));
}

TEST(ProbesTest, MembersInAPackGiveTheirAloneTracesForEveryProbe) {
  PackSpec pack = WithAllProbes(testing::SmallModularPack({7, 8, 9}, 40));
  pack.members[1].scalars.lr *= 2;
  auto together = Train(pack);
  ASSERT_NE(together, nullptr);
  for (size_t k = 0; k < pack.members.size(); ++k) {
    PackSpec alone_spec = pack;
    alone_spec.members = {pack.members[k]};
    auto alone = Train(alone_spec);
    ASSERT_NE(alone, nullptr);
    const Trace &a = together->traces()[k], &b = alone->traces()[0];
    ASSERT_EQ(a.steps, b.steps);
    for (const auto& [name, va] : a.metrics) {
      const std::vector<double>& vb = b.metrics.at(name);
      for (size_t i = 0; i < va.size(); ++i) {
        EXPECT_EQ(std::isnan(va[i]), std::isnan(vb[i])) << name << " step " << a.steps[i];
        if (std::isnan(va[i]) || std::isnan(vb[i])) continue;
        const double scale = std::max({std::abs(va[i]), std::abs(vb[i]), 1e-6});
        EXPECT_LE(std::abs(va[i] - vb[i]) / scale, 1e-5)
            << name << " member " << k << " step " << a.steps[i] << ": " << va[i] << " vs "
            << vb[i];
      }
    }
  }
}

TEST(ProbesTest, MlpOnSparseParityGetsEveryApplicableProbe) {
  auto t = Train(WithAllProbes(testing::SmallParityPack({2}, 30), /*modular=*/false));
  ASSERT_NE(t, nullptr);
  for (const auto& [name, v] : t->traces()[0].metrics) {
    if (name == "grad_noise_scale") continue;  // may be NaN (see above)
    for (size_t i = AgainstPreviousProbe(name) ? 1 : 0; i < v.size(); ++i) {
      EXPECT_TRUE(std::isfinite(v[i])) << name;
    }
  }
}

TEST(ProbesTest, DivergedNeighbourLeavesProbesOfTheOthersIntact) {
  PackSpec p = WithAllProbes(testing::SmallModularPack({1, 2}, 40));
  p.optimizer.name = "sgd";
  p.optimizer.warmup_steps = 0;
  p.members[0].scalars.lr = 0.05;
  // The largest step the catalog allows, with a decay that multiplies the weights by 1e7 each
  // step: diverges within a few steps.
  p.members[1].scalars.lr = 10;
  p.members[1].scalars.weight_decay = 1e6;
  auto t = Train(p);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->statuses()[1].state, JobStatus::kDiverged);
  PackSpec alone = p;
  alone.members = {p.members[0]};
  auto a = Train(alone);
  ASSERT_NE(a, nullptr);
  for (const auto& [name, v] : t->traces()[0].metrics) {
    const std::vector<double>& w = a->traces()[0].metrics.at(name);
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(std::isnan(v[i]), std::isnan(w[i])) << name;
      if (std::isnan(v[i]) || std::isnan(w[i])) continue;
      EXPECT_NEAR(v[i], w[i], 1e-5 * std::max({std::abs(v[i]), std::abs(w[i]), 1e-6})) << name;
    }
  }
}

void ExpectRefused(PackSpec s, const std::string& phrase) {
  Status v = ValidatePackSpec(s);
  EXPECT_EQ(v.code(), Status::Code::kInvalidArgument) << v.message();
  EXPECT_NE(v.message().find(phrase), std::string::npos) << v.message();
  EXPECT_EQ(v.message().find('\n'), std::string::npos);
}

TEST(ProbesTest, ProbesThatDoNotApplyAreRefusedBeforeTraining) {
  PackSpec parity = testing::SmallParityPack({1});
  parity.probes.metrics = {"train_loss", "fourier_gini"};
  ExpectRefused(parity,
                "probes.metrics: 'fourier_gini': applies only to task.name = modular_arithmetic");
  PackSpec p = testing::SmallModularPack({1});
  p.probes.metrics = {"cka_prev"};
  p.probes.cka = "rbf";
  ExpectRefused(p, "probes.cka = 'rbf' is not valid; valid: linear, debiased");
  p.probes.cka = "debiased";
  p.probes.batch = 3;
  ExpectRefused(p, "needs a probe batch of at least 4 examples, got 3");
  p.probes.metrics = {"sharpness"};
  p.probes.batch = 64;
  p.probes.sharpness_iters = 0;
  ExpectRefused(p, "probes.sharpness_iters = 0 is out of range; valid: >= 1.0");
  p.probes.sharpness_iters = 5;
  p.probes.metrics = {"emb_norm", "emb_cosine"};
  ExpectRefused(p, "probes.metrics = 'emb_cosine' is not valid; valid: train_loss, test_loss");
}

}  // namespace
}  // namespace phasesweep::worker
