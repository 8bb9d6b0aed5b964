// Tests of the ensemble-native models: each member computes what a plain single-model
// implementation computes, initialisation depends only on the member's seed, and the named
// tensors probes read are there.
#include "phasesweep/worker/model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/attention.h"
#include "model/batched_linear.h"
#include "model/token_attention.h"

namespace phasesweep::worker {
namespace {

TaskInfo ModularInfo() {
  TaskSpec t;
  t.p = 11;
  t.train_fraction = 0.5;
  return *DescribeTask(t);
}

std::unique_ptr<EnsembleModel> Build(const ModelSpec& spec, const TaskInfo& task,
                                     std::vector<uint64_t> seeds) {
  Result<std::unique_ptr<EnsembleModel>> m = MakeModel(spec, task, seeds, torch::kCPU);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(*m);
}

// A plain, position-by-position transformer for ONE member: full causal attention over every
// position in every layer, ordinary 2-D matmuls, logits read at the last position.
torch::Tensor ReferenceTransformer(const EnsembleModel& model, const ModelSpec& spec,
                                   const TaskInfo& task, int64_t k, const torch::Tensor& tokens) {
  const ParamStore& ps = model.params();
  auto P = [&](const std::string& n) { return ps.Get(n)[k].to(torch::kFloat64); };
  auto ln = [&](const torch::Tensor& x, const std::string& n) {
    if (!spec.layer_norm) return x;
    torch::Tensor mu = x.mean(-1, true), var = x.var(-1, false, true);
    return (x - mu) / torch::sqrt(var + 1e-5) * P(n + ".g") + P(n + ".b");
  };
  auto act = [&](const torch::Tensor& x) {
    return spec.activation == "gelu" ? 0.5 * x * (1 + torch::erf(x / std::sqrt(2.0)))
                                     : torch::relu(x);
  };
  const int64_t B = tokens.size(0), T = tokens.size(1), d = spec.d_model, H = spec.heads;
  const int64_t dh = d / H;
  torch::Tensor x = P("embed").index_select(0, tokens.reshape({-1})).view({B, T, d});
  if (spec.learned_positions) {
    x = x + P("pos");
  } else {
    torch::Tensor pe = torch::zeros({T, d}, torch::kFloat64);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < d; ++i) {
        const double f = std::pow(10000.0, -2.0 * static_cast<double>(i / 2) / d);
        pe[t][i] = i % 2 == 0 ? std::sin(t * f) : std::cos(t * f);
      }
    }
    x = x + pe;
  }
  torch::Tensor mask = torch::ones({T, T}, torch::kBool).triu(1);
  for (int64_t l = 0; l < spec.layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    torch::Tensor h = ln(x, b + "ln1");
    torch::Tensor qkv = torch::cat({torch::matmul(h, P(b + "attn.w_q")) + P(b + "attn.b_q"),
                                    torch::matmul(h, P(b + "attn.w_k")) + P(b + "attn.b_k"),
                                    torch::matmul(h, P(b + "attn.w_v")) + P(b + "attn.b_v")},
                                   2);
    auto split = [&](int64_t i) {
      return qkv.narrow(2, i * d, d).view({B, T, H, dh}).permute({0, 2, 1, 3});
    };
    torch::Tensor s = torch::matmul(split(0), split(1).transpose(2, 3)) / std::sqrt(1.0 * dh);
    s = s.masked_fill(mask, -INFINITY).softmax(-1);
    torch::Tensor z = torch::matmul(s, split(2)).permute({0, 2, 1, 3}).reshape({B, T, d});
    x = x + torch::matmul(z, P(b + "attn.w_o")) + P(b + "attn.b_o");
    torch::Tensor m = act(torch::matmul(ln(x, b + "ln2"), P(b + "mlp.w_in")) + P(b + "mlp.b_in"));
    x = x + torch::matmul(m, P(b + "mlp.w_out")) + P(b + "mlp.b_out");
  }
  torch::Tensor h = ln(x.select(1, T - 1), "ln_f");
  if (spec.tied_unembed) return torch::matmul(h, P("embed").t()).narrow(1, 0, task.n_classes);
  return torch::matmul(h, P("unembed")) + P("unembed_b");
}

void ExpectMatchesReference(const ModelSpec& spec) {
  const TaskInfo task = ModularInfo();
  auto model = Build(spec, task, {3, 4, 5});
  torch::Tensor tokens = torch::randint(0, task.vocab, {3, 6, task.seq_len},
                                        at::detail::createCPUGenerator(1), torch::kInt64);
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model->Forward(tokens).logits;
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 6, task.n_classes}));
  for (int64_t k = 0; k < 3; ++k) {
    torch::Tensor ref = ReferenceTransformer(*model, spec, task, k, tokens[k]);
    EXPECT_TRUE(torch::allclose(logits[k].to(torch::kFloat64), ref, 1e-4, 1e-5))
        << "member " << k << " max diff "
        << (logits[k].to(torch::kFloat64) - ref).abs().max().item<double>();
  }
}

