// MpiCommunicator: check-in with the group root, then non-blocking MPI collectives completed by
// polling against a deadline. See mpi_communicator.h for the protocol and its reasons.
#include "phasesweep/collectives/mpi_communicator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "check.h"
#include "deadline.h"
#include "mpi_protocol.h"
#include "ring_allreduce.h"

namespace phasesweep::collectives {
namespace {

using internal::CheckInNote;
using internal::CheckInTag;
using internal::Clock;
using internal::DescribeNote;
using internal::FormatSeconds;
using internal::kArrivalSleepAfter;
using internal::kDataSleepAfter;
using internal::kFoldTag;
using internal::kGo;
using internal::kMismatch;
using internal::kMissing;
using internal::kReplyHeader;
using internal::kReplyTag;
using internal::kRingTag;
using internal::kVerdictTag;
using internal::ListRanks;
using internal::OpKind;
using internal::Plural;
using internal::Poller;
using internal::SameNote;
using internal::ToMpi;

// Above the folded sizes and up to this size, on a power-of-two group, the data phase after the
// check-in is one blocking MPI_Allreduce: there Open MPI's own algorithms beat the ring (0.6x of
// raw at 256 KiB), while from 1 MiB the ring is as fast or faster (bench/README.md,
// "Collectives"). Safe after the check-in, which proved that every rank is inside this same
// allreduce (it finishes unless a rank dies, which ends an Open MPI job anyway). Its algorithms
// for these sizes (recursive doubling, whose partners add the same two operands; reduce-scatter
// and ring, which copy each finished chunk) leave the same bits on every rank, which
// collectives_mpi_np2/np4 check.
constexpr size_t kBlockingAllreduceMaxBytes = size_t{512} << 10;

// MPI counts are int: larger buffers go in pieces (a ring chunk is at most piece / size).
constexpr size_t kMaxChunk = size_t{1} << 30;

}  // namespace

Result<std::unique_ptr<MpiCommunicator>> MpiCommunicator::Create(MPI_Comm comm,
                                                                 CommunicatorOptions options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    return Status::FailedPrecondition(
        "MPI is not initialised: call MPI_Init before creating an MPI communicator");
  }
  auto dup = MpiCommHandle::Duplicate(comm);
  if (!dup.ok()) return dup.status();
  const int rank = dup->rank();
  const int size = dup->size();

  std::vector<int> group_ranks(static_cast<size_t>(size));
  std::iota(group_ranks.begin(), group_ranks.end(), 0);
  std::vector<int> world_ranks(group_ranks.size());
  MPI_Group group = MPI_GROUP_NULL;
  MPI_Group world = MPI_GROUP_NULL;
  PHASESWEEP_MPI_CHECK(MPI_Comm_group(dup->get(), &group));
  const int rc_world = MPI_Comm_group(MPI_COMM_WORLD, &world);
  const int rc_translate =
      rc_world == MPI_SUCCESS
          ? MPI_Group_translate_ranks(group, size, group_ranks.data(), world, world_ranks.data())
          : rc_world;
  MPI_Group_free(&group);
  if (world != MPI_GROUP_NULL) MPI_Group_free(&world);
  PHASESWEEP_MPI_CHECK(rc_translate);

  if (options.name.empty()) {
    const bool consecutive =
        std::adjacent_find(world_ranks.begin(), world_ranks.end(),
                           [](int a, int b) { return b != a + 1; }) == world_ranks.end();
    options.name = consecutive ? "group (ranks " + std::to_string(world_ranks.front()) + "-" +
                                     std::to_string(world_ranks.back()) + ")"
                               : "group of " + std::to_string(size) + " ranks";
  }
  return std::unique_ptr<MpiCommunicator>(new MpiCommunicator(
      std::move(dup).value(), rank, size, std::move(options), std::move(world_ranks)));
}

MpiCommunicator::~MpiCommunicator() = default;

MpiCommunicator::MpiCommunicator(MpiCommHandle comm, int rank, int size,
                                 CommunicatorOptions options, std::vector<int> world_ranks)
    : Communicator(options.name, std::move(world_ranks)),
      comm_(std::move(comm)),
      rank_(rank),
      size_(size),
      options_(std::move(options)) {}

std::string MpiCommunicator::Describe(const Operation& op) const {
  return DescribeNote(op.note) + " in " + name();
}

Status MpiCommunicator::Fail(Status status) {
  if (!status.ok() && broken_.ok()) broken_ = status;
  return status;
}

