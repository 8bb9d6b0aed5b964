// Norms, cosine, relative update, linear / debiased CKA and the spectral ranks.
//
// Every function is written once, batched over a leading member dimension K; the single-matrix
// forms add K = 1 and read the one value back. docs/METRICS.md states each formula.
#include "phasesweep/worker/representation_metrics.h"

#include <cmath>
#include <limits>

namespace phasesweep::worker {
namespace {

torch::Tensor AsDouble(const torch::Tensor& t) {
  TORCH_CHECK(t.defined(), "probe input tensor is undefined");
  TORCH_CHECK(t.is_floating_point(), "probe input must be a floating tensor, got ", t.dtype());
  return t.detach().to(torch::kDouble);
}

// [K, ...] -> [K, m] in float64.
torch::Tensor MembersFlat(const torch::Tensor& t) {
  TORCH_CHECK(t.dim() >= 1, "batched probe input needs a leading member dimension, got a scalar");
  return AsDouble(t).reshape({t.size(0), -1});
}

torch::Tensor NanWhere(const torch::Tensor& undefined, const torch::Tensor& value) {
  return torch::where(undefined, torch::full_like(value, kNaN), value);
}

void CheckBatchedMatrix(const torch::Tensor& x, const char* what) {
  TORCH_CHECK(x.dim() == 3, what, " expects [K, n, d], got ", x.sizes());
}

// Column-centres [K, n, d] and returns it with a [K] mask of members that have no variance.
std::pair<torch::Tensor, torch::Tensor> CentreColumns(const torch::Tensor& x) {
  torch::Tensor centred = x - x.mean(1, /*keepdim=*/true);
  torch::Tensor raw_norm = x.pow(2).sum({1, 2}).sqrt();
  torch::Tensor centred_norm = centred.pow(2).sum({1, 2}).sqrt();
  return {centred, centred_norm <= kNoVarianceRelative * raw_norm};
}

// <a, b>_F per member of [K, r, c] tensors.
torch::Tensor FrobeniusDot(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum({1, 2});
}

// Kornblith et al.'s unbiased centring of a Gram matrix [K, n, n] (zero diagonal, then remove
// row/column means with the U-statistic corrections); <centred Kx, centred Ky> is proportional
// (factor n (n - 3)) to the unbiased HSIC estimator of Song et al. (2012).
torch::Tensor UnbiasedCentreGram(torch::Tensor gram) {
  const int64_t n = gram.size(1);
  torch::Tensor off_diagonal = 1 - torch::eye(n, gram.options());
  gram = gram * off_diagonal;
  torch::Tensor means = gram.sum(1) / static_cast<double>(n - 2);  // [K, n]
  means = means - means.sum(1, /*keepdim=*/true) / (2.0 * static_cast<double>(n - 1));
  gram = gram - means.unsqueeze(2) - means.unsqueeze(1);
  return gram * off_diagonal;
}

// Kornblith et al.'s feature-space form of the same debiased quantity, from x^T y's squared norm.
torch::Tensor DebiasedFeatureHsic(const torch::Tensor& xty_sq, const torch::Tensor& rows_x,
                                  const torch::Tensor& rows_y, double n) {
  torch::Tensor norm_x = rows_x.sum(1);
  torch::Tensor norm_y = rows_y.sum(1);
  return xty_sq - n / (n - 2) * (rows_x * rows_y).sum(1) + norm_x * norm_y / ((n - 1) * (n - 2));
}

}  // namespace

// ---- norms, cosine, relative update ------------------------------------------------------

torch::Tensor BatchedCosine(const torch::Tensor& a, const torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(a.dim() >= 1 && b.dim() >= 1 && a.size(0) == b.size(0) && a.numel() == b.numel(),
              "BatchedCosine needs [K, ...] tensors of equal size, got ", a.sizes(), " and ",
              b.sizes());
  torch::Tensor fa = MembersFlat(a);
  torch::Tensor fb = MembersFlat(b);
  // sqrt(|a|^2 |b|^2) rather than |a| |b|, so that the cosine of a with itself is exactly 1.
  torch::Tensor cosine = (fa * fb).sum(1) / (fa.pow(2).sum(1) * fb.pow(2).sum(1)).sqrt();
  return cosine.clamp(-1.0, 1.0);  // NaN (0 / 0) survives clamp
}

double Cosine(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.numel() == b.numel(), "Cosine needs tensors with as many elements, got ", a.sizes(),
              " and ", b.sizes());
  return BatchedCosine(a.reshape({1, -1}), b.reshape({1, -1})).item<double>();
}

torch::Tensor BatchedFrobeniusNorm(const torch::Tensor& w) {
  torch::NoGradGuard no_grad;
  return MembersFlat(w).pow(2).sum(1).sqrt();
}

double FrobeniusNorm(const torch::Tensor& w) {
  return BatchedFrobeniusNorm(w.reshape({1, -1})).item<double>();
}

