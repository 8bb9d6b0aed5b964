// `phasesweep slurm`: a ready sbatch script for a sweep, and its submission.
//
// The script (SlurmScript) gets right what goes wrong on real clusters (docs/SLURM.md):
//   - preemption: `--signal=B:USR1@T` (T = the stop window: --stop-timeout + 60 s), `--requeue`,
//     a trap in the batch shell forwarding USR1 to the job step (with B: only the shell gets it),
//     and `scontrol requeue` when phasesweep exits 75. SIGTERM (clusters that send no user signal)
//     reaches the ranks from Slurm itself; they checkpoint and exit 75 the same way; the trap only
//     keeps the batch shell alive (forwarding TERM to srun would make it kill the step).
//   - `--open-mode=append`, so a requeued job appends to its log.
//   - `srun --mpi=pmix` after a preflight `srun --mpi=list` check (Debian's Open MPI speaks only
//     PMIx); `--cpus-per-task` passed to srun explicitly (Slurm >= 22.05 no longer passes it
//     from sbatch), and threads per rank from it (launch.h).
//   - GPUs: `--gpus-per-node=G`, one rank per GPU, no per-task binding; each rank picks
//     cuda:<local rank>; the GPU model of every job is logged and kept in <results>.slurm-jobs.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "phasesweep/base/status.h"
#include "phasesweep/orchestrator/plan_listing.h"

namespace phasesweep::orchestrator {

// "HH:MM:SS" (hours may exceed 24) or "D-HH:MM:SS" -> seconds. InvalidArgument, one line naming
// --time and the valid forms, for anything else or a zero limit.
Result<int64_t> ParseTimeLimit(const std::string& text);

// `s` single-quoted for the shell (a ' inside becomes '\'').
std::string ShellQuote(const std::string& s);

// Everything the script needs, resolved (absolute paths).
struct SlurmJob {
  std::string job_name;     // ps-<study>-<first 8 hex of the config hash>
  std::string config_hash;  // full
  int nodes = 1;
  int gpus_per_node = 0;  // 0: CPU-only
  int tasks_per_node = 1;
  int cpus_per_task = 1;
  std::string time_limit;  // as given to --time
  std::string partition;   // "" = the cluster's default
  int array_slices = 0;    // > 0: a job array of this many one-node slices (`run --shard`)
  int stop_timeout_s = 120;
  std::string exe;           // absolute path of phasesweep
  std::string workdir;       // absolute; the job runs there
  std::string config_yaml;   // the resolved config, embedded in the script
  std::string config_file;   // where the script writes it (absolute, next to the results)
  std::string results;       // absolute results file
  std::string generated_by;  // the command line that wrote the script
};

// Seconds before the time limit at which Slurm sends USR1 to the batch shell.
int SignalLeadSeconds(const SlurmJob& job);

// The sbatch script, commented line by line.
std::string SlurmScript(const SlurmJob& job);

// The `phasesweep merge` line for an array's final step ("" when not an array).
std::string MergeCommand(const SlurmJob& job);

struct SlurmRequest {
  ConfigArgs args;
  int nodes = 1;
  int gpus_per_node = -1;  // -1: not given (CPU-only); given as 0 or less: error
  int tasks_per_node = 0;  // 0: 1 (CPU) or G (GPU)
  int cpus_per_task = 1;
  std::string time;
  std::string partition;
  bool array = false;
  bool submit = false;
  std::string script_path;  // -o; "" = <job name>.sbatch
  std::string output;       // --results: results file (default output.path)
  int stop_timeout_s = 120;
  std::string exe;  // phasesweep's absolute path
  std::string command_line;
};

// Writes the script (and submits it with `submit`). Output: the script's path, warnings, the job
// id(s) after submission. Exit status 0; 2 for invalid input (bad sizes or time, sbatch missing
// or rejecting the script with its message, the script is kept); 1 for I/O errors.
Status WriteSlurmJob(const SlurmRequest& request, std::ostream& out, std::ostream& warnings);

}  // namespace phasesweep::orchestrator
