// `phasesweep plan`: validate a sweep and show what `run` would do, without running anything.
#include "phasesweep/orchestrator/plan_listing.h"

#include <iomanip>
#include <ostream>
#include <sstream>

#include "phasesweep/base/json.h"
#include "phasesweep/orchestrator/plan.h"

namespace phasesweep::orchestrator {
namespace {

std::string Mebibytes(int64_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1 << 20) << " MiB";
  return s.str();
}

void PrintText(const SweepPlan& plan, const PlanRequest& options, std::ostream& out) {
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
        << ",\"seed\":" << j.seed << ",\"hparams\":" << HparamsJson(j.hparams)
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

Status ListPlan(const PlanRequest& options, std::ostream& out) {
  auto sweep = LoadSweepSpec({options.args.config_path}, options.args.overrides);
  if (!sweep.ok()) return sweep.status();
  // As `run` plans: packs are spread over groups of training.data_parallel ranks.
  const int64_t group_size = sweep->base.at("training.data_parallel").AsInt();
  if (options.ranks % group_size != 0) {
    return Status::InvalidArgument("training.data_parallel = " + std::to_string(group_size) +
                                   " does not divide --ranks " + std::to_string(options.ranks) +
                                   "; use a rank count that is a multiple of it");
  }
  PlanOptions plan_options;
  plan_options.ranks = static_cast<int>(options.ranks / group_size);
  auto plan = MakePlan(*sweep, plan_options);
  if (!plan.ok()) return plan.status();
  if (options.json) {
    PrintJson(*plan, out);
  } else {
    PrintText(*plan, options, out);
  }
  return Status::Ok();
}

}  // namespace phasesweep::orchestrator