TEST(ModelTest, TransformerEqualsPlainReferenceOneLayerUntiedRelu) {
  ModelSpec s;
  s.d_model = 16;
  s.heads = 4;
  s.d_mlp = 24;
  ExpectMatchesReference(s);
}

TEST(ModelTest, TransformerEqualsPlainReferenceTwoLayersLayerNormGeluTiedSinusoid) {
  ModelSpec s;
  s.layers = 2;
  s.d_model = 16;
  s.heads = 2;
  s.d_mlp = 24;
  s.activation = "gelu";
  s.layer_norm = true;
  s.tied_unembed = true;
  s.learned_positions = false;
  ExpectMatchesReference(s);
}

TEST(ModelTest, TransformerEqualsPlainReferenceOneLayerLayerNormGelu) {
  // With layer norm the keys and values are computed from every position's stream.
  ModelSpec s;
  s.d_model = 16;
  s.heads = 4;
  s.d_mlp = 24;
  s.layer_norm = true;
  s.activation = "gelu";
  ExpectMatchesReference(s);
}

TEST(ModelTest, TransformerEqualsPlainReferenceTwoLayersSinusoidWithoutLayerNorm) {
  // Block 0 reads the embedding stream directly: its queries, keys and values are computed per
  // vocabulary row (token_projection.h) with positions shared by the members.
  ModelSpec s;
  s.layers = 2;
  s.d_model = 16;
  s.heads = 2;
  s.d_mlp = 24;
  s.learned_positions = false;
  ExpectMatchesReference(s);
}

TEST(ModelTest, InitialisationDependsOnlyOnTheMembersSeed) {
  ModelSpec s;
  s.d_model = 16;
  s.heads = 2;
  s.d_mlp = 24;
  const TaskInfo task = ModularInfo();
  auto pack = Build(s, task, {11, 22, 33});
  auto alone = Build(s, task, {22});
  for (const auto& e : pack->params().entries()) {
    EXPECT_TRUE(torch::equal(e.param[1], alone->params().Get(e.name)[0])) << e.name;
  }
  EXPECT_FALSE(torch::equal(pack->params().Get("embed")[0], pack->params().Get("embed")[1]));
}

