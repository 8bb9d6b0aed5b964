// The pull-queue scheduler (see scheduler.h for the protocol and the failure policy).
#include "phasesweep/orchestrator/scheduler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <sstream>

#include "phasesweep/orchestrator/signals.h"

namespace phasesweep::orchestrator {
namespace {

enum Tag : int { kRequest = 101, kAssign, kProgress, kFinished, kStop };

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Control messages are short text: integers separated by spaces, then '|' and free text.
void Send(MPI_Comm comm, int dest, Tag tag, const std::string& text) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, comm);
}

std::string Receive(MPI_Comm comm, int source, int tag, MPI_Status* status) {
  MPI_Status probe;
  MPI_Probe(source, tag, comm, &probe);
  int count = 0;
  MPI_Get_count(&probe, MPI_CHAR, &count);
  std::string text(static_cast<size_t>(count), '\0');
  MPI_Recv(text.data(), count, MPI_CHAR, probe.MPI_SOURCE, probe.MPI_TAG, comm, status);
  return text;
}

std::string EncodeFinished(size_t pack, const PackOutcome& o) {
  std::string error = o.error.substr(0, 4000);
  for (char& c : error) {
    if (c == '\n') c = ' ';
  }
  return std::to_string(pack) + " " + std::to_string(static_cast<int>(o.kind)) + " " +
         std::to_string(o.member_steps) + "|" + error;
}

void DecodeFinished(const std::string& text, size_t* pack, PackOutcome* o) {
  const size_t bar = text.find('|');
  std::istringstream in(text.substr(0, bar));
  int kind = 0;
  in >> *pack >> kind >> o->member_steps;
  o->kind = static_cast<PackOutcomeKind>(kind);
  o->error = bar == std::string::npos ? "" : text.substr(bar + 1);
}

// Runs the executor, turning exceptions into kError outcomes.
PackOutcome RunGuarded(PackExecutor& executor, const PackContext& context) {
  try {
    return executor.Run(context);
  } catch (const std::exception& e) {
    return {PackOutcomeKind::kError, 0, e.what()};
  } catch (...) {
    return {PackOutcomeKind::kError, 0, "unknown exception"};
  }
}

// Rank 0: the queue, the ranks' states and the sweep's progress.
class Coordinator {
 public:
  Coordinator(MPI_Comm comm, const std::vector<size_t>& pending, ResultCollector* collector,
              const SchedulerOptions& options, const ProgressSink& sink)
      : comm_(comm),
        queue_(pending.begin(), pending.end()),
        collector_(collector),
        options_(options),
        sink_(sink),
        start_(Clock::now()) {
    MPI_Comm_size(comm, &size_);
    for (size_t p : pending) {
      snapshot_.packs_total += 1;
      snapshot_.jobs_total += Members(p);
      snapshot_.member_steps_total += Members(p) * Steps(p);
    }
  }

