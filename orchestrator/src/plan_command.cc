// `phasesweep plan`: validate a sweep and show what `run` would do, without running anything.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "phasesweep/base/json.h"
#include "phasesweep/orchestrator/commands.h"
#include "phasesweep/orchestrator/plan.h"

namespace phasesweep::orchestrator {
namespace {

std::string Mebibytes(int64_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1 << 20) << " MiB";
  return s.str();
}

void PrintText(const SweepPlan& plan, const PlanCommandOptions& options, std::ostream& out) {
  const SweepSpec& sweep = plan.sweep;
  out << "# resolved config (" << sweep.source << ")\n" << ResolvedYaml(sweep) << "\n";
  int64_t largest = 0, biggest_bytes = 0;
  for (const Pack& p : plan.packs) {
    largest = std::max<int64_t>(largest, static_cast<int64_t>(p.job_index.size()));
    biggest_bytes = std::max(biggest_bytes, p.estimated_bytes);
  }
  const int64_t steps = sweep.base.at("training.steps").AsInt();
  out << "study        " << sweep.base.at("name").Display() << "\n"
      << "config hash  " << plan.config_hash << "\n"
      << "grid points  " << plan.points.size() << "\n"
      << "seeds        " << sweep.seeds.size() << "\n"
      << "jobs         " << plan.jobs.size() << "\n"
      << "packs        " << plan.packs.size() << " (largest K = " << largest << ", planned for "
      << options.ranks << (options.ranks == 1 ? " rank" : " ranks") << ")\n"
      << "member-steps " << static_cast<int64_t>(plan.jobs.size()) * steps << "\n"
      << "memory/pack  " << Mebibytes(biggest_bytes) << " (estimate, largest pack)\n\n";
  out << std::left << std::setw(18) << "job id" << std::setw(6) << "grid" << std::setw(8) << "seed"
      << std::setw(11) << "pack"
      << "grid values\n";
  for (const Job& j : plan.jobs) {
    out << std::setw(18) << j.id << std::setw(6) << j.grid_index << std::setw(8) << j.seed
        << std::setw(11) << j.pack_id << (j.label.empty() ? "-" : j.label) << "\n";
  }
}

void PrintJson(const SweepPlan& plan, std::ostream& out) {
  const SweepSpec& sweep = plan.sweep;
  out << "{\"source\":" << JsonQuote(sweep.source)
      << ",\"name\":" << JsonQuote(sweep.base.at("name").AsString())
      << ",\"config_hash\":" << JsonQuote(plan.config_hash)
      << ",\"grid_points\":" << plan.points.size() << ",\"seeds\":[";
  for (size_t i = 0; i < sweep.seeds.size(); ++i) out << (i ? "," : "") << sweep.seeds[i];
  out << "],\"jobs\":[";
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const Job& j = plan.jobs[i];
    out << (i ? "," : "") << "{\"id\":" << JsonQuote(j.id) << ",\"grid_index\":" << j.grid_index
        << ",\"seed\":" << j.seed << ",\"hparams\":" << j.hparams_json
        << ",\"pack\":" << JsonQuote(j.pack_id) << "}";
  }
  out << "],\"packs\":[";
  for (size_t i = 0; i < plan.packs.size(); ++i) {
    const Pack& p = plan.packs[i];
    out << (i ? "," : "") << "{\"id\":" << JsonQuote(p.id) << ",\"members\":" << p.job_index.size()
        << ",\"estimated_bytes\":" << p.estimated_bytes << "}";
  }
  out << "],\"resolved_config\":" << JsonQuote(ResolvedYaml(sweep)) << "}\n";
}

}  // namespace

ConfigArgs SplitConfigArgs(const std::vector<std::string>& positionals) {
  ConfigArgs args;
  size_t first = 0;
  if (!positionals.empty() && positionals[0].find('=') == std::string::npos) {
    args.config_path = positionals[0];
    first = 1;
  }
  args.overrides.assign(positionals.begin() + static_cast<std::ptrdiff_t>(first),
                        positionals.end());
  return args;
}

int RunPlanCommand(const PlanCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto sweep = LoadSweepSpec({options.args.config_path}, options.args.overrides);
  if (!sweep.ok()) {
    err << "phasesweep: error: " << sweep.status().message() << "\n";
    return sweep.status().ExitCode();
  }
  // As `run` plans: packs are spread over groups of training.data_parallel ranks.
  const int64_t group_size = sweep->base.at("training.data_parallel").AsInt();
  if (options.ranks % group_size != 0) {
    err << "phasesweep: error: training.data_parallel = " << group_size
        << " does not divide --ranks " << options.ranks
        << "; use a rank count that is a multiple of it\n";
    return 2;
  }
  PlanOptions plan_options;
  plan_options.ranks = static_cast<int>(options.ranks / group_size);
  auto plan = MakePlan(*sweep, plan_options);
  if (!plan.ok()) {
    err << "phasesweep: error: " << plan.status().message() << "\n";
    return plan.status().ExitCode();
  }
  if (options.json) {
    PrintJson(*plan, out);
  } else {
    PrintText(*plan, options, out);
  }
  return 0;
}

void AddPlanCommand(CLI::App& app) {
  auto options = std::make_shared<PlanCommandOptions>();
  auto positionals = std::make_shared<std::vector<std::string>>();
  CLI::App* plan = app.add_subcommand(
      "plan",
      "Validate a sweep and list its jobs and packs (no file given: the embedded default study)");
  plan->add_option("config_and_overrides", *positionals,
                   "[CONFIG.yaml] [key=value ...]; key=v1,v2 sweeps; sweep.seeds=range(16)");
  plan->add_flag("--json", options->json, "print the plan as JSON");
  plan->add_option("--ranks", options->ranks, "show the packing for this many MPI ranks")
      ->check(CLI::Range(1, 1 << 20));
  plan->callback([options, positionals]() {
    options->args = SplitConfigArgs(*positionals);
    const int rc = RunPlanCommand(*options, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace phasesweep::orchestrator