Status MpiCommunicator::Allreduce(void* data, size_t count, DataType type, ReduceOp op) {
  if (!broken_.ok()) {
    return Status::FailedPrecondition(
        "communicator for " + name() +
        " is unusable after an earlier failure: " + broken_.message());
  }
  if (type != DataType::kFloat32 && type != DataType::kFloat64) {
    return Status::InvalidArgument(std::string("allreduce of ") + DataTypeName(type) +
                                   " is not supported; use float32 or float64");
  }
  if (data == nullptr && count > 0) {
    return Status::InvalidArgument("allreduce of " + std::to_string(count) +
                                   " elements at a null pointer");
  }
  Operation operation{{++sequence_, count, static_cast<int32_t>(OpKind::kAllreduce),
                       static_cast<int32_t>(type), 0, static_cast<int32_t>(op)},
                      Clock::now(),
                      {}};
  const size_t element = DataTypeSize(type);
  const bool power_of_two = (size_ & (size_ - 1)) == 0;
  if (size_ > 1 && count * element <= internal::kFoldMaxBytes && power_of_two) {
    return Fail(FoldedAllreduce(operation, data, count, type, op));
  }
  PHASESWEEP_RETURN_IF_ERROR(Fail(CheckIn(operation)));
  if (size_ == 1 || count == 0) return Status::Ok();
  operation.data_deadline = Clock::now() + options_.timeout;

  char* bytes = static_cast<char*>(data);
  if (count * element <= kBlockingAllreduceMaxBytes && power_of_two) {
    PHASESWEEP_RETURN_IF_ERROR(Fail([&]() -> Status {
      PHASESWEEP_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), ToMpi(type),
                                         MPI_SUM, comm_.get()));
      return Status::Ok();
    }()));
    if (op == ReduceOp::kAverage) {
      internal::DivideBy(data, count, type, size_);
    }
    return Status::Ok();
  }
  // The mean is taken inside the ring (one division per element, by the rank that finishes it).
  const int divisor = op == ReduceOp::kAverage ? size_ : 1;
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(kMaxChunk, count - done);
    PHASESWEEP_RETURN_IF_ERROR(Fail(internal::RingAllreduce(
        bytes + done * element, n, type, divisor, comm_.get(), rank_, size_, kRingTag,
        ring_scratch_,
        [&](MPI_Request* requests, int k) { return Complete(operation, requests, k); })));
    done += n;
  }
  return Status::Ok();
}

Status MpiCommunicator::Broadcast(void* data, size_t count, DataType type, int root) {
  if (!broken_.ok()) {
    return Status::FailedPrecondition(
        "communicator for " + name() +
        " is unusable after an earlier failure: " + broken_.message());
  }
  if (root < 0 || root >= size_) {
    return Status::InvalidArgument("broadcast root " + std::to_string(root) +
                                   " is outside the group; valid roots are 0.." +
                                   std::to_string(size_ - 1));
  }
  if (data == nullptr && count > 0) {
    return Status::InvalidArgument("broadcast of " + std::to_string(count) +
                                   " elements at a null pointer");
  }
  Operation operation{{++sequence_, count, static_cast<int32_t>(OpKind::kBroadcast),
                       static_cast<int32_t>(type), root, 0},
                      Clock::now(),
                      {}};
  PHASESWEEP_RETURN_IF_ERROR(Fail(CheckIn(operation)));
  if (size_ == 1 || count == 0) return Status::Ok();
  operation.data_deadline = Clock::now() + options_.timeout;

  char* bytes = static_cast<char*>(data);
  const size_t element = DataTypeSize(type);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(kMaxChunk, count - done);
    MPI_Request request = MPI_REQUEST_NULL;
    PHASESWEEP_RETURN_IF_ERROR(Fail([&]() -> Status {
      PHASESWEEP_MPI_CHECK(MPI_Ibcast(bytes + done * element, static_cast<int>(n), ToMpi(type),
                                      root, comm_.get(), &request));
      return Status::Ok();
    }()));
    PHASESWEEP_RETURN_IF_ERROR(Fail(Complete(operation, &request, 1)));
    done += n;
  }
  return Status::Ok();
}

Status MpiCommunicator::Barrier() {
  if (!broken_.ok()) {
    return Status::FailedPrecondition(
        "communicator for " + name() +
        " is unusable after an earlier failure: " + broken_.message());
  }
  Operation operation{
      {++sequence_, 0, static_cast<int32_t>(OpKind::kBarrier), 0, 0, 0}, Clock::now(), {}};
  return Fail(CheckIn(operation));
}

Status MpiCommunicator::CheckIn(const Operation& op) {
  if (size_ == 1) return Status::Ok();
  return rank_ == 0 ? CoordinateCheckIn(op) : JoinCheckIn(op);
}