TEST(ModelTest, ParametersAreViewsOfTheFlatBuffersAndGradientsAccumulateThere) {
  ModelSpec s;
  s.d_model = 8;
  s.heads = 2;
  s.d_mlp = 8;
  const TaskInfo task = ModularInfo();
  auto model = Build(s, task, {1, 2});
  torch::Tensor tokens = torch::randint(0, task.vocab, {2, 5, 3}, torch::kInt64);
  torch::Tensor labels = torch::randint(0, task.n_classes, {2, 5}, torch::kInt64);
  MemberLosses(model->Forward(tokens).logits, labels).sum().backward();
  const ParamStore& ps = model->params();
  EXPECT_GT(ps.flat_grads().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(ps.Get("embed").grad().data_ptr(), ps.entries()[0].grad.data_ptr());
  // The member-major copy holds every gradient (the flat buffer's padding is zero).
  EXPECT_NEAR(ps.GatherMemberMajor(ps.flat_grads()).abs().sum().item<double>(),
              ps.flat_grads().abs().sum().item<double>(), 1e-3);
  EXPECT_TRUE(
      torch::equal(ps.GatherMemberMajor(ps.flat_grads())[1].narrow(0, 0, ps.entries()[0].numel),
                   ps.Get("embed").grad()[1].reshape({-1})));
  {
    torch::NoGradGuard g;
    ps.flat_params().add_(1.0);
  }
  EXPECT_EQ(ps.GatherMemberMajor(ps.flat_params()).size(1), ps.member_numel());
}

TEST(ModelTest, ExposesEmbeddingAndRepresentationsByName) {
  ModelSpec s;
  s.layers = 2;
  s.d_model = 16;
  s.heads = 2;
  s.d_mlp = 24;
  const TaskInfo task = ModularInfo();
  auto model = Build(s, task, {1, 2});
  EXPECT_EQ(model->TokenEmbedding().sizes(), (std::vector<int64_t>{2, task.vocab, 16}));
  torch::Tensor tokens = torch::randint(0, task.vocab, {2, 7, 3}, torch::kInt64);
  ForwardOutput out = model->Forward(tokens, model->RepresentationNames());
  for (const std::string& n : model->RepresentationNames()) {
    ASSERT_TRUE(out.hidden.count(n)) << n;
    EXPECT_EQ(out.hidden[n].size(0), 2) << n;
    EXPECT_EQ(out.hidden[n].size(1), 7) << n;
  }
  EXPECT_EQ(out.hidden["resid_final"].sizes(), (std::vector<int64_t>{2, 7, 16}));
  EXPECT_EQ(out.hidden["mlp_hidden.1"].size(2), 24);
  EXPECT_TRUE(torch::equal(out.hidden["resid_final"], out.hidden["resid_post.1"]));
  EXPECT_THROW(model->Forward(tokens, {"no_such"}), c10::Error);
}

TEST(ModelTest, MlpEqualsOneHotReferenceAndExposesItsInputLayer) {
  TaskSpec t;
  t.name = "sparse_parity";
  t.n_bits = 5;
  t.k = 2;
  t.n_train = 10;
  t.n_test = 10;
  const TaskInfo task = *DescribeTask(t);
  ModelSpec s;
  s.name = "mlp";
  s.depth = 2;
  s.width = 12;
  s.activation = "gelu";
  auto model = Build(s, task, {8, 9});
  torch::Tensor tokens = torch::randint(0, 2, {2, 4, 5}, torch::kInt64);
  torch::NoGradGuard no_grad;
  ForwardOutput out = model->Forward(tokens, {"resid_final"});
  EXPECT_EQ(model->TokenEmbedding().sizes(), (std::vector<int64_t>{2, 10, 12}));
  const ParamStore& ps = model->params();
  for (int64_t k = 0; k < 2; ++k) {
    torch::Tensor x = torch::one_hot(tokens[k], 2).reshape({4, 10}).to(torch::kFloat32);
    torch::Tensor h = torch::gelu(x.matmul(ps.Get("layers.0.w")[k]) + ps.Get("layers.0.b")[k]);
    h = torch::gelu(h.matmul(ps.Get("layers.1.w")[k]) + ps.Get("layers.1.b")[k]);
    EXPECT_TRUE(torch::allclose(out.hidden["resid_final"][k], h, 1e-5, 1e-6));
    torch::Tensor logits = h.matmul(ps.Get("out.w")[k]) + ps.Get("out.b")[k];
    EXPECT_TRUE(torch::allclose(out.logits[k], logits, 1e-5, 1e-6));
  }
}

TEST(ModelTest, MemberLossesAndAccuracyArePerMember) {
  torch::Tensor logits =
      torch::tensor({2.0f, 0.0f, 0.0f, 2.0f, 1.0f, 1.0f, 5.0f, 0.0f}).view({2, 2, 2});
  torch::Tensor labels = torch::tensor({0, 1, 1, 1}, torch::kInt64).view({2, 2});
  torch::Tensor loss = MemberLosses(logits, labels);
  const double l0 = std::log(1 + std::exp(-2.0));
  EXPECT_NEAR(loss[0].item<double>(), l0, 1e-6);
  EXPECT_NEAR(loss[1].item<double>(), 0.5 * (std::log(2.0) + std::log(1 + std::exp(5.0))), 1e-5);
  torch::Tensor acc = MemberAccuracy(logits, labels);
  EXPECT_EQ(acc[0].item<float>(), 1.0f);
  EXPECT_EQ(acc[1].item<float>(), 0.0f);  // ties go to class 0
}

TEST(BatchedLinearTest, BlasPathEqualsBaddbmmInValuesGradientsAndDoubleBackward) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  torch::Tensor x = torch::randn({3, 7, 5}, gen).requires_grad_(true);
  torch::Tensor w = torch::randn({3, 5, 4}, gen).requires_grad_(true);
  torch::Tensor b = torch::randn({3, 1, 4}, gen).requires_grad_(true);
  torch::Tensor up = torch::randn({3, 7, 4}, gen);
  std::vector<torch::Tensor> grads[2];
  for (int fast = 0; fast < 2; ++fast) {
    torch::Tensor y = BatchedLinear(x, w, b, fast == 1);
    if (fast == 0) {
      EXPECT_TRUE(torch::allclose(y, torch::baddbmm(b, x, w), 1e-5, 1e-6));
    }
    grads[fast] = torch::autograd::grad({(y * up).sum()}, {x, w, b});
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-5, 1e-6)) << "gradient " << i;
  }
  // Double backward (Hessian-vector products) through the fast path.
  torch::Tensor loss = BatchedLinear(x, w, b).pow(2).sum();
  auto g = torch::autograd::grad({loss}, {w}, {}, true, true);
  torch::Tensor hvp = torch::autograd::grad({(g[0] * torch::ones_like(w)).sum()}, {w})[0];
  // d/dw sum (x w + b)^2 = 2 x^T (x w + b); its derivative along ones: 2 x^T x 1.
  torch::Tensor want = 2 * torch::bmm(x.transpose(1, 2), torch::bmm(x, torch::ones_like(w)));
  EXPECT_TRUE(torch::allclose(hvp, want, 1e-4, 1e-5));
  EXPECT_EQ(BatchedLinearUsesBlas(), PHASESWEEP_EXPECT_CBLAS == 1);  // as CMake configured it
}

