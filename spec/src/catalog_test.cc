// The catalog is the one description of every key: docs/CONFIG.md is its DocRow lines, the
// section structs' defaults are its defaults, and every bound key reaches its member.
#include "phasesweep/spec/catalog.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace phasesweep::spec {
namespace {

std::string ReadDoc() {
  std::ifstream in(std::string(PHASESWEEP_SOURCE_DIR) + "/docs/CONFIG.md");
  std::stringstream doc;
  doc << in.rdbuf();
  return doc.str();
}

// Every row of the catalog is a line of docs/CONFIG.md, word for word, and every key the
// document's tables list is in the catalog: change one and this test names the other.
TEST(CatalogTest, ConfigDocIsTheCatalog) {
  const std::string text = ReadDoc();
  ASSERT_FALSE(text.empty());
  for (const KeySpec& k : Schema()) {
    EXPECT_NE(text.find("\n" + DocRow(k) + "\n"), std::string::npos)
        << "docs/CONFIG.md lacks (or words differently) the catalog's row:\n"
        << DocRow(k);
  }
  std::regex row("\n\\| `([a-z_.]+)` \\|");  // first column of a table row
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator();
       ++it) {
    const std::string key = (*it)[1];
    if (key.rfind("sweep.", 0) == 0) continue;
    EXPECT_NE(FindKey(key), nullptr) << key << " is documented but not in the catalog";
  }
}

TEST(CatalogTest, DocRowShowsTypeDefaultRangeAndRole) {
  EXPECT_EQ(DocRow(*FindKey("task.p")),
            "| `task.p` | int | `59` | >= 2 and <= 1000 | modular_arithmetic: modulus p (tokens "
            "0..p-1, '=' is token p) |");
  EXPECT_EQ(DocRow(*FindKey("optimizer.lr")),
            "| `optimizer.lr` | float | `0.001` | > 0 and <= 10 | peak learning rate (may differ "
            "inside a pack) |");
}

// The defaults of sections.h are the catalog's: a default changed in one place only fails here.
TEST(CatalogTest, SectionDefaultsAreTheCatalogDefaults) {
  const PackSpec pack;
  const MemberOptimizerScalars member;
  int bound = 0;
  for (const KeySpec& k : Schema()) {
    ASSERT_EQ(static_cast<bool>(k.get), static_cast<bool>(k.set)) << k.key;
    if (!k.get) continue;
    ++bound;
    Result<Value> def = ValueFromText(k, k.default_yaml, "default");
    ASSERT_TRUE(def.ok()) << def.status().message();
    EXPECT_EQ(k.get(pack, member), *def)
        << k.key << ": sections.h default " << k.get(pack, member).Display() << ", catalog "
        << def->Display();
  }
  EXPECT_EQ(bound, 47);  // every task, model, optimizer and probe key and 5 training keys
}

// FillSections puts each value in its own member and nowhere else.
TEST(CatalogTest, EveryBoundKeyFillsItsMember) {
  std::map<std::string, Value> resolved;
  for (const KeySpec& k : Schema()) resolved[k.key] = *ValueFromText(k, k.default_yaml, "d");
  resolved["task.p"] = Value(int64_t{97});
  resolved["optimizer.lr"] = Value(0.25);
  resolved["probes.metrics"] = Value(std::vector<std::string>{"nc1"});
  resolved["model.tied_unembed"] = Value(true);
  PackSpec pack;
  MemberOptimizerScalars member;
  FillSections(resolved, &pack, &member);
  EXPECT_EQ(pack.task.p, 97);
  EXPECT_EQ(member.lr, 0.25);
  EXPECT_EQ(pack.probes.metrics, std::vector<std::string>{"nc1"});
  EXPECT_TRUE(pack.model.tied_unembed);
  for (const KeySpec& k : Schema()) {
    if (k.get) {
      EXPECT_EQ(k.get(pack, member), resolved.at(k.key)) << k.key;
    }
  }
}

TEST(CatalogTest, KeysAreUniqueAndInTheirSections) {
  std::set<std::string> keys;
  for (const KeySpec& k : Schema()) {
    EXPECT_TRUE(keys.insert(k.key).second) << k.key << " is in the catalog twice";
    const std::string section = k.key.substr(0, k.key.find('.'));
    EXPECT_NE(std::find(Sections().begin(), Sections().end(), section), Sections().end()) << k.key;
    if (k.role == KeyRole::kRuntime) {
      EXPECT_FALSE(k.sweepable) << k.key;
    }
  }
  EXPECT_EQ(SectionKeys("analysis").size(), 28u);
  EXPECT_EQ(SectionKeys("name").size(), 1u);
  EXPECT_TRUE(SectionKeys("sweep").empty());
}

TEST(CatalogTest, ValuesAreCheckedAgainstTheirRow) {
  const KeySpec& p = *FindKey("task.p");
  EXPECT_TRUE(CheckValue(p, Value(int64_t{1000})).ok());
  Status s = CheckValue(p, Value(int64_t{1001}));
  EXPECT_EQ(s.message(), "task.p = 1001 is out of range; valid: >= 2.0 and <= 1e+03");
  EXPECT_EQ(CheckValue(p, Value(int64_t{1})).ExitCode(), 2);
  s = CheckValue(*FindKey("model.activation"), Value(std::string("tanh")), "here");
  EXPECT_EQ(s.message(), "here: model.activation = 'tanh' is not valid; valid: relu, gelu");
  s = CheckValue(*FindKey("probes.metrics"), Value(std::vector<std::string>{"nc1", "nc1"}));
  EXPECT_EQ(s.message(), "probes.metrics lists 'nc1' twice");
  EXPECT_TRUE(CheckValue(*FindKey("training.pack"), Value(int64_t{0})).ok());  // auto
}

TEST(CatalogTest, TextIsParsedAndCheckedByTheRow) {
  const KeySpec& lr = *FindKey("optimizer.lr");
  EXPECT_EQ(*ValueFromText(lr, "1e-3", "w"), *ValueFromText(lr, "0.001", "w"));
  EXPECT_EQ(ValueFromText(lr, "0", "w").status().message(),
            "w: optimizer.lr = 0 is out of range; valid: > 0.0 and <= 1e+01");
  EXPECT_EQ(ValueFromText(*FindKey("training.pack"), "auto", "w")->AsInt(), 0);
  EXPECT_EQ(DidYouMean("training.lr"), "optimizer.lr");
  EXPECT_EQ(DidYouMean("zzz.qqq"), std::nullopt);
}

}  // namespace
}  // namespace phasesweep::spec