torch::Tensor BatchedGlobalNorm(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum_sq;
  for (const torch::Tensor& t : tensors) {
    if (!t.defined()) continue;
    torch::Tensor sq = MembersFlat(t).pow(2).sum(1);
    TORCH_CHECK(!sum_sq.defined() || sq.size(0) == sum_sq.size(0),
                "BatchedGlobalNorm: tensors disagree on the member count K: ", sq.size(0), " vs ",
                sum_sq.size(0));
    sum_sq = sum_sq.defined() ? sum_sq + sq : sq;
  }
  TORCH_CHECK(sum_sq.defined(), "BatchedGlobalNorm needs at least one defined tensor");
  return sum_sq.sqrt();
}

double GlobalNorm(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  double sum_sq = 0;
  for (const torch::Tensor& t : tensors) {
    if (t.defined()) sum_sq += AsDouble(t).pow(2).sum().item<double>();
  }
  return std::sqrt(sum_sq);
}

torch::Tensor BatchedMeanRowNorm(const torch::Tensor& w) {
  torch::NoGradGuard no_grad;
  CheckBatchedMatrix(w, "BatchedMeanRowNorm");
  return AsDouble(w).pow(2).sum(2).sqrt().mean(1);
}

double MeanRowNorm(const torch::Tensor& w) {
  TORCH_CHECK(w.dim() == 2, "MeanRowNorm expects a matrix [n, d], got ", w.sizes());
  return BatchedMeanRowNorm(w.unsqueeze(0)).item<double>();
}

torch::Tensor BatchedRelativeUpdate(const std::vector<torch::Tensor>& current,
                                    const std::vector<torch::Tensor>& previous) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(current.size() == previous.size() && !current.empty(),
              "RelativeUpdate needs two non-empty parameter lists of equal length, got ",
              current.size(), " and ", previous.size());
  torch::Tensor change_sq;
  torch::Tensor previous_sq;
  for (size_t i = 0; i < current.size(); ++i) {
    TORCH_CHECK(current[i].sizes() == previous[i].sizes(), "RelativeUpdate: tensor ", i,
                " changed shape from ", previous[i].sizes(), " to ", current[i].sizes());
    torch::Tensor prev = MembersFlat(previous[i]);
    torch::Tensor delta = MembersFlat(current[i]) - prev;
    torch::Tensor c = delta.pow(2).sum(1);
    torch::Tensor p = prev.pow(2).sum(1);
    change_sq = change_sq.defined() ? change_sq + c : c;
    previous_sq = previous_sq.defined() ? previous_sq + p : p;
  }
  return NanWhere(previous_sq == 0, (change_sq / previous_sq).sqrt());
}

torch::Tensor BatchedRelativeUpdate(const torch::Tensor& current, const torch::Tensor& previous) {
  return BatchedRelativeUpdate(std::vector<torch::Tensor>{current},
                               std::vector<torch::Tensor>{previous});
}

double RelativeUpdate(const std::vector<torch::Tensor>& current,
                      const std::vector<torch::Tensor>& previous) {
  TORCH_CHECK(current.size() == previous.size(), "RelativeUpdate needs lists of equal length, got ",
              current.size(), " and ", previous.size());
  std::vector<torch::Tensor> c;
  std::vector<torch::Tensor> p;
  for (size_t i = 0; i < current.size(); ++i) {
    TORCH_CHECK(current[i].sizes() == previous[i].sizes(), "RelativeUpdate: tensor ", i,
                " changed shape from ", previous[i].sizes(), " to ", current[i].sizes());
    c.push_back(current[i].reshape({1, -1}));  // one member holding the whole tensor
    p.push_back(previous[i].reshape({1, -1}));
  }
  return BatchedRelativeUpdate(c, p).item<double>();
}

double RelativeUpdate(const torch::Tensor& current, const torch::Tensor& previous) {
  return RelativeUpdate(std::vector<torch::Tensor>{current}, std::vector<torch::Tensor>{previous});
}

// ---- CKA ------------------------------------------------------------------------------------

std::optional<CkaEstimator> CkaEstimatorFromName(std::string_view name) {
  if (name == "linear") return CkaEstimator::kLinear;
  if (name == "debiased") return CkaEstimator::kDebiased;
  return std::nullopt;
}

const char* CkaEstimatorName(CkaEstimator estimator) {
  return estimator == CkaEstimator::kLinear ? "linear" : "debiased";
}

