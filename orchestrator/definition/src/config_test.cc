// Tests of config parsing, overrides and validation: every bad input named by the foundation
// issue gets a one-line error naming where it is and what is valid.
#include "phasesweep/orchestrator/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "phasesweep/orchestrator/sweep_grammar.h"
#include "phasesweep/worker/probe.h"

namespace phasesweep::orchestrator {
namespace {

const char* kSmall = R"(name: t
task:
  name: modular_arithmetic
  p: 13
  train_fraction: 0.5
model:
  d_model: 16
  heads: 2
  d_mlp: 32
training:
  steps: 100
probes:
  batch: 32
sweep:
  seeds: range(2)
)";

Result<SweepSpec> Parse(const std::string& yaml, std::vector<std::string> overrides = {}) {
  return ParseSweepSpec(yaml, "cfg.yaml", overrides);
}

// The message of a failed parse; fails the test if the parse succeeded.
std::string ErrorOf(const std::string& yaml, std::vector<std::string> overrides = {}) {
  auto r = Parse(yaml, overrides);
  EXPECT_FALSE(r.ok()) << "expected an error";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "error must be one line";
  return r.status().message();
}

TEST(ConfigTest, SmallConfigResolvesWithDefaults) {
  auto r = Parse(kSmall);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->base.at("task.p").AsInt(), 13);
  EXPECT_EQ(r->base.at("optimizer.name").AsString(), "adamw");  // default
  EXPECT_DOUBLE_EQ(r->base.at("optimizer.lr").AsDouble(), 1e-3);
  EXPECT_EQ(r->seeds, (std::vector<uint64_t>{0, 1}));
  EXPECT_TRUE(r->grid.empty());
}

TEST(ConfigTest, EmbeddedDefaultIsTheEmbeddingStabilityStudy) {
  auto r = LoadSweepSpec({}, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->base.at("name").AsString(), "embedding-stability");
  EXPECT_EQ(r->base.at("task.name").AsString(), "modular_arithmetic");
  EXPECT_EQ(r->base.at("model.name").AsString(), "transformer");
  EXPECT_EQ(r->seeds.size(), 16u);  // enough for an exact test to survive the adjustment
  EXPECT_EQ(r->grid.size(), 3u);     // weight decay, train fraction, random-label control
  const auto& metrics = r->base.at("probes.metrics").AsStringList();
  EXPECT_NE(std::find(metrics.begin(), metrics.end(), "test_acc"), metrics.end());
}

TEST(ConfigTest, ShippedConfigsAreValid) {
  for (const char* name : {"embedding_stability.yaml", "smoke.yaml", "grokking.yaml",
                           "sparse_parity.yaml", "in_context_copy.yaml"}) {
    auto r = LoadSweepSpec({std::string(PHASESWEEP_SOURCE_DIR) + "/configs/" + name}, {});
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
  }
}

TEST(ConfigTest, MalformedYamlNamesLineAndColumn) {
  std::string msg = ErrorOf("task:\n  p: [1, 2\n");
  EXPECT_TRUE(std::regex_search(msg, std::regex("^cfg\\.yaml:\\d+:\\d+: malformed YAML"))) << msg;
}

TEST(ConfigTest, UnknownKeySuggestsTheNearestKey) {
  std::string msg = ErrorOf("optimizer:\n  lrr: 0.1\n");
  EXPECT_NE(msg.find("cfg.yaml:2:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'optimizer.lrr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'optimizer.lr'"), std::string::npos) << msg;
}

TEST(ConfigTest, KeyUnderTheWrongSectionSuggestsTheRightOne) {
  std::string msg = ErrorOf("training:\n  weight_decay: 0.1\n");
  EXPECT_NE(msg.find("did you mean 'optimizer.weight_decay'"), std::string::npos) << msg;
}

TEST(ConfigTest, UnknownSectionIsAnError) {
  std::string msg = ErrorOf("optimiser:\n  lr: 0.1\n");
  EXPECT_NE(msg.find("unknown section 'optimiser'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'optimizer'"), std::string::npos) << msg;
}

TEST(ConfigTest, WrongTypeNamesKeyAndExpectation) {
  std::string msg = ErrorOf("model:\n  heads: four\n");
  EXPECT_NE(msg.find("cfg.yaml:2:10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.heads expects an integer, got 'four'"), std::string::npos) << msg;
  msg = ErrorOf("model:\n  layer_norm: maybe\n");
  EXPECT_NE(msg.find("expects true or false"), std::string::npos) << msg;
  msg = ErrorOf("optimizer:\n  name: adam\n");
  EXPECT_NE(msg.find("valid: adamw, sgd"), std::string::npos) << msg;
}

