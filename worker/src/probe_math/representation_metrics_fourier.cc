// Fourier sparsity of a modular-arithmetic embedding: per-frequency norms over the real Fourier
// basis of Z_p (through one real FFT along the residue axis) and their Gini coefficient.
#include <limits>

#include "phasesweep/worker/representation_metrics.h"

namespace phasesweep::worker {
namespace {

// Gini of each row of [K, m] non-negative float64 values: [K].
torch::Tensor BatchedGiniRows(const torch::Tensor& values) {
  const int64_t m = values.size(1);
  TORCH_CHECK(m >= 1, "Gini needs at least one value");
  torch::Tensor sorted = std::get<0>(values.sort(1));  // ascending
  // sum_ij |v_i - v_j| / (2 m sum v) = sum_i (2i - m - 1) v_(i) / (m sum v), i = 1..m.
  torch::Tensor weights = 2 * torch::arange(1, m + 1, values.options()) - (m + 1);
  torch::Tensor total = values.sum(1);
  torch::Tensor gini = (sorted * weights).sum(1) / (static_cast<double>(m) * total);
  return torch::where(total == 0, torch::full_like(gini, std::numeric_limits<double>::quiet_NaN()),
                      gini);
}

// [K, p, d] -> [K, floor(p/2) + 1] per-frequency norms.
torch::Tensor BatchedFourierFrequencyNorms(const torch::Tensor& embedding) {
  TORCH_CHECK(embedding.dim() == 3, "Fourier norms expect an embedding [K, p, d], got ",
              embedding.sizes());
  TORCH_CHECK(embedding.is_floating_point(), "Fourier norms need a floating tensor, got ",
              embedding.dtype());
  const int64_t p = embedding.size(1);
  TORCH_CHECK(p >= 2, "Fourier norms need p >= 2 residues, got ", p);
  torch::Tensor e = embedding.detach().to(torch::kDouble);
  // X_k = sum_x e_x exp(-2 pi i k x / p). Projections on the orthonormal real basis:
  // cos_k and sin_k coefficients are sqrt(2/p) Re X_k and -sqrt(2/p) Im X_k (0 < k < p/2),
  // so their squared norm is (2/p) |X_k|^2; the constant (k = 0) and, for even p, the
  // alternating vector (k = p/2) are single basis vectors with squared norm (1/p) |X_k|^2.
  torch::Tensor spectrum = torch::fft::rfft(e, p, /*dim=*/1);  // [K, p/2 + 1, d] complex
  torch::Tensor power = torch::view_as_real(spectrum).pow(2).sum({-1, -2});  // [K, p/2 + 1]
  const int64_t frequencies = power.size(1);
  torch::Tensor weight = torch::full({frequencies}, 2.0 / static_cast<double>(p), power.options());
  weight[0].fill_(1.0 / static_cast<double>(p));
  if (p % 2 == 0) weight[frequencies - 1].fill_(1.0 / static_cast<double>(p));
  return (power * weight).sqrt();
}

}  // namespace

double Gini(const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(values.is_floating_point(), "Gini needs a floating tensor, got ", values.dtype());
  torch::Tensor v = values.detach().to(torch::kDouble).reshape({1, -1});
  TORCH_CHECK(v.numel() >= 1, "Gini needs at least one value");
  TORCH_CHECK(v.min().item<double>() >= 0, "Gini needs non-negative values");
  return BatchedGiniRows(v).item<double>();
}

torch::Tensor FourierFrequencyNorms(const torch::Tensor& embedding) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(embedding.dim() == 2, "FourierFrequencyNorms expects an embedding [p, d], got ",
              embedding.sizes());
  return BatchedFourierFrequencyNorms(embedding.unsqueeze(0)).squeeze(0);
}

torch::Tensor BatchedFourierGini(const torch::Tensor& embedding) {
  torch::NoGradGuard no_grad;
  return BatchedGiniRows(BatchedFourierFrequencyNorms(embedding));
}

double FourierGini(const torch::Tensor& embedding) {
  TORCH_CHECK(embedding.dim() == 2, "FourierGini expects an embedding [p, d], got ",
              embedding.sizes());
  return BatchedFourierGini(embedding.unsqueeze(0)).item<double>();
}

}  // namespace phasesweep::worker