  // Handles every message that has arrived; never blocks.
  void Service() {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &st);
      if (!flag) break;
      MPI_Status recv_status;
      const std::string text = Receive(comm_, st.MPI_SOURCE, st.MPI_TAG, &recv_status);
      const int rank = recv_status.MPI_SOURCE;
      if (st.MPI_TAG == kRequest) {
        waiting_.insert(rank);
      } else if (st.MPI_TAG == kProgress) {
        std::istringstream in(text);
        size_t pack = 0;
        int64_t step = 0;
        in >> pack >> step;
        step_of_[pack] = step;
      } else if (st.MPI_TAG == kFinished) {
        size_t pack = 0;
        PackOutcome outcome;
        DecodeFinished(text, &pack, &outcome);
        OnFinished(rank, pack, outcome);
      }
    }
    if (!stopping_ && StopRequested()) BeginStop();
    AssignWaiting();
    Tick(false);
  }

  bool HasWorkForSelf() const { return !stopping_ && !queue_.empty(); }
  bool Done() const {
    return running_.empty() && ahead_.empty() && (queue_.empty() || stopping_) &&
           released_ == size_ - 1;
  }
  bool stopping() const { return stopping_; }
  bool StopTimedOut() const {
    return stopping_ && Seconds(stop_began_, Clock::now()) > options_.stop_timeout_s;
  }

  size_t TakeForSelf(int* attempt) {
    const size_t pack = queue_.front();
    queue_.pop_front();
    *attempt = ++attempts_[pack];
    running_[0] = pack;
    return pack;
  }

  void OnFinished(int rank, size_t pack, const PackOutcome& outcome) {
    running_.erase(rank);
    // The pack it was given ahead is the one it runs now.
    if (auto next = ahead_.find(rank); next != ahead_.end()) {
      running_[rank] = next->second;
      ahead_.erase(next);
    }
    step_of_.erase(pack);
    busy_member_steps_ += outcome.member_steps;
    switch (outcome.kind) {
      case PackOutcomeKind::kFinished:
        ++summary_.packs_finished;
        snapshot_.jobs_done += Members(pack);
        done_member_steps_ += Members(pack) * Steps(pack);
        Collect(pack, rank, outcome);
        break;
      case PackOutcomeKind::kInterrupted:
        ++summary_.packs_interrupted;
        if (!stopping_) BeginStop();  // that rank received a stop signal: stop everyone
        break;
      case PackOutcomeKind::kError:
        if (attempts_[pack] <= options_.retries && !stopping_) {
          std::fprintf(stderr,
                       "phasesweep: pack %zu failed on rank %d (attempt %d), retrying: %s\n", pack,
                       rank, attempts_[pack], outcome.error.c_str());
          queue_.push_back(pack);
        } else {
          std::fprintf(stderr, "phasesweep: pack %zu failed on rank %d after %d attempts: %s\n",
                       pack, rank, attempts_[pack], outcome.error.c_str());
          ++summary_.packs_failed;
          snapshot_.jobs_failed += Members(pack);
          done_member_steps_ += Members(pack) * Steps(pack);
          Collect(pack, rank, outcome);
        }
        break;
    }
  }

  // Releases every waiting rank once there will be no more work for it.
  void ReleaseAllIfFinished() {
    if ((queue_.empty() || stopping_) && running_.empty()) {
      for (int r : waiting_) Release(r);
      waiting_.clear();
    }
  }

  void Tick(bool final) {
    const auto now = Clock::now();
    if (!final && Seconds(last_tick_, now) < 1.0) return;
    last_tick_ = now;
    snapshot_.elapsed_s = Seconds(start_, now);
    snapshot_.packs_done = summary_.packs_finished;
    snapshot_.packs_failed = summary_.packs_failed;
    snapshot_.packs_running = static_cast<int64_t>(running_.size());
    snapshot_.jobs_running = 0;
    int64_t in_flight = 0;
    for (const auto& [rank, pack] : running_) {
      snapshot_.jobs_running += Members(pack);
      auto it = step_of_.find(pack);
      if (it != step_of_.end()) in_flight += Members(pack) * it->second;
    }
    snapshot_.member_steps_done = done_member_steps_ + in_flight;
    const double rate_steps = static_cast<double>(busy_member_steps_ + in_flight);
    snapshot_.member_steps_per_s = snapshot_.elapsed_s > 0 ? rate_steps / snapshot_.elapsed_s : 0;
    const int64_t remaining = snapshot_.member_steps_total - snapshot_.member_steps_done;
    snapshot_.eta_s = snapshot_.member_steps_per_s > 0
                          ? static_cast<double>(remaining) / snapshot_.member_steps_per_s
                          : -1;
    snapshot_.final = final;
    if (sink_) sink_(snapshot_);
  }

  const SchedulerSummary& summary() const { return summary_; }
  SchedulerSummary& mutable_summary() { return summary_; }
  const Status& collect_status() const { return collect_status_; }

 private:
  int64_t Members(size_t pack) const {
    return pack < options_.pack_members.size() ? options_.pack_members[pack] : 1;
  }
  int64_t Steps(size_t pack) const {
    return pack < options_.pack_steps.size() ? options_.pack_steps[pack] : 0;
  }

  void Collect(size_t pack, int rank, const PackOutcome& outcome) {
    if (!collector_) return;
    Status s = collector_->PackDone(pack, rank, attempts_[pack], outcome);
    if (!s.ok() && collect_status_.ok()) {
      collect_status_ = s;
      BeginStop();  // results cannot be stored: stop training rather than lose more work
    }
  }

  // An idle rank gets the next pack. A rank still training asks ahead for its next pack (so it
  // need not wait for rank 0's next service call when it finishes); it gets one only while the
  // queue holds at least a pack per rank, so that near the end no pack waits behind a busy rank
  // while another rank idles.
  void AssignWaiting() {
    for (auto it = waiting_.begin(); it != waiting_.end() && !stopping_ && !queue_.empty();) {
      const int rank = *it;
      const bool busy = running_.count(rank) > 0;
      if (busy && (ahead_.count(rank) > 0 || queue_.size() < static_cast<size_t>(size_))) {
        ++it;
        continue;
      }
      it = waiting_.erase(it);
      const size_t pack = queue_.front();
      queue_.pop_front();
      const int attempt = ++attempts_[pack];
      (busy ? ahead_ : running_)[rank] = pack;
      Send(comm_, rank, kAssign, std::to_string(pack) + " " + std::to_string(attempt));
    }
    ReleaseAllIfFinished();
  }

  void Release(int rank) {
    Send(comm_, rank, kAssign, "-1 0");
    ++released_;
  }

  void BeginStop() {
    stopping_ = true;
    stop_began_ = Clock::now();
    summary_.stopped = true;
    for (const auto& [rank, pack] : running_) {
      if (rank != 0) Send(comm_, rank, kStop, "");
    }
  }

  MPI_Comm comm_;
  int size_ = 1;
  std::deque<size_t> queue_;
  ResultCollector* collector_;
  const SchedulerOptions& options_;
  const ProgressSink& sink_;
  std::map<size_t, int> attempts_;
  std::map<int, size_t> running_;  // rank -> pack
  std::map<int, size_t> ahead_;    // rank -> its next pack, assigned while it trains

  std::map<size_t, int64_t> step_of_;
  std::set<int> waiting_;
  int released_ = 0;
  bool stopping_ = false;
  Clock::time_point start_, stop_began_, last_tick_;
  int64_t done_member_steps_ = 0, busy_member_steps_ = 0;
  ProgressSnapshot snapshot_;
  SchedulerSummary summary_;
  Status collect_status_;
};

