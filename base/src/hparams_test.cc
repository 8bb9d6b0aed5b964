// Hyperparameters: the stored text reads back typed and writes back byte for byte.
#include "phasesweep/base/hparams.h"

#include <gtest/gtest.h>

namespace phasesweep {
namespace {

TEST(HparamsTest, ReadsTypedValuesAndWritesTheSameText) {
  const std::string text =
      R"({"model.act":"gelu","optimizer.lr":0.001,"probes.metrics":["a","b"],"task.p":97,)"
      R"("task.random_labels":true,"wd":1e-05})";
  auto hp = ParseHparams(text);
  ASSERT_TRUE(hp.ok()) << hp.status().message();
  EXPECT_EQ(hp->at("optimizer.lr"), HparamValue::Number("0.001"));
  EXPECT_EQ(hp->at("task.p"), HparamValue::Number("97"));
  EXPECT_EQ(hp->at("wd").text, "1e-05");  // the literal, not a reformatted number
  EXPECT_EQ(hp->at("model.act"), HparamValue::String("gelu"));
  EXPECT_EQ(hp->at("task.random_labels"), HparamValue::Bool(true));
  EXPECT_EQ(hp->at("probes.metrics").kind, HparamValue::Kind::kStringList);
  EXPECT_EQ(HparamsJson(*hp), text);
  EXPECT_EQ(HparamsJson({}), "{}");
}

TEST(HparamsTest, KeysComeOutSortedAndStringsQuoted) {
  Hparams hp;
  hp["z"] = HparamValue::String("say \"hi\"\n");
  hp["a"] = HparamValue::Bool(false);
  EXPECT_EQ(HparamsJson(hp), R"({"a":false,"z":"say \"hi\"\n"})");
  auto back = ParseHparams(HparamsJson(hp));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, hp);
}

TEST(HparamsTest, DecodesUnicodeEscapes) {
  // Regression: an earlier reader dropped the backslash of \u escapes ("caf\u00e9" became
  // "cafu00e9"); the one reader in base/ decodes them.
  auto hp = ParseHparams(R"({"opt":"caf\u00e9 \ud83d\ude00"})");
  ASSERT_TRUE(hp.ok()) << hp.status().message();
  EXPECT_EQ(hp->at("opt").text, "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

TEST(HparamsTest, RejectsWhatIsNotAFlatObject) {
  for (const char* bad : {R"({"a": [1]})", "{\"a\" 1}", R"({"a": null})", R"({"a": {"b": 1}})",
                          "[1,2]", "", R"({"a":1,"a":2})"}) {
    auto hp = ParseHparams(bad);
    ASSERT_FALSE(hp.ok()) << bad;
    EXPECT_EQ(hp.status().ExitCode(), 2);
    EXPECT_EQ(hp.status().message().rfind("hparams ", 0), 0u) << hp.status().message();
    EXPECT_NE(hp.status().message().find("expected a flat object"), std::string::npos);
  }
}

}  // namespace
}  // namespace phasesweep
