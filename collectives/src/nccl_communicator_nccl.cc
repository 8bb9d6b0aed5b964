// NcclCommunicator: NCCL collectives on raw device buffers, one private stream, completion polled
// against a deadline (cudaStreamQuery + ncclCommGetAsyncError), ncclCommAbort when it passes.
// Uses the CUDA runtime and NCCL only — no LibTorch — so it builds wherever the CUDA toolkit is.
#include <thread>
#include <utility>
#include <vector>

#include "cuda_check.h"
#include "deadline.h"
#include "nccl_device.h"
#include "phasesweep/collectives/nccl_communicator.h"

static_assert(NCCL_VERSION_CODE >= NCCL_VERSION(2, 14, 0),
              "the NCCL backend needs NCCL >= 2.14 (non-blocking communicators, ncclAvg)");

namespace phasesweep::collectives {
namespace internal {

Status CudaError(cudaError_t code, const char* call, const char* file, int line) {
  return Status::Internal(std::string(call) + " failed: " + cudaGetErrorName(code) + ": " +
                          cudaGetErrorString(code) + " (" + CallSite(file, line) + ")");
}

Status NcclError(ncclResult_t code, const char* call, const char* file, int line) {
  return Status::Internal(std::string(call) + " failed: " + ncclGetErrorString(code) + " (" +
                          CallSite(file, line) + ")");
}

Result<int> SelectDevice(int requested, int local_rank) {
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess || count <= 0) {
    const std::string why = rc != cudaSuccess
                                ? std::string(cudaGetErrorName(rc)) + ": " + cudaGetErrorString(rc)
                                : std::string("0 devices");
    cudaGetLastError();  // clear the sticky-free error so later CUDA calls are not confused
    return Status::FailedPrecondition(
        "the NCCL backend needs a CUDA device, but none is visible (cudaGetDeviceCount: " + why +
        "; " + CallSite(__FILE__, __LINE__) + "); use the MPI backend on CPU");
  }
  if (requested >= count) {
    return Status::InvalidArgument("CUDA device " + std::to_string(requested) +
                                   " was requested but only " + std::to_string(count) +
                                   " are visible (0.." + std::to_string(count - 1) + ")");
  }
  return requested >= 0 ? requested : local_rank % count;
}

}  // namespace internal

namespace {

using internal::Clock;
using internal::FormatSeconds;
using internal::Poller;

constexpr auto kSleepAfter = std::chrono::seconds(2);
constexpr auto kFinalizeWait = std::chrono::seconds(10);

ncclDataType_t ToNccl(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return ncclFloat32;
    case DataType::kFloat64:
      return ncclFloat64;
    case DataType::kByte:
      return ncclUint8;
  }
  return ncclUint8;
}

// Makes `device` current for one call and restores the previous device afterwards, so the
// communicator never changes the caller's CUDA state.
class ScopedDevice {
 public:
  static Result<ScopedDevice> Enter(int device) {
    int previous = -1;
    PHASESWEEP_CUDA_CHECK(cudaGetDevice(&previous));
    if (previous != device) PHASESWEEP_CUDA_CHECK(cudaSetDevice(device));
    return ScopedDevice(previous, previous != device);
  }
  ScopedDevice(ScopedDevice&& other) noexcept
      : previous_(other.previous_), restore_(other.restore_) {
    other.restore_ = false;
  }
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;
  ScopedDevice& operator=(ScopedDevice&&) = delete;
  ~ScopedDevice() {
    if (restore_) cudaSetDevice(previous_);
  }

 private:
  ScopedDevice(int previous, bool restore) : previous_(previous), restore_(restore) {}
  int previous_;
  bool restore_;
};

// Every rank of `bootstrap` learns whether `local` succeeded everywhere: a failure on one rank
// becomes an error on all, instead of peers waiting for it in the next step.
Status Agree(MpiCommunicator& bootstrap, const Status& local, const std::string& step) {
  float ok = local.ok() ? 1.0f : 0.0f;
  PHASESWEEP_RETURN_IF_ERROR(bootstrap.Allreduce(&ok, 1, ReduceOp::kSum));
  if (!local.ok()) return local;
  if (ok < static_cast<float>(bootstrap.size())) {
    return Status::FailedPrecondition(step + " failed on another rank of " + bootstrap.name() +
                                      " (its log has the reason)");
  }
  return Status::Ok();
}

}  // namespace

