// Generation of the synthetic tasks. Plain integer loops over the counter-based Rng: the data is
// identical on every platform and LibTorch version, and cheap next to training.
#include "phasesweep/worker/tasks.h"

#include <string>

#include "phasesweep/worker/rng.h"

namespace phasesweep::worker {
namespace {

int64_t PowMod(int64_t base, int64_t exp, int64_t mod) {
  int64_t result = 1 % mod;
  base %= mod;
  while (exp > 0) {
    if (exp & 1) result = result * base % mod;
    base = base * base % mod;
    exp >>= 1;
  }
  return result;
}

// Examples as flat row-major vectors, turned into tensors at the end.
struct Examples {
  std::vector<int64_t> tokens;  // n * seq_len
  std::vector<int64_t> labels;  // n
};

torch::Tensor ToTensor(const std::vector<int64_t>& v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kInt64).view(shape).clone();
}

Examples ModularArithmetic(const TaskSpec& task, Rng* rng) {
  const int64_t p = task.p;
  const bool div = task.op == "div";
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t a = 0; a < p; ++a) {
    for (int64_t b = div ? 1 : 0; b < p; ++b) pairs.emplace_back(a, b);
  }
  rng->Shuffle(&pairs);  // the member's split: the first n_train pairs train, the rest test
  Examples ex;
  for (const auto& [a, b] : pairs) {
    int64_t y;
    if (task.op == "add") {
      y = (a + b) % p;
    } else if (task.op == "sub") {
      y = ((a - b) % p + p) % p;
    } else if (task.op == "mul") {
      y = a * b % p;
    } else {
      y = a * PowMod(b, p - 2, p) % p;  // Fermat inverse; p is prime
    }
    ex.tokens.insert(ex.tokens.end(), {a, b, p});  // token p is "="
    ex.labels.push_back(y);
  }
  return ex;
}

Examples SparseParity(const TaskSpec& task, int64_t n, Rng* rng) {
  // The k relevant bits are the member's own, drawn first from its data stream.
  std::vector<int64_t> order = rng->Permutation(task.n_bits);
  std::vector<int64_t> relevant(order.begin(), order.begin() + task.k);
  Examples ex;
  ex.tokens.reserve(static_cast<size_t>(n * task.n_bits));
  for (int64_t i = 0; i < n; ++i) {
    const size_t row = ex.tokens.size();
    uint64_t word = 0;
    for (int64_t j = 0; j < task.n_bits; ++j) {
      if (j % 64 == 0) word = rng->Next();
      ex.tokens.push_back(static_cast<int64_t>((word >> (j % 64)) & 1u));
    }
    int64_t parity = 0;
    for (int64_t r : relevant) parity ^= ex.tokens[row + static_cast<size_t>(r)];
    ex.labels.push_back(parity);
  }
  return ex;
}

Examples InContextCopy(const TaskSpec& task, int64_t n, Rng* rng) {
  // [x_0 .. x_{L-2}, q]: q occurs exactly once before, at position j <= L-3; the label is the
  // token that followed it, x_{j+1} (the pattern induction heads complete).
  const int64_t L = task.seq_len, V = task.vocab;
  Examples ex;
  ex.tokens.reserve(static_cast<size_t>(n * L));
  for (int64_t i = 0; i < n; ++i) {
    const size_t row = ex.tokens.size();
    const int64_t j = static_cast<int64_t>(rng->Below(static_cast<uint64_t>(L - 2)));
    const int64_t q = static_cast<int64_t>(rng->Below(static_cast<uint64_t>(V)));
    for (int64_t t = 0; t < L - 1; ++t) {
      if (t == j) {
        ex.tokens.push_back(q);
      } else {
        int64_t x = static_cast<int64_t>(rng->Below(static_cast<uint64_t>(V - 1)));
        ex.tokens.push_back(x >= q ? x + 1 : x);  // any token but q
      }
    }
    ex.tokens.push_back(q);
    ex.labels.push_back(ex.tokens[row + static_cast<size_t>(j) + 1]);
  }
  return ex;
}

}  // namespace

MemberData MakeMemberData(const TaskSpec& task, uint64_t seed) {
  Result<TaskInfo> described = DescribeTask(task);
  TORCH_CHECK(described.ok(), described.status().message());
  const TaskInfo& info = *described;
  Rng rng(DeriveSeed(seed, kDataStream));
  Examples ex;
  if (task.name == "modular_arithmetic") {
    ex = ModularArithmetic(task, &rng);
  } else if (task.name == "sparse_parity") {
    ex = SparseParity(task, info.n_train + info.n_test, &rng);
  } else {
    ex = InContextCopy(task, info.n_train + info.n_test, &rng);
  }
  const int64_t n = info.n_train + info.n_test, T = info.seq_len;
  TORCH_CHECK(static_cast<int64_t>(ex.labels.size()) == n, "task generated ", ex.labels.size(),
              " examples, expected ", n);
  torch::Tensor tokens = ToTensor(ex.tokens, {n, T});
  torch::Tensor labels = ToTensor(ex.labels, {n});
  MemberData d;
  d.train_tokens = tokens.narrow(0, 0, info.n_train).clone();
  d.train_labels = labels.narrow(0, 0, info.n_train).clone();
  d.test_tokens = tokens.narrow(0, info.n_train, info.n_test).clone();
  d.test_labels = labels.narrow(0, info.n_train, info.n_test).clone();
  if (task.random_labels) {
    Rng label_rng(DeriveSeed(seed, kLabelStream));
    std::vector<int64_t> perm = label_rng.Permutation(info.n_train);
    d.train_labels = d.train_labels.index_select(0, torch::tensor(perm, torch::kInt64));
  }
  return d;
}

Result<PackData> MakePackData(const TaskSpec& task, const std::vector<uint64_t>& seeds,
                              torch::Device device) {
  Result<TaskInfo> info = DescribeTask(task);
  if (!info.ok()) return info.status();
  if (seeds.empty()) return Status::InvalidArgument("pack has no members");
  std::vector<torch::Tensor> trx, try_, tex, tey;
  for (uint64_t seed : seeds) {
    MemberData d = MakeMemberData(task, seed);
    trx.push_back(d.train_tokens);
    try_.push_back(d.train_labels);
    tex.push_back(d.test_tokens);
    tey.push_back(d.test_labels);
  }
  PackData pack;
  pack.info = *info;
  pack.train_tokens = torch::stack(trx).to(device);
  pack.train_labels = torch::stack(try_).to(device);
  pack.test_tokens = torch::stack(tex).to(device);
  pack.test_labels = torch::stack(tey).to(device);
  return pack;
}

}  // namespace phasesweep::worker
