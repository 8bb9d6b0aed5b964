// GPU tests (label gpu; scripts/device/check runs them on the GPU machine). Each skips with its
// reason when this LibTorch has no CUDA or no CUDA device is visible, so the suite builds and
// passes on CPU-only machines. What they prove on a GPU:
//  - the smoke sweep trained on CUDA equals the CPU sweep within 1e-4 (TF32 off, the default);
//  - on CUDA a pack of 8 members equals the same 8 jobs trained alone within 1e-5;
//  (both through step 80: the smoke sweep is chaotic from step ~90 on, where a change of the
//  learning rate by 1e-7 moves train_loss by ~2e-3; worker/src/kernels/generic_kernels_test.cc. The
//  whole-run difference is printed too.)
//  - a checkpoint written on CUDA resumes to the bitwise-identical trajectory.
// (The NCCL communicator's single-rank set-up and allreduce: collectives_nccl_np1.)
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "phasesweep/worker/trainer.h"
#include "sweep_packs.h"

namespace phasesweep::testing {
namespace {

using Traces = std::map<std::string, Trace>;

#define SKIP_WITHOUT_CUDA()                                                               \
  do {                                                                                    \
    if (!torch::cuda::is_available())                                                     \
      GTEST_SKIP() << "no CUDA device (torch::cuda::is_available() is false: CPU-only "   \
                      "LibTorch or no GPU visible)";                                      \
  } while (0)

Traces Train(const std::string& config, const std::vector<std::string>& overrides,
             const std::string& device) {
  Result<std::vector<worker::PackSpec>> packs = PlanPacks(config, overrides, device);
  EXPECT_TRUE(packs.ok()) << packs.status().message();
  if (!packs.ok()) return {};
  Result<Traces> t = TrainPacks(*packs, device);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Traces{};
}

constexpr int64_t kStableUntil = 80;  // the smoke sweep's last probe step before its chaos

// The largest scaled difference through step kStableUntil (the whole run's printed as info).
double Compare(const Traces& a, const Traces& b, const std::string& what) {
  std::string where, where_all;
  const double d = LargestScaledDifference(a, b, &where, kStableUntil);
  const double all = LargestScaledDifference(a, b, &where_all);
  std::cout << "[ info ] " << what << ": largest scaled difference through step " << kStableUntil
            << " " << d << " (" << where << "); whole run " << all << " (" << where_all << ")\n";
  return d;
}

TEST(DeviceGpuTest, CudaSmokeSweepEqualsCpuSweep) {
  SKIP_WITHOUT_CUDA();
  const Traces cpu = Train("smoke.yaml", {"training.pack=4"}, "cpu");
  const Traces gpu = Train("smoke.yaml", {"training.pack=4"}, "cuda");
  ASSERT_EQ(gpu.size(), 4u);
  EXPECT_LE(Compare(cpu, gpu, "smoke sweep, cuda vs cpu"), 1e-4);
}

TEST(DeviceGpuTest, PackOfEightEqualsPackOfOneOnCuda) {
  SKIP_WITHOUT_CUDA();
  const Traces eight = Train("smoke.yaml", {"sweep.seeds=range(8)", "training.pack=8"}, "cuda");
  const Traces one = Train("smoke.yaml", {"sweep.seeds=range(8)", "training.pack=1"}, "cuda");
  ASSERT_EQ(eight.size(), 8u);
  EXPECT_LE(Compare(eight, one, "smoke sweep on cuda, pack 8 vs pack 1"), 1e-5);
}

TEST(DeviceGpuTest, CheckpointResumesBitwiseOnCuda) {
  SKIP_WITHOUT_CUDA();
  Result<std::vector<worker::PackSpec>> packs = PlanPacks("smoke.yaml", {"training.pack=4"}, "cuda");
  ASSERT_TRUE(packs.ok()) << packs.status().message();
  const worker::PackSpec& spec = packs->front();
  const torch::Device cuda(torch::kCUDA, 0);
  const std::string ckpt =
      (std::filesystem::temp_directory_path() / "phasesweep_device_gpu_test.ckpt").string();

  auto straight = worker::PackTrainer::Create(spec, cuda);
  ASSERT_TRUE(straight.ok()) << straight.status().message();
  ASSERT_TRUE((*straight)->Run().ok());

  auto first = worker::PackTrainer::Create(spec, cuda);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const int64_t half = spec.training.steps / 2 + 3;  // not a probe or checkpoint step
  worker::RunHooks hooks;
  hooks.should_stop = [&] { return (*first)->step() >= half; };
  Result<worker::RunOutcome> stopped = (*first)->Run(hooks);
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  ASSERT_EQ(*stopped, worker::RunOutcome::kStopped);
  ASSERT_TRUE((*first)->SaveCheckpoint(ckpt).ok());

  auto resumed = worker::PackTrainer::Create(spec, cuda);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  const Status loaded = (*resumed)->LoadCheckpoint(ckpt);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  ASSERT_EQ((*resumed)->step(), half);
  ASSERT_TRUE((*resumed)->Run().ok());
  std::filesystem::remove(ckpt);
  for (size_t k = 0; k < spec.members.size(); ++k) {
    EXPECT_TRUE((*straight)->traces()[k] == (*resumed)->traces()[k]) << "member " << k;
  }
}

}  // namespace
}  // namespace phasesweep::testing
