// Polling against a deadline, shared by the MPI and NCCL backends. A waiting rank first spins
// (the common case: the data is a few microseconds away), then yields the core (ranks are often
// oversubscribed on small machines), and after `sleep_after` sleeps between polls so that a rank
// waiting long for a busy peer does not burn a core. Internal to collectives/.
#pragma once

#include <chrono>
#include <string>

namespace phasesweep::collectives::internal {

using Clock = std::chrono::steady_clock;

class Poller {
 public:
  Poller(Clock::time_point deadline, std::chrono::microseconds sleep_after)
      : start_(Clock::now()), deadline_(deadline), sleep_after_(sleep_after) {}

  bool Expired() const { return Clock::now() >= deadline_; }
  // Call between two unsuccessful polls.
  void Pause();

 private:
  Clock::time_point start_;
  Clock::time_point deadline_;
  std::chrono::microseconds sleep_after_;
  long polls_ = 0;
};

// "1.5 s", "300 s", "0.25 s" — for messages.
std::string FormatSeconds(std::chrono::milliseconds duration);

}  // namespace phasesweep::collectives::internal
