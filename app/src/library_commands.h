// The CLI11 wiring of the subcommands of storage/, analysis/ and worker/: `status`, `export`,
// `analyze`, `report` and `stats changepoints | test | adjust | similarity | rank`. Results go to
// `out`, error lines to `err` (exit_status.h); `in` serves a FILE of "-" (parameters for tests; the
// command line uses the standard streams).
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>

namespace phasesweep::app {

void AddResultsCommands(CLI::App& app);  // status, export, analyze, report

void AddStatsCommands(CLI::App& stats, std::istream& in = std::cin, std::ostream& out = std::cout,
                      std::ostream& err = std::cerr);

}  // namespace phasesweep::app
