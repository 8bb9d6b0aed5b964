// The MPI backend's wire protocol helpers (mpi_protocol.h).
#include "mpi_protocol.h"

namespace phasesweep::collectives::internal {

bool SameNote(const CheckInNote& a, const CheckInNote& b) {
  return a.sequence == b.sequence && a.count == b.count && a.kind == b.kind && a.type == b.type &&
         a.root == b.root && a.reduce == b.reduce;
}

std::string DescribeNote(const CheckInNote& note) {
  const auto type = static_cast<DataType>(note.type);
  const std::string seq = " #" + std::to_string(note.sequence);
  switch (static_cast<OpKind>(note.kind)) {
    case OpKind::kAllreduce:
      return "allreduce" + seq + " (" + std::to_string(note.count) + " x " + DataTypeName(type) +
             (note.reduce == static_cast<int32_t>(ReduceOp::kAverage) ? ", average)" : ", sum)");
    case OpKind::kBroadcast:
      return "broadcast" + seq + " (" + std::to_string(note.count) + " x " + DataTypeName(type) +
             " from group rank " + std::to_string(note.root) + ")";
    case OpKind::kBarrier:
      return "barrier" + seq;
  }
  return "unknown collective" + seq;
}

void PutNote(int64_t* fields, const CheckInNote& note) {
  fields[0] = static_cast<int64_t>(note.sequence);
  fields[1] = static_cast<int64_t>(note.count);
  fields[2] = note.kind;
  fields[3] = note.type;
  fields[4] = note.root;
  fields[5] = note.reduce;
}

CheckInNote ReadNote(const int64_t* fields) {
  return CheckInNote{static_cast<uint64_t>(fields[0]), static_cast<uint64_t>(fields[1]),
                     static_cast<int32_t>(fields[2]),  static_cast<int32_t>(fields[3]),
                     static_cast<int32_t>(fields[4]),  static_cast<int32_t>(fields[5])};
}

std::vector<int64_t> MismatchVerdict(int reporter, int rank_a, const CheckInNote& note_a,
                                     int rank_b, const CheckInNote& note_b) {
  std::vector<int64_t> v(kVerdictMismatchSize, 0);
  v[0] = kMismatch;
  v[1] = reporter;
  v[2] = rank_a;
  PutNote(&v[3], note_a);
  v[3 + kNoteFields] = rank_b;
  PutNote(&v[4 + kNoteFields], note_b);
  return v;
}

MPI_Datatype ToMpi(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return MPI_FLOAT;
    case DataType::kFloat64:
      return MPI_DOUBLE;
    case DataType::kByte:
      return MPI_BYTE;
  }
  return MPI_BYTE;
}

std::string ListRanks(const Communicator& comm, const std::vector<int>& group_ranks) {
  std::string out;
  for (size_t i = 0; i < group_ranks.size() && i < 16; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(comm.world_rank(group_ranks[i]));
  }
  if (group_ranks.size() > 16) out += ", ... (" + std::to_string(group_ranks.size()) + " in all)";
  return out;
}

std::string Plural(size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace phasesweep::collectives::internal
