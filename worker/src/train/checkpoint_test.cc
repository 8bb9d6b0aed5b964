// Tests of the checkpoint file: round trip, atomic replacement, and a clear error naming the
// file for every kind of bad checkpoint (truncated, corrupted, wrong version, other config,
// missing, not a checkpoint).
#include "phasesweep/worker/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "phasesweep/worker/trainer.h"
#include "test_specs.h"

namespace phasesweep::worker {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("phasesweep_ckpt_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static CheckpointData Sample() {
    CheckpointData d;
    d.fingerprint = "0123456789abcdef";
    d.step = 7;
    d.total_steps = 10;
    d.members = 2;
    d.epoch = 1;
    d.batch_in_epoch = 3;
    d.diverged_at = {-1, 5};
    d.tensors["params"] = torch::arange(12, torch::kFloat32);
    d.tensors["probe.x.prev"] = torch::ones({2, 3}, torch::kFloat64);
    d.tensors["flags"] = torch::tensor({true, false});
    d.traces.resize(2);
    d.traces[0].steps = {0, 5};
    d.traces[0].metrics["train_loss"] = {2.5, 1.25};
    d.traces[1].steps = {0};
    d.traces[1].metrics["train_loss"] = {3.0};
    return d;
  }

  static std::string ReadAll(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void WriteAll(const std::string& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << s;
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, RoundTripPreservesEverything) {
  const std::string p = Path("a.ckpt");
  ASSERT_TRUE(WriteCheckpoint(p, Sample()).ok());
  Result<CheckpointData> r = ReadCheckpoint(p);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const CheckpointData want = Sample();
  EXPECT_EQ(r->fingerprint, want.fingerprint);
  EXPECT_EQ(r->step, 7);
  EXPECT_EQ(r->epoch, 1);
  EXPECT_EQ(r->batch_in_epoch, 3);
  EXPECT_EQ(r->diverged_at, want.diverged_at);
  ASSERT_EQ(r->tensors.size(), 3u);
  for (const auto& [name, t] : want.tensors) EXPECT_TRUE(torch::equal(r->tensors.at(name), t));
  EXPECT_EQ(r->traces[0], want.traces[0]);
  EXPECT_EQ(r->traces[1], want.traces[1]);
}

TEST_F(CheckpointTest, WriteReplacesAtomicallyAndLeavesNoTemporaryFile) {
  const std::string p = Path("a.ckpt");
  WriteAll(p, "old contents");
  ASSERT_TRUE(WriteCheckpoint(p, Sample()).ok());
  EXPECT_TRUE(ReadCheckpoint(p).ok());
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(CheckpointTest, UnwritableDirectoryIsAnIOErrorNamingTheFile) {
  const std::string p = Path("no/such/dir/a.ckpt");
  Status s = WriteCheckpoint(p, Sample());
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find(p), std::string::npos) << s.message();
}

void ExpectError(const Result<CheckpointData>& r, Status::Code code, const std::string& path,
                 const std::string& phrase) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(phrase), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);  // one line
}

TEST_F(CheckpointTest, TruncatedFileIsCorruption) {
  const std::string p = Path("a.ckpt");
  ASSERT_TRUE(WriteCheckpoint(p, Sample()).ok());
  const std::string full = ReadAll(p);
  for (size_t keep : {size_t{3}, size_t{20}, full.size() / 2, full.size() - 1}) {
    WriteAll(p, full.substr(0, keep));
    ExpectError(ReadCheckpoint(p), Status::Code::kCorruption, p, "truncated");
  }
}

TEST_F(CheckpointTest, FlippedByteIsCorruption) {
  const std::string p = Path("a.ckpt");
  ASSERT_TRUE(WriteCheckpoint(p, Sample()).ok());
  std::string s = ReadAll(p);
  s[s.size() / 2] ^= 0x10;
  WriteAll(p, s);
  ExpectError(ReadCheckpoint(p), Status::Code::kCorruption, p, "checksum");
}

TEST_F(CheckpointTest, OtherFormatVersionIsRefused) {
  const std::string p = Path("a.ckpt");
  ASSERT_TRUE(WriteCheckpoint(p, Sample()).ok());
  std::string s = ReadAll(p);
  s[8] = static_cast<char>(kCheckpointVersion + 1);
  WriteAll(p, s);
  ExpectError(ReadCheckpoint(p), Status::Code::kFailedPrecondition, p, "version 2");
}

TEST_F(CheckpointTest, NotACheckpointAndMissingFile) {
  const std::string p = Path("a.ckpt");
  WriteAll(p, "this is a text file, long enough to have a header and more");
  ExpectError(ReadCheckpoint(p), Status::Code::kCorruption, p, "not a phasesweep checkpoint");
  ExpectError(ReadCheckpoint(Path("missing.ckpt")), Status::Code::kNotFound, Path("missing.ckpt"),
              "no such file");
}

TEST_F(CheckpointTest, TrainerRefusesCheckpointOfAnotherConfig) {
  PackSpec spec = testing::SmallModularPack({1, 2}, 20);
  auto a = PackTrainer::Create(spec, torch::kCPU);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE((*a)->Step().ok());
  const std::string p = Path("pack.ckpt");
  ASSERT_TRUE((*a)->SaveCheckpoint(p).ok());

  spec.members[1].scalars.lr *= 2;  // another grid point: same shapes, different config
  auto b = PackTrainer::Create(spec, torch::kCPU);
  ASSERT_TRUE(b.ok());
  Status s = (*b)->LoadCheckpoint(p);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find(p), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("different configuration"), std::string::npos) << s.message();
  EXPECT_EQ((*b)->step(), 0);  // nothing changed: no silent restart from a wrong state

  // The right config loads; a damaged copy is refused by the trainer with the file named.
  spec.members[1].scalars.lr /= 2;
  auto c = PackTrainer::Create(spec, torch::kCPU);
  ASSERT_TRUE((*c)->LoadCheckpoint(p).ok());
  EXPECT_EQ((*c)->step(), 1);
  std::string bytes = ReadAll(p);
  WriteAll(p, bytes.substr(0, bytes.size() - 100));
  auto d = PackTrainer::Create(spec, torch::kCPU);
  s = (*d)->LoadCheckpoint(p);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find(p), std::string::npos);
}

TEST(FingerprintTest, ChangesWithWhatShapesTheTrajectoryOnly) {
  PackSpec a = testing::SmallModularPack({1, 2});
  const std::string base = SpecFingerprint(a);
  EXPECT_EQ(base.size(), 16u);
  PackSpec b = a;
  b.training.threads = 7;
  b.training.checkpoint_every = 3;
  b.training.device = "cuda";
  EXPECT_EQ(SpecFingerprint(b), base);
  b = a;
  b.members[0].seed = 99;
  EXPECT_NE(SpecFingerprint(b), base);
  b = a;
  b.probes.every = 5;
  EXPECT_NE(SpecFingerprint(b), base);
  b = a;
  b.task.random_labels = true;
  EXPECT_NE(SpecFingerprint(b), base);
}

}  // namespace
}  // namespace phasesweep::worker
