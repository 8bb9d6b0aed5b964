// Polling against a deadline, shared by the MPI and NCCL backends. A waiting rank first spins for
// `spin` (like MPI_Wait: the data is usually microseconds away, and on a busy machine a yield
// hands the core to another process for a whole time slice), then yields the core between polls
// (so that oversubscribed ranks let their peers run), and after `sleep_after` sleeps 200 us
// between polls so that a rank waiting long for a busy peer does not burn a core. Internal to
// collectives/.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace phasesweep::collectives::internal {

using Clock = std::chrono::steady_clock;

class Poller {
 public:
  Poller(Clock::time_point deadline, std::chrono::microseconds spin,
         std::chrono::microseconds sleep_after)
      : start_(Clock::now()),
        deadline_(deadline),
        spin_(spin),
        sleep_after_(std::max(spin, sleep_after)) {}

  bool Expired() const { return Clock::now() >= deadline_; }
  Clock::duration Waited() const { return Clock::now() - start_; }
  // Call between two unsuccessful polls.
  void Pause();

 private:
  Clock::time_point start_;
  Clock::time_point deadline_;
  std::chrono::microseconds spin_;
  std::chrono::microseconds sleep_after_;
};

// "1.5 s", "300 s", "0.25 s" — for messages.
std::string FormatSeconds(std::chrono::milliseconds duration);

}  // namespace phasesweep::collectives::internal