Status MpiCommunicator::CoordinateCheckIn(const Operation& op) {
  const auto deadline = op.start + options_.timeout;
  const size_t n = static_cast<size_t>(size_);
  std::vector<CheckInNote> notes(n);
  std::vector<MPI_Request> requests(n, MPI_REQUEST_NULL);
  std::vector<char> arrived(n, 0);
  arrived[0] = 1;
  const int tag = CheckInTag(op.note.sequence);
  for (int r = 1; r < size_; ++r) {
    PHASESWEEP_MPI_CHECK(MPI_Irecv(&notes[static_cast<size_t>(r)], sizeof(CheckInNote), MPI_BYTE, r,
                                   tag, comm_.get(), &requests[static_cast<size_t>(r)]));
  }
  // Nobody passes this collective without the root's "go", so a folded allreduce's message, or a
  // note for the other sequence parity, is from a rank inside a different collective.
  const std::vector<int> stray_tags = {kFoldTag, CheckInTag(op.note.sequence + 1)};
  Interruption interruption;
  bool interrupted = false;
  int pending = size_ - 1;
  std::vector<int> indices(n);
  Poller poller(deadline, options_.spin, kArrivalSleepAfter);
  while (pending > 0) {
    int completed = 0;
    PHASESWEEP_MPI_CHECK(
        MPI_Testsome(size_, requests.data(), &completed, indices.data(), MPI_STATUSES_IGNORE));
    if (completed == MPI_UNDEFINED) break;
    for (int i = 0; i < completed; ++i)
      arrived[static_cast<size_t>(indices[static_cast<size_t>(i)])] = 1;
    pending -= completed;
    if (pending == 0) break;
    if (completed == 0 && poller.Waited() >= internal::kQuietWait &&
        Interrupted(op, stray_tags, interruption)) {
      interrupted = true;
      break;
    }
    if (poller.Expired()) break;
    if (completed == 0) poller.Pause();
  }

  std::vector<int> missing;
  std::vector<int> present;
  for (int r = 0; r < size_; ++r)
    (arrived[static_cast<size_t>(r)] ? present : missing).push_back(r);
  for (int r : missing) {
    // A cancelled receive completes at once; if the note slipped in meanwhile it is ignored.
    MPI_Cancel(&requests[static_cast<size_t>(r)]);
    MPI_Wait(&requests[static_cast<size_t>(r)], MPI_STATUS_IGNORE);
  }
  // Another rank's verdict went to every rank, the ones waiting for this root's reply included.
  if (interrupted && interruption.verdict) return interruption.status;

  std::vector<int64_t> reply(kReplyHeader + n, 0);
  int odd_rank = -1;
  CheckInNote odd_note{};
  if (interrupted) {
    odd_rank = interruption.odd_rank;
    odd_note = interruption.odd_note;
    // The ranks that have not checked in (the odd one among them) are elsewhere, or on their
    // way: tell them. The ones that have hear it in the reply.
    SendAndForget(internal::MismatchVerdict(0, 0, op.note, odd_rank, odd_note), missing,
                  kVerdictTag);
  } else if (missing.empty()) {
    for (int r = 1; r < size_ && odd_rank < 0; ++r) {
      if (!SameNote(notes[static_cast<size_t>(r)], op.note)) odd_rank = r;
    }
    if (odd_rank >= 0) odd_note = notes[static_cast<size_t>(odd_rank)];
  }
  if (odd_rank >= 0) {
    reply[0] = kMismatch;
    reply[1] = odd_rank;
    internal::PutNote(&reply[2], odd_note);
  } else if (!missing.empty()) {
    reply[0] = kMissing;
    reply[1] = static_cast<int64_t>(missing.size());
    for (size_t i = 0; i < missing.size(); ++i) reply[kReplyHeader + i] = missing[i];
  }

  // Answer every rank that arrived. The replies are tiny (sent eagerly), so this is quick; the
  // bound only matters if a peer died just now.
  std::vector<MPI_Request> sends;
  for (int r : present) {
    if (r == 0) continue;
    sends.push_back(MPI_REQUEST_NULL);
    PHASESWEEP_MPI_CHECK(MPI_Isend(reply.data(), static_cast<int>(reply.size()), MPI_INT64_T, r,
                                   kReplyTag, comm_.get(), &sends.back()));
  }
  const auto send_deadline =
      std::max(deadline,
               Clock::now() + std::min<Clock::duration>(options_.timeout, std::chrono::seconds(2)));
  Poller send_poller(send_deadline, options_.spin, kArrivalSleepAfter);
  for (;;) {
    int done = 0;
    PHASESWEEP_MPI_CHECK(
        MPI_Testall(static_cast<int>(sends.size()), sends.data(), &done, MPI_STATUSES_IGNORE));
    if (done) break;
    if (send_poller.Expired()) {
      // A peer vanished after checking in. The reply buffer must outlive the sends, so leak it.
      new std::vector<int64_t>(std::move(reply));
      for (MPI_Request& s : sends) {
        if (s != MPI_REQUEST_NULL) MPI_Request_free(&s);
      }
      return Status::Internal(Describe(op) +
                              ": could not answer the ranks that checked in within " +
                              FormatSeconds(options_.timeout) + " (a rank may have died)");
    }
    send_poller.Pause();
  }

  if (odd_rank >= 0) return MismatchStatus(op, odd_rank, odd_note, "");
  if (!missing.empty()) {
    return Status::Internal(Describe(op) + " timed out after " + FormatSeconds(options_.timeout) +
                            ": " + Plural(missing.size(), "rank ", "ranks ") +
                            ListRanks(*this, missing) + " did not arrive (" +
                            Plural(present.size(), "rank ", "ranks ") + ListRanks(*this, present) +
                            " did)");
  }
  return Status::Ok();
}

