// End-to-end tests of `run --shard i/n` and `phasesweep merge` (job arrays without Slurm): slices
// merged by `merge` or by a later plain run are bitwise one unsharded run on as many ranks; bad
// slices and merges are one-line errors with exit 2 that write nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "test_process.h"
#include "traces.h"

namespace phasesweep::testing {
namespace {

namespace fs = std::filesystem;
const std::string kExe = PHASESWEEP_EXE;
const std::string kSmoke = std::string(PHASESWEEP_SOURCE_DIR) + "/configs/smoke.yaml";
// Six jobs; one thread per rank so traces are bitwise comparable. Packing is automatic: with 3
// ranks (or 3 slices of one rank) the plan has 3 packs of 2 jobs.
const std::string kSweep = kSmoke + " 'sweep.seeds=range(6)' training.threads=1";
const std::string kArgs = kSweep + " -q";

std::string Mpirun(int np) { return MpirunPrefix(MPIEXEC, np); }

class ShardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_dir_ = new TempDir;
    ProcessResult ref =
        RunCommand(Mpirun(3) + kExe + " run " + kArgs + " -o ref.h5", ref_dir_->path());
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    ref_ = new Traces(Load(ref_dir_->path() + "/ref.h5"));
    ASSERT_EQ(ref_->size(), 6u);
  }
  static void TearDownTestSuite() {
    delete ref_;
    delete ref_dir_;
  }
  ProcessResult Slice(int i, int n, const std::string& extra = "") {
    return RunCommand(kExe + " run " + kArgs + extra + " --shard " + std::to_string(i) + "/" +
                          std::to_string(n) + " -o out.h5",
                      dir_.path());
  }
  static TempDir* ref_dir_;
  static Traces* ref_;
  TempDir dir_;
};
TempDir* ShardTest::ref_dir_ = nullptr;
Traces* ShardTest::ref_ = nullptr;

TEST_F(ShardTest, SlicesMergedAreBitwiseOneUnshardedRun) {
  for (int i = 0; i < 3; ++i) {
    ProcessResult r = Slice(i, 3);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("(slice " + std::to_string(i) + " of 3)"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(dir_.path() + "/out.slice-" + std::to_string(i) + "-of-3.h5"));
  }
  EXPECT_FALSE(fs::exists(dir_.path() + "/out.h5")) << "slices never write the results file";
  ProcessResult merged = RunCommand(kExe + " merge " + kSweep + " -o out.h5", dir_.path());
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("folded 3 slice files (6 finished jobs) into out.h5"),
            std::string::npos)
      << merged.out;
  EXPECT_NE(merged.out.find("6/6 jobs done"), std::string::npos) << merged.out;
  ExpectClose(*ref_, Load(dir_.path() + "/out.h5"), 0);
  EXPECT_EQ(dir_.Listing(), "out.h5\nout.h5.d\n") << "merged slices are removed";
}

TEST_F(ShardTest, ALaterPlainRunFoldsTheSlicesAndHasNothingLeftToTrain) {
  ASSERT_EQ(Slice(0, 2).exit_code, 0);
  ASSERT_EQ(Slice(1, 2).exit_code, 0);
  // Two slices of one rank plan for 2 ranks: the packing of a 2-rank run.
  ProcessResult ref2 = RunCommand(Mpirun(2) + kExe + " run " + kArgs + " -o ref2.h5", dir_.path());
  ASSERT_EQ(ref2.exit_code, 0) << ref2.err;
  ProcessResult later = RunCommand(kExe + " run " + kArgs + " -o out.h5", dir_.path());
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_NE(later.err.find("folded 2 slice files (6 finished jobs) into out.h5"), std::string::npos)
      << later.err;
  EXPECT_NE(later.err.find("6 already finished, 0 to run"), std::string::npos) << later.err;
  ExpectClose(Load(dir_.path() + "/ref2.h5"), Load(dir_.path() + "/out.h5"), 0);
}

TEST_F(ShardTest, BadSlicesAndMergesAreOneLineErrorsThatWriteNothing) {
  auto expect_error = [&](const ProcessResult& r, const std::string& message) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.find("phasesweep: error: " + message), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  expect_error(Slice(3, 3), "--shard 3/3: i = 3 must be below n = 3");
  expect_error(RunCommand(kExe + " run " + kArgs + " --shard 1-3", dir_.path()),
               "--shard '1-3' is not i/n");
  EXPECT_EQ(dir_.Listing(), "");
  ASSERT_EQ(Slice(0, 2).exit_code, 0);
  // Another n beside an existing slice: both named.
  expect_error(Slice(1, 3),
               "--shard 1/3: out.slice-0-of-2.h5 is slice 0/2 of the same results file; "
               "every slice must use the same n (2 vs 3)");
  // Merging with another config refuses before the results file exists.
  ProcessResult other =
      RunCommand(kExe + " merge " + kSweep + " optimizer.lr=0.002 -o out.h5", dir_.path());
  expect_error(other, "out.slice-0-of-2.h5 is a slice of config ");
  EXPECT_FALSE(fs::exists(dir_.path() + "/out.h5"));
  // A slice of another config against the results file of this one is refused.
  ASSERT_EQ(Slice(1, 2).exit_code, 0);
  ASSERT_EQ(RunCommand(kExe + " merge " + kSweep + " -o out.h5", dir_.path()).exit_code, 0);
  expect_error(Slice(0, 2, " optimizer.lr=0.002"), "out.h5 was written for config ");
  expect_error(RunCommand(kExe + " merge " + kSweep + " -o none.h5", dir_.path()),
               "no slice files of none.h5");
}

}  // namespace
}  // namespace phasesweep::testing
