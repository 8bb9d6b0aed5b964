// Tests of the clustering (silhouette, NC1), gradient-noise-scale, sharpness and Fourier-Gini
// probes against REFERENCE_VALUES.md, golden values from
// worker/src/probe_math/golden/probe_goldens.py (numpy 1.24.2, SciPy 1.10.1, scikit-learn 1.2.1;
// expression beside each value) and analytic cases.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "phasesweep/worker/representation_metrics.h"

namespace phasesweep::worker {
namespace {

constexpr double kTol = 1e-12;
constexpr double kPi = 3.14159265358979323846;

torch::Tensor Fixture(int64_t n, int64_t d, const std::function<double(double, double)>& f) {
  torch::Tensor m = torch::empty({n, d}, torch::kDouble);
  auto a = m.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) a[i][j] = f(static_cast<double>(i), static_cast<double>(j));
  }
  return m;
}

torch::Tensor A() {
  return Fixture(8, 3,
                 [](double i, double j) { return std::sin(1 + 0.7 * i + 1.3 * j) + 0.1 * i; });
}
torch::Tensor X() {
  return Fixture(12, 5, [](double i, double j) {
    return std::sin(0.3 + 0.45 * i + 0.9 * j + 0.13 * i * j) + 0.05 * i - 0.2 * j;
  });
}
torch::Tensor Z() {
  return Fixture(20, 3, [](double i, double j) {
    return std::sin(2.1 * i + 0.7 * j) + 0.3 * std::cos(0.5 * i * j) + 0.1 * j;
  });
}
torch::Tensor Labels(std::vector<int64_t> values) { return torch::tensor(values, torch::kLong); }
torch::Tensor L1() { return Labels({0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1}); }
torch::Tensor ZLabels() { return torch::arange(20, torch::kLong).remainder(5); }  // i % 5

// ---- silhouette ------------------------------------------------------------------------------

TEST(SilhouetteTest, ReferenceValues) {
  // REFERENCE_VALUES.md: silhouette of A's rows, labels [0,0,0,1,1,1,2,2].
  torch::Tensor labels = Labels({0, 0, 0, 1, 1, 1, 2, 2});
  EXPECT_NEAR(Silhouette(A(), labels, SilhouetteMetric::kEuclidean), 0.37467737724932504, kTol);
  EXPECT_NEAR(Silhouette(A(), labels, SilhouetteMetric::kCosine), 0.42919667103815284, kTol);
}

TEST(SilhouetteTest, GoldenValues) {
  // silhouette_score(X, [0,0,1,1,1,2,2,2,3,3,0,1], metric='euclidean'|'cosine')
  EXPECT_NEAR(Silhouette(X(), L1(), SilhouetteMetric::kEuclidean), 0.08273449279144675, kTol);
  EXPECT_NEAR(Silhouette(X(), L1(), SilhouetteMetric::kCosine), 0.11860556299863172, kTol);
  // silhouette_score(X, [0,0,0,1,1,1,2,2,2,2,2,5], metric=...): label 5 is a singleton (scores 0)
  torch::Tensor singleton = Labels({0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 5});
  EXPECT_NEAR(Silhouette(X(), singleton, SilhouetteMetric::kEuclidean), 0.16797900598741325, kTol);
  EXPECT_NEAR(Silhouette(X(), singleton, SilhouetteMetric::kCosine), 0.18787039891584764, kTol);
  // silhouette_score(X, [7,-1,7,3,-1,7,3,3,-1,-1,7,3], metric=...): arbitrary label values
  torch::Tensor arbitrary = Labels({7, -1, 7, 3, -1, 7, 3, 3, -1, -1, 7, 3});
  EXPECT_NEAR(Silhouette(X(), arbitrary, SilhouetteMetric::kEuclidean), -0.15188797621834418, kTol);
  EXPECT_NEAR(Silhouette(X(), arbitrary.to(torch::kInt), SilhouetteMetric::kCosine),
              -0.24007053278095725, kTol);
  // silhouette_score(Z, [i % 5 for i in range(20)])
  EXPECT_NEAR(Silhouette(Z(), ZLabels(), SilhouetteMetric::kEuclidean), -0.28528167750364836, kTol);
  // X0 = X.copy(); X0[3] = 0; silhouette_score(X0, L1, metric='cosine'): a zero row
  torch::Tensor x0 = X();
  x0[3].zero_();
  EXPECT_NEAR(Silhouette(x0, L1(), SilhouetteMetric::kCosine), 0.03296223783142191, kTol);
}