void NcclComm::Abort() noexcept {
  if (comm_ == nullptr) return;
  ncclCommAbort(comm_);
  comm_ = nullptr;
}

void NcclComm::Reset() noexcept {
  if (comm_ == nullptr) return;
  ncclResult_t rc = ncclCommFinalize(comm_);
  bool ok = rc == ncclSuccess || rc == ncclInProgress;
  const auto deadline = Clock::now() + kFinalizeWait;
  ncclResult_t state = ncclInProgress;
  while (ok) {
    if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) ok = false;
    if (!ok || state != ncclInProgress) break;
    if (Clock::now() >= deadline) {
      ok = false;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (ok && state == ncclSuccess) {
    ncclCommDestroy(comm_);
  } else {
    ncclCommAbort(comm_);  // finalising failed or hung: release without the peers
  }
  comm_ = nullptr;
}

NcclCommunicator::NcclCommunicator(NcclComm comm, int rank, int size, int device,
                                   cudaStream_t stream, float* scratch, CommunicatorOptions options,
                                   std::vector<int> world_ranks)
    : Communicator(options.name, std::move(world_ranks)),
      comm_(std::move(comm)),
      rank_(rank),
      size_(size),
      device_(device),
      stream_(stream),
      scratch_(scratch),
      options_(std::move(options)) {}

NcclCommunicator::~NcclCommunicator() {
  comm_.Reset();  // before the stream it may still use
  if (scratch_ != nullptr) cudaFree(scratch_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

Result<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(MpiCommunicator& bootstrap,
                                                                   int device,
                                                                   CommunicatorOptions options) {
  if (options.name.empty()) options.name = bootstrap.name();
  std::vector<int> world_ranks;
  for (int r = 0; r < bootstrap.size(); ++r) world_ranks.push_back(bootstrap.world_rank(r));
  // Owns the stream and scratch from the start, so every early return below releases them.
  std::unique_ptr<NcclCommunicator> self(
      new NcclCommunicator(NcclComm(), bootstrap.rank(), bootstrap.size(), device, nullptr, nullptr,
                           options, std::move(world_ranks)));

  // 1. Device, stream (default flags: ordered with the legacy default stream), scratch scalar.
  Status local = [&]() -> Status {
    PHASESWEEP_CUDA_CHECK(cudaSetDevice(device));
    PHASESWEEP_CUDA_CHECK(cudaStreamCreate(&self->stream_));
    PHASESWEEP_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&self->scratch_), sizeof(float)));
    // cudaMalloc does not initialise memory; the barrier reduces this value, so make it finite.
    PHASESWEEP_CUDA_CHECK(cudaMemset(self->scratch_, 0, sizeof(float)));
    return Status::Ok();
  }();
  PHASESWEEP_RETURN_IF_ERROR(Agree(bootstrap, local, "CUDA set-up for NCCL"));

  // 2. Unique id on the group root, broadcast to the group (deadline-bounded MPI).
  struct IdMessage {
    int32_t ok;
    ncclUniqueId id;
  } message{};
  Status root_status;
  if (bootstrap.rank() == 0) {
    root_status = [&]() -> Status {
      PHASESWEEP_NCCL_CHECK(ncclGetUniqueId(&message.id));
      return Status::Ok();
    }();
    message.ok = root_status.ok() ? 1 : 0;
  }
  PHASESWEEP_RETURN_IF_ERROR(bootstrap.Broadcast(&message, sizeof(message), DataType::kByte, 0));
  if (!root_status.ok()) return root_status;
  if (message.ok == 0) {
    return Status::FailedPrecondition("the group root " + bootstrap.DescribeRank(0) + " of " +
                                      bootstrap.name() + " could not create an NCCL unique id");
  }

  // 3. ncclCommInitRank, non-blocking so that the wait for the peers has a deadline.
  local = [&]() -> Status {
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    ncclComm_t raw = nullptr;
    const ncclResult_t rc =
        ncclCommInitRankConfig(&raw, bootstrap.size(), message.id, bootstrap.rank(), &config);
    self->comm_ = NcclComm(raw);
    if (rc != ncclSuccess && rc != ncclInProgress) {
      self->comm_.Abort();
      return internal::NcclError(rc, "ncclCommInitRankConfig", __FILE__, __LINE__);
    }
    Poller poller(Clock::now() + self->options_.timeout, self->options_.spin, kSleepAfter);
    for (;;) {
      ncclResult_t state = ncclInProgress;
      PHASESWEEP_NCCL_CHECK(ncclCommGetAsyncError(raw, &state));
      if (state == ncclSuccess) return Status::Ok();
      if (state != ncclInProgress) {
        self->comm_.Abort();
        return internal::NcclError(state, "ncclCommInitRankConfig (asynchronous)", __FILE__,
                                   __LINE__);
      }
      if (poller.Expired()) {
        self->comm_.Abort();
        return Status::Internal("ncclCommInitRank for " + self->name() + " did not finish within " +
                                FormatSeconds(self->options_.timeout) +
                                "; the NCCL communicator was aborted (a rank did not join)");
      }
      poller.Pause();
    }
  }();
  PHASESWEEP_RETURN_IF_ERROR(Agree(bootstrap, local, "ncclCommInitRank"));
  return self;
}

