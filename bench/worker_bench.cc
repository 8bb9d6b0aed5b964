// Worker throughput: times PackTrainer steps of one pack and prints one JSON line.
//
//   phasesweep_worker_bench model=transformer K=16 batch=32 steps=200 warmup=20 threads=1
//   ... profile=trace.json   (also writes a Chrome trace of the timed steps: LibTorch's profiler)
//
// Config: the default study's shape (modular addition p=47, train_fraction 0.4, 1-layer
// transformer d_model 64, 4 heads, d_mlp 256, AdamW) or, with model=mlp, sparse parity
// (n_bits 30, k 3, n_train 1000) with a 2x256 MLP. Only training steps are timed: the probes run
// at step 0 (inside the warmup) and at the last step (after the timed window).
// bench/worker_compare.py runs this beside the plain PyTorch loop of bench/worker_baseline.py.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include "bench_args.h"
#include "phasesweep/worker/trainer.h"

namespace {

using phasesweep::worker::PackSpec;

PackSpec BenchSpec(const phasesweep::bench::BenchArgs& args) {
  auto get = [&](const std::string& k, const std::string& def) { return args.Get(k, def); };
  PackSpec s;
  s.pack_id = "bench";
  if (get("model", "transformer") == "mlp") {
    s.task.name = "sparse_parity";
    s.task.n_bits = std::stoll(get("n_bits", "30"));
    s.task.k = 3;
    s.task.n_train = 1000;
    s.task.n_test = 100;
    s.model.name = "mlp";
    s.model.depth = 2;
    s.model.width = std::stoll(get("width", "256"));
  } else {
    s.task.p = std::stoll(get("p", "47"));
    s.task.train_fraction = std::stod(get("train_fraction", "0.4"));
    s.model.d_model = std::stoll(get("d_model", "64"));
    s.model.heads = 4;
    s.model.d_mlp = std::stoll(get("d_mlp", "256"));
    s.model.layers = std::stoll(get("layers", "1"));
  }
  const int64_t steps = std::stoll(get("steps", "200")), warmup = std::stoll(get("warmup", "20"));
  s.training.steps = warmup + steps + 1;
  s.training.batch_size = std::stoll(get("batch", "32"));
  s.training.threads = std::stoll(get("threads", "1"));
  s.training.checkpoint_every = 0;
  s.training.device = "cpu";
  s.probes.metrics = {"train_loss"};
  s.probes.every = s.training.steps;
  // Probes run outside the timed window; a batch that fits every task (the spec rejects a probe
  // batch larger than the data), and no learning-rate warm-up longer than a short run.
  s.probes.batch = std::stoll(get("probe_batch", "64"));
  s.optimizer.warmup_steps = std::min(s.optimizer.warmup_steps, s.training.steps);
  const int64_t K = std::stoll(get("K", "1"));
  for (int64_t k = 0; k < K; ++k) {
    phasesweep::worker::MemberSpec m;
    m.job_id = "m" + std::to_string(k);
    m.seed = static_cast<uint64_t>(k);
    m.scalars.lr = 1e-3;
    m.scalars.weight_decay = 1.0;
    s.members.push_back(m);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const phasesweep::bench::BenchArgs args(argc, argv,
                                          "key=value ... (model K batch steps warmup threads p "
                                          "d_model d_mlp train_fraction probe_batch)");
  const PackSpec spec = BenchSpec(args);
  const int64_t warmup = std::stoll(args.Get("warmup", "20"));
  const int64_t steps = spec.training.steps - warmup - 1;
  auto trainer = phasesweep::worker::PackTrainer::Create(spec, torch::kCPU);
  if (!trainer.ok()) {
    std::fprintf(stderr, "phasesweep: error: %s\n", trainer.status().message().c_str());
    return 2;
  }
  for (int64_t i = 0; i < warmup; ++i) (void)(*trainer)->Step();
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  if (args.Has("profile")) {
    profile = std::make_unique<torch::autograd::profiler::RecordProfile>(args.Get("profile", ""));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  for (int64_t i = 0; i < steps; ++i) {
    phasesweep::Status s = (*trainer)->Step();
    if (!s.ok()) {
      std::fprintf(stderr, "phasesweep: error: %s\n", s.message().c_str());
      return 1;
    }
  }
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  profile.reset();
  const int64_t K = static_cast<int64_t>(spec.members.size());
  std::printf(
      "{\"impl\": \"cpp\", \"model\": \"%s\", \"K\": %lld, \"batch\": %lld, \"steps\": %lld, "
      "\"threads\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"steps_per_s\": %.3f, "
      "\"member_steps_per_s\": %.3f, \"member_steps_per_cpu_s\": %.3f, \"fused_optimizer\": %s}\n",
      spec.model.name.c_str(), static_cast<long long>(K),
      static_cast<long long>(spec.training.batch_size), static_cast<long long>(steps),
      at::get_num_threads(), sec, cpu, steps / sec, K * steps / sec, K * steps / cpu,
      (*trainer)->optimizer().fused() ? "true" : "false");
  return 0;
}
