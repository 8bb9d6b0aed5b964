// phasesweep_faults: the `phasesweep` command line (app::RunCli) with faults injected into
// `run`'s pack executor, for the e2e tests of failure handling (run_e2e_test.cc). The faults are
// chosen by environment variables read here, in this test executable only:
//   PHASESWEEP_INJECT_PACK_FAILURES="pack-0001=2,pack-0003=1"  the first N attempts of those
//       packs fail, as a crashing pack would;
//   PHASESWEEP_INJECT_MODEL_MISMATCH_RANK=N  world rank N trains a wider model than its group,
//       as a rank with a different config would.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "phasesweep/app/cli.h"
#include "phasesweep/orchestrator/pack_executor.h"

namespace phasesweep::testing {
namespace {

using orchestrator::ExecutorSettings;
using orchestrator::PackContext;
using orchestrator::PackExecutor;
using orchestrator::PackOutcome;
using orchestrator::PackOutcomeKind;
using orchestrator::SweepPlan;

// "pack-0001=2,pack-0003=1" -> {pack-0001: 2, pack-0003: 1}.
std::map<std::string, int> ParseFailures(const std::string& text) {
  std::map<std::string, int> failures;
  for (size_t a = 0, b; a < text.size(); a = b + 1) {
    b = text.find(',', a);
    if (b == std::string::npos) b = text.size();
    const std::string item = text.substr(a, b - a);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) failures[item.substr(0, eq)] = std::atoi(item.c_str() + eq + 1);
  }
  return failures;
}

// Fails the first attempts of some packs, and runs `inner` otherwise.
class FailingExecutor : public PackExecutor {
 public:
  FailingExecutor(const SweepPlan& plan, std::unique_ptr<PackExecutor> inner,
                  std::map<std::string, int> failures)
      : plan_(plan), inner_(std::move(inner)), failures_(std::move(failures)) {}

  PackOutcome Run(const PackContext& context) override {
    const std::string& id = plan_.packs[context.pack].id;
    const auto it = failures_.find(id);
    if (it != failures_.end() && context.attempt <= it->second) {
      return {PackOutcomeKind::kError, 0,
              "injected failure (PHASESWEEP_INJECT_PACK_FAILURES) in " + id + ", attempt " +
                  std::to_string(context.attempt)};
    }
    return inner_->Run(context);
  }

 private:
  const SweepPlan& plan_;
  std::unique_ptr<PackExecutor> inner_;
  std::map<std::string, int> failures_;
};

// Trains a copy of the plan whose models are one unit wider than everybody else's.
class WiderModelExecutor : public PackExecutor {
 public:
  WiderModelExecutor(const SweepPlan& plan, const ExecutorSettings& settings)
      : plan_(Widen(plan)), inner_(plan_, settings) {}
  PackOutcome Run(const PackContext& context) override { return inner_.Run(context); }

 private:
  static SweepPlan Widen(SweepPlan plan) {
    for (orchestrator::Pack& pack : plan.packs) {
      pack.spec.model.d_mlp += 1;
      pack.spec.model.width += 1;
    }
    return plan;
  }
  SweepPlan plan_;
  orchestrator::TrainerExecutor inner_;
};

orchestrator::ExecutorFactory FaultyExecutors() {
  const char* failures = std::getenv("PHASESWEEP_INJECT_PACK_FAILURES");
  const char* mismatch = std::getenv("PHASESWEEP_INJECT_MODEL_MISMATCH_RANK");
  const std::map<std::string, int> failing = ParseFailures(failures ? failures : "");
  const int wider_rank = mismatch ? std::atoi(mismatch) : -1;
  return [failing, wider_rank](const SweepPlan& plan,
                               const ExecutorSettings& settings) -> std::unique_ptr<PackExecutor> {
    std::unique_ptr<PackExecutor> executor;
    if (settings.world_rank == wider_rank) {
      executor = std::make_unique<WiderModelExecutor>(plan, settings);
    } else {
      executor = std::make_unique<orchestrator::TrainerExecutor>(plan, settings);
    }
    if (failing.empty()) return executor;
    return std::make_unique<FailingExecutor>(plan, std::move(executor), failing);
  };
}

}  // namespace
}  // namespace phasesweep::testing

int main(int argc, char** argv) {
  phasesweep::app::CliHooks hooks;
  hooks.make_executor = phasesweep::testing::FaultyExecutors();
  return phasesweep::app::RunCli(argc, argv, hooks);
}
