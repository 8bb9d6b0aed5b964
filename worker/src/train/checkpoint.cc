// Checkpoint encoding, atomic writing and validated reading (format in checkpoint.h).
#include "phasesweep/worker/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "phasesweep/base/hash.h"
#include "phasesweep/base/number_format.h"

namespace phasesweep::worker {
namespace {

constexpr char kMagic[8] = {'P', 'S', 'W', 'C', 'K', 'P', 'T', '\n'};
constexpr size_t kHeader = 8 + 4 + 8;  // magic, version, payload size
constexpr size_t kTrailer = 8;         // checksum

// FNV-1a style over 8-byte words (fast enough for tens of MB; detects corruption, not attacks).
uint64_t Checksum(const char* data, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  return h;
}

class Writer {
 public:
  template <typename T>
  void Pod(T v) {
    buf_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void Str(const std::string& s) {
    Pod<uint64_t>(s.size());
    buf_.append(s);
  }
  void Bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  template <typename T>
  bool Pod(T* v) {
    if (n_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t len;
    if (!Pod(&len) || n_ - pos_ < len) return false;
    s->assign(p_ + pos_, len);
    pos_ += len;
    return true;
  }
  bool Bytes(void* dst, size_t len) {
    if (n_ - pos_ < len) return false;
    std::memcpy(dst, p_ + pos_, len);
    pos_ += len;
    return true;
  }
  bool done() const { return pos_ == n_; }

 private:
  const char* p_;
  size_t n_;
  size_t pos_ = 0;
};

// dtype codes of the format (stable; never renumber).
int8_t DtypeCode(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32:
      return 0;
    case torch::kFloat64:
      return 1;
    case torch::kInt64:
      return 2;
    case torch::kBool:
      return 3;
    case torch::kUInt8:
      return 4;
    case torch::kInt32:
      return 5;
    default:
      return -1;
  }
}

bool DtypeFromCode(int8_t c, torch::ScalarType* t) {
  static const torch::ScalarType kTypes[] = {torch::kFloat32, torch::kFloat64, torch::kInt64,
                                             torch::kBool,    torch::kUInt8,   torch::kInt32};
  if (c < 0 || c > 5) return false;
  *t = kTypes[c];
  return true;
}

// The fingerprint's number form since the first checkpoint (changing it would orphan them all).
std::string Num(double v) { return FormatDouble(v, DoubleFormat::kDigits17); }

Status OsError(const std::string& path, const std::string& what) {
  return Status::IOError("checkpoint " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

std::string SpecFingerprint(const PackSpec& s) {
  std::ostringstream o;
  const TaskSpec& t = s.task;
  o << "task " << t.name << ' ' << t.p << ' ' << t.op << ' ' << Num(t.train_fraction) << ' '
    << t.n_bits << ' ' << t.k << ' ' << t.n_train << ' ' << t.n_test << ' ' << t.vocab << ' '
    << t.seq_len << ' ' << t.random_labels << '\n';
  const ModelSpec& m = s.model;
  o << "model " << m.name << ' ' << m.layers << ' ' << m.d_model << ' ' << m.heads << ' ' << m.d_mlp
    << ' ' << m.activation << ' ' << m.layer_norm << ' ' << m.learned_positions << ' '
    << m.tied_unembed << ' ' << m.depth << ' ' << m.width << '\n';
  const OptimizerSpec& op = s.optimizer;
  o << "optimizer " << op.name << ' ' << Num(op.eps) << ' ' << op.schedule << ' ' << op.warmup_steps
    << '\n';
  o << "training " << s.training.steps << ' ' << s.training.batch_size << '\n';
  const ProbeSpec& p = s.probes;
  o << "probes";
  for (const std::string& n : p.metrics) o << ' ' << n;
  o << " | " << p.schedule << ' ' << p.every << ' ' << p.count << ' ' << p.batch << ' ' << p.cka
    << ' ' << p.representation << ' ' << p.snapshot_every << ' ' << p.sharpness_iters << ' '
    << Num(p.sharpness_tol) << '\n';
  for (const MemberSpec& mem : s.members) {
    const MemberOptimizerScalars& c = mem.scalars;
    o << "member " << mem.job_id << ' ' << mem.seed << ' ' << Num(c.lr) << ' '
      << Num(c.weight_decay) << ' ' << Num(c.beta1) << ' ' << Num(c.beta2) << ' ' << Num(c.momentum)
      << ' ' << Num(c.grad_clip) << '\n';
  }
  return HexDigest64(o.str());
}

Status WriteCheckpoint(const std::string& path, const CheckpointData& d) {
  Writer w;
  w.Bytes(kMagic, 8);
  w.Pod<uint32_t>(kCheckpointVersion);
  w.Pod<uint64_t>(0);  // payload size, patched below
  w.Str(d.fingerprint);
  for (int64_t v : {d.step, d.total_steps, d.members, d.epoch, d.batch_in_epoch}) w.Pod(v);
  TORCH_CHECK(static_cast<int64_t>(d.diverged_at.size()) == d.members &&
                  static_cast<int64_t>(d.traces.size()) == d.members,
              "checkpoint: one status and one trace per member");
  for (int64_t v : d.diverged_at) w.Pod(v);
  w.Pod<uint64_t>(d.tensors.size());
  for (const auto& [name, tensor] : d.tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const int8_t code = DtypeCode(t.scalar_type());
    TORCH_CHECK(code >= 0, "checkpoint: unsupported dtype for tensor ", name);
    w.Str(name);
    w.Pod(code);
    w.Pod<uint32_t>(static_cast<uint32_t>(t.dim()));
    for (int64_t s : t.sizes()) w.Pod(s);
    w.Bytes(t.data_ptr(), t.numel() * t.element_size());
  }
  for (const Trace& tr : d.traces) {
    w.Pod<uint64_t>(tr.steps.size());
    for (int64_t s : tr.steps) w.Pod(s);
    w.Pod<uint64_t>(tr.metrics.size());
    for (const auto& [name, values] : tr.metrics) {
      TORCH_CHECK(values.size() == tr.steps.size(), "checkpoint: trace ", name, " length");
      w.Str(name);
      w.Bytes(values.data(), values.size() * sizeof(double));
    }
  }
  std::string& buf = w.buf();
  const uint64_t payload = buf.size() - kHeader;
  std::memcpy(&buf[12], &payload, 8);
  const uint64_t sum = Checksum(buf.data(), buf.size());
  w.Pod(sum);

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return OsError(path, "cannot create " + tmp);
  size_t off = 0;
  while (off < buf.size()) {
    const ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = OsError(path, "cannot write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = OsError(path, "fsync of " + tmp + " failed");
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = OsError(path, "cannot rename " + tmp + " over it");
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<CheckpointData> ReadCheckpoint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("checkpoint " + path + ": no such file");
    return OsError(path, "cannot stat");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return OsError(path, "cannot open");
  std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return OsError(path, "read failed");
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("checkpoint " + path + ": " + what +
                              "; delete it to restart this pack from scratch");
  };
  if (buf.size() < 8 || std::memcmp(buf.data(), kMagic, 8) != 0) {
    if (buf.size() < 8 && std::memcmp(buf.data(), kMagic, buf.size()) == 0) {
      return corrupt("truncated (" + std::to_string(buf.size()) + " bytes)");
    }
    return corrupt("not a phasesweep checkpoint (bad magic number)");
  }
  if (buf.size() < kHeader + kTrailer) {
    return corrupt("truncated (" + std::to_string(buf.size()) + " bytes)");
  }
  uint32_t version;
  uint64_t payload;
  std::memcpy(&version, buf.data() + 8, 4);
  std::memcpy(&payload, buf.data() + 12, 8);
  if (version != kCheckpointVersion) {
    return Status::FailedPrecondition(
        "checkpoint " + path + ": format version " + std::to_string(version) +
        ", but this build reads version " + std::to_string(kCheckpointVersion) +
        "; resume with the phasesweep that wrote it, or delete it to restart the pack");
  }
  if (buf.size() != kHeader + payload + kTrailer) {
    return corrupt("truncated or padded (" + std::to_string(buf.size()) + " bytes, header says " +
                   std::to_string(kHeader + payload + kTrailer) + ")");
  }
  uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - kTrailer, 8);
  if (stored != Checksum(buf.data(), buf.size() - kTrailer)) {
    return corrupt("checksum mismatch (the file is corrupted)");
  }

  Reader r(buf.data() + kHeader, payload);
  CheckpointData d;
  const auto malformed = corrupt("malformed payload");
  if (!r.Str(&d.fingerprint)) return malformed;
  for (int64_t* v : {&d.step, &d.total_steps, &d.members, &d.epoch, &d.batch_in_epoch}) {
    if (!r.Pod(v)) return malformed;
  }
  if (d.members < 1 || d.members > (1 << 20) || d.step < 0 || d.step > d.total_steps) {
    return malformed;
  }
  d.diverged_at.resize(static_cast<size_t>(d.members));
  for (int64_t& v : d.diverged_at) {
    if (!r.Pod(&v)) return malformed;
  }
  uint64_t n_tensors;
  if (!r.Pod(&n_tensors)) return malformed;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string name;
    int8_t code;
    uint32_t ndim;
    torch::ScalarType dtype;
    if (!r.Str(&name) || !r.Pod(&code) || !DtypeFromCode(code, &dtype) || !r.Pod(&ndim) ||
        ndim > 16) {
      return malformed;
    }
    std::vector<int64_t> sizes(ndim);
    for (int64_t& s : sizes) {
      if (!r.Pod(&s) || s < 0 || s > (int64_t{1} << 40)) return malformed;
    }
    torch::Tensor t = torch::empty(sizes, torch::TensorOptions().dtype(dtype));
    if (!r.Bytes(t.data_ptr(), t.numel() * t.element_size())) return malformed;
    d.tensors[name] = t;
  }
  d.traces.resize(static_cast<size_t>(d.members));
  for (Trace& tr : d.traces) {
    uint64_t n_steps, n_metrics;
    if (!r.Pod(&n_steps) || n_steps > payload / 8) return malformed;
    tr.steps.resize(n_steps);
    for (int64_t& s : tr.steps) {
      if (!r.Pod(&s)) return malformed;
    }
    if (!r.Pod(&n_metrics) || n_metrics > payload) return malformed;
    for (uint64_t i = 0; i < n_metrics; ++i) {
      std::string name;
      if (!r.Str(&name)) return malformed;
      std::vector<double>& v = tr.metrics[name];
      v.resize(n_steps);
      if (!r.Bytes(v.data(), n_steps * sizeof(double))) return malformed;
    }
  }
  if (!r.done()) return malformed;
  return d;
}

}  // namespace phasesweep::worker