// The stop flag a non-zero rank sees: its own signal, or rank 0's STOP message.
bool WorkerShouldStop(MPI_Comm comm) {
  if (StopRequested()) return true;
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(0, kStop, comm, &flag, &st);
  return flag != 0;
}

void DrainStop(MPI_Comm comm) {
  int flag = 1;
  while (flag) {
    MPI_Status st;
    MPI_Iprobe(0, kStop, comm, &flag, &st);
    if (flag) Receive(comm, 0, kStop, &st);
  }
}

}  // namespace

Result<SchedulerSummary> RunScheduler(MPI_Comm comm, const std::vector<size_t>& pending,
                                      PackExecutor& executor, ResultCollector* collector,
                                      const SchedulerOptions& options,
                                      const ProgressSink& progress) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const auto start = Clock::now();
  double busy = 0;

  if (rank != 0) {
    SchedulerSummary summary;
    bool stopped = false;
    // One request is always outstanding: the first here, then one sent as soon as a pack is
    // received (asking ahead for the next one, see Coordinator::AssignWaiting).
    Send(comm, 0, kRequest, "");
    for (;;) {
      MPI_Status st;
      std::istringstream in(Receive(comm, 0, kAssign, &st));
      long long pack = -1;
      int attempt = 0;
      in >> pack >> attempt;
      if (pack < 0) break;
      Send(comm, 0, kRequest, "");
      if (stopped || (stopped = WorkerShouldStop(comm))) {
        // Given ahead, but a stop came first: hand it back untouched (no checkpoint needed).
        Send(comm, 0, kFinished,
             EncodeFinished(static_cast<size_t>(pack), {PackOutcomeKind::kInterrupted, 0, ""}));
        continue;
      }
      auto last_progress = Clock::now();
      PackContext ctx;
      ctx.pack = static_cast<size_t>(pack);
      ctx.attempt = attempt;
      ctx.service = [] {};
      ctx.should_stop = [&] { return stopped || (stopped = WorkerShouldStop(comm)); };
      ctx.progress = [&](int64_t step) {
        const auto now = Clock::now();
        if (Seconds(last_progress, now) < 1.0) return;
        last_progress = now;
        Send(comm, 0, kProgress, std::to_string(pack) + " " + std::to_string(step));
      };
      const auto t0 = Clock::now();
      const PackOutcome outcome = RunGuarded(executor, ctx);
      busy += Seconds(t0, Clock::now());
      ++summary.packs_run_here;
      Send(comm, 0, kFinished, EncodeFinished(static_cast<size_t>(pack), outcome));
    }
    DrainStop(comm);
    summary.stopped = stopped || StopRequested();
    summary.busy_fraction = busy / std::max(1e-9, Seconds(start, Clock::now()));
    return summary;
  }

  Coordinator coordinator(comm, pending, collector, options, progress);
  for (;;) {
    coordinator.Service();
    if (coordinator.HasWorkForSelf()) {
      int attempt = 0;
      const size_t pack = coordinator.TakeForSelf(&attempt);
      PackContext ctx;
      ctx.pack = pack;
      ctx.attempt = attempt;
      ctx.service = [&] { coordinator.Service(); };
      ctx.should_stop = [&] { return coordinator.stopping() || StopRequested(); };
      ctx.progress = [](int64_t) {};
      const auto t0 = Clock::now();
      PackOutcome outcome = RunGuarded(executor, ctx);
      busy += Seconds(t0, Clock::now());
      ++coordinator.mutable_summary().packs_run_here;
      coordinator.OnFinished(0, pack, outcome);
      continue;
    }
    coordinator.ReleaseAllIfFinished();
    if (coordinator.Done()) break;
    if (coordinator.StopTimedOut()) {
      coordinator.Tick(true);
      return Status::Cancelled("stop requested, but some ranks did not report within " +
                               std::to_string(static_cast<int>(options.stop_timeout_s)) + " s");
    }
    usleep(200);
  }
  coordinator.Tick(true);
  if (!coordinator.collect_status().ok()) return coordinator.collect_status();
  SchedulerSummary summary = coordinator.summary();
  summary.busy_fraction = busy / std::max(1e-9, Seconds(start, Clock::now()));
  return summary;
}