TEST(BatchedLinearTest, ReluFusionHasTheBitsOfReluAfterTheProduct) {
  // Rows spanning several of the fused forward's row blocks (O = 512: 32 rows each), a layer on
  // the BLAS, no bias; rows of zeros give outputs of exactly 0 (masked in backward).
  struct Case {
    int64_t K, M, I, O;
    bool bias;
  };
  for (const Case& c : {Case{2, 70, 16, 512, true}, Case{3, 9, 5, 4, true},
                        Case{1, 33, 300, 20, true}, Case{2, 11, 8, 24, false}}) {
    SCOPED_TRACE("M " + std::to_string(c.M) + " I " + std::to_string(c.I) + " O " +
                 std::to_string(c.O));
    at::Generator gen = at::detail::createCPUGenerator(11);
    torch::Tensor x = torch::randn({c.K, c.M, c.I}, gen);
    x.narrow(1, 0, 2).zero_();
    x.requires_grad_(true);
    torch::Tensor w = torch::randn({c.K, c.I, c.O}, gen).requires_grad_(true);
    torch::Tensor b =
        c.bias ? torch::randn({c.K, 1, c.O}, gen).requires_grad_(true) : torch::Tensor();
    torch::Tensor up = torch::randn({c.K, c.M, c.O}, gen);
    std::vector<torch::Tensor> inputs{x, w};
    if (c.bias) inputs.push_back(b);
    const torch::Tensor want = torch::relu(BatchedLinear(x, w, b));
    const torch::Tensor got = BatchedLinearRelu(x, w, b);
    EXPECT_TRUE(torch::equal(got, want));
    const auto gw = torch::autograd::grad({(want * up).sum()}, inputs);
    const auto gg = torch::autograd::grad({(got * up).sum()}, inputs);
    for (size_t i = 0; i < inputs.size(); ++i) EXPECT_TRUE(torch::equal(gg[i], gw[i])) << i;
    // Double backward, as the sharpness probe takes it.
    torch::Tensor hv[2];
    for (int fused = 0; fused < 2; ++fused) {
      torch::Tensor y = fused ? BatchedLinearRelu(x, w, b) : torch::relu(BatchedLinear(x, w, b));
      auto g = torch::autograd::grad({(y * up).sum()}, {w}, {}, true, true);
      hv[fused] = torch::autograd::grad({g[0].pow(2).sum()}, {x})[0];
    }
    EXPECT_TRUE(torch::equal(hv[0], hv[1]));
  }
}