Status MpiCommunicator::JoinCheckIn(const Operation& op) {
  // Wait a little longer than the root, so that when the root times out its verdict (who is
  // missing) reaches us before our own deadline does.
  const auto grace = std::min<Clock::duration>(options_.timeout / 4, std::chrono::seconds(5));
  const auto deadline = op.start + options_.timeout + grace;
  // Heap buffers: if the root never answers, the pending send may still read the note after we
  // return, so on that path they are deliberately leaked.
  auto note = std::make_unique<CheckInNote>(op.note);
  auto reply = std::make_unique<std::vector<int64_t>>(kReplyHeader + static_cast<size_t>(size_), 0);
  MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  PHASESWEEP_MPI_CHECK(MPI_Irecv(reply->data(), static_cast<int>(reply->size()), MPI_INT64_T, 0,
                                 kReplyTag, comm_.get(), &requests[0]));
  PHASESWEEP_MPI_CHECK(MPI_Isend(note.get(), sizeof(CheckInNote), MPI_BYTE, 0,
                                 CheckInTag(op.note.sequence), comm_.get(), &requests[1]));
  Poller poller(deadline, options_.spin, kArrivalSleepAfter);
  Interruption interruption;
  for (;;) {
    int done = 0;
    PHASESWEEP_MPI_CHECK(MPI_Testall(2, requests, &done, MPI_STATUSES_IGNORE));
    if (done) break;
    const bool interrupted =
        poller.Waited() >= internal::kQuietWait && Interrupted(op, {}, interruption);
    if (interrupted || poller.Expired()) {
      MPI_Cancel(&requests[0]);
      MPI_Wait(&requests[0], MPI_STATUS_IGNORE);
      int sent = 0;
      MPI_Test(&requests[1], &sent, MPI_STATUS_IGNORE);
      if (!sent) {
        MPI_Request_free(&requests[1]);
        note.release();  // NOLINT: still owned by MPI's pending send
      }
      if (interrupted) return interruption.status;
      return Status::Internal(
          Describe(op) + " timed out after " + FormatSeconds(options_.timeout) +
          ": no answer from the group root " + DescribeRank(0) +
          " (it did not arrive, or it is still waiting for a rank that did not)");
    }
    poller.Pause();
  }

  const std::vector<int64_t>& r = *reply;
  switch (r[0]) {
    case kGo:
      return Status::Ok();
    case kMissing: {
      std::vector<int> missing;
      for (int64_t i = 0; i < r[1]; ++i)
        missing.push_back(static_cast<int>(r[kReplyHeader + static_cast<size_t>(i)]));
      return Status::Internal(
          Describe(op) + " timed out after " + FormatSeconds(options_.timeout) + ": " +
          Plural(missing.size(), "rank ", "ranks ") + ListRanks(*this, missing) +
          " did not arrive (reported by the group root " + DescribeRank(0) + ")");
    }
    case kMismatch: {
      const int odd_rank = static_cast<int>(r[1]);
      if (odd_rank == rank_) {
        return Status::FailedPrecondition(
            Describe(op) + " does not match the group root " + DescribeRank(0) +
            " and the ranks before this one; every rank of a group must issue the same "
            "collectives in the same order");
      }
      return MismatchStatus(
          op, odd_rank, internal::ReadNote(&r[2]),
          odd_rank == 0 ? "" : " (reported by the group root " + DescribeRank(0) + ")");
    }
    default:
      return Status::Internal(Describe(op) + ": unreadable check-in answer from the group root");
  }
}

Status MpiCommunicator::Complete(const Operation& op, MPI_Request* requests, int n) {
  Poller poller(op.data_deadline, options_.spin, kDataSleepAfter);
  for (;;) {
    int done = 0;
    PHASESWEEP_MPI_CHECK(MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE));
    if (done) return Status::Ok();
    if (poller.Expired()) {
      // A started collective cannot be cancelled in MPI: the request stays pending and the
      // communicator is unusable from here on; the caller aborts.
      return Status::Internal(Describe(op) + " did not complete within " +
                              FormatSeconds(options_.timeout) +
                              " after every rank had arrived (a rank may have died or stalled "
                              "inside the collective)");
    }
    poller.Pause();
  }
}

}  // namespace phasesweep::collectives