TEST(SilhouetteTest, UndefinedLabelCountsAreNaN) {
  EXPECT_TRUE(
      std::isnan(Silhouette(X(), torch::zeros({12}, torch::kLong), SilhouetteMetric::kEuclidean)));
  EXPECT_TRUE(std::isnan(Silhouette(X(), torch::arange(12), SilhouetteMetric::kCosine)));
  EXPECT_THROW(Silhouette(X(), torch::zeros({11}, torch::kLong), SilhouetteMetric::kCosine),
               c10::Error);
  EXPECT_THROW(Silhouette(X(), torch::zeros({12}), SilhouetteMetric::kCosine), c10::Error);
}

TEST(SilhouetteTest, SeparatedClustersApproachOne) {
  torch::Tensor x = torch::tensor({{0.0, 0.0}, {0.0, 0.001}, {100.0, 0.0}, {100.0, 0.001}});
  EXPECT_NEAR(Silhouette(x, Labels({0, 0, 1, 1}), SilhouetteMetric::kEuclidean), 1.0, 1e-4);
  EXPECT_NEAR(Silhouette(x.to(torch::kFloat), Labels({0, 0, 1, 1}), SilhouetteMetric::kEuclidean),
              1.0, 1e-4);
}

// ---- NC1 ---------------------------------------------------------------------------------------

TEST(Nc1Test, GoldenValues) {
  // mu = class means; mu_G = mu.mean(0); Sw = within.T @ within / n;
  // Sb = (mu - mu_G).T @ (mu - mu_G) / C; np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-10,
  // hermitian=True)) / C
  EXPECT_NEAR(Nc1(X(), L1()), 1.3588529321659006, 1e-10);      // C = 4, d = 5: Sb has rank 3
  EXPECT_NEAR(Nc1(Z(), ZLabels()), 15.65894358757051, 1e-10);  // C = 5, d = 3: full rank
  EXPECT_NEAR(Nc1(A(), Labels({0, 0, 0, 1, 1, 1, 2, 2})), 0.176507254348904, 1e-10);
}

TEST(Nc1Test, CollapsedClassesScoreZeroAndDegenerateCasesAreNaN) {
  torch::Tensor means = torch::tensor({{1.0, 2.0}, {-1.0, 0.5}, {3.0, -2.0}});
  torch::Tensor labels = Labels({0, 1, 2, 2, 1, 0});
  EXPECT_NEAR(Nc1(means.index_select(0, labels), labels), 0.0, 1e-15);
  EXPECT_TRUE(std::isnan(Nc1(X(), torch::zeros({12}, torch::kLong))));  // one class
  torch::Tensor same_means = torch::tensor({{1.0}, {-1.0}, {1.0}, {-1.0}});
  EXPECT_TRUE(std::isnan(Nc1(same_means, Labels({0, 0, 1, 1}))));  // both means are 0
}

// ---- gradient noise scale ----------------------------------------------------------------------

TEST(GradientNoiseScaleTest, RecoversExactExpectations) {
  // |G|^2 = 2, tr(Sigma) = 10: E|G_B|^2 = 2 + 10 / B = 4.5 at B = 4 and 2.15625 at B = 64.
  GradientNoiseScale g = EstimateGradientNoiseScale(4.5, 4, 2.15625, 64);
  EXPECT_NEAR(g.grad_sq, 2.0, 1e-14);
  EXPECT_NEAR(g.trace_sigma, 10.0, 1e-13);
  EXPECT_NEAR(g.b_simple, 5.0, 1e-13);
}