TEST(TokenAttentionTest, HasTheBitsOfAttentionOverProjectedTokens) {
  // Learned (per member) and shared positions; more sequences than one block (32); head sizes 4,
  // 8 and 12 (the default study's).
  struct Case {
    int64_t K, B, V, T, H, D;
    bool learned;
  };
  for (const Case& c : {Case{2, 70, 11, 3, 2, 4, true}, Case{1, 5, 7, 4, 4, 8, false},
                        Case{3, 33, 6, 2, 1, 8, true}, Case{1, 40, 9, 3, 4, 12, true}}) {
    SCOPED_TRACE("B " + std::to_string(c.B) + " T " + std::to_string(c.T));
    const int64_t d = c.H * c.D;
    at::Generator gen = at::detail::createCPUGenerator(13);
    auto param = [&](std::vector<int64_t> shape) {
      return torch::randn(shape, gen).requires_grad_(true);
    };
    torch::Tensor q = param({c.K * c.B, c.H, c.D}), embed = param({c.K, c.V, d});
    torch::Tensor pos = c.learned ? param({c.K, c.T, d}) : torch::randn({c.T, d}, gen);
    torch::Tensor w_k = param({c.K, d, d}), b_k = param({c.K, 1, d});
    torch::Tensor w_v = param({c.K, d, d}), b_v = param({c.K, 1, d});
    torch::Tensor tokens = torch::randint(c.V, {c.K, c.B, c.T}, gen);
    torch::Tensor up = torch::randn({c.K * c.B, c.H, c.D}, gen);
    std::vector<torch::Tensor> inputs{q, embed, w_k, b_k, w_v, b_v};
    if (c.learned) inputs.push_back(pos);
    torch::Tensor z[2];
    std::vector<torch::Tensor> g[2];
    for (int fused = 0; fused < 2; ++fused) {
      z[fused] =
          TokenLastQueryAttention(q, embed, pos, w_k, b_k, w_v, b_v, tokens, 0.5, fused == 1);
      g[fused] = torch::autograd::grad({(z[fused] * up).sum()}, inputs);
    }
    EXPECT_TRUE(torch::equal(z[0], z[1]));
    for (size_t i = 0; i < inputs.size(); ++i) EXPECT_TRUE(torch::equal(g[0][i], g[1][i])) << i;
    // Double backward through the fused function equals that through the composition.
    torch::Tensor hv[2];
    for (int fused = 0; fused < 2; ++fused) {
      torch::Tensor zz =
          TokenLastQueryAttention(q, embed, pos, w_k, b_k, w_v, b_v, tokens, 0.5, fused == 1);
      auto gq = torch::autograd::grad({(zz * up).sum()}, {q}, {}, true, true);
      hv[fused] = torch::autograd::grad({gq[0].pow(2).sum()}, {embed})[0];
    }
    EXPECT_TRUE(torch::allclose(hv[0], hv[1], 1e-4, 1e-5));
  }
}

TEST(LastQueryAttentionTest, FusedEqualsTensorExpressionInValuesGradientsAndDoubleBackward) {
  // Head sizes with a compile-time loop (4, 8, 12, 64) and without (6); one position and many;
  // large logits (a saturated softmax).
  struct Case {
    int64_t N, T, H, D;
    double logit_scale;
  };
  for (const Case& c : {Case{6, 5, 2, 4, 1.0}, Case{7, 3, 2, 8, 1.0}, Case{5, 1, 3, 6, 1.0},
                        Case{4, 9, 1, 64, 1.0}, Case{6, 4, 2, 8, 40.0}, Case{5, 3, 4, 12, 1.0}}) {
    SCOPED_TRACE("N " + std::to_string(c.N) + " T " + std::to_string(c.T) + " H " +
                 std::to_string(c.H) + " D " + std::to_string(c.D));
    at::Generator gen = at::detail::createCPUGenerator(9);
    torch::Tensor q = (torch::randn({c.N, c.H, c.D}, gen) * c.logit_scale).requires_grad_(true);
    torch::Tensor k = torch::randn({c.N, c.T, c.H, c.D}, gen).requires_grad_(true);
    torch::Tensor v = torch::randn({c.N, c.T, c.H, c.D}, gen).requires_grad_(true);
    torch::Tensor up = torch::randn({c.N, c.H, c.D}, gen);
    // The definition, written out: softmax over positions of scaled dot products.
    torch::Tensor scores = torch::einsum("nhd,nthd->nht", {q, k}) * 0.5;
    torch::Tensor want = torch::einsum("nht,nthd->nhd", {torch::softmax(scores, 2), v});
    std::vector<torch::Tensor> grads[2];
    for (int fused = 0; fused < 2; ++fused) {
      torch::Tensor z = LastQueryAttention(q, k, v, 0.5, fused == 1);
      EXPECT_TRUE(torch::allclose(z, want, 1e-5, 1e-6)) << "fused " << fused;
      grads[fused] = torch::autograd::grad({(z * up).sum()}, {q, k, v});
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-5, 1e-5)) << "gradient " << i;
    }
    // Double backward through the fused function equals double backward through the expression.
    torch::Tensor hv[2];
    for (int fused = 0; fused < 2; ++fused) {
      torch::Tensor z = LastQueryAttention(q, k, v, 0.5, fused == 1);
      auto g = torch::autograd::grad({(z * up).sum()}, {q}, {}, true, true);
      hv[fused] = torch::autograd::grad({g[0].pow(2).sum()}, {k})[0];
    }
    EXPECT_TRUE(torch::allclose(hv[0], hv[1], 1e-4, 1e-5));
    // A row's result does not depend on the other rows (member independence).
    torch::Tensor z = LastQueryAttention(q, k, v, 0.5);
    torch::Tensor z1 =
        LastQueryAttention(q.narrow(0, 1, 1), k.narrow(0, 1, 1), v.narrow(0, 1, 1), 0.5);
    EXPECT_TRUE(torch::equal(z1[0], z[1]));
  }
}

}  // namespace
}  // namespace phasesweep::worker
