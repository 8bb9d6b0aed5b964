// Collectives over lists of LibTorch tensors: validate, pack into buckets (bucket_plan.h), run
// one Communicator call per bucket, unpack in place.
#include "phasesweep/collectives/tensor_collectives.h"

#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "bucket_plan.h"
#include "phasesweep/base/hash.h"

namespace phasesweep::collectives {
namespace {

const char* DtypeName(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return "float32";
    case torch::kFloat64:
      return "float64";
    default:
      return nullptr;
  }
}

std::string DescribeDevice(const torch::Tensor& t) { return t.device().str(); }

// Checks everything a bucketed collective needs before any rank starts communicating.
Status CheckTensors(const Communicator& comm, const std::vector<torch::Tensor>& tensors,
                    const char* operation) {
  const bool host = comm.memory_space() == MemorySpace::kHost;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    const std::string which = std::string(operation) + ": tensor " + std::to_string(i);
    if (!t.defined()) return Status::InvalidArgument(which + " is undefined");
    if (t.layout() != torch::kStrided) {
      return Status::InvalidArgument(which + " is not a dense (strided) tensor");
    }
    if (DtypeName(t.scalar_type()) == nullptr) {
      return Status::InvalidArgument(which + " has dtype " +
                                     std::string(c10::toString(t.scalar_type())) +
                                     "; only float32 and float64 are supported");
    }
    if (host && !t.is_cpu()) {
      return Status::InvalidArgument(which + " is on " + DescribeDevice(t) + ", but the " +
                                     comm.backend_name() + " backend needs CPU tensors");
    }
    if (!host && (!t.is_cuda() || t.device().index() != comm.device())) {
      return Status::InvalidArgument(
          which + " is on " + DescribeDevice(t) + ", but the " + comm.backend_name() +
          " backend needs tensors on cuda:" + std::to_string(comm.device()));
    }
  }
  return Status::Ok();
}

using BucketCollective = std::function<Status(void* data, size_t count, DataType type)>;

// Packs `tensors` into buckets, runs `collective` on each, and writes the results back.
Status RunBucketed(std::vector<torch::Tensor>& tensors, size_t bucket_bytes,
                   BucketWorkspace& workspace, const BucketCollective& collective) {
  torch::NoGradGuard no_grad;  // parameters are leaves that require grad
  std::vector<torch::Tensor> flats(tensors.size());
  std::vector<internal::TensorExtent> extents(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    // A non-contiguous tensor is reduced through a contiguous copy, written back at the end.
    flats[i] = (t.is_contiguous() ? t : t.contiguous()).view({-1});
    extents[i].type_key = static_cast<int>(t.scalar_type());
    extents[i].numel = t.numel();
    extents[i].element_bytes = t.element_size();
  }
  const std::vector<internal::Bucket> plan = internal::PlanBuckets(extents, bucket_bytes);

  for (const internal::Bucket& bucket : plan) {
    const internal::BucketSlice& first = bucket.slices.front();
    const torch::Tensor& first_flat = flats[first.tensor];
    const DataType type =
        first_flat.scalar_type() == torch::kFloat64 ? DataType::kFloat64 : DataType::kFloat32;
    // A bucket that is exactly one whole tensor needs no staging copy.
    if (bucket.slices.size() == 1 && first.offset == 0 && first.length == first_flat.numel()) {
      PHASESWEEP_RETURN_IF_ERROR(
          collective(first_flat.data_ptr(), static_cast<size_t>(bucket.numel), type));
      continue;
    }
    torch::Tensor buffer = workspace.Get(bucket.numel, first_flat);
    for (const internal::BucketSlice& s : bucket.slices) {
      buffer.narrow(0, s.bucket_offset, s.length)
          .copy_(flats[s.tensor].narrow(0, s.offset, s.length));
    }
    PHASESWEEP_RETURN_IF_ERROR(
        collective(buffer.data_ptr(), static_cast<size_t>(bucket.numel), type));
    for (const internal::BucketSlice& s : bucket.slices) {
      flats[s.tensor]
          .narrow(0, s.offset, s.length)
          .copy_(buffer.narrow(0, s.bucket_offset, s.length));
    }
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].is_contiguous()) tensors[i].copy_(flats[i].view(tensors[i].sizes()));
  }
  return Status::Ok();
}

}  // namespace

torch::Tensor BucketWorkspace::Get(int64_t numel, const torch::Tensor& like) {
  for (torch::Tensor& b : buffers_) {
    if (b.scalar_type() != like.scalar_type() || b.device() != like.device()) continue;
    if (b.numel() < numel) b = torch::empty({numel}, like.options());
    return b.narrow(0, 0, numel);
  }
  buffers_.push_back(torch::empty({numel}, like.options()));
  return buffers_.back();
}