namespace {

// Announcement from a group root: {pack, attempt}; pack -1 releases the group. Non-blocking and
// polled with short sleeps, so waiting followers leave their cores to the ranks that train.
void GroupAnnounce(MPI_Comm group, long long message[2]) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibcast(message, 2, MPI_LONG_LONG, 0, group, &request);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    usleep(200);
  }
}

}  // namespace

PackOutcome GroupRootExecutor::Run(const PackContext& context) {
  long long message[2] = {static_cast<long long>(context.pack), context.attempt};
  GroupAnnounce(group_, message);
  PackContext in_group = context;
  in_group.should_stop = [&] { return agree_(context.should_stop()); };
  return inner_.Run(in_group);
}

void GroupRootExecutor::ReleaseGroup() {
  long long message[2] = {-1, 0};
  GroupAnnounce(group_, message);
}

Result<SchedulerSummary> FollowGroupRoot(MPI_Comm group, PackExecutor& executor,
                                         const StopAgreement& agree) {
  const auto start = Clock::now();
  double busy = 0;
  SchedulerSummary summary;
  for (;;) {
    long long message[2] = {-1, 0};
    GroupAnnounce(group, message);
    if (message[0] < 0) break;
    PackContext ctx;
    ctx.pack = static_cast<size_t>(message[0]);
    ctx.attempt = static_cast<int>(message[1]);
    ctx.service = [] {};
    ctx.should_stop = [&] { return agree(StopRequested()); };
    ctx.progress = [](int64_t) {};
    const auto t0 = Clock::now();
    // The root reports the pack; an error here is the root's too (the group fails together).
    (void)RunGuarded(executor, ctx);
    busy += Seconds(t0, Clock::now());
    ++summary.packs_run_here;
  }
  summary.stopped = StopRequested();
  summary.busy_fraction = busy / std::max(1e-9, Seconds(start, Clock::now()));
  return summary;
}

}  // namespace phasesweep::orchestrator