TEST(GradientNoiseScaleTest, NoiseDominatedEstimateIsNaNAndBadBatchesThrow) {
  // The big batch's norm is too small for any positive |G|^2: 64 * 0.01 < 4 * 4.5.
  GradientNoiseScale g = EstimateGradientNoiseScale(4.5, 4, 0.01, 64);
  EXPECT_LT(g.grad_sq, 0);
  EXPECT_TRUE(std::isnan(g.b_simple));
  EXPECT_THROW(EstimateGradientNoiseScale(1, 8, 1, 8), c10::Error);
  EXPECT_THROW(EstimateGradientNoiseScale(1, 0, 1, 8), c10::Error);
  EXPECT_THROW(EstimateGradientNoiseScale(-1, 4, 1, 8), c10::Error);
}

// ---- sharpness ---------------------------------------------------------------------------------

// 1 / (1 + i + j), 5 x 5.
torch::Tensor Hilbert5() {
  return Fixture(5, 5, [](double i, double j) { return 1.0 / (1.0 + i + j); });
}

TEST(SharpnessTest, QuadraticLossGivesTopEigenvalue) {
  torch::Tensor h = Hilbert5();
  torch::Tensor x = torch::linspace(-1, 1, 5, torch::kDouble).requires_grad_(true);
  auto loss = [&] { return 0.5 * torch::dot(x, torch::mv(h, x)); };
  SharpnessOptions options;
  options.max_iterations = 200;
  options.tolerance = 1e-12;
  SharpnessEstimate s = TopHessianEigenvalue(loss, {x}, options);
  EXPECT_TRUE(s.converged);
  EXPECT_LT(s.iterations, 200);
  // np.linalg.eigvalsh(1 / (1 + i + j))[-1]
  EXPECT_NEAR(s.eigenvalue, 1.5670506910982307, 1e-9);
}

TEST(SharpnessTest, IndefiniteHessianGivesLargestMagnitudeWithSign) {
  torch::Tensor x = torch::ones({5}, torch::kDouble).requires_grad_(true);
  SharpnessOptions options;
  options.max_iterations = 500;
  options.tolerance = 1e-12;
  // np.linalg.eigvalsh(H - 0.5 I) = [-0.49999671207122764, ..., 1.0670506910982307]
  torch::Tensor shifted = Hilbert5() - 0.5 * torch::eye(5, torch::kDouble);
  auto loss = [&] { return 0.5 * torch::dot(x, torch::mv(shifted, x)); };
  EXPECT_NEAR(TopHessianEigenvalue(loss, {x}, options).eigenvalue, 1.0670506910982307, 1e-9);
  torch::Tensor negated = -Hilbert5();
  auto negative = [&] { return 0.5 * torch::dot(x, torch::mv(negated, x)); };
  EXPECT_NEAR(TopHessianEigenvalue(negative, {x}, options).eigenvalue, -1.5670506910982307, 1e-9);
}

TEST(SharpnessTest, NonQuadraticLossAndSeveralParameters) {
  // loss = sum(w^4) / 4 + 3 sum(b): Hessian diag(3 w^2) for w, zero for b (its gradient is a
  // constant that does not require grad). At w = (1, 2, 3) the top eigenvalue is 27.
  torch::Tensor w = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble).requires_grad_(true);
  torch::Tensor b = torch::zeros({2}, torch::kDouble).requires_grad_(true);
  auto loss = [&] { return w.pow(4).sum() / 4 + 3 * b.sum(); };
  SharpnessOptions options;
  options.max_iterations = 300;
  options.tolerance = 1e-12;
  EXPECT_NEAR(TopHessianEigenvalue(loss, {w, b}, options).eigenvalue, 27.0, 1e-8);
  // Float32 parameters: the same to float precision.
  torch::Tensor wf = w.detach().to(torch::kFloat).requires_grad_(true);
  auto loss_f = [&] { return wf.pow(4).sum() / 4; };
  EXPECT_NEAR(TopHessianEigenvalue(loss_f, {wf}, options).eigenvalue, 27.0, 1e-4);
}

