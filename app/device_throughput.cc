// Throughput of one pack of K members of a config's first grid point, on a device; one JSON
// line. scripts/device/check runs it for K = 1, 8, 32, 128, 512 on the GPU (and, in --dry-run,
// briefly on the CPU).
//
//   device_throughput config=grokking.yaml K=32 device=cuda timed=20 warmup=3
//                     overrides=task.p=97,training.steps=3000     (one command line)
//
// It trains warmup + timed + 1 steps with a probe every `probe_every` steps (default 5) and
// times each step (synchronising the device): the median step without probes gives
// member-steps/s; probe steps' extra time gives the cost of one probe step. Runs per GPU-hour =
// K * 3600 / (steps * step_s + probe_steps * probe_extra_s), with steps and probe_steps those
// of the config's own run (its schedule). model_tflops: 3 x the forward FLOPs of a plain
// implementation (every position through every layer) per member-step x member-steps/s; the
// worker skips part of that arithmetic (last-position shortcut), so this is useful work.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "phasesweep/worker/trainer.h"
#include "sweep_packs.h"

namespace {

using phasesweep::Result;
using Clock = std::chrono::steady_clock;

double ModelFlopsPerMemberStep(const phasesweep::worker::PackSpec& s,
                               const phasesweep::worker::TaskInfo& info) {
  const double n = static_cast<double>(s.training.batch_size == 0 ? info.n_train
                                                                  : s.training.batch_size);
  const double T = static_cast<double>(info.seq_len);
  const double d = static_cast<double>(s.model.d_model), m = static_cast<double>(s.model.d_mlp);
  const double L = static_cast<double>(s.model.layers), C = static_cast<double>(info.n_classes);
  if (s.model.name != "transformer") return 0;
  const double per_layer = 2 * n * T * (4 * d * d + 2 * d * m) + 4 * n * T * T * d;
  return 3 * (L * per_layer + 2 * n * d * C);
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const size_t eq = s.find('=');
    if (eq == std::string::npos) {
      std::cerr << "device_throughput: argument '" << s << "' is not key=value\n";
      return 2;
    }
    a[s.substr(0, eq)] = s.substr(eq + 1);
  }
  auto get = [&](const std::string& k, const std::string& d) {
    return a.count(k) ? a.at(k) : d;
  };
  const std::string config = get("config", "smoke.yaml"), device = get("device", "cpu");
  const int64_t K = std::stoll(get("K", "1")), timed = std::stoll(get("timed", "20"));
  const int64_t warmup = std::stoll(get("warmup", "3"));
  const int64_t probe_every = std::stoll(get("probe_every", "5"));
  std::vector<std::string> overrides{"training.pack=1"};
  std::stringstream ov(get("overrides", ""));
  for (std::string o; std::getline(ov, o, ',');) {
    if (!o.empty()) overrides.push_back(o);
  }
  Result<std::vector<phasesweep::worker::PackSpec>> packs =
      phasesweep::testing::PlanPacks(config, overrides, device);
  if (!packs.ok()) {
    std::cerr << "device_throughput: " << packs.status().message() << "\n";
    return 2;
  }
  phasesweep::worker::PackSpec spec = packs->front();
  const int64_t run_steps = spec.training.steps;
  const int64_t run_probe_steps =
      static_cast<int64_t>(phasesweep::worker::ProbeSteps(spec.probes, run_steps).size());
  const phasesweep::worker::MemberSpec proto = spec.members.front();
  spec.members.clear();
  for (int64_t k = 0; k < K; ++k) {
    phasesweep::worker::MemberSpec m = proto;
    m.job_id = "m" + std::to_string(k);
    m.seed = static_cast<uint64_t>(k);
    spec.members.push_back(m);
  }
  spec.training.steps = warmup + timed + 1;
  // The shortened run must hold the warmup (the learning rate does not change a step's cost).
  spec.optimizer.warmup_steps = std::min(spec.optimizer.warmup_steps, spec.training.steps);
  spec.training.checkpoint_every = 0;
  spec.probes.schedule = "linear";
  spec.probes.every = probe_every;
  Result<torch::Device> dev = phasesweep::worker::ResolveDevice(device);
  if (!dev.ok()) {
    std::cerr << "device_throughput: " << dev.status().message() << "\n";
    return 2;
  }
  auto sync = [&] {
    if (dev->is_cuda()) torch::cuda::synchronize();
  };
  auto trainer = phasesweep::worker::PackTrainer::Create(spec, *dev);
  if (!trainer.ok()) {
    std::cerr << "device_throughput: " << trainer.status().message() << "\n";
    return 1;
  }
  std::vector<double> plain, probed;
  Clock::time_point last = Clock::now();
  phasesweep::worker::RunHooks hooks;
  hooks.after_step = [&](int64_t step) {
    sync();
    const Clock::time_point now = Clock::now();
    const double s = std::chrono::duration<double>(now - last).count();
    last = now;
    if (step > warmup && step <= warmup + timed) (step % probe_every ? plain : probed).push_back(s);
    return phasesweep::Status::Ok();
  };
  Result<phasesweep::worker::RunOutcome> r = (*trainer)->Run(hooks);
  if (!r.ok()) {
    std::cerr << "device_throughput: " << r.status().message() << "\n";
    return 1;
  }
  if (plain.empty()) {
    std::cerr << "device_throughput: no step without probes was timed (timed/probe_every)\n";
    return 2;
  }
  std::sort(plain.begin(), plain.end());
  const double step_s = plain[plain.size() / 2];
  double probe_extra = 0;
  for (double s : probed) probe_extra += s - step_s;
  if (!probed.empty()) probe_extra = std::max(0.0, probe_extra / static_cast<double>(probed.size()));
  const double run_s = static_cast<double>(run_steps) * step_s +
                       static_cast<double>(run_probe_steps) * probe_extra;
  Result<phasesweep::worker::TaskInfo> info = phasesweep::worker::DescribeTask(spec.task);
  const double flops = info.ok() ? ModelFlopsPerMemberStep(spec, *info) : 0;
  const double msps = static_cast<double>(K) / step_s;
  std::printf(
      "{\"config\":\"%s\",\"device\":\"%s\",\"K\":%lld,\"step_s\":%.6g,"
      "\"member_steps_per_s\":%.6g,\"probe_step_extra_s\":%.6g,\"run_steps\":%lld,"
      "\"run_probe_steps\":%lld,\"runs_per_device_hour\":%.6g,\"model_tflops\":%.6g}\n",
      config.c_str(), dev->str().c_str(), static_cast<long long>(K), step_s, msps, probe_extra,
      static_cast<long long>(run_steps), static_cast<long long>(run_probe_steps),
      static_cast<double>(K) * 3600.0 / run_s, flops * msps / 1e12);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
