// Storage benchmark: write a sweep of N jobs x S probe steps x M metrics through the real path
// (one shard per pack, merges under a MergePolicy as rank 0 would run them), then time the
// ledger (with and without unmerged shards) and reading one metric across all jobs.
// Figures and the command are in bench/README.md ("## Storage").
//
//   phasesweep_bench_storage [--dir D] [--jobs N] [--steps S] [--metrics M] [--pack K]
//                            [--merge policy|every|final]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "phasesweep/storage/ledger.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"

namespace ps = phasesweep::storage;
using Clock = std::chrono::steady_clock;

namespace {

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds (user + system) of this process so far: on a shared, loaded machine this is the
// reproducible figure; wall time also counts waiting for the CPU and the disk.
double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

[[noreturn]] void Die(const phasesweep::Status& s) {
  std::fprintf(stderr, "storage_bench: %s\n", s.message().c_str());
  std::exit(1);
}

// Metric traces shaped like real probes: a smooth transition plus measurement noise (the noise
// is what limits compression).
ps::JobRecord MakeJob(int64_t index, int seeds, int steps, int metrics, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, 0.01);
  ps::JobRecord r;
  r.seed = static_cast<uint64_t>(index % seeds);
  r.grid_index = index / seeds;
  r.job_id = "g" + std::to_string(r.grid_index) + "-s" + std::to_string(r.seed);
  using phasesweep::HparamValue;
  r.hparams = {{"lr", HparamValue::Number(std::to_string(1e-3 * (1 + r.grid_index % 10)))},
               {"weight_decay", HparamValue::Number(std::to_string(r.grid_index / 10))}};
  r.wall_seconds = 12.5;
  r.device = "cpu";
  r.pack_id = "pack";
  for (int i = 0; i < steps; ++i) r.trace.steps.push_back(10 * i);
  for (int m = 0; m < metrics; ++m) {
    std::vector<double>& v = r.trace.metrics["metric_" + std::to_string(m)];
    const double t0 = 100.0 + 10.0 * m;
    for (int i = 0; i < steps; ++i) {
      v.push_back(1.0 / (1.0 + std::exp((i - t0) / 15.0)) + noise(rng));
    }
  }
  return r;
}