TEST(SharpnessTest, IterationLimitIsReported) {
  torch::Tensor x = torch::ones({5}, torch::kDouble).requires_grad_(true);
  torch::Tensor h = Hilbert5();
  auto loss = [&] { return 0.5 * torch::dot(x, torch::mv(h, x)); };
  SharpnessOptions options;
  options.max_iterations = 1;
  SharpnessEstimate s = TopHessianEigenvalue(loss, {x}, options);
  EXPECT_FALSE(s.converged);
  EXPECT_EQ(s.iterations, 1);
  EXPECT_LE(s.eigenvalue, 1.5670506910982307 + 1e-12);  // a Rayleigh quotient never exceeds it
}

TEST(SharpnessTest, LinearLossHasZeroCurvature) {
  torch::Tensor x = torch::ones({3}, torch::kDouble).requires_grad_(true);
  SharpnessEstimate s = TopHessianEigenvalue([&] { return 2 * x.sum(); }, {x}, SharpnessOptions{});
  EXPECT_EQ(s.eigenvalue, 0.0);
  EXPECT_TRUE(s.converged);
}

TEST(SharpnessTest, PerMemberRunsIndependentIterations) {
  // Member k's loss is c_k * 0.5 x_k^T H x_k with c = (1, 2, 0.5): top eigenvalues c_k * 1.567...
  torch::Tensor h = Hilbert5();
  torch::Tensor scale = torch::tensor({1.0, 2.0, 0.5}, torch::kDouble);
  torch::Tensor x = torch::linspace(-1, 1, 15, torch::kDouble).reshape({3, 5}).requires_grad_(true);
  auto loss = [&] { return (0.5 * scale * (x * torch::mm(x, h)).sum(1)).sum(); };
  SharpnessOptions options;
  options.max_iterations = 300;
  options.tolerance = 1e-12;
  std::vector<SharpnessEstimate> s = TopHessianEigenvaluePerMember(loss, {x}, options);
  ASSERT_EQ(s.size(), 3u);
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(s[k].converged);
    EXPECT_NEAR(s[k].eigenvalue, scale[k].item<double>() * 1.5670506910982307, 1e-8);
  }
  EXPECT_THROW(
      TopHessianEigenvaluePerMember(loss, {x, torch::ones({2, 5}).requires_grad_(true)}, options),
      c10::Error);
}

// ---- Gini and Fourier sparsity --------------------------------------------------------------

