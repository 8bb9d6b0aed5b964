// Tests of the norm, cosine, relative-update, CKA and spectral-rank probes against
// ../../shared/REFERENCE_VALUES.md, golden values from
// worker/src/probe_math/golden/probe_goldens.py (numpy 1.24.2, SciPy 1.10.1, scikit-learn 1.2.1;
// expression beside each value) and invariants.
#include "phasesweep/worker/representation_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace phasesweep::worker {
namespace {

constexpr double kTol = 1e-12;

// The fixtures of probe_goldens.py: m[i, j] = f(i, j), i < n, j < d, float64.
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
torch::Tensor B() {
  return Fixture(
      8, 3, [](double i, double j) { return std::cos(0.5 + 0.9 * i - 0.4 * j) + 0.05 * i * j; });
}
torch::Tensor X() {
  return Fixture(12, 5, [](double i, double j) {
    return std::sin(0.3 + 0.45 * i + 0.9 * j + 0.13 * i * j) + 0.05 * i - 0.2 * j;
  });
}
torch::Tensor Y() {
  return Fixture(12, 4, [](double i, double j) {
    return std::cos(1.1 - 0.35 * i + 0.6 * j * j) * (1 + 0.1 * j) + 0.02 * i * i;
  });
}
torch::Tensor P() {
  return Fixture(
      6, 9, [](double i, double j) { return std::sin(0.2 + 0.37 * i + 1.1 * j + 0.05 * i * j); });
}
torch::Tensor Q() {
  return Fixture(6, 4,
                 [](double i, double j) { return std::cos(1.7 * i - 0.3 * j * j) + 0.1 * j; });
}
torch::Tensor Z() {
  return Fixture(20, 3, [](double i, double j) {
    return std::sin(2.1 * i + 0.7 * j) + 0.3 * std::cos(0.5 * i * j) + 0.1 * j;
  });
}

// A fixed orthogonal d x d matrix (QR of a fixture).
torch::Tensor Orthogonal(int64_t d) {
  torch::Tensor m =
      Fixture(d, d, [](double i, double j) { return std::sin(1.0 + 3.1 * i + 0.7 * j * j); });
  return std::get<0>(torch::linalg_qr(m));
}

// ---- cosine, norms, relative update --------------------------------------------------------

TEST(CosineTest, ReferenceValue) {
  // REFERENCE_VALUES.md: cosine of flattened A and B.
  EXPECT_NEAR(Cosine(A(), B()), 0.456620410773482, kTol);
  // X.ravel() @ (X**3).ravel() / (norm(X) * norm(X**3))
  EXPECT_NEAR(Cosine(X(), X().pow(3)), 0.862165369829897, kTol);
  // P[:, :4].ravel() @ Q.ravel() / (norm(P[:, :4]) * norm(Q)); shapes only need equal numel.
  EXPECT_NEAR(Cosine(P().slice(1, 0, 4).contiguous(), Q().reshape({4, 6})), -0.056779022503713014,
              kTol);
}

TEST(CosineTest, IdenticalIsExactlyOneAndOppositeMinusOne) {
  for (const torch::Tensor& t : {A(), X(), P(), X().to(torch::kFloat)}) {
    EXPECT_EQ(Cosine(t, t), 1.0);
    EXPECT_EQ(Cosine(t, -t), -1.0);
    EXPECT_NEAR(Cosine(t, 2.5 * t), 1.0, 1e-15);
  }
}

TEST(CosineTest, ZeroVectorIsNaN) {
  EXPECT_TRUE(std::isnan(Cosine(torch::zeros({3, 2}), torch::ones({3, 2}))));
  EXPECT_TRUE(std::isnan(Cosine(torch::ones({6}), torch::zeros({6}))));
}

TEST(CosineTest, BatchedMatchesPerMember) {
  torch::Tensor a = torch::stack({A(), B(), A()});
  torch::Tensor b = torch::stack({B(), B(), -A()});
  torch::Tensor c = BatchedCosine(a, b);
  ASSERT_EQ(c.dtype(), torch::kDouble);
  ASSERT_EQ(c.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(c[0].item<double>(), 0.456620410773482, kTol);
  EXPECT_EQ(c[1].item<double>(), 1.0);
  EXPECT_EQ(c[2].item<double>(), -1.0);
}

TEST(CosineTest, MismatchedSizesThrow) {
  EXPECT_THROW(Cosine(torch::ones({3}), torch::ones({4})), c10::Error);
  EXPECT_THROW(BatchedCosine(torch::ones({2, 3}), torch::ones({3, 2})), c10::Error);
}

TEST(NormTest, FrobeniusAndMeanRowNorm) {
  EXPECT_NEAR(FrobeniusNorm(X()), 6.200940930829977, kTol);  // np.linalg.norm(X)
  EXPECT_NEAR(MeanRowNorm(X()), 1.7643114610399773, kTol);   // np.linalg.norm(X, axis=1).mean()
  EXPECT_NEAR(FrobeniusNorm(X().to(torch::kFloat)), 6.200940930829977, 1e-6);
  torch::Tensor batched = BatchedFrobeniusNorm(torch::stack({X(), 2 * X()}));
  EXPECT_NEAR(batched[1].item<double>(), 2 * 6.200940930829977, kTol);
  torch::Tensor rows = BatchedMeanRowNorm(torch::stack({X(), -X()}));
  EXPECT_NEAR(rows[1].item<double>(), 1.7643114610399773, kTol);
  EXPECT_EQ(MeanRowNorm(torch::tensor({{3.0, 4.0}, {0.0, 1.0}})), 3.0);  // (5 + 1) / 2
  EXPECT_THROW(MeanRowNorm(torch::ones({3})), c10::Error);
}

TEST(NormTest, GlobalNormSkipsUndefinedTensors) {
  std::vector<torch::Tensor> params = {torch::full({2, 2}, 1.0), torch::Tensor(),
                                       torch::full({2, 3}, 2.0)};
  EXPECT_DOUBLE_EQ(GlobalNorm(params), std::sqrt(4.0 + 24.0));
  torch::Tensor per_member = BatchedGlobalNorm(params);  // member k: rows k of both tensors
  EXPECT_DOUBLE_EQ(per_member[0].item<double>(), std::sqrt(2.0 + 12.0));
  EXPECT_DOUBLE_EQ(per_member[1].item<double>(), std::sqrt(2.0 + 12.0));
  EXPECT_THROW(BatchedGlobalNorm({torch::ones({2, 2}), torch::ones({3, 2})}), c10::Error);
}

TEST(RelativeUpdateTest, GoldenValues) {
  torch::Tensor x4 = X().slice(1, 0, 4).contiguous();
  // np.linalg.norm(Y - X[:, :4]) / np.linalg.norm(X[:, :4])
  EXPECT_NEAR(RelativeUpdate(Y(), x4), 2.0297419306898936, kTol);
  // sqrt(|Y - X4|^2 + |B - A|^2) / sqrt(|X4|^2 + |A|^2)
  EXPECT_NEAR(RelativeUpdate({Y(), B()}, {x4, A()}), 1.733560709721779, kTol);
  torch::Tensor per_member = BatchedRelativeUpdate(torch::stack({Y(), x4}), torch::stack({x4, x4}));
  EXPECT_NEAR(per_member[0].item<double>(), 2.0297419306898936, kTol);
  EXPECT_EQ(per_member[1].item<double>(), 0.0);
}

TEST(RelativeUpdateTest, ZeroPreviousIsNaNAndShapeChangeThrows) {
  EXPECT_TRUE(std::isnan(RelativeUpdate(torch::ones({2, 2}), torch::zeros({2, 2}))));
  EXPECT_THROW(RelativeUpdate(torch::ones({2, 2}), torch::ones({4})), c10::Error);
  EXPECT_THROW(RelativeUpdate({torch::ones({2})}, {torch::ones({2}), torch::ones({2})}),
               c10::Error);
}

// ---- CKA ------------------------------------------------------------------------------------

TEST(CkaTest, ReferenceValues) {
  // REFERENCE_VALUES.md (Kornblith et al. 2019 linear CKA and its debiased form).
  EXPECT_NEAR(Cka(A(), B(), CkaEstimator::kLinear), 0.46775108400341225, kTol);
  EXPECT_NEAR(Cka(A(), B(), CkaEstimator::kDebiased), 0.3678667013494509, kTol);
}

TEST(CkaTest, GoldenValuesFeatureSpaceForm) {
  // n = 12 rows, 5 and 4 columns: computed through the d x d cross products.
  // cka(gram_linear(Xc), gram_linear(Yc), debiased=False|True), Kornblith et al.'s code.
  EXPECT_NEAR(Cka(X(), Y(), CkaEstimator::kLinear), 0.44302075454843465, kTol);
  EXPECT_NEAR(Cka(X(), Y(), CkaEstimator::kDebiased), 0.35208410328780304, kTol);
  // cka(gram_linear(Xc), gram_linear((X**3)c), debiased=False|True)
  EXPECT_NEAR(Cka(X(), X().pow(3), CkaEstimator::kLinear), 0.6933525754662329, kTol);
  EXPECT_NEAR(Cka(X(), X().pow(3), CkaEstimator::kDebiased), 0.6580339913988785, kTol);
}

TEST(CkaTest, GoldenValuesGramForm) {
  // n = 6 rows, 9 and 4 columns: computed through the n x n Gram matrices.
  // cka(gram_linear(Pc), gram_linear(Qc), debiased=False|True); the debiased value is negative.
  EXPECT_NEAR(Cka(P(), Q(), CkaEstimator::kLinear), 0.06672267460412414, kTol);
  EXPECT_NEAR(Cka(P(), Q(), CkaEstimator::kDebiased), -0.39833596263999826, kTol);
}

TEST(CkaTest, BothFormsAgreeOnTheSameData) {
  // Zero columns change neither CKA value but push X (12 x 45) onto the Gram path.
  torch::Tensor padded = torch::cat({X(), torch::zeros({12, 40}, torch::kDouble)}, 1);
  EXPECT_NEAR(Cka(padded, Y(), CkaEstimator::kLinear), 0.44302075454843465, kTol);
  EXPECT_NEAR(Cka(padded, Y(), CkaEstimator::kDebiased), 0.35208410328780304, kTol);
}

TEST(CkaTest, SelfSimilarityIsOne) {
  for (CkaEstimator e : {CkaEstimator::kLinear, CkaEstimator::kDebiased}) {
    for (const torch::Tensor& t : {A(), X(), P(), Z()}) EXPECT_NEAR(Cka(t, t, e), 1.0, 1e-14);
  }
}

TEST(CkaTest, InvariantToOrthogonalTransformsIsotropicScalingAndShifts) {
  for (CkaEstimator e : {CkaEstimator::kLinear, CkaEstimator::kDebiased}) {
    const double base = Cka(X(), Y(), e);
    EXPECT_NEAR(Cka(torch::mm(X(), Orthogonal(5)), Y(), e), base, kTol);
    EXPECT_NEAR(Cka(X(), torch::mm(Y(), Orthogonal(4)), e), base, kTol);
    EXPECT_NEAR(Cka(3.7 * X(), 0.02 * Y(), e), base, kTol);
    EXPECT_NEAR(Cka(X() + 5.0, Y() - torch::arange(4, torch::kDouble), e), base, kTol);
    EXPECT_NEAR(Cka(Y(), X(), e), base, kTol);  // symmetric
    const double gram = Cka(P(), Q(), e);
    EXPECT_NEAR(Cka(torch::mm(P(), Orthogonal(9)), 4.0 * Q(), e), gram, kTol);
  }
}

TEST(CkaTest, NotInvariantToAnisotropicScaling) {
  // The invariance tests above could pass for a function that ignores its input; this one
  // could not: stretching one feature changes linear CKA.
  torch::Tensor stretch = torch::diag(torch::tensor({10.0, 1.0, 1.0, 1.0, 1.0}, torch::kDouble));
  EXPECT_GT(std::abs(Cka(torch::mm(X(), stretch), Y(), CkaEstimator::kLinear) -
                     Cka(X(), Y(), CkaEstimator::kLinear)),
            1e-3);
}

TEST(CkaTest, BatchedMatchesPerMemberAndFloat32IsClose) {
  torch::Tensor x = torch::stack({X(), X().pow(3), X()});
  torch::Tensor y = torch::stack({Y(), Y(), torch::mm(Y(), Orthogonal(4))});
  for (CkaEstimator e : {CkaEstimator::kLinear, CkaEstimator::kDebiased}) {
    torch::Tensor batched = BatchedCka(x, y, e);
    ASSERT_EQ(batched.sizes(), torch::IntArrayRef({3}));
    for (int64_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(batched[k].item<double>(), Cka(x[k], y[k], e), 1e-14);
    }
    EXPECT_NEAR(Cka(X().to(torch::kFloat), Y().to(torch::kFloat), e), Cka(X(), Y(), e), 1e-6);
  }
}

TEST(CkaTest, ConstantRepresentationIsNaN) {
  torch::Tensor constant = torch::full({12, 3}, 0.1, torch::kDouble);
  EXPECT_TRUE(std::isnan(Cka(constant, Y(), CkaEstimator::kLinear)));
  EXPECT_TRUE(std::isnan(Cka(X(), constant, CkaEstimator::kDebiased)));
  EXPECT_TRUE(std::isnan(Cka(torch::zeros({6, 9}), Q(), CkaEstimator::kLinear)));  // Gram path
}

TEST(CkaTest, RejectsTooFewRowsAndMismatchedRows) {
  EXPECT_THROW(Cka(A().slice(0, 0, 3), B().slice(0, 0, 3), CkaEstimator::kDebiased), c10::Error);
  EXPECT_THROW(Cka(A().slice(0, 0, 1), B().slice(0, 0, 1), CkaEstimator::kLinear), c10::Error);
  EXPECT_THROW(Cka(A(), X(), CkaEstimator::kLinear), c10::Error);
  EXPECT_NO_THROW(Cka(A().slice(0, 0, 4), B().slice(0, 0, 4), CkaEstimator::kDebiased));
}

TEST(CkaTest, EstimatorNames) {
  EXPECT_EQ(CkaEstimatorFromName("linear"), CkaEstimator::kLinear);
  EXPECT_EQ(CkaEstimatorFromName("debiased"), CkaEstimator::kDebiased);
  EXPECT_FALSE(CkaEstimatorFromName("rbf").has_value());
  EXPECT_STREQ(CkaEstimatorName(CkaEstimator::kDebiased), "debiased");
}

// ---- spectral ranks --------------------------------------------------------------------------

TEST(RankTest, ReferenceValues) {
  // REFERENCE_VALUES.md
  EXPECT_NEAR(EffectiveRank(A()), 2.6519482332975883, kTol);
  EXPECT_NEAR(StableRank(A()), 1.4928003928615872, kTol);
  EXPECT_NEAR(ParticipationRatio(A()), 1.6580849606625445, kTol);
  // The sigma^2-weighted "effective rank" named as a pitfall is a different quantity.
  EXPECT_GT(std::abs(EffectiveRank(A()) - 2.1466230037480747), 0.1);
}

TEST(RankTest, GoldenValues) {
  // effective: s = scipy.linalg.svdvals(M); p = s / s.sum(); exp(-(p * log p).sum())
  // stable:    (s**2).sum() / s[0]**2
  // PR:        l = np.linalg.eigvalsh(np.cov(M, rowvar=False, ddof=1)); l.sum()**2 / (l**2).sum()
  struct Golden {
    torch::Tensor m;
    double effective, stable, participation;
  };
  const Golden goldens[] = {
      {X(), 3.939171765775439, 2.36120215815839, 3.175210069574245},
      {P(), 2.9743415036674694, 1.9632866703642913, 1.5763783241855658},  // n < d
      {Q(), 2.3567906380119195, 1.5233606270069597, 1.5837742734914095},
      {Z(), 2.595801559248116, 1.4144835076341127, 1.782315488998409},
  };
  for (const Golden& g : goldens) {
    EXPECT_NEAR(EffectiveRank(g.m), g.effective, kTol);
    EXPECT_NEAR(StableRank(g.m), g.stable, kTol);
    EXPECT_NEAR(ParticipationRatio(g.m), g.participation, kTol);
  }
}

TEST(RankTest, AnalyticCases) {
  torch::Tensor identity = torch::eye(4, torch::kDouble);
  EXPECT_NEAR(EffectiveRank(identity), 4.0, 1e-13);
  EXPECT_NEAR(StableRank(identity), 4.0, 1e-13);
  torch::Tensor rank_one = torch::outer(torch::arange(1, 6, torch::kDouble),
                                        torch::tensor({1.0, -2.0, 0.5}, torch::kDouble));
  EXPECT_NEAR(EffectiveRank(rank_one), 1.0, 1e-12);  // s_2 is rounding-sized, not 0
  EXPECT_NEAR(StableRank(rank_one), 1.0, 1e-13);
  EXPECT_NEAR(ParticipationRatio(rank_one), 1.0, 1e-13);
  // Isotropic columns: orthogonal columns of equal norm, centred -> covariance = c I.
  torch::Tensor hadamard = torch::tensor(
      {{1.0, 1.0, 1.0}, {1.0, -1.0, -1.0}, {-1.0, 1.0, -1.0}, {-1.0, -1.0, 1.0}}, torch::kDouble);
  EXPECT_NEAR(ParticipationRatio(hadamard), 3.0, 1e-13);
  EXPECT_NEAR(ParticipationRatio(42.0 * X()), ParticipationRatio(X()), kTol);  // scale-free
}

TEST(RankTest, DegenerateInputsAreNaN) {
  EXPECT_TRUE(std::isnan(EffectiveRank(torch::zeros({3, 2}))));
  EXPECT_TRUE(std::isnan(StableRank(torch::zeros({3, 2}))));
  EXPECT_TRUE(std::isnan(ParticipationRatio(torch::full({5, 2}, 0.1))));
  EXPECT_THROW(ParticipationRatio(torch::ones({1, 3})), c10::Error);
}

TEST(RankTest, BatchedMatchesPerMember) {
  torch::Tensor x = torch::stack({X(), X().pow(2), torch::mm(X(), Orthogonal(5))});
  torch::Tensor e = BatchedEffectiveRank(x);
  torch::Tensor s = BatchedStableRank(x);
  torch::Tensor p = BatchedParticipationRatio(x);
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(e[k].item<double>(), EffectiveRank(x[k]), 1e-13);
    EXPECT_NEAR(s[k].item<double>(), StableRank(x[k]), 1e-13);
    EXPECT_NEAR(p[k].item<double>(), ParticipationRatio(x[k]), 1e-13);
  }
  // Rotating the features changes no singular value.
  EXPECT_NEAR(e[2].item<double>(), 3.939171765775439, kTol);
}

}  // namespace
}  // namespace phasesweep::worker