torch::Tensor BatchedCka(const torch::Tensor& x_in, const torch::Tensor& y_in,
                         CkaEstimator estimator) {
  torch::NoGradGuard no_grad;
  CheckBatchedMatrix(x_in, "BatchedCka");
  CheckBatchedMatrix(y_in, "BatchedCka");
  TORCH_CHECK(x_in.size(0) == y_in.size(0) && x_in.size(1) == y_in.size(1),
              "CKA compares the same examples: x and y need equal K and n, got ", x_in.sizes(),
              " and ", y_in.sizes());
  const int64_t n = x_in.size(1);
  const bool debiased = estimator == CkaEstimator::kDebiased;
  TORCH_CHECK(n >= (debiased ? 4 : 2), CkaEstimatorName(estimator), " CKA needs at least ",
              debiased ? 4 : 2, " examples (rows), got ", n);
  auto [x, x_constant] = CentreColumns(AsDouble(x_in));
  auto [y, y_constant] = CentreColumns(AsDouble(y_in));
  const double dx = static_cast<double>(x.size(2));
  const double dy = static_cast<double>(y.size(2));
  const double nd = static_cast<double>(n);

  torch::Tensor xy, xx, yy;  // HSIC-proportional similarities
  if (nd * (dx + dy) < dx * dy + dx * dx + dy * dy) {
    // Gram form: n x n matrices are smaller than the d x d cross products.
    torch::Tensor kx = torch::bmm(x, x.transpose(1, 2));
    torch::Tensor ky = torch::bmm(y, y.transpose(1, 2));
    if (debiased) {
      kx = UnbiasedCentreGram(kx);
      ky = UnbiasedCentreGram(ky);
    }
    xy = FrobeniusDot(kx, ky);
    xx = FrobeniusDot(kx, kx);
    yy = FrobeniusDot(ky, ky);
  } else {
    torch::Tensor xty = torch::bmm(x.transpose(1, 2), y);
    torch::Tensor xtx = torch::bmm(x.transpose(1, 2), x);
    torch::Tensor yty = torch::bmm(y.transpose(1, 2), y);
    xy = FrobeniusDot(xty, xty);
    xx = FrobeniusDot(xtx, xtx);
    yy = FrobeniusDot(yty, yty);
    if (debiased) {
      torch::Tensor rows_x = x.pow(2).sum(2);
      torch::Tensor rows_y = y.pow(2).sum(2);
      xy = DebiasedFeatureHsic(xy, rows_x, rows_y, nd);
      xx = DebiasedFeatureHsic(xx, rows_x, rows_x, nd);
      yy = DebiasedFeatureHsic(yy, rows_y, rows_y, nd);
    }
  }
  return NanWhere(x_constant | y_constant, xy / (xx * yy).sqrt());
}

double Cka(const torch::Tensor& x, const torch::Tensor& y, CkaEstimator estimator) {
  TORCH_CHECK(x.dim() == 2 && y.dim() == 2, "Cka expects matrices [n, d], got ", x.sizes(), " and ",
              y.sizes());
  return BatchedCka(x.unsqueeze(0), y.unsqueeze(0), estimator).item<double>();
}

// ---- spectral ranks ------------------------------------------------------------------------

torch::Tensor BatchedEffectiveRank(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  CheckBatchedMatrix(x, "BatchedEffectiveRank");
  torch::Tensor s = torch::linalg_svdvals(AsDouble(x));  // [K, min(n, d)]
  torch::Tensor p = s / s.sum(1, /*keepdim=*/true);      // NaN for the zero matrix
  return (-torch::xlogy(p, p).sum(1)).exp();
}

double EffectiveRank(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "EffectiveRank expects a matrix [n, d], got ", x.sizes());
  return BatchedEffectiveRank(x.unsqueeze(0)).item<double>();
}

torch::Tensor BatchedStableRank(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  CheckBatchedMatrix(x, "BatchedStableRank");
  torch::Tensor s = torch::linalg_svdvals(AsDouble(x));  // descending
  return s.pow(2).sum(1) / s.select(1, 0).pow(2);        // 0 / 0 = NaN for the zero matrix
}

double StableRank(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "StableRank expects a matrix [n, d], got ", x.sizes());
  return BatchedStableRank(x.unsqueeze(0)).item<double>();
}

torch::Tensor BatchedParticipationRatio(const torch::Tensor& x_in) {
  torch::NoGradGuard no_grad;
  CheckBatchedMatrix(x_in, "BatchedParticipationRatio");
  TORCH_CHECK(x_in.size(1) >= 2, "the participation ratio needs at least 2 examples (rows), got ",
              x_in.size(1));
  auto [x, constant] = CentreColumns(AsDouble(x_in));
  // With C = x^T x / (n - 1): sum l = tr C and sum l^2 = ||C||_F^2, so no eigendecomposition is
  // needed, and the 1 / (n - 1) cancels. x x^T has the same non-zero spectrum as x^T x.
  torch::Tensor trace = x.pow(2).sum({1, 2});
  torch::Tensor gram =
      x.size(1) < x.size(2) ? torch::bmm(x, x.transpose(1, 2)) : torch::bmm(x.transpose(1, 2), x);
  return NanWhere(constant, trace.pow(2) / FrobeniusDot(gram, gram));
}

double ParticipationRatio(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "ParticipationRatio expects a matrix [n, d], got ", x.sizes());
  return BatchedParticipationRatio(x.unsqueeze(0)).item<double>();
}

}  // namespace phasesweep::worker