TEST(GiniTest, GoldenAndAnalyticValues) {
  // sum |v_i - v_j| / (2 m sum v)
  EXPECT_NEAR(Gini(torch::tensor({1.0, 2.0, 3.0, 4.0})), 0.25, 1e-15);
  EXPECT_NEAR(Gini(torch::tensor({0.0, 0.0, 5.0})), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(Gini(torch::tensor({4.0, 1.0, 3.0, 2.0})), 0.25, 1e-15);  // order-free
  EXPECT_EQ(Gini(torch::full({7}, 3.0)), 0.0);
  EXPECT_TRUE(std::isnan(Gini(torch::zeros({4}))));
  EXPECT_THROW(Gini(torch::tensor({1.0, -1.0})), c10::Error);
}

// probe_goldens.py: E[i, j] = sin(0.4 + 1.3 i (j + 1)) + 0.2 j + 0.05 i^2.
torch::Tensor FourierFixture(int64_t p, int64_t d) {
  return Fixture(p, d, [](double i, double j) {
    return std::sin(0.4 + 1.3 * i * (j + 1)) + 0.2 * j + 0.05 * i * i;
  });
}

TEST(FourierGiniTest, GoldenValues) {
  // Per-frequency norms of basis.T @ E with the explicit real Fourier basis (probe_goldens.py
  // real_fourier_basis), then gini(norms). p = 7 (odd) and p = 8 (even: a Nyquist term).
  const std::vector<double> norms7 = {4.202958446532982, 2.928467815608643, 2.080551131030203,
                                      2.1797738570791068};
  const std::vector<double> norms8 = {4.271280651903893, 3.2338017458807666, 1.584996808523577,
                                      0.8892065841117596, 1.6363257325899587};
  for (const auto& [p, golden, gini] :
       {std::tuple(7, norms7, 0.15616378352891802), std::tuple(8, norms8, 0.2897119297172021)}) {
    torch::Tensor e = FourierFixture(p, p == 7 ? 3 : 2);
    torch::Tensor norms = FourierFrequencyNorms(e);
    ASSERT_EQ(norms.numel(), static_cast<int64_t>(golden.size()));
    for (size_t k = 0; k < golden.size(); ++k) {
      EXPECT_NEAR(norms[static_cast<int64_t>(k)].item<double>(), golden[k], kTol);
    }
    EXPECT_NEAR(norms.pow(2).sum().item<double>(), e.pow(2).sum().item<double>(), 1e-12);
    EXPECT_NEAR(FourierGini(e), gini, kTol);
  }
}

TEST(FourierGiniTest, SingleFrequencyEmbeddingIsAnalytic) {
  // One non-zero frequency among m = floor(p/2) + 1: Gini = (m - 1) / m = floor(p/2) / (floor(p/2)
  // + 1).
  const int64_t p = 59;
  for (int64_t k : {1, 5, 29}) {
    torch::Tensor e = Fixture(p, 4, [k](double x, double j) {
      const double angle = 2 * kPi * static_cast<double>(k) * x / p;
      return (1.0 + j) * std::cos(angle) + (0.5 - j) * std::sin(angle);
    });
    EXPECT_NEAR(FourierGini(e), 29.0 / 30.0, 1e-12) << "frequency " << k;
    EXPECT_NEAR(FourierGini(e.to(torch::kFloat)), 29.0 / 30.0, 1e-6);
  }
  // The constant (k = 0) and, for even p, the alternating (k = p/2) vectors are frequencies too.
  torch::Tensor alternating = Fixture(8, 3, [](double x, double j) {
    return (j + 1) * (static_cast<int64_t>(x) % 2 == 0 ? 1.0 : -1.0);
  });
  EXPECT_NEAR(FourierGini(alternating), 4.0 / 5.0, 1e-12);
  EXPECT_NEAR(FourierGini(torch::ones({8, 3})), 4.0 / 5.0, 1e-12);
  // Two frequencies of equal norm: (m - 2) / m.
  torch::Tensor two = Fixture(p, 1, [](double x, double) {
    return std::cos(2 * kPi * 3 * x / p) + std::sin(2 * kPi * 11 * x / p);
  });
  EXPECT_NEAR(FourierGini(two), 28.0 / 30.0, 1e-12);
}

TEST(FourierGiniTest, BatchedMatchesPerMember) {
  torch::Tensor e =
      torch::stack({FourierFixture(7, 3), FourierFixture(7, 3).pow(2), torch::ones({7, 3})});
  torch::Tensor g = BatchedFourierGini(e);
  for (int64_t k = 0; k < 3; ++k) EXPECT_NEAR(g[k].item<double>(), FourierGini(e[k]), 1e-14);
  EXPECT_TRUE(std::isnan(FourierGini(torch::zeros({7, 2}))));
}

}  // namespace
}  // namespace phasesweep::worker