Status AllreduceTensors(Communicator& comm, std::vector<torch::Tensor>& tensors, ReduceOp op,
                        size_t bucket_bytes, BucketWorkspace* workspace) {
  PHASESWEEP_RETURN_IF_ERROR(CheckTensors(comm, tensors, "allreduce"));
  BucketWorkspace local;
  return RunBucketed(tensors, bucket_bytes, workspace != nullptr ? *workspace : local,
                     [&](void* data, size_t count, DataType type) {
                       return comm.Allreduce(data, count, type, op);
                     });
}

Status BroadcastTensors(Communicator& comm, std::vector<torch::Tensor>& tensors, int root,
                        size_t bucket_bytes, BucketWorkspace* workspace) {
  if (root < 0 || root >= comm.size()) {
    return Status::InvalidArgument("broadcast root " + std::to_string(root) +
                                   " is outside the group; valid roots are 0.." +
                                   std::to_string(comm.size() - 1));
  }
  PHASESWEEP_RETURN_IF_ERROR(CheckTensors(comm, tensors, "broadcast"));
  BucketWorkspace local;
  return RunBucketed(tensors, bucket_bytes, workspace != nullptr ? *workspace : local,
                     [&](void* data, size_t count, DataType type) {
                       return comm.Broadcast(data, count, type, root);
                     });
}

uint64_t ShapeChecksum(const std::vector<torch::Tensor>& tensors) {
  std::string text;
  for (const torch::Tensor& t : tensors) {
    if (!t.defined()) {
      text += "undefined;";
      continue;
    }
    const char* name = DtypeName(t.scalar_type());
    text += name != nullptr ? name : "dtype" + std::to_string(static_cast<int>(t.scalar_type()));
    text += "[";
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (d > 0) text += ",";
      text += std::to_string(t.size(d));
    }
    text += "];";
  }
  return Fnv1a64(text);
}

Status VerifySameShapes(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                        const std::string& what) {
  const bool host = comm.memory_space() == MemorySpace::kHost;
  if (!host && !torch::cuda::is_available()) {
    return Status::FailedPrecondition(std::string("the ") + comm.backend_name() +
                                      " backend needs CUDA tensors, and this LibTorch has no CUDA "
                                      "(build against a CUDA LibTorch)");
  }
  const int n = comm.size();
  const uint64_t checksum = ShapeChecksum(tensors);
  // Each rank fills its own row (checksum halves, exact in double, and the tensor count); a sum
  // over the group then gives every rank every row.
  torch::Tensor table = torch::zeros({n, 3}, torch::kFloat64);
  table[comm.rank()][0] = static_cast<double>(checksum >> 32);
  table[comm.rank()][1] = static_cast<double>(checksum & 0xffffffffULL);
  table[comm.rank()][2] = static_cast<double>(tensors.size());
  std::vector<torch::Tensor> list{
      host ? table : table.to(torch::Device(torch::kCUDA, static_cast<int8_t>(comm.device())))};
  PHASESWEEP_RETURN_IF_ERROR(AllreduceTensors(comm, list, ReduceOp::kSum)
                                 .WithContext("comparing " + what + " shapes in " + comm.name()));
  const torch::Tensor all = list[0].cpu();
  auto checksum_of = [&](int r) {
    return (static_cast<uint64_t>(all[r][0].item<double>()) << 32) |
           static_cast<uint64_t>(all[r][1].item<double>());
  };
  auto describe = [&](int r) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(checksum_of(r)));
    return std::to_string(static_cast<int64_t>(all[r][2].item<double>())) + " tensors (checksum " +
           hex + ")";
  };
  std::string odd;
  int odd_count = 0;
  for (int r = 1; r < n; ++r) {
    if (checksum_of(r) == checksum_of(0) && all[r][2].item<double>() == all[0][2].item<double>()) {
      continue;
    }
    if (++odd_count <= 4)
      odd += (odd.empty() ? "" : ", ") + comm.DescribeRank(r) + " has " + describe(r);
  }
  if (odd_count == 0) return Status::Ok();
  if (odd_count > 4) odd += ", and " + std::to_string(odd_count - 4) + " more ranks";
  return Status::FailedPrecondition(what + " shapes differ across " + comm.name() + ": " + odd +
                                    ", but the group root " + comm.DescribeRank(0) + " has " +
                                    describe(0) +
                                    "; every rank of a group must build the same model");
}

}  // namespace phasesweep::collectives
