// Stop-signal handlers (see signals.h).
#include "phasesweep/orchestrator/signals.h"

#include <csignal>
#include <initializer_list>

namespace phasesweep::orchestrator {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void OnStopSignal(int sig) {
  if (sig == SIGINT && g_stop_signal == SIGINT) std::signal(SIGINT, SIG_DFL);
  g_stop_signal = sig;
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) sigaction(sig, &sa, nullptr);
}

int StopSignal() { return g_stop_signal; }

void ResetStopSignal() { g_stop_signal = 0; }

}  // namespace phasesweep::orchestrator