TEST(ConfigTest, OutOfRangeValuesAreRefused) {
  EXPECT_NE(ErrorOf("optimizer:\n  lr: 0\n").find("optimizer.lr = 0 is out of range; valid: > 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf("optimizer:\n  lr: -1e-3\n").find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf("task:\n  train_fraction: 0\n").find("task.train_fraction = 0 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf("task:\n  train_fraction: 1.5\n").find("<= 1"), std::string::npos);
  EXPECT_TRUE(
      Parse(std::string(kSmall) + "", {"task.train_fraction=1", "probes.metrics=[train_loss]"})
          .ok());
}

TEST(ConfigTest, ZeroSeedsAreRefused) {
  EXPECT_NE(ErrorOf("sweep:\n  seeds: []\n").find("sweep.seeds is empty"), std::string::npos);
  EXPECT_NE(ErrorOf(kSmall, {"sweep.seeds=range(0)"}).find("the range is empty"),
            std::string::npos);
}

TEST(ConfigTest, HeadsMustDivideDModel) {
  std::string msg = ErrorOf(kSmall, {"model.heads=3"});
  EXPECT_NE(msg.find("model.heads (3) must divide model.d_model (16)"), std::string::npos) << msg;
  // Checked at every grid point, naming the point.
  msg = ErrorOf(kSmall, {"model.heads=2,3"});
  EXPECT_NE(msg.find("at grid point model.heads=3"), std::string::npos) << msg;
}

TEST(ConfigTest, DivisionNeedsPrimeModulus) {
  std::string msg = ErrorOf(kSmall, {"task.op=div", "task.p=12"});
  EXPECT_NE(msg.find("needs a prime task.p"), std::string::npos) << msg;
  EXPECT_TRUE(Parse(kSmall, {"task.op=div"}).ok());
}

TEST(ConfigTest, SparseParityNeedsKAtMostN) {
  std::string msg = ErrorOf(kSmall, {"task.name=sparse_parity", "task.n_bits=4", "task.k=5"});
  EXPECT_NE(msg.find("task.k (5) must be <= task.n_bits (4)"), std::string::npos) << msg;
}

TEST(ConfigTest, EmptyGridListIsRefused) {
  std::string msg = ErrorOf("sweep:\n  grid:\n    optimizer.lr: []\n");
  EXPECT_NE(msg.find("sweep.grid.optimizer.lr is an empty list"), std::string::npos) << msg;
}

TEST(ConfigTest, SameKeyFixedAndSweptInFileIsRefused) {
  std::string msg = ErrorOf(
      "optimizer:\n  weight_decay: 1.0\nsweep:\n  grid:\n    optimizer.weight_decay: [0.1, 1.0]\n");
  EXPECT_NE(msg.find("cfg.yaml:2:3: optimizer.weight_decay is set here and swept in sweep.grid "
                     "(cfg.yaml:5:5)"),
            std::string::npos)
      << msg;
}

// A key given twice in one mapping is refused, naming both places; it used to be accepted and
// the last one won silently.
TEST(ConfigTest, KeyGivenTwiceInOneMappingIsRefused) {
  EXPECT_EQ(ErrorOf("name: a\nname: b\n"),
            "cfg.yaml:2:1: name is given twice in one mapping (first at cfg.yaml:1:1); keep one");
  EXPECT_EQ(ErrorOf("task:\n  p: 13\n  op: add\n  p: 17\n"),
            "cfg.yaml:4:3: task.p is given twice in one mapping (first at cfg.yaml:2:3); keep one");
  EXPECT_NE(ErrorOf("task:\n  p: 13\nmodel:\n  heads: 2\ntask:\n  op: add\n")
                .find("cfg.yaml:5:1: task is given twice in one mapping (first at cfg.yaml:1:1)"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(std::string(kSmall) + "  grid:\n    optimizer.lr: [0.1]\n    optimizer.lr: [0.2]\n")
          .find("cfg.yaml:18:5: sweep.grid.optimizer.lr is given twice in one mapping "
                "(first at cfg.yaml:17:5)"),
      std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kSmall) + "analysis:\n  alpha: 0.1\n  alpha: 0.2\n")
                .find("analysis.alpha is given twice"),
            std::string::npos);
  // The same leaf in two mappings is two keys; a file value and an override of it are not a
  // duplicate (the override wins), but one key overridden twice is.
  auto r = Parse(std::string(kSmall) + "optimizer:\n  name: adamw\n", {"task.p=17"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->base.at("task.p").AsInt(), 17);
  EXPECT_NE(ErrorOf(kSmall, {"task.p=17", "task.p=19"}).find("task.p is overridden twice"),
            std::string::npos);
}

TEST(ConfigTest, CommandLineSweepReplacesFileValueAndFixedReplacesFileSweep) {
  auto r = Parse(kSmall, {"optimizer.weight_decay=0.1,1.0"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->grid.size(), 1u);
  EXPECT_EQ(r->grid[0].key, "optimizer.weight_decay");
  auto pinned =
      Parse(std::string(kSmall) + "  grid:\n    optimizer.lr: [0.1, 0.01]\n", {"optimizer.lr=0.5"});
  ASSERT_TRUE(pinned.ok()) << pinned.status().message();
  EXPECT_TRUE(pinned->grid.empty());
  EXPECT_DOUBLE_EQ(pinned->base.at("optimizer.lr").AsDouble(), 0.5);
}

TEST(ConfigTest, OverrideErrors) {
  std::string msg = ErrorOf(kSmall, {"optimizer.lrr=1e-3"});
  EXPECT_NE(msg.find("override 'optimizer.lrr=1e-3': unknown key 'optimizer.lrr' (did you mean "
                     "'optimizer.lr'?)"),
            std::string::npos)
      << msg;
  EXPECT_NE(ErrorOf(kSmall, {"optimizer.lr"}).find("expected key=value"), std::string::npos);
  EXPECT_NE(ErrorOf(kSmall, {"optimizer.lr=0.1", "optimizer.lr=0.2"}).find("overridden twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf(kSmall, {"training.threads=1,2"}).find("cannot be swept"), std::string::npos);
  EXPECT_NE(ErrorOf(kSmall, {"optimizer.lr=0.1,0.1"}).find("lists 0.1 twice"), std::string::npos);
}

TEST(ConfigTest, BadRangeIsRefused) {
  for (const char* bad : {"sweep.seeds=range(", "sweep.seeds=range(a)", "sweep.seeds=range(5,2)",
                          "sweep.seeds=range(1,2,0)", "sweep.seeds=range(-3)",
                          "sweep.seeds=range(1,2,3,4)", "sweep.seeds=rang(4)", "sweep.seeds=1,1"}) {
    std::string msg = ErrorOf(kSmall, {bad});
    EXPECT_NE(msg.find("override '"), std::string::npos) << bad << " -> " << msg;
    EXPECT_NE(msg.find("seed"), std::string::npos) << bad << " -> " << msg;
  }
}

TEST(ConfigTest, SeedGrammar) {
  EXPECT_EQ(*ParseSeeds("range(3)", "x"), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(*ParseSeeds("range(4,8)", "x"), (std::vector<uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(*ParseSeeds("range(0,10,4)", "x"), (std::vector<uint64_t>{0, 4, 8}));
  EXPECT_EQ(*ParseSeeds("0,3,7", "x"), (std::vector<uint64_t>{0, 3, 7}));
  EXPECT_EQ(*ParseSeeds("5", "x"), (std::vector<uint64_t>{5}));
  EXPECT_EQ(SplitTopLevelCommas("[a,b],choice(1,2), c"),
            (std::vector<std::string>{"[a,b]", "choice(1,2)", "c"}));
}

TEST(ConfigTest, ListValuedKeysAndUnknownProbes) {
  auto r = Parse(kSmall, {"probes.metrics=[train_loss, test_acc]"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->base.at("probes.metrics").AsStringList(),
            (std::vector<std::string>{"train_loss", "test_acc"}));
  std::string msg = ErrorOf(kSmall, {"probes.metrics=[train_loss, emb_nrom]"});
  EXPECT_NE(msg.find("'emb_nrom' is not valid; valid: train_loss"), std::string::npos) << msg;
  msg = ErrorOf(kSmall, {"task.name=sparse_parity", "probes.metrics=[fourier_gini]"});
  EXPECT_NE(
      msg.find("probes.metrics: 'fourier_gini': applies only to task.name = modular_arithmetic"),
      std::string::npos)
      << msg;
}

TEST(ConfigTest, ProbeBatchLargerThanDataIsRefused) {
  std::string msg = ErrorOf(kSmall, {"probes.batch=100"});
  EXPECT_NE(msg.find("probes.batch (100) is larger than the data (85 train, 84 test examples)"),
            std::string::npos)
      << msg;
}

TEST(ConfigTest, RandomSearchIsReproducible) {
  const std::string yaml = std::string(kSmall) +
                           "  random:\n    n: 5\n    seed: 11\n    space:\n"
                           "      optimizer.lr: loguniform(1e-4, 1e-2)\n"
                           "      model.activation: choice(relu, gelu)\n";
  auto a = Parse(yaml);
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto pa = ExpandGrid(*a);
  auto pb = ExpandGrid(*Parse(yaml));
  ASSERT_EQ(pa->size(), 5u);
  for (size_t i = 0; i < pa->size(); ++i) {
    EXPECT_EQ((*pa)[i].values, (*pb)[i].values);
    const double lr = (*pa)[i].values.at("optimizer.lr").AsDouble();
    EXPECT_GE(lr, 1e-4);
    EXPECT_LT(lr, 1e-2);
  }
  // The sampler uses only mt19937_64's standardised output: pin the second draw (keys are sampled
  // in sorted order, so model.activation takes the first).
  // u = (mt19937_64(11)() >> 11) * 2^-53; lr = exp(log(1e-4) + u * (log(1e-2) - log(1e-4))).
  std::mt19937_64 e(11);
  e();
  const double u = static_cast<double>(e() >> 11) * 0x1.0p-53;
  EXPECT_DOUBLE_EQ((*pa)[0].values.at("optimizer.lr").AsDouble(),
                   std::exp(std::log(1e-4) + u * (std::log(1e-2) - std::log(1e-4))));
  EXPECT_NE(ErrorOf(std::string(kSmall) +
                    "  random:\n    n: 2\n    space:\n      model.layers: uniform(1,4)\n")
                .find("needs a real-valued key"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kSmall) +
                    "  random:\n    n: 2\n    space:\n      optimizer.lr: normal(0,1)\n")
                .find("valid distributions"),
            std::string::npos);
}

TEST(ConfigTest, ResolvedYamlRoundTrips) {
  auto a = Parse(kSmall,
                 {"optimizer.weight_decay=0.1,1.0", "optimizer.lr=3e-3", "model.activation=gelu"});
  ASSERT_TRUE(a.ok()) << a.status().message();
  const std::string yaml = ResolvedYaml(*a);
  auto b = ParseSweepSpec(yaml, "resolved", {});
  ASSERT_TRUE(b.ok()) << b.status().message() << "\n" << yaml;
  EXPECT_EQ(ConfigHash(*a), ConfigHash(*b));
  EXPECT_EQ(ResolvedYaml(*b), yaml);
}

TEST(ConfigTest, ConfigHashIgnoresRuntimeKeysOnly) {
  auto a = Parse(kSmall);
  auto b = Parse(kSmall, {"training.threads=1", "training.pack=2", "output.path=x.h5"});
  auto c = Parse(kSmall, {"optimizer.lr=0.002"});
  EXPECT_EQ(ConfigHash(*a), ConfigHash(*b));
  EXPECT_NE(ConfigHash(*a), ConfigHash(*c));
}

TEST(ConfigTest, MissingConfigFileIsAClearError) {
  auto r = LoadSweepSpec({"/nonexistent/sweep.yaml"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ExitCode(), 2);
  EXPECT_NE(r.status().message().find(
                "/nonexistent/sweep.yaml: cannot read the config file (no such file)"),
            std::string::npos)
      << r.status().message();
}

// The config's probe list is the worker's registry: every name the catalog accepts is a metric
// the trainer computes, and every metric the trainer computes can be asked for.
TEST(ConfigTest, ProbeCatalogIsTheWorkersRegistry) {
  std::vector<std::string> catalog, registry = worker::ProbeRegistry::Builtin().MetricNames();
  for (const spec::ProbeInfo& p : spec::ProbeCatalog()) catalog.push_back(p.name);
  std::sort(catalog.begin(), catalog.end());
  std::sort(registry.begin(), registry.end());
  EXPECT_EQ(catalog, registry);
  // And the default list is valid for the default task.
  EXPECT_TRUE(Parse(kSmall).ok());
}

}  // namespace
}  // namespace phasesweep::orchestrator
