// Crash safety: kill -9 a writer (storage_crash_writer, a separate process writing shards and
// merging after every pack) at 24 random moments. After each kill:
//   - `h5dump -H results.h5` succeeds and our reader opens the file;
//   - every job the writer reported durable is readable with its exact values (file + shards);
//   - every job durable before its last completed merge is in results.h5 itself.
// The next run resumes where the killed one stopped; the last runs to completion and the file
// then holds every planned job.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crash_params.h"
#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::ScratchDir;

struct LogState {
  std::set<std::string> durable;
  std::set<std::string> merged;  // durable before the last "merged" line
  std::string last_line;
  bool finished = false;
};

LogState ReadLog(const std::string& path) {
  LogState s;
  std::ifstream in(path);
  std::set<std::string> since_merge;
  for (std::string line; std::getline(in, line);) {
    s.last_line = line;
    std::istringstream words(line);
    std::string kind, id;
    words >> kind;
    if (kind == "durable") {
      while (words >> id) s.durable.insert(id);
    } else if (kind == "merged") {
      s.merged = s.durable;
    } else if (kind == "finished") {
      s.finished = true;
    }
  }
  return s;
}

pid_t StartWriter(const std::string& results, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(PHASESWEEP_CRASH_WRITER, PHASESWEEP_CRASH_WRITER, results.c_str(), log.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Everything the file must hold after a kill; "" if it does.
std::string CheckFile(const std::string& results, const LogState& log) {
  std::ostringstream err;
  std::string dump;
  if (testing::RunShell("h5dump -H " + results + " > /dev/null", &dump) != 0) {
    return "h5dump -H failed: " + dump;
  }
  auto r = ResultsReader::Open(results);
  if (!r.ok()) return "reader: " + r.status().message();
  std::set<std::string> present;
  for (const JobSummary& j : r->jobs()) present.insert(j.job_id);
  for (const std::string& id : log.durable) {
    if (present.count(id) == 0) err << id << " reported durable but missing; ";
  }
  auto metric = r->LoadMetric(testing::MetricName(kCrashMetrics - 1));
  if (!log.durable.empty() && !metric.ok()) return "LoadMetric: " + metric.status().message();
  for (size_t row = 0; metric.ok() && row < metric->job_ids.size(); ++row) {
    const std::string& id = metric->job_ids[row];
    if (metric->values[row].size() != static_cast<size_t>(kCrashSteps)) err << id << " short; ";
    for (size_t i = 0; i < metric->values[row].size(); ++i) {
      if (metric->values[row][i] != testing::ExpectedValue(id, kCrashMetrics - 1, i)) {
        err << id << " value " << i << " wrong; ";
        break;
      }
    }
  }
  auto merged_only = ResultsReader::Open(results, ReaderOptions{false});
  if (!merged_only.ok()) return "reader without shards: " + merged_only.status().message();
  for (const std::string& id : log.merged) {
    if (merged_only->FindJob(id) == nullptr) err << id << " merged but not in the file; ";
  }
  return err.str();
}

TEST(CrashTest, KillNineAtRandomMomentsLosesNothingReportedDurable) {
  ScratchDir dir;
  const std::string results = dir / "results.h5";
  const std::string log = dir / "writer.log";
  std::mt19937 rng(20240501);
  // A kill moment: wait until the writer has finished 0-2 more packs, then a random fraction of
  // the time one pack takes (measured as we go), so kills land in start-up, shard writing,
  // merging and fsyncs alike, whatever the speed of the disk.
  std::uniform_int_distribution<int> packs_first(0, 2);
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  double pack_seconds = 0.05;
  std::map<std::string, int> killed_during;
  const int kKills = 24;
  using Clock = std::chrono::steady_clock;
  for (int k = 0; k < kKills; ++k) {
    const size_t durable_before = ReadLog(log).durable.size();
    pid_t pid = StartWriter(results, log);
    ASSERT_GT(pid, 0);
    const int wait_packs = packs_first(rng);
    const auto start = Clock::now();
    auto last_pack = start;
    size_t seen = durable_before;
    int packs_done = 0;
    while (packs_done < wait_packs && Clock::now() - start < std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const size_t now_durable = ReadLog(log).durable.size();
      if (now_durable != seen) {
        const auto t = Clock::now();
        if (packs_done > 0) {
          pack_seconds =
              0.8 * pack_seconds + 0.2 * std::chrono::duration<double>(t - last_pack).count();
        }
        last_pack = t;
        seen = now_durable;
        ++packs_done;
      }
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(fraction(rng) * pack_seconds));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    LogState state = ReadLog(log);
    ASSERT_FALSE(state.finished) << "the writer finished before kill " << k
                                 << "; make the sweep larger";
    ASSERT_TRUE(WIFSIGNALED(status))
        << "writer exited on its own (status " << status << ") before kill " << k;
    ++killed_during[state.last_line.substr(0, state.last_line.find(' '))];
    if (state.last_line.empty() && !std::ifstream(results)) continue;  // killed while creating
    EXPECT_EQ(CheckFile(results, state), "") << "after kill " << k;
  }
  for (const auto& [phase, n] : killed_during) {
    std::cout << "[ kills ] after '" << (phase.empty() ? "(start)" : phase) << "': " << n << "\n";
  }
  std::cout << "[ kills ] one pack (shard + merge) took about " << pack_seconds * 1e3 << " ms\n";
  // The kills landed while shards were written and while merges ran.
  EXPECT_GT(killed_during["durable"] + killed_during["merging"], 0);
  EXPECT_GT(killed_during["merged"] + killed_during["open"], 0);

  pid_t pid = StartWriter(results, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  LogState final_state = ReadLog(log);
  ASSERT_TRUE(final_state.finished);
  // A pack whose shard was renamed just before a kill is durable without its log line; the next
  // run's ledger skips it, so the log can list fewer jobs than the file holds, never more.
  EXPECT_LE(final_state.durable.size(), static_cast<size_t>(kCrashGrids * kCrashSeeds));
  EXPECT_EQ(CheckFile(results, final_state), "");
  auto merged_only = ResultsReader::Open(results, ReaderOptions{false});
  ASSERT_TRUE(merged_only.ok());
  EXPECT_EQ(merged_only->jobs().size(), static_cast<size_t>(kCrashGrids * kCrashSeeds));
  EXPECT_EQ(merged_only->unmerged_shards(), 0);
}

}  // namespace
}  // namespace phasesweep::storage
