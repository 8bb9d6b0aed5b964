// The MPI backend's folded allreduce (small buffers on power-of-two groups) and the verdicts by
// which any rank that detects a failure tells the others. Protocol: mpi_communicator.h.
#include <algorithm>
#include <cstring>
#include <utility>

#include "check.h"
#include "mpi_protocol.h"
#include "phasesweep/collectives/mpi_communicator.h"
#include "ring_allreduce.h"

namespace phasesweep::collectives {
namespace {

using internal::CheckInNote;
using internal::Clock;
using internal::FormatSeconds;
using internal::kFoldDataTag;
using internal::kFoldTag;
using internal::kNoteFields;
using internal::kVerdictTag;
using internal::Poller;

constexpr size_t kNoteBytes = sizeof(CheckInNote);

// Open MPI sends a message up to its eager limit (4 KiB over shared memory, header included) at
// once, and a larger one after a rendezvous round trip in which the receiver pulls the sender's
// freshly written buffer. The data therefore goes in messages below that limit. Measured on 2 ranks
// with the buffer rewritten between calls, as a training step does: 4000-byte pieces took 7.4 us
// at 16 KiB and 24.9 us at 64 KiB, one message 11.0 and 30.6 us, MPI_Allreduce 13.3 and 26.7 us.
constexpr size_t kFoldPiece = 4000;
constexpr size_t kFoldMaxMessages = 1 + (internal::kFoldMaxBytes + kFoldPiece - 1) / kFoldPiece;

}  // namespace

Status MpiCommunicator::FoldedAllreduce(const Operation& op, void* data, size_t count,
                                        DataType type, ReduceOp reduce) {
  // Each exchange is `messages` messages: the first holds the note and the data's head, the
  // others the rest, kFoldPiece bytes each. Received, they lie contiguous: note, then data.
  const size_t bytes = count * DataTypeSize(type);
  const size_t head = std::min(bytes, kFoldPiece - kNoteBytes);
  const size_t messages = 1 + (bytes - head + kFoldPiece - 1) / kFoldPiece;
  // Every receive has room for a whole piece, so that no message of a partner inside a different
  // allreduce is truncated: its note is read and named.
  if (fold_receive_.size() < kNoteBytes + bytes + kFoldPiece) {
    fold_receive_.resize(kNoteBytes + bytes + kFoldPiece);
  }
  if (fold_send_.size() < kFoldPiece) fold_send_.resize(kFoldPiece);
  std::memcpy(fold_send_.data(), &op.note, kNoteBytes);
  const auto grace = std::min<Clock::duration>(options_.timeout / 4, std::chrono::seconds(5));
  char* values = static_cast<char*>(data);
  char* theirs = fold_receive_.data();
  MPI_Comm comm = comm_.get();
  int step = 0;
  for (int mask = 1; mask < size_; mask <<= 1, ++step) {
    const int partner = rank_ ^ mask;
    // [their messages..., mine...]
    MPI_Request requests[2 * kFoldMaxMessages];
    const int total = static_cast<int>(2 * messages);
    std::fill(requests, requests + total, MPI_REQUEST_NULL);
    PHASESWEEP_MPI_CHECK(MPI_Irecv(theirs, static_cast<int>(kFoldPiece), MPI_BYTE, partner,
                                   kFoldTag, comm, &requests[0]));
    for (size_t i = 1; i < messages; ++i) {
      const size_t offset = head + (i - 1) * kFoldPiece;
      PHASESWEEP_MPI_CHECK(MPI_Irecv(theirs + kNoteBytes + offset, static_cast<int>(kFoldPiece),
                                     MPI_BYTE, partner, kFoldDataTag, comm, &requests[i]));
    }
    std::memcpy(fold_send_.data() + kNoteBytes, values, head);
    PHASESWEEP_MPI_CHECK(MPI_Isend(fold_send_.data(), static_cast<int>(kNoteBytes + head), MPI_BYTE,
                                   partner, kFoldTag, comm, &requests[messages]));
    for (size_t i = 1; i < messages; ++i) {
      const size_t offset = head + (i - 1) * kFoldPiece;
      PHASESWEEP_MPI_CHECK(
          MPI_Isend(values + offset, static_cast<int>(std::min(kFoldPiece, bytes - offset)),
                    MPI_BYTE, partner, kFoldDataTag, comm, &requests[messages + i]));
    }
    const auto deadline = op.start + options_.timeout + step * grace;
    // A healthy exchange completes within microseconds. Otherwise the note first: a partner
    // inside a different collective is named before its data (which may never come) is awaited.
    bool done = false;
    const auto fast_until = Clock::now() + internal::kQuietWait;
    for (unsigned polls = 1; !done; ++polls) {
      int flag = 0;
      PHASESWEEP_MPI_CHECK(MPI_Testall(total, requests, &flag, MPI_STATUSES_IGNORE));
      done = flag != 0;
      if (polls % 64 == 0 && Clock::now() >= fast_until) break;
    }
    if (!done) {
      PHASESWEEP_RETURN_IF_ERROR(
          AwaitPartner(op, requests, total, messages, 1, partner, mask, deadline));
    }
    CheckInNote note{};
    std::memcpy(&note, theirs, kNoteBytes);
    if (!internal::SameNote(note, op.note)) {
      AbandonExchange(requests, total, messages);
      // The partner sees the same disagreement; everyone else hears it from one of the two.
      SendAndForget(internal::MismatchVerdict(rank_, rank_, op.note, partner, note),
                    OtherRanks(partner), kVerdictTag);
      return MismatchStatus(op, partner, note, "");
    }
    if (!done) {
      PHASESWEEP_RETURN_IF_ERROR(
          AwaitPartner(op, requests, total, messages, total, partner, mask, deadline));
    }
    const bool last = (mask << 1) >= size_;
    internal::ReduceInto(values, theirs + kNoteBytes, count, type,
                         last && reduce == ReduceOp::kAverage ? size_ : 1);
  }
  return Status::Ok();
}

Status MpiCommunicator::AwaitPartner(const Operation& op, MPI_Request* requests, int total,
                                     size_t receives, int wait_for, int partner, int mask,
                                     Clock::time_point deadline) {
  Poller poller(deadline, options_.spin, internal::kArrivalSleepAfter);
  Interruption interruption;
  // Only the root hears check-ins: a rank checking in to this collective is inside another one.
  const std::vector<int> stray_tags =
      rank_ == 0 ? std::vector<int>{internal::CheckInTag(op.note.sequence)} : std::vector<int>{};
  for (;;) {
    int done = 0;
    PHASESWEEP_MPI_CHECK(MPI_Testall(wait_for, requests, &done, MPI_STATUSES_IGNORE));
    if (done) return Status::Ok();
    Status failure;
    if (poller.Waited() >= internal::kQuietWait && Interrupted(op, stray_tags, interruption)) {
      failure = interruption.verdict ? interruption.status : AnswerStrayCheckIn(op, interruption);
    } else if (poller.Expired()) {
      SendAndForget({internal::kMissing, rank_, 1, partner}, OtherRanks(partner), kVerdictTag);
      // This rank holds the sum over its aligned block of `mask` ranks: they did arrive.
      std::vector<int> present(static_cast<size_t>(mask));
      for (int i = 0; i < mask; ++i) present[static_cast<size_t>(i)] = (rank_ & ~(mask - 1)) + i;
      failure =
          Status::Internal(Describe(op) + " timed out after " + FormatSeconds(options_.timeout) +
                           ": " + DescribeRank(partner) + " did not arrive (" +
                           internal::Plural(present.size(), "rank ", "ranks ") +
                           internal::ListRanks(*this, present) + " did)");
    } else {
      poller.Pause();
      continue;
    }
    AbandonExchange(requests, total, receives);
    return failure;
  }
}

void MpiCommunicator::AbandonExchange(MPI_Request* requests, int total, size_t receives) {
  // Receives are cancelled; sends may still be pending, so the note's buffer is leaked, and the
  // communicator is unusable from here on (like the ring, whose pending send reads the caller's
  // buffer: the caller aborts).
  for (size_t i = 0; i < receives; ++i) {
    if (requests[i] != MPI_REQUEST_NULL) {
      MPI_Cancel(&requests[i]);
      MPI_Wait(&requests[i], MPI_STATUS_IGNORE);
    }
  }
  if (requests[receives] != MPI_REQUEST_NULL) {
    new std::vector<char>(std::move(fold_send_));  // NOLINT: owned by MPI's pending send
  }
  for (int i = static_cast<int>(receives); i < total; ++i) {
    if (requests[i] != MPI_REQUEST_NULL) MPI_Request_free(&requests[i]);
  }
}

bool MpiCommunicator::Interrupted(const Operation& op, const std::vector<int>& foreign_tags,
                                  Interruption& out) {
  int flag = 0;
  MPI_Status status;
  if (MPI_Iprobe(MPI_ANY_SOURCE, kVerdictTag, comm_.get(), &flag, &status) == MPI_SUCCESS && flag) {
    int count = 0;
    MPI_Get_count(&status, MPI_INT64_T, &count);
    std::vector<int64_t> verdict(static_cast<size_t>(std::max(count, 0)));
    MPI_Recv(verdict.data(), count, MPI_INT64_T, status.MPI_SOURCE, kVerdictTag, comm_.get(),
             MPI_STATUS_IGNORE);
    out.verdict = true;
    out.status = VerdictStatus(op, verdict);
    return true;
  }
  for (const int tag : foreign_tags) {
    if (MPI_Iprobe(MPI_ANY_SOURCE, tag, comm_.get(), &flag, &status) != MPI_SUCCESS || !flag) {
      continue;
    }
    int length = 0;
    MPI_Get_count(&status, MPI_BYTE, &length);
    std::vector<char> message(
        std::max<size_t>(static_cast<size_t>(std::max(length, 0)), kNoteBytes));
    MPI_Recv(message.data(), length, MPI_BYTE, status.MPI_SOURCE, tag, comm_.get(),
             MPI_STATUS_IGNORE);
    out.verdict = false;
    out.odd_rank = status.MPI_SOURCE;
    std::memcpy(&out.odd_note, message.data(), kNoteBytes);
    return true;
  }
  return false;
}

Status MpiCommunicator::AnswerStrayCheckIn(const Operation& op, const Interruption& stray) {
  // The stray rank waits for the root's reply to its check-in: say that the root disagrees.
  std::vector<int64_t> reply(internal::kReplyHeader, 0);
  reply[0] = internal::kMismatch;
  reply[1] = rank_;
  internal::PutNote(&reply[2], op.note);
  SendAndForget(std::move(reply), {stray.odd_rank}, internal::kReplyTag);
  SendAndForget(internal::MismatchVerdict(rank_, rank_, op.note, stray.odd_rank, stray.odd_note),
                OtherRanks(stray.odd_rank), kVerdictTag);
  return MismatchStatus(op, stray.odd_rank, stray.odd_note, "");
}

void MpiCommunicator::SendAndForget(std::vector<int64_t> message, const std::vector<int>& to,
                                    int tag) {
  if (to.empty()) return;
  auto* buffer = new std::vector<int64_t>(std::move(message));  // NOLINT: see the header
  for (const int r : to) {
    MPI_Request request = MPI_REQUEST_NULL;
    if (MPI_Isend(buffer->data(), static_cast<int>(buffer->size()), MPI_INT64_T, r, tag,
                  comm_.get(), &request) == MPI_SUCCESS) {
      MPI_Request_free(&request);
    }
  }
}

std::vector<int> MpiCommunicator::OtherRanks(int except) const {
  std::vector<int> ranks;
  for (int r = 0; r < size_; ++r) {
    if (r != rank_ && r != except) ranks.push_back(r);
  }
  return ranks;
}

Status MpiCommunicator::VerdictStatus(const Operation& op,
                                      const std::vector<int64_t>& verdict) const {
  if (verdict.size() >= 3 && verdict[0] == internal::kMissing &&
      verdict.size() >= 3 + static_cast<size_t>(std::max<int64_t>(verdict[2], 0))) {
    std::vector<int> missing;
    for (int64_t i = 0; i < verdict[2]; ++i) {
      missing.push_back(static_cast<int>(verdict[3 + static_cast<size_t>(i)]));
    }
    return Status::Internal(Describe(op) + " timed out after " + FormatSeconds(options_.timeout) +
                            ": " + internal::Plural(missing.size(), "rank ", "ranks ") +
                            internal::ListRanks(*this, missing) + " did not arrive (reported by " +
                            DescribeRank(static_cast<int>(verdict[1])) + ")");
  }
  if (verdict.size() == internal::kVerdictMismatchSize && verdict[0] == internal::kMismatch) {
    const int reporter = static_cast<int>(verdict[1]);
    const CheckInNote note_a = internal::ReadNote(&verdict[3]);
    const bool a_is_odd = !internal::SameNote(note_a, op.note);
    const int odd_rank = static_cast<int>(a_is_odd ? verdict[2] : verdict[3 + kNoteFields]);
    const CheckInNote odd_note = a_is_odd ? note_a : internal::ReadNote(&verdict[4 + kNoteFields]);
    return MismatchStatus(
        op, odd_rank, odd_note,
        odd_rank == reporter ? "" : " (reported by " + DescribeRank(reporter) + ")");
  }
  return Status::Internal(Describe(op) + ": unreadable failure report from another rank");
}

Status MpiCommunicator::MismatchStatus(const Operation& op, int odd_rank,
                                       const CheckInNote& odd_note,
                                       const std::string& suffix) const {
  return Status::FailedPrecondition(
      Describe(op) + " does not match " + DescribeRank(odd_rank) + ", which called " +
      internal::DescribeNote(odd_note) + suffix +
      "; every rank of a group must issue the same collectives in the same order");
}

}  // namespace phasesweep::collectives
