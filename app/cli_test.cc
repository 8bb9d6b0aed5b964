// End-to-end tests of the phasesweep executable: what a user types and sees.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "test_process.h"

namespace phasesweep::testing {
namespace {

const std::string kExe = PHASESWEEP_EXE;
const std::string kConfigs = std::string(PHASESWEEP_SOURCE_DIR) + "/configs";

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(CliTest, PlanWithoutFileShowsTheEmbeddedDefaultStudy) {
  ProcessResult r = RunCommand(kExe + " plan");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: embedding-stability"), std::string::npos);
  EXPECT_NE(r.out.find("jobs         128"), std::string::npos) << r.out;  // 8 grid points x 16 seeds
}

TEST(CliTest, PlanListsEightJobsWithStableIds) {
  const std::string cmd =
      kExe + " plan " + kConfigs +
      "/smoke.yaml optimizer.weight_decay=0.1,1.0 'sweep.seeds=range(4)' --json";
  ProcessResult a = RunCommand(cmd), b = RunCommand(cmd);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  size_t ids = 0;
  for (size_t pos = 0; (pos = a.out.find("{\"id\":", pos)) != std::string::npos; ++pos) ++ids;
  EXPECT_EQ(ids, 8u + 1u);  // 8 jobs + 1 pack
}

// Each bad input: exit status 2, exactly one line on stderr starting "phasesweep: error:", nothing
// on stdout and nothing written to the working directory.
TEST(CliTest, BadInputsExitTwoWithOneLineAndWriteNothing) {
  TempDir dir;
  {
    std::ofstream(dir.path() + "/malformed.yaml") << "task:\n  p: [1, 2\n";
    std::ofstream(dir.path() + "/unknown.yaml") << "optimizer:\n  lrr: 0.1\n";
    std::ofstream(dir.path() + "/type.yaml") << "model:\n  heads: four\n";
    std::ofstream(dir.path() + "/both.yaml")
        << "optimizer:\n  weight_decay: 1\nsweep:\n  grid:\n    optimizer.weight_decay: [0.1, 1]\n";
    std::ofstream(dir.path() + "/empty_grid.yaml") << "sweep:\n  grid:\n    optimizer.lr: []\n";
    std::ofstream(dir.path() + "/twice.yaml") << "task:\n  p: 13\n  p: 17\n";
    std::ofstream(dir.path() + "/twice_name.yaml") << "name: a\nname: b\n";
  }
  const std::string before = dir.Listing();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plan malformed.yaml", "malformed.yaml:3:1: malformed YAML"},
      {"plan unknown.yaml", "did you mean 'optimizer.lr'"},
      {"plan type.yaml", "model.heads expects an integer"},
      {"plan both.yaml", "is set here and swept in sweep.grid"},
      {"plan empty_grid.yaml", "is an empty list"},
      {"plan twice.yaml",
       "twice.yaml:3:3: task.p is given twice in one mapping (first at twice.yaml:2:3)"},
      {"run twice.yaml", "twice.yaml:3:3: task.p is given twice in one mapping"},
      {"plan twice_name.yaml", "twice_name.yaml:2:1: name is given twice"},
      {"plan optimizer.lr=0", "out of range"},
      {"plan task.train_fraction=1.5", "out of range"},
      {"plan model.heads=5", "must divide model.d_model"},
      {"plan 'sweep.seeds=range(0)'", "range is empty"},
      {"plan 'sweep.seeds=range(x)'", "bad seeds"},
      {"plan optimiser.lr=1", "unknown key"},
      {"plan missing.yaml", "missing.yaml: cannot read the config file (no such file)"},
      {"plan training.data_parallel=2 --ranks 3", "does not divide --ranks 3"},
      // The default study's probes include fourier_gini, which needs modular arithmetic.
      {"plan task.name=sparse_parity model.name=mlp", "fourier_gini"},
      {"plan 'probes.metrics=[emb_norm, emb_cosine]'", "emb_cosine"},
      {"plan probes.batch=100000", "probes.batch (100000) is larger than the data"},
  };
  for (const auto& [args, expected] : cases) {
    ProcessResult r = RunCommand(kExe + " " + args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("phasesweep: error: ", 0), 0u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
  EXPECT_EQ(dir.Listing(), before);
}

TEST(CliTest, UsageErrorsExitTwo) {
  ProcessResult r = RunCommand(kExe + " plan --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(kExe);
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace phasesweep::testing