Status NcclCommunicator::Fail(Status status) {
  if (!status.ok() && broken_.ok()) broken_ = status;
  return status;
}

Status NcclCommunicator::Wait(const std::string& what) {
  Poller poller(Clock::now() + options_.timeout, options_.spin, kSleepAfter);
  for (;;) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t rc = ncclCommGetAsyncError(comm_.get(), &state);
    if (rc != ncclSuccess) {
      comm_.Abort();
      return internal::NcclError(rc, "ncclCommGetAsyncError", __FILE__, __LINE__).WithContext(what);
    }
    if (state != ncclSuccess && state != ncclInProgress) {
      const std::string last = ncclGetLastError(comm_.get());
      comm_.Abort();
      return Status::Internal(
          what + " failed: " + ncclGetErrorString(state) + (last.empty() ? "" : ": " + last) +
          " (" + internal::CallSite(__FILE__, __LINE__) + "); the NCCL communicator was aborted");
    }
    if (state == ncclSuccess) {  // queued; now wait for the kernels
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return Status::Ok();
      if (q != cudaErrorNotReady) {
        comm_.Abort();
        return internal::CudaError(q, "cudaStreamQuery", __FILE__, __LINE__).WithContext(what);
      }
    }
    if (poller.Expired()) {
      comm_.Abort();
      return Status::Internal(what + " did not complete within " + FormatSeconds(options_.timeout) +
                              "; the NCCL communicator was aborted (a rank may have died, "
                              "stalled or not joined)");
    }
    poller.Pause();
  }
}

Status NcclCommunicator::Allreduce(void* data, size_t count, DataType type, ReduceOp op) {
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
  const std::string what = "nccl allreduce #" + std::to_string(++sequence_) + " (" +
                           std::to_string(count) + " x " + DataTypeName(type) +
                           (op == ReduceOp::kAverage ? ", average)" : ", sum)") + " in " + name();
  auto device = ScopedDevice::Enter(device_);
  if (!device.ok()) return Fail(device.status().WithContext(what));
  return Fail([&]() -> Status {
    PHASESWEEP_NCCL_CHECK(ncclAllReduce(data, data, count, ToNccl(type),
                                        op == ReduceOp::kAverage ? ncclAvg : ncclSum, comm_.get(),
                                        stream_));
    return Wait(what);
  }());
}

Status NcclCommunicator::Broadcast(void* data, size_t count, DataType type, int root) {
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
  const std::string what = "nccl broadcast #" + std::to_string(++sequence_) + " (" +
                           std::to_string(count) + " x " + DataTypeName(type) +
                           " from group rank " + std::to_string(root) + ") in " + name();
  auto device = ScopedDevice::Enter(device_);
  if (!device.ok()) return Fail(device.status().WithContext(what));
  return Fail([&]() -> Status {
    PHASESWEEP_NCCL_CHECK(
        ncclBroadcast(data, data, count, ToNccl(type), root, comm_.get(), stream_));
    return Wait(what);
  }());
}

Status NcclCommunicator::Barrier() {
  if (!broken_.ok()) {
    return Status::FailedPrecondition(
        "communicator for " + name() +
        " is unusable after an earlier failure: " + broken_.message());
  }
  const std::string what = "nccl barrier #" + std::to_string(++sequence_) + " in " + name();
  auto device = ScopedDevice::Enter(device_);
  if (!device.ok()) return Fail(device.status().WithContext(what));
  return Fail([&]() -> Status {
    PHASESWEEP_NCCL_CHECK(
        ncclAllReduce(scratch_, scratch_, 1, ncclFloat32, ncclSum, comm_.get(), stream_));
    return Wait(what);
  }());
}

}  // namespace phasesweep::collectives
