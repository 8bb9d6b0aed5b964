// The MPI backend's wire protocol: message tags, the note a rank sends when it enters a
// collective, the root's reply to a check-in, and the verdict a rank sends to all others when a
// collective fails. Shared by the check-in protocol (mpi_communicator.cc) and the folded small
// allreduce (mpi_fold.cc); mpi_communicator.h describes both. Internal to collectives/.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "deadline.h"
#include "phasesweep/collectives/communicator.h"
#include "phasesweep/collectives/mpi_communicator.h"

namespace phasesweep::collectives {
namespace internal {

// Tags on the communicator's private duplicate; collective traffic never matches other messages.
constexpr int kReplyTag = 5302;     // the root's answer to a check-in
constexpr int kRingTag = 5303;      // ring allreduce data
constexpr int kFoldTag = 5304;      // folded allreduce: note, partner -> partner
constexpr int kFoldDataTag = 5306;  // folded allreduce: data, partner -> partner
constexpr int kVerdictTag = 5305;   // why a collective failed: reporter -> every other rank
// A check-in note (non-root -> group root) is tagged with its sequence number's parity: a folded
// root probing for stray check-ins (a rank inside a different collective) then never takes the
// note of a rank that already finished this allreduce and checked in to the next collective.
inline int CheckInTag(uint64_t sequence) { return 5310 + static_cast<int>(sequence & 1); }

enum class OpKind : int32_t { kAllreduce = 1, kBroadcast = 2, kBarrier = 3 };

// What a rank says about the collective it is in.
struct CheckInNote {
  uint64_t sequence;
  uint64_t count;
  int32_t kind;
  int32_t type;
  int32_t root;
  int32_t reduce;
};
static_assert(sizeof(CheckInNote) == 32, "the note travels as 32 raw bytes");

bool SameNote(const CheckInNote& a, const CheckInNote& b);
// "allreduce #3 (10 x float32, sum)", "broadcast #1 (4 x byte from group rank 0)", "barrier #2".
std::string DescribeNote(const CheckInNote& note);

// A note as six int64 values (its layout inside replies and verdicts), and back.
constexpr size_t kNoteFields = 6;
void PutNote(int64_t* fields, const CheckInNote& note);
CheckInNote ReadNote(const int64_t* fields);

// The root's reply to a check-in: int64 [code, rank or count, the odd note (6), ranks...].
enum ReplyCode : int64_t { kGo = 0, kMissing = 1, kMismatch = 2 };
constexpr size_t kReplyHeader = 2 + kNoteFields;

// A verdict: int64 [kind, reporter's group rank, then
//   kMissing:  number of ranks, their group ranks...
//   kMismatch: rank a, note a (6), rank b, note b (6)] — two ranks seen in different collectives;
// each receiver names the one whose note differs from its own.
constexpr size_t kVerdictMismatchSize = 2 + 2 * (1 + kNoteFields);
std::vector<int64_t> MismatchVerdict(int reporter, int rank_a, const CheckInNote& note_a,
                                     int rank_b, const CheckInNote& note_b);

// A waiting rank probes for verdicts and stray messages only after this long: a healthy collective
// completes within it and pays for no probe.
constexpr auto kQuietWait = std::chrono::microseconds(200);

// A waiting rank sleeps between polls only after this long: arrival waits can be long (a peer
// busy writing a checkpoint), data waits should not be.
constexpr auto kArrivalSleepAfter = std::chrono::milliseconds(20);
constexpr auto kDataSleepAfter = std::chrono::seconds(2);

// Up to this size, and on a power-of-two group, an allreduce is folded (mpi_fold.cc).
constexpr size_t kFoldMaxBytes = size_t{64} << 10;

MPI_Datatype ToMpi(DataType type);

// "1, 2, 5": world ranks of the given group ranks (at most 16 listed).
std::string ListRanks(const Communicator& comm, const std::vector<int>& group_ranks);
std::string Plural(size_t n, const char* one, const char* many);

}  // namespace internal

struct MpiCommunicator::Operation {
  internal::CheckInNote note;
  internal::Clock::time_point start;
  internal::Clock::time_point data_deadline;  // set once every rank has checked in
};

// What another rank sent that ends the current collective early.
struct MpiCommunicator::Interruption {
  bool verdict = false;  // another rank's verdict; `status` is this rank's error from it
  Status status;
  int odd_rank = -1;  // otherwise: the note of a rank inside a different collective
  internal::CheckInNote odd_note{};
};

}  // namespace phasesweep::collectives