// Times the reads a resume, `status` and analysis do on a finished file; prints wall and CPU.
void TimeReads(const std::string& path, int64_t expected_jobs) {
  auto t = Clock::now();
  double c = CpuSeconds();
  auto ledger = ps::Ledger::Read(path);
  if (!ledger.ok()) Die(ledger.status());
  std::printf("ledger, %lld jobs             %8.3f s  (CPU %.3f s)\n",
              static_cast<long long>(ledger->entries().size()), Since(t), CpuSeconds() - c);
  if (ledger->Totals().done != expected_jobs && expected_jobs >= 0) {
    std::fprintf(stderr, "ledger counts %lld done jobs, expected %lld\n",
                 static_cast<long long>(ledger->Totals().done),
                 static_cast<long long>(expected_jobs));
    std::exit(1);
  }
  t = Clock::now();
  c = CpuSeconds();
  auto reader = ps::ResultsReader::Open(path);
  if (!reader.ok()) Die(reader.status());
  std::printf("reader open                 %8.3f s  (CPU %.3f s)\n", Since(t), CpuSeconds() - c);
  t = Clock::now();
  c = CpuSeconds();
  auto metric = reader->LoadMetric("metric_7");
  if (!metric.ok()) Die(metric.status());
  std::printf("one metric, all %zu jobs   %8.3f s  (CPU %.3f s)\n", metric->job_ids.size(),
              Since(t), CpuSeconds() - c);
  t = Clock::now();
  c = CpuSeconds();
  auto grid = reader->LoadMetric("metric_7", ps::JobFilter{3, {}});
  if (!grid.ok()) Die(grid.status());
  std::printf("one metric, one grid point  %8.3f s  (CPU %.3f s, %zu jobs)\n", Since(t),
              CpuSeconds() - c, grid->job_ids.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/phasesweep_bench_storage";
  int jobs = 10000, steps = 500, metrics = 20, pack = 16, seeds = 16;
  std::string merge = "policy";
  bool read_only = false;  // --read-only 1: only time the reads of an existing --dir
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") {
      dir = v;
    } else if (a == "--jobs") {
      jobs = std::atoi(v.c_str());
    } else if (a == "--steps") {
      steps = std::atoi(v.c_str());
    } else if (a == "--metrics") {
      metrics = std::atoi(v.c_str());
    } else if (a == "--pack") {
      pack = std::atoi(v.c_str());
    } else if (a == "--merge") {
      merge = v;
    } else if (a == "--read-only") {
      read_only = v == "1";
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const std::string path = dir + "/results.h5";
  if (read_only) {
    TimeReads(path, -1);
    return 0;
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ps::OpenOptions options;
  options.provenance.config_hash = "bench";
  options.provenance.config_yaml = "bench: true\n";
  for (int64_t j = 0; j < jobs; ++j) {
    options.plan.push_back({"g" + std::to_string(j / seeds) + "-s" + std::to_string(j % seeds),
                            static_cast<uint64_t>(j % seeds),
                            j / seeds,
                            {}});
  }
  auto t = Clock::now();
  auto writer = ps::ResultsWriter::Open(path, options);
  if (!writer.ok()) Die(writer.status());
  const double open_s = Since(t);

  std::mt19937_64 rng(1);
  double generate_s = 0, shard_s = 0, merge_s = 0, shard_cpu = 0, merge_cpu = 0;
  // Baseline in the same run: the same float64 values appended raw to one file, fsync'ed after
  // every pack (the durability a shard gives), no HDF5, no compression.
  double raw_s = 0;
  std::FILE* raw_file = std::fopen((dir + "/baseline.bin").c_str(), "wb");
  if (raw_file == nullptr) Die(phasesweep::Status::IOError("cannot create baseline.bin"));
  int merges = 0;
  double ledger_unmerged_s = -1, ledger_unmerged_cpu = 0;
  int64_t unmerged_at_ledger = 0;
  for (int start = 0; start < jobs; start += pack) {
    t = Clock::now();
    std::vector<ps::JobRecord> records;
    for (int j = start; j < std::min(jobs, start + pack); ++j) {
      records.push_back(MakeJob(j, seeds, steps, metrics, rng));
    }
    generate_s += Since(t);
    t = Clock::now();
    for (const ps::JobRecord& r : records) {
      std::fwrite(r.trace.steps.data(), sizeof(int64_t), r.trace.steps.size(), raw_file);
      for (const auto& [name, v] : r.trace.metrics)
        std::fwrite(v.data(), sizeof(double), v.size(), raw_file);
    }
    std::fflush(raw_file);
    ::fsync(::fileno(raw_file));
    raw_s += Since(t);
    t = Clock::now();
    double c = CpuSeconds();
    auto shard = ps::WriteShard(path, ps::ShardInfo{"pack", 0, "bench"}, records);
    if (!shard.ok()) Die(shard.status());
    shard_s += Since(t);
    shard_cpu += CpuSeconds() - c;
    // The ledger with many unmerged shards, as a resume right before a merge would see it.
    if (start + pack >= jobs && merge != "every") {
      t = Clock::now();
      const double lc = CpuSeconds();
      auto l = ps::Ledger::Read(path);
      if (!l.ok()) Die(l.status());
      ledger_unmerged_s = Since(t);
      ledger_unmerged_cpu = CpuSeconds() - lc;
      unmerged_at_ledger = l->unmerged_shards();
    }
    if (merge == "final") continue;
    t = Clock::now();
    c = CpuSeconds();
    auto stats = merge == "every" ? writer->Merge() : writer->MaybeMerge();
    if (!stats.ok()) Die(stats.status());
    if (stats->shards_merged > 0) ++merges;
    merge_s += Since(t);
    merge_cpu += CpuSeconds() - c;
  }
  t = Clock::now();
  double c = CpuSeconds();
  auto last = writer->Merge();
  if (!last.ok()) Die(last.status());
  if (last->shards_merged > 0) ++merges;
  merge_s += Since(t);
  merge_cpu += CpuSeconds() - c;
  const auto bytes = std::filesystem::file_size(path);
  std::fclose(raw_file);
  std::filesystem::remove(dir + "/baseline.bin");

  const double raw = static_cast<double>(jobs) * steps * (metrics * 8.0 + 8.0);
  std::printf("jobs %d x steps %d x metrics %d, packs of %d, merge=%s\n", jobs, steps, metrics,
              pack, merge.c_str());
  std::printf("create file                 %8.3f s\n", open_s);
  std::printf("generate traces (not I/O)   %8.3f s\n", generate_s);
  std::printf("write %5d shards           %8.3f s  (%.2f ms per job; CPU %.3f s)\n",
              (jobs + pack - 1) / pack, shard_s, 1e3 * shard_s / jobs, shard_cpu);
  std::printf("  baseline: raw fwrite+fsync %7.3f s  (shards / raw = %.1fx)\n", raw_s,
              shard_s / raw_s);
  std::printf("merge (%d merges)            %8.3f s  (CPU %.3f s)\n", merges, merge_s, merge_cpu);
  std::printf("file size                   %8.1f MB  (raw float64 %.1f MB, ratio %.2f)\n",
              bytes / 1e6, raw / 1e6, bytes / raw);
  if (ledger_unmerged_s >= 0) {
    std::printf("ledger, %4lld shards unmerged %7.3f s  (CPU %.3f s)\n",
                static_cast<long long>(unmerged_at_ledger), ledger_unmerged_s, ledger_unmerged_cpu);
  }
  TimeReads(path, jobs);
  return 0;
}
