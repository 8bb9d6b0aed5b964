// The text of the sbatch script `phasesweep slurm` writes (see slurm.h and docs/SLURM.md).
#include <regex>
#include <sstream>

#include "phasesweep/orchestrator/slurm.h"

namespace phasesweep::orchestrator {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Result<int64_t> ParseTimeLimit(const std::string& text) {
  static const std::regex form(R"((?:(\d{1,3})-)?(\d{1,4}):([0-5]\d):([0-5]\d))");
  std::smatch m;
  if (!std::regex_match(text, m, form)) {
    return Status::InvalidArgument("--time '" + text +
                                   "' is not HH:MM:SS or D-HH:MM:SS (e.g. --time 04:00:00)");
  }
  const int64_t days = m[1].matched ? std::stoll(m[1]) : 0;
  const int64_t s =
      ((days * 24 + std::stoll(m[2])) * 60 + std::stoll(m[3])) * 60 + std::stoll(m[4]);
  if (s == 0) return Status::InvalidArgument("--time " + text + " is zero; give a time limit");
  return s;
}

int SignalLeadSeconds(const SlurmJob& job) { return job.stop_timeout_s + 60; }

std::string MergeCommand(const SlurmJob& job) {
  if (job.array_slices == 0) return "";
  return ShellQuote(job.exe) + " merge " + ShellQuote(job.config_file) + " -o " +
         ShellQuote(job.results);
}

std::string SlurmScript(const SlurmJob& job) {
  const bool gpu = job.gpus_per_node > 0;
  const bool array = job.array_slices > 0;
  const int nodes = array ? 1 : job.nodes;
  const std::string log = job.workdir + "/slurm-%x-" + (array ? "%A_%a" : "%j") + ".out";
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Written by: " << job.generated_by << "\n"
    << "# Sweep config hash " << job.config_hash << "; the resolved config is embedded below.\n"
    << "# Submit: sbatch "
    << (array ? "--parsable <this file>, then the merge job below" : "<this file>") << "\n"
    << "#SBATCH --job-name=" << job.job_name << "  # the config hash names the job\n";
  if (array) {
    s << "#SBATCH --array=0-" << job.array_slices - 1
      << "  # one task per slice: run --shard $SLURM_ARRAY_TASK_ID/" << job.array_slices << "\n";
  }
  s << "#SBATCH --nodes=" << nodes << (array ? "  # per array task\n" : "\n")
    << "#SBATCH --ntasks-per-node=" << job.tasks_per_node
    << (gpu ? "  # one MPI rank per GPU\n" : "  # MPI ranks per node\n")
    << "#SBATCH --cpus-per-task=" << job.cpus_per_task << "  # cores per rank = its threads\n";
  if (gpu) {
    s << "#SBATCH --gpus-per-node=" << job.gpus_per_node
      << "  # every rank sees every GPU of its node (no --gpus-per-task: it breaks NCCL P2P)\n";
  }
  s << "#SBATCH --time=" << job.time_limit << "\n";
  if (!job.partition.empty()) s << "#SBATCH --partition=" << job.partition << "\n";
  s << "#SBATCH --signal=B:USR1@" << SignalLeadSeconds(job) << "  # USR1 to this shell "
    << SignalLeadSeconds(job) << " s before the limit: --stop-timeout " << job.stop_timeout_s
    << " + 60 s\n"
    << "#SBATCH --requeue  # may be requeued (after preemption, or by this script on exit 75)\n"
    << "#SBATCH --open-mode=append  # a requeued job appends to its log instead of truncating it\n"
    << "#SBATCH --output=" << log << "  # stdout and stderr of every run of this job\n"
    << "#SBATCH --chdir=" << job.workdir << "\n"
    << "set -u\n"
    << "export HDF5_USE_FILE_LOCKING=FALSE  # phasesweep locks the results file itself; "
       "NFS/Lustre\n"
    << "export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK  # threads per rank = --cpus-per-task\n"
    << "results=" << ShellQuote(job.results) << "  # the results file (its sidecar " << job.results
    << ".d must be on a file system every node sees)\n"
    << "logs=\"$results.logs" << (array ? "/slice-$SLURM_ARRAY_TASK_ID" : "")
    << "\"  # one log per rank, appended to by every run\n"
    << "config=" << ShellQuote(job.config_file) << "  # the embedded config, written next to it\n"
    << "echo \"phasesweep-slurm: job ${SLURM_JOB_ID} (restart ${SLURM_RESTART_COUNT:-0}) on "
       "${SLURM_JOB_NODELIST} at $(date -u +%FT%TZ)\"\n"
    << "# Debian's Open MPI starts only under PMIx: plain srun and --mpi=pmi2 fail in MPI_Init.\n"
    << "if ! srun --mpi=list 2>&1 | grep -qw pmix; then\n"
    << "  echo \"phasesweep-slurm: error: this Slurm has no pmix MPI plugin (srun --mpi=list: "
       "$(srun --mpi=list 2>&1 | tr -s '\\n\\t ' ' ')); Open MPI needs srun --mpi=pmix: ask the "
       "admins "
       "for slurm's pmix plugin, or run mpirun inside the allocation\" >&2\n"
    << "  exit 1\n"
    << "fi\n"
    << "mkdir -p \"$(dirname \"$config\")\"\n"
    << "cat >\"$config\" <<'PHASESWEEP_CONFIG_EOF'  # the exact config this job runs\n"
    << job.config_yaml << (job.config_yaml.empty() || job.config_yaml.back() != '\n' ? "\n" : "")
    << "PHASESWEEP_CONFIG_EOF\n";
  if (gpu) {
    s << "# The GPU model of this job, in the log and in $results.slurm-jobs (one line per run).\n"
      << "gpus=$(srun --ntasks-per-node=1 --ntasks=$SLURM_JOB_NUM_NODES nvidia-smi "
         "--query-gpu=name --format=csv,noheader 2>&1 | sort | uniq -c | tr -s ' \\n' ' ')\n";
  } else {
    s << "gpus=none  # CPU-only job\n";
  }
  s << "echo \"phasesweep-slurm: GPUs: $gpus\"\n"
    << "echo \"$(date -u +%FT%TZ) job=${SLURM_JOB_ID} restart=${SLURM_RESTART_COUNT:-0} "
       "nodes=${SLURM_JOB_NODELIST} gpus=$gpus\" >>\"$results.slurm-jobs\"\n"
    << "# USR1 reaches only this shell (B:): forward it to the job step, whose ranks checkpoint\n"
    << "# and exit 75. TERM reaches the ranks from Slurm itself; here it must not kill the shell\n"
    << "# (and must not be sent to srun, which would cancel the step before the checkpoints).\n"
    << "step=\"\"\n"
    << "trap 'echo \"phasesweep-slurm: USR1 at $(date -u +%FT%TZ): forwarding to the job step\"; "
       "[ -n \"$step\" ] && kill -USR1 \"$step\"' USR1\n"
    << "trap 'echo \"phasesweep-slurm: TERM at $(date -u +%FT%TZ): the ranks checkpoint\"' TERM\n"
    << "srun --mpi=pmix --cpus-per-task=$SLURM_CPUS_PER_TASK --ntasks-per-node="
    << job.tasks_per_node << " --kill-on-bad-exit=0 \\\n"
    << "  " << ShellQuote(job.exe) << " run \"$config\" -o \"$results\" -q --log-dir \"$logs\""
    << " --stop-timeout " << job.stop_timeout_s
    << (array ? " --shard \"$SLURM_ARRAY_TASK_ID/" + std::to_string(job.array_slices) + "\"" : "")
    << " &\n"
    << "step=$!\n"
    << "# wait returns early when a trapped signal arrives: wait again until the step ends.\n"
    << "while :; do wait \"$step\"; rc=$?; kill -0 \"$step\" 2>/dev/null || break; done\n"
    << "if [ \"$rc\" -eq 75 ]; then  # stopped by a signal, checkpointed: requeue to resume\n"
    << "  echo \"phasesweep-slurm: checkpointed; requeueing job ${SLURM_JOB_ID}\"\n"
    << "  scontrol requeue \"$SLURM_JOB_ID\" && exit 0\n"
    << "  echo \"phasesweep-slurm: scontrol requeue failed; resubmit this script to resume\" >&2\n"
    << "fi\n"
    << "echo \"phasesweep-slurm: phasesweep exited $rc at $(date -u +%FT%TZ)\"\n"
    << "exit \"$rc\"\n";
  if (array) {
    s << "# After every slice: fold the slices into the results file (phasesweep slurm --submit\n"
      << "# submits this as a job depending on the array):\n"
      << "#   sbatch --dependency=afterok:<array job id> --job-name=" << job.job_name
      << "-merge --wrap \"" << MergeCommand(job) << "\"\n";
  }
  return s.str();
}

}  // namespace phasesweep::orchestrator
