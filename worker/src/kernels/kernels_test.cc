// Tests of the worker's fused CPU operations against plain LibTorch expressions (in double where
// it matters): the matrix kernels, the exponential, the cross-entropy, the token embedding and
// projection. Values, gradients, double backward where probes use it, the bitwise independence
// that member independence rests on, and the bad inputs each one refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/fast_exp.h"
#include "kernels/row_kernels.h"
#include "kernels/small_gemm.h"
#include "model/batched_linear.h"
#include "model/token_embedding.h"
#include "model/token_projection.h"
#include "phasesweep/worker/model.h"

namespace phasesweep::worker {
namespace {

torch::Tensor Randn(std::vector<int64_t> shape, uint64_t seed) {
  return torch::randn(shape, at::detail::createCPUGenerator(seed));
}

// max |a - b| / (1 + max |b|), in double.
double RelDiff(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor bd = b.to(torch::kFloat64);
  return (a.to(torch::kFloat64) - bd).abs().max().item<double>() /
         (1.0 + bd.abs().max().item<double>());
}

// Shapes with every kind of edge: single rows and columns, partial vectors (any width), row
// counts that are not multiples of the eight rows in flight, the benchmark models' shapes, and
// the largest inputs and outputs the kernels take (256, 512).
const std::vector<std::vector<int64_t>> kShapes = {{1, 1, 1},     {7, 5, 3},     {9, 16, 16},
                                                   {17, 33, 31},  {96, 16, 16},  {32, 64, 256},
                                                   {13, 256, 20}, {21, 128, 512}};

TEST(SmallGemmTest, KernelsEqualDoublePrecisionProducts) {
  for (const auto& shape : kShapes) {
    const int64_t M = shape[0], I = shape[1], O = shape[2];
    const torch::Tensor x = Randn({M, I}, 1), w = Randn({I, O}, 2), bias = Randn({O}, 3);
    const torch::Tensor g = Randn({M, O}, 4);
    const torch::Tensor xd = x.to(torch::kFloat64), wd = w.to(torch::kFloat64);
    const torch::Tensor gd = g.to(torch::kFloat64);
    torch::Tensor y = torch::empty({M, O}), gx = torch::empty({M, I}), gw = torch::empty({I, O});
    torch::Tensor gb = torch::empty({O});
    kernels::LinearForward(M, I, O, x.data_ptr<float>(), w.data_ptr<float>(),
                           bias.data_ptr<float>(), y.data_ptr<float>());
    EXPECT_LT(RelDiff(y, xd.matmul(wd) + bias.to(torch::kFloat64)), 1e-6)
        << M << "x" << I << "x" << O;
    kernels::LinearForward(M, I, O, x.data_ptr<float>(), w.data_ptr<float>(), nullptr,
                           y.data_ptr<float>());
    EXPECT_LT(RelDiff(y, xd.matmul(wd)), 1e-6) << "no bias " << M << "x" << I << "x" << O;
    kernels::LinearInputGrad(M, I, O, g.data_ptr<float>(), w.data_ptr<float>(),
                             gx.data_ptr<float>());
    EXPECT_LT(RelDiff(gx, gd.matmul(wd.t())), 1e-6) << M << "x" << I << "x" << O;
    kernels::LinearWeightGrad(M, I, O, x.data_ptr<float>(), g.data_ptr<float>(),
                              gw.data_ptr<float>());
    EXPECT_LT(RelDiff(gw, xd.t().matmul(gd)), 1e-6) << M << "x" << I << "x" << O;
    kernels::LinearBiasGrad(M, O, g.data_ptr<float>(), gb.data_ptr<float>());
    EXPECT_LT(RelDiff(gb, gd.sum(0)), 1e-6) << M << "x" << I << "x" << O;
  }
  const std::string isa = kernels::SmallGemmIsa();
  EXPECT_TRUE(isa == "avx512" || isa == "avx2" || isa == "sse2" || isa == "portable") << isa;
}

TEST(SmallGemmTest, ARowsResultDoesNotDependOnTheOtherRows) {
  // Member independence rests on this: every element is computed in one fixed order. 23 rows:
  // two tiles of eight, then tiles of four, two and one.
  const int64_t M = 23, I = 40, O = 21;
  const torch::Tensor x = Randn({M, I}, 5), w = Randn({I, O}, 6), bias = Randn({O}, 7);
  torch::Tensor all = torch::empty({M, O}), one = torch::empty({1, O});
  kernels::LinearForward(M, I, O, x.data_ptr<float>(), w.data_ptr<float>(), bias.data_ptr<float>(),
                         all.data_ptr<float>());
  for (int64_t m : {0, 7, 8, 16, 19, 20, 21, 22}) {
    const torch::Tensor row = x[m].contiguous();
    kernels::LinearForward(1, I, O, row.data_ptr<float>(), w.data_ptr<float>(),
                           bias.data_ptr<float>(), one.data_ptr<float>());
    EXPECT_TRUE(torch::equal(one[0], all[m])) << "row " << m;
  }
  // Nor on the columns around it: the same columns inside a wider product (whole vectors where
  // the narrow one ends in a partial vector), in all three products.
  const int64_t wide = 48;
  const torch::Tensor w_wide = torch::cat({w, Randn({I, wide - O}, 8)}, 1);
  const torch::Tensor b_wide = torch::cat({bias, Randn({wide - O}, 9)});
  torch::Tensor y_wide = torch::empty({M, wide});
  kernels::LinearForward(M, I, wide, x.data_ptr<float>(), w_wide.data_ptr<float>(),
                         b_wide.data_ptr<float>(), y_wide.data_ptr<float>());
  EXPECT_TRUE(torch::equal(y_wide.narrow(1, 0, O), all));
  const torch::Tensor g = Randn({M, O}, 10);
  const torch::Tensor g_wide = torch::cat({g, Randn({M, wide - O}, 11)}, 1).contiguous();
  torch::Tensor gw = torch::empty({I, O}), gw_wide = torch::empty({I, wide});
  kernels::LinearWeightGrad(M, I, O, x.data_ptr<float>(), g.data_ptr<float>(),
                            gw.data_ptr<float>());
  kernels::LinearWeightGrad(M, I, wide, x.data_ptr<float>(), g_wide.data_ptr<float>(),
                            gw_wide.data_ptr<float>());
  EXPECT_TRUE(torch::equal(gw_wide.narrow(1, 0, O), gw));
  torch::Tensor gb = torch::empty({O}), gb_wide = torch::empty({wide});
  kernels::LinearBiasGrad(M, O, g.data_ptr<float>(), gb.data_ptr<float>());
  kernels::LinearBiasGrad(M, wide, g_wide.data_ptr<float>(), gb_wide.data_ptr<float>());
  EXPECT_TRUE(torch::equal(gb_wide.narrow(0, 0, O), gb));
}

TEST(BatchedLinearTest, AMembersResultIsBitwiseTheSameInAnyPack) {
  for (const auto& shape : kShapes) {
    const int64_t M = shape[0], I = shape[1], O = shape[2];
    const torch::Tensor x = Randn({3, M, I}, 8).requires_grad_(true);
    const torch::Tensor w = Randn({3, I, O}, 9).requires_grad_(true);
    const torch::Tensor b = Randn({3, 1, O}, 10).requires_grad_(true);
    const torch::Tensor up = Randn({3, M, O}, 11);
    const torch::Tensor y = BatchedLinear(x, w, b);
    const auto g = torch::autograd::grad({(y * up).sum()}, {x, w, b});
    const torch::Tensor x1 = x.detach()[1].unsqueeze(0).requires_grad_(true);
    const torch::Tensor w1 = w.detach()[1].unsqueeze(0).requires_grad_(true);
    const torch::Tensor b1 = b.detach()[1].unsqueeze(0).requires_grad_(true);
    const torch::Tensor y1 = BatchedLinear(x1, w1, b1);
    const auto g1 = torch::autograd::grad({(y1 * up[1].unsqueeze(0)).sum()}, {x1, w1, b1});
    EXPECT_TRUE(torch::equal(y1[0], y[1])) << M << "x" << I << "x" << O;
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(torch::equal(g1[i][0], g[i][1])) << "gradient " << i << ", " << M << "x" << I;
    }
  }
}

TEST(BatchedLinearTest, WithoutBiasEqualsBmm) {
  const torch::Tensor x = Randn({2, 9, 6}, 12).requires_grad_(true);
  const torch::Tensor w = Randn({2, 6, 5}, 13).requires_grad_(true);
  const torch::Tensor up = Randn({2, 9, 5}, 14);
  const torch::Tensor y = BatchedLinear(x, w, torch::Tensor());
  EXPECT_LT(RelDiff(y, torch::bmm(x, w)), 1e-6);
  const auto g = torch::autograd::grad({(y * up).sum()}, {x, w});
  const auto want = torch::autograd::grad({(torch::bmm(x, w) * up).sum()}, {x, w});
  EXPECT_LT(RelDiff(g[0], want[0]), 1e-6);
  EXPECT_LT(RelDiff(g[1], want[1]), 1e-6);
}

TEST(ExpTest, MatchesTheCLibraryAndKeepsNaN) {
  // Over the softmax range in steps of 1/1024 (about 90,000 points): the polynomial's relative
  // error against double-precision exp.
  double worst = 0;
  for (double x = -87.0; x <= 0.0; x += 1.0 / 1024) {
    const double want = std::exp(x);
    worst = std::max(worst, std::abs(kernels::Exp(static_cast<float>(x)) - want) / want);
  }
  EXPECT_LT(worst, 3e-7);  // float's own rounding is 6e-8
  EXPECT_EQ(kernels::Exp(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(kernels::Exp(std::numeric_limits<float>::quiet_NaN())));
  // Below -87 the result stays at e^-87 (a softmax weight of ~1.6e-38: zero in effect).
  EXPECT_LT(kernels::Exp(-std::numeric_limits<float>::infinity()), 2e-38f);
  EXPECT_LT(kernels::Exp(-1000.0f), 2e-38f);
  EXPECT_GE(kernels::Exp(-1000.0f), 0.0f);
}

TEST(MemberLossesTest, FusedEqualsLogSoftmaxNllInValuesGradientsAndDoubleBackward) {
  // Logits spread wide enough that some softmax terms underflow.
  const torch::Tensor logits = (Randn({3, 10, 7}, 15) * 30).requires_grad_(true);
  const torch::Tensor labels =
      torch::randint(0, 7, {3, 10}, at::detail::createCPUGenerator(16), torch::kInt64);
  const torch::Tensor up = Randn({3}, 17);
  auto reference = [&](const torch::Tensor& x) {
    return torch::nll_loss(torch::log_softmax(x.reshape({30, 7}), 1), labels.reshape({30}), {},
                           at::Reduction::None)
        .view({3, 10})
        .mean(1);
  };
  const torch::Tensor loss = MemberLosses(logits, labels);
  EXPECT_LT(RelDiff(loss, reference(logits.to(torch::kFloat64))), 1e-6);
  const torch::Tensor g = torch::autograd::grad({(loss * up).sum()}, {logits})[0];
  const torch::Tensor want = torch::autograd::grad({(reference(logits) * up).sum()}, {logits})[0];
  EXPECT_LT(RelDiff(g, want), 1e-6);
  // Double backward (sharpness's Hessian-vector products) differentiates the composite.
  auto hv = [&](bool fused) {
    const torch::Tensor l = fused ? MemberLosses(logits, labels) : reference(logits);
    const auto g1 = torch::autograd::grad({l.sum()}, {logits}, {}, true, true);
    return torch::autograd::grad({g1[0].pow(2).sum()}, {logits})[0];
  };
  EXPECT_LT(RelDiff(hv(true), hv(false)), 1e-5);
}

TEST(MemberLossesTest, NonFiniteLogitsGiveANaNLossForThatMemberOnly) {
  torch::Tensor logits = Randn({2, 4, 5}, 18);
  logits[1][2][3] = std::numeric_limits<float>::quiet_NaN();
  const torch::Tensor labels = torch::zeros({2, 4}, torch::kInt64);
  const torch::Tensor loss = MemberLosses(logits, labels);
  EXPECT_TRUE(std::isfinite(loss[0].item<float>()));
  EXPECT_TRUE(std::isnan(loss[1].item<float>()));
  logits[1][2][3] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(std::isfinite(MemberLosses(logits, labels)[1].item<float>()));
}

TEST(MemberLossesTest, ALabelOutsideTheClassesIsRefused) {
  const torch::Tensor logits = Randn({1, 2, 3}, 19);
  const torch::Tensor labels = torch::tensor({0, 3}, torch::kInt64).view({1, 2});
  try {
    MemberLosses(logits, labels);
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 is not in [0, 3)"), std::string::npos)
        << e.what();
  }
}

// (embed[tok] + pos[t]) for positions from `from` on, written out.
torch::Tensor EmbedReference(const torch::Tensor& embed, const torch::Tensor& pos,
                             const torch::Tensor& tokens, int64_t from) {
  const int64_t K = embed.size(0), B = tokens.size(1), T = tokens.size(2);
  std::vector<torch::Tensor> rows;
  for (int64_t k = 0; k < K; ++k) {
    const torch::Tensor tok = tokens[k].narrow(1, from, T - from);  // [B, n]
    const torch::Tensor p = pos.dim() == 3 ? pos[k] : pos;
    rows.push_back(embed[k].index_select(0, tok.reshape({-1})).view({B, T - from, -1}) +
                   p.narrow(0, from, T - from));
  }
  return torch::stack(rows);
}

TEST(EmbedTokensTest, FusedEqualsTheGatherInValuesGradientsAndDoubleBackward) {
  const int64_t K = 3, V = 7, d = 6, B = 5, T = 4;
  const torch::Tensor tokens =
      torch::randint(0, V, {K, B, T}, at::detail::createCPUGenerator(20), torch::kInt64);
  const torch::Tensor embed = Randn({K, V, d}, 21).requires_grad_(true);
  for (bool shared : {false, true}) {
    const torch::Tensor pos =
        shared ? Randn({T, d}, 22) : Randn({K, T, d}, 22).requires_grad_(true);
    for (int64_t from : {int64_t{0}, T - 1}) {
      const torch::Tensor up = Randn({K, B, T - from, d}, 23);
      const torch::Tensor x = EmbedTokens(embed, pos, tokens, from);
      const torch::Tensor want = EmbedReference(embed, pos, tokens, from);
      EXPECT_TRUE(torch::allclose(x, want, 1e-6, 1e-6)) << "shared " << shared << " from " << from;
      std::vector<torch::Tensor> in{embed};
      if (!shared) in.push_back(pos);
      const auto g = torch::autograd::grad({(x * up).sum()}, in);
      const auto gw = torch::autograd::grad({(want * up).sum()}, in);
      for (size_t i = 0; i < in.size(); ++i) {
        EXPECT_LT(RelDiff(g[i], gw[i]), 1e-6) << "gradient " << i << " shared " << shared;
      }
      // Under create_graph the gradient is itself differentiable (and equals the plain one).
      const auto gg = torch::autograd::grad({(EmbedTokens(embed, pos, tokens, from) * up).sum()},
                                            in, {}, true, true);
      EXPECT_LT(RelDiff(gg[0], gw[0]), 1e-6);
    }
  }
}

// Bitwise equality, NaN payloads and signed zeros included.
bool SameBits(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0;
}

TEST(RowKernelsTest, ReluHasTheBitsOfTorchsReluAndItsBackward) {
  // Odd lengths (vector tails), NaN, signed zeros, infinities.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {int64_t{1}, int64_t{37}, int64_t{1000}}) {
    torch::Tensor y = Randn({n}, 40 + n);
    torch::Tensor g = Randn({n}, 41 + n);
    if (n > 5) {
      y[0] = nan, y[1] = -0.0f, y[2] = 0.0f, y[3] = -inf, y[4] = inf;
      g[1] = nan;
    }
    torch::Tensor got = y.clone();
    kernels::ReluInPlace(n, got.data_ptr<float>());
    EXPECT_TRUE(SameBits(got, torch::relu(y))) << n;
    torch::Tensor gm = torch::empty_like(g);
    kernels::ReluBackward(n, got.data_ptr<float>(), g.data_ptr<float>(), gm.data_ptr<float>());
    EXPECT_TRUE(SameBits(gm, torch::threshold_backward(g, got, 0))) << n;
  }
}

TEST(RowKernelsTest, TokenRowsGatherAndScatterAddRowByRow) {
  // d not a multiple of any vector width; several sequences; a token used at several positions.
  const int64_t V = 5, T = 3, d = 19, B = 7, n = B * T;
  const torch::Tensor table = Randn({V + T, d}, 50), bias = Randn({d}, 51);
  const torch::Tensor tok =
      torch::randint(0, V, {n}, at::detail::createCPUGenerator(52), torch::kInt64);
  const torch::Tensor t = torch::arange(n, torch::kInt64).remainder(T) + V;
  torch::Tensor out = torch::empty({n, d});
  kernels::GatherTokenRows(n, T, V, d, table.data_ptr<float>(), bias.data_ptr<float>(),
                           tok.data_ptr<int64_t>(), out.data_ptr<float>());
  EXPECT_TRUE(SameBits(out, (table.index_select(0, tok) + table.index_select(0, t)) + bias));
  // The scatter-add, one row at a time in order, from tables that are not zero.
  const torch::Tensor g = Randn({n, d}, 53);
  torch::Tensor gtable = Randn({V + T, d}, 54), gbias = Randn({d}, 55);
  torch::Tensor want_table = gtable.clone(), want_bias = gbias.clone();
  for (int64_t i = 0; i < n; ++i) {
    want_table[tok[i].item<int64_t>()] += g[i];
    want_table[V + i % T] += g[i];
    want_bias += g[i];
  }
  kernels::ScatterAddTokenRows(n, T, V, d, g.data_ptr<float>(), tok.data_ptr<int64_t>(),
                               gtable.data_ptr<float>(), gbias.data_ptr<float>());
  EXPECT_TRUE(SameBits(gtable, want_table));
  EXPECT_TRUE(SameBits(gbias, want_bias));
}

TEST(EmbedTokensTest, ATokenOutsideTheVocabularyIsRefused) {
  const torch::Tensor embed = Randn({1, 4, 3}, 24), pos = Randn({1, 2, 3}, 25);
  const torch::Tensor tokens = torch::tensor({1, 4}, torch::kInt64).view({1, 1, 2});
  try {
    EmbedTokens(embed, pos, tokens);
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("token 4 is not in [0, 4)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(EmbedTokens(embed, pos, tokens.view({1, 2, 1}) * 0, 1), c10::Error);  // from >= T
}

TEST(ProjectTokensTest, EqualsALinearLayerOnTheEmbeddingStream) {
  const int64_t K = 2, V = 5, d = 8, o = 6, B = 9, T = 3;
  const torch::Tensor tokens =
      torch::randint(0, V, {K, B, T}, at::detail::createCPUGenerator(26), torch::kInt64);
  const torch::Tensor embed = Randn({K, V, d}, 27).requires_grad_(true);
  const torch::Tensor w = Randn({K, d, o}, 28).requires_grad_(true);
  const torch::Tensor b = Randn({K, 1, o}, 29).requires_grad_(true);
  const torch::Tensor up = Randn({K, B, T, o}, 30);
  for (bool shared : {false, true}) {
    const torch::Tensor pos =
        shared ? Randn({T, d}, 31) : Randn({K, T, d}, 31).requires_grad_(true);
    auto reference = [&] {
      return torch::baddbmm(b, EmbedReference(embed, pos, tokens, 0).reshape({K, B * T, d}), w)
          .view({K, B, T, o});
    };
    const torch::Tensor y = ProjectTokens(embed, pos, w, b, tokens);
    const torch::Tensor want = reference();
    EXPECT_LT(RelDiff(y, want), 1e-6) << "shared " << shared;
    std::vector<torch::Tensor> in{embed, w, b};
    if (!shared) in.push_back(pos);
    const auto g = torch::autograd::grad({(y * up).sum()}, in);
    const auto gw = torch::autograd::grad({(want * up).sum()}, in);
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_LT(RelDiff(g[i], gw[i]), 1e-6) << "gradient " << i << " shared " << shared;
    }
    // Double backward: differentiate the gradient with respect to w.
    auto hv = [&](bool fused) {
      const torch::Tensor out = fused ? ProjectTokens(embed, pos, w, b, tokens) : reference();
      const auto g1 = torch::autograd::grad({(out * up).sum()}, {embed}, {}, true, true);
      return torch::autograd::grad({g1[0].pow(2).sum()}, {w})[0];
    };
    EXPECT_LT(RelDiff(hv(true), hv(false)), 1e-5) << "shared " << shared;
  }
  // One member alone gives bitwise what it gives in the pack.
  const torch::Tensor pos = Randn({K, T, d}, 32);
  const torch::Tensor y = ProjectTokens(embed, pos, w, b, tokens);
  const torch::Tensor y1 =
      ProjectTokens(embed[1].unsqueeze(0), pos[1].unsqueeze(0), w[1].unsqueeze(0),
                    b[1].unsqueeze(0), tokens[1].unsqueeze(0));
  EXPECT_TRUE(torch::equal(y1[0], y[1]));
}

}  // namespace
}  // namespace phasesweep::worker
