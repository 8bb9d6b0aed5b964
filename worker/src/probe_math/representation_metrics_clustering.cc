// Class-conditional clustering of representations: silhouette (as scikit-learn) and NC1
// (Papyan et al. 2020). Labels are encoded to 0..C-1 on the host; the O(n^2) and O(n d^2) work
// stays on the representation's device.
#include <cmath>
#include <limits>
#include <map>

#include "phasesweep/worker/representation_metrics.h"

namespace phasesweep::worker {
namespace {

// Sigma_B's pseudo-inverse keeps eigenvalues above this fraction of the largest one.
constexpr double kPinvRelativeCutoff = 1e-10;

struct EncodedLabels {
  torch::Tensor index;   // [n] int64 in 0..C-1, on the representation's device
  torch::Tensor onehot;  // [n, C] float64
  torch::Tensor counts;  // [C] float64
  int64_t classes = 0;
};

EncodedLabels EncodeLabels(const torch::Tensor& labels, const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "expected a representation matrix [n, d], got ", x.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == x.size(0),
              "expected one label per row: labels ", labels.sizes(), " for x ", x.sizes());
  TORCH_CHECK(!labels.is_floating_point() && !labels.is_complex(),
              "labels must be an integer tensor, got ", labels.dtype());
  torch::Tensor host = labels.detach().to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* values = host.data_ptr<int64_t>();
  std::map<int64_t, int64_t> code;  // sorted, like sklearn's LabelEncoder
  for (int64_t i = 0; i < host.numel(); ++i) code.emplace(values[i], 0);
  int64_t next = 0;
  for (auto& [label, c] : code) c = next++;
  torch::Tensor index = torch::empty({host.numel()}, torch::kLong);
  int64_t* out = index.data_ptr<int64_t>();
  for (int64_t i = 0; i < host.numel(); ++i) out[i] = code[values[i]];

  EncodedLabels encoded;
  encoded.classes = next;
  encoded.index = index.to(x.device());
  auto options = torch::TensorOptions().dtype(torch::kDouble).device(x.device());
  encoded.onehot =
      torch::zeros({host.numel(), next}, options).scatter_(1, encoded.index.unsqueeze(1), 1.0);
  encoded.counts = encoded.onehot.sum(0);
  return encoded;
}

}  // namespace

double Silhouette(const torch::Tensor& x_in, const torch::Tensor& labels, SilhouetteMetric metric) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(x_in.is_floating_point(), "Silhouette needs a floating tensor, got ", x_in.dtype());
  torch::Tensor x = x_in.detach().to(torch::kDouble);
  const EncodedLabels enc = EncodeLabels(labels, x);
  const int64_t n = x.size(0);
  if (enc.classes < 2 || enc.classes > n - 1) return kNaN;

  torch::Tensor distance;
  if (metric == SilhouetteMetric::kEuclidean) {
    // compute_mode 2 = "donot_use_mm_for_euclid_dist": exact differences, not |a|^2 + |b|^2 - 2ab.
    distance = torch::cdist(x, x, 2.0, /*compute_mode=*/2);
  } else {
    torch::Tensor norms = x.pow(2).sum(1, /*keepdim=*/true).sqrt();
    torch::Tensor unit = x / torch::where(norms == 0, torch::ones_like(norms), norms);
    distance = (1.0 - torch::mm(unit, unit.t())).clamp(0.0, 2.0);
    // A point's distance to itself is 0, also for a zero row (see docs/METRICS.md).
    distance.fill_diagonal_(0.0);
  }
  torch::Tensor to_cluster = torch::mm(distance, enc.onehot);  // [n, C] sums of distances
  torch::Tensor own_count = enc.counts.index_select(0, enc.index);
  torch::Tensor own_sum = to_cluster.gather(1, enc.index.unsqueeze(1)).squeeze(1);
  torch::Tensor a = own_sum / (own_count - 1);  // NaN for a singleton: replaced by 0 below
  torch::Tensor mean_to_cluster = to_cluster / enc.counts;
  mean_to_cluster.scatter_(1, enc.index.unsqueeze(1), std::numeric_limits<double>::infinity());
  torch::Tensor b = std::get<0>(mean_to_cluster.min(1));
  torch::Tensor larger = torch::maximum(a, b);
  torch::Tensor s = (b - a) / larger;
  s = torch::where((own_count == 1) | (larger == 0), torch::zeros_like(s), s);
  return s.mean().item<double>();
}

double Nc1(const torch::Tensor& x_in, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(x_in.is_floating_point(), "Nc1 needs a floating tensor, got ", x_in.dtype());
  torch::Tensor x = x_in.detach().to(torch::kDouble);
  const EncodedLabels enc = EncodeLabels(labels, x);
  const int64_t n = x.size(0);
  const int64_t c = enc.classes;
  if (c < 2) return kNaN;

  torch::Tensor means = torch::mm(enc.onehot.t(), x) / enc.counts.unsqueeze(1);  // [C, d]
  torch::Tensor global_mean = means.mean(0, /*keepdim=*/true);
  torch::Tensor within = x - means.index_select(0, enc.index);
  torch::Tensor sigma_w = torch::mm(within.t(), within) / static_cast<double>(n);
  torch::Tensor between = means - global_mean;
  const double between_norm = between.pow(2).sum().sqrt().item<double>();
  const double means_norm = means.pow(2).sum().sqrt().item<double>();
  if (!(between_norm > kNoVarianceRelative * means_norm)) return kNaN;  // all means coincide
  torch::Tensor sigma_b = torch::mm(between.t(), between) / static_cast<double>(c);

  auto [eigenvalues, eigenvectors] = torch::linalg_eigh(sigma_b);  // ascending
  const double largest = eigenvalues.max().item<double>();
  torch::Tensor keep = eigenvalues > kPinvRelativeCutoff * largest;
  // tr(Sigma_W Sigma_B^+) = sum over kept eigenpairs of v^T Sigma_W v / lambda.
  torch::Tensor quad = (eigenvectors * torch::mm(sigma_w, eigenvectors)).sum(0);
  torch::Tensor safe = torch::where(keep, eigenvalues, torch::ones_like(eigenvalues));
  torch::Tensor terms = torch::where(keep, quad / safe, torch::zeros_like(quad));
  return terms.sum().item<double>() / static_cast<double>(c);
}

}  // namespace phasesweep::worker
