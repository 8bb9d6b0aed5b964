// Report benchmark (bench/README.md, "## Report"): writes a synthetic results file of 10,000
// jobs x 500 probe steps (MakeSyntheticSweep: 10 weight decays x 500 seeds, each also as a
// random-label control; 4 metrics), then times `phasesweep report` on it twice: first with the
// analysis it has to run (no /analysis yet), then with the stored analysis (the page alone).
// Prints the page size. bench/report_bench.sh adds the headless-Chromium load time.
//   phasesweep_bench_report dir=/tmp/psr [seeds=500] [levels=10] [probes=500]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "bench_args.h"
#include "phasesweep/analysis/report.h"
#include "phasesweep/analysis/synthetic.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace phasesweep;
  const bench::BenchArgs args(argc, argv, "dir=DIR [seeds=500] [levels=10] [probes=500]");
  const std::string dir = args.Get("dir", "/tmp/phasesweep_bench_report");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/results.h5";

  analysis::SyntheticSweepSpec spec;
  spec.seeds = std::stoi(args.Get("seeds", "500"));
  spec.probes = std::stoi(args.Get("probes", "500"));
  spec.levels.clear();
  for (int i = 0, n = std::stoi(args.Get("levels", "10")); i < n; ++i)
    spec.levels.push_back(std::to_string(0.1 * i).substr(0, 3));
  spec.level_shift = -0.03;
  spec.metrics = {"emb_cos_prev", "test_acc", "train_loss", "test_loss"};
  auto t0 = std::chrono::steady_clock::now();
  const analysis::TraceSet set = analysis::MakeSyntheticSweep(spec);
  {  // the writer (and its lock) is released before the report runs the analysis
    storage::OpenOptions o;
    o.provenance.config_hash = "bench";
    o.provenance.config_yaml = "name: report-bench\nanalysis:\n  surrogates: 0\n";
    auto writer = storage::ResultsWriter::Open(path, o);
    if (!writer.ok()) return std::fprintf(stderr, "%s\n", writer.status().message().c_str()), 1;
    std::vector<storage::JobRecord> pack;
    int shard = 0;
    for (std::size_t i = 0; i < set.jobs.size(); ++i) {
      const auto& j = set.jobs[i];
      storage::JobRecord r;
      r.job_id = j.job_id;
      r.seed = j.seed;
      r.grid_index = j.grid_index;
      r.hparams = {{"optimizer.weight_decay",
                    phasesweep::HparamValue::Number(j.hparams.at("optimizer.weight_decay"))},
                   {"task.random_labels",
                    phasesweep::HparamValue::Bool(j.hparams.at("task.random_labels") == "true")}};
      r.trace = j.trace;
      pack.push_back(std::move(r));
      if (pack.size() == 500 || i + 1 == set.jobs.size()) {
        auto st = storage::WriteShard(path, {"p" + std::to_string(shard++), 0, "bench"}, pack);
        if (!st.ok()) return std::fprintf(stderr, "%s\n", st.status().message().c_str()), 1;
        pack.clear();
      }
    }
    auto merged = writer->Merge();
    if (!merged.ok()) return std::fprintf(stderr, "%s\n", merged.status().message().c_str()), 1;
  }
  std::printf("wrote %zu jobs x %d probes x %zu metrics in %.1f s: %s (%.0f MB)\n", set.jobs.size(),
              spec.probes, spec.metrics.size(), Seconds(t0), path.c_str(),
              std::filesystem::file_size(path) / 1e6);

  analysis::ReportRequest request;
  request.results_path = path;
  request.output_path = dir + "/report.html";
  for (const char* what : {"analysis + page", "page alone (stored analysis)"}) {
    std::ostringstream log;
    t0 = std::chrono::steady_clock::now();
    const Status st = analysis::RunReport(request, log);
    if (!st.ok()) return std::fprintf(stderr, "%s\n", st.message().c_str()), 1;
    std::printf("report, %s: %.1f s, %.2f MB\n", what, Seconds(t0),
                std::filesystem::file_size(request.output_path) / 1e6);
  }
  std::printf("page: %s\n", request.output_path.c_str());
  return 0;
}
