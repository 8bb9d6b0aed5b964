// Preemption signals. SLURM's `--signal` sends SIGUSR1 (or a chosen signal) before a job's time
// limit, and SIGTERM at preemption; Open MPI's mpirun forwards SIGUSR1/SIGUSR2 to every rank.
// The handlers only set a flag: the training loop polls it between steps, checkpoints and exits.
#pragma once

namespace phasesweep::orchestrator {

// Installs handlers for SIGTERM, SIGUSR1 and SIGINT that record the signal (async-signal-safe).
// A second SIGINT restores the default action, so Ctrl-C twice still kills a stuck process.
void InstallStopHandlers();

// The signal number received, or 0.
int StopSignal();
inline bool StopRequested() { return StopSignal() != 0; }

// For tests: forget a received signal.
void ResetStopSignal();

}  // namespace phasesweep::orchestrator
