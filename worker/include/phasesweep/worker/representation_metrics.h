// Probe mathematics: pure functions of tensors that measure what a model has learned —
// norms and cosine stability, representation similarity (CKA), spectral ranks, class
// clustering (silhouette, NC1), the gradient noise scale, sharpness and Fourier sparsity.
//
// These functions know nothing of models, probe schedules or storage: the trainer extracts the
// tensors and calls them. docs/METRICS.md gives each formula exactly as implemented here, what it
// reads and its cost. Conventions shared by every function:
//   - Matrices are [n, d] with rows = examples (n) and columns = features (d).
//   - Inputs may be any floating dtype on any device; everything is computed in float64 on the
//     input's device, under torch::NoGradGuard, on detached copies (except the sharpness
//     functions, which need autograd). Results are doubles, or float64 tensors on the input's
//     device for the Batched* variants (so a trainer can gather K members without K syncs).
//   - Batched* variants take a leading member dimension K ([K, ...] -> [K]) and give, member by
//     member, exactly what the single-matrix function gives.
//   - A value that is mathematically undefined for the input (a zero vector's cosine, CKA of a
//     representation with no variance, ...) is NaN; each function says when. Shape mismatches
//     and other caller bugs throw c10::Error (TORCH_CHECK): validate user input before calling.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace phasesweep::worker {

// A probe value that is undefined (no variance, fewer than two classes, ...) is NaN.
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A representation "has no variance" when centring its columns leaves less than this fraction
// of its Frobenius norm. Rounding in the column means of a constant column leaves ~1e-17 of it,
// not 0, and without this test CKA, the participation ratio, the silhouette or NC1 of such a
// matrix would be a ratio of rounding errors instead of NaN.
inline constexpr double kNoVarianceRelative = 1e-12;

// ---- norms, cosine, relative update ------------------------------------------------------

// <a, b> / (||a|| ||b||) of the flattened tensors (same number of elements). NaN if either is 0.
double Cosine(const torch::Tensor& a, const torch::Tensor& b);
// [K, ...] x [K, ...] -> [K]: the cosine of each member's flattened slice.
torch::Tensor BatchedCosine(const torch::Tensor& a, const torch::Tensor& b);

// sqrt(sum of squares) of all elements.
double FrobeniusNorm(const torch::Tensor& w);
torch::Tensor BatchedFrobeniusNorm(const torch::Tensor& w);  // [K, ...] -> [K]

// sqrt(sum over every tensor of its sum of squares): the global L2 norm of a parameter (or
// gradient) list, as in gradient clipping. An undefined tensor in the list counts as zero.
double GlobalNorm(const std::vector<torch::Tensor>& tensors);
// Each tensor [K, ...] -> [K]: member k's global norm over its slices of every tensor.
torch::Tensor BatchedGlobalNorm(const std::vector<torch::Tensor>& tensors);

// Mean over rows of the row's L2 norm, of a matrix [n, d] (e.g. the embedding's mean token norm).
double MeanRowNorm(const torch::Tensor& w);
torch::Tensor BatchedMeanRowNorm(const torch::Tensor& w);  // [K, n, d] -> [K]

// ||current - previous||_F / ||previous||_F (same shapes). NaN if previous is 0.
double RelativeUpdate(const torch::Tensor& current, const torch::Tensor& previous);
torch::Tensor BatchedRelativeUpdate(const torch::Tensor& current,
                                    const torch::Tensor& previous);  // [K, ...] -> [K]
// Over a whole parameter list (paired by position, same shapes):
// sqrt(sum_i ||current_i - previous_i||^2) / sqrt(sum_i ||previous_i||^2).
double RelativeUpdate(const std::vector<torch::Tensor>& current,
                      const std::vector<torch::Tensor>& previous);
// Each tensor [K, ...] -> [K]: the same, member by member.
torch::Tensor BatchedRelativeUpdate(const std::vector<torch::Tensor>& current,
                                    const std::vector<torch::Tensor>& previous);

// ---- representation similarity -----------------------------------------------------------

enum class CkaEstimator {
  kLinear,    // column-centred linear CKA (Kornblith et al. 2019), the biased HSIC estimator
  kDebiased,  // linear CKA from the unbiased HSIC estimator (Song et al. 2012; needs n >= 4)
};
// "linear" -> kLinear, "debiased" -> kDebiased, anything else -> nullopt.
std::optional<CkaEstimator> CkaEstimatorFromName(std::string_view name);
// "linear" or "debiased".
const char* CkaEstimatorName(CkaEstimator estimator);

// CKA of x [n, dx] and y [n, dy] (same examples in the same row order; dx may differ from dy).
// In [0, 1] for kLinear; the debiased value can be slightly negative. NaN when either input has
// no variance after centring columns (its self-similarity is 0). Requires n >= 2 (kLinear) or
// n >= 4 (kDebiased). Computed in feature space (O(n dx dy + n dx^2 + n dy^2)) or through n x n
// Gram matrices (O(n^2 (dx + dy))), whichever is cheaper; both give the same value.
double Cka(const torch::Tensor& x, const torch::Tensor& y, CkaEstimator estimator);
torch::Tensor BatchedCka(const torch::Tensor& x, const torch::Tensor& y,
                         CkaEstimator estimator);  // [K, n, dx] x [K, n, dy] -> [K]

// ---- spectral ranks (of the raw matrix for effective/stable rank; centred for PR) -----------

// Roy & Vetterli (2007): p_i = s_i / sum_j s_j over the singular values s of x [n, d];
// exp(-sum_i p_i log p_i) (0 log 0 = 0). In [1, min(n, d)]; NaN for the zero matrix.
double EffectiveRank(const torch::Tensor& x);
torch::Tensor BatchedEffectiveRank(const torch::Tensor& x);  // [K, n, d] -> [K]

// sum_i s_i^2 / s_1^2 = ||x||_F^2 / ||x||_2^2 of the raw (uncentred) x. NaN for the zero matrix.
double StableRank(const torch::Tensor& x);
torch::Tensor BatchedStableRank(const torch::Tensor& x);  // [K, n, d] -> [K]

// (sum_i l_i)^2 / sum_i l_i^2 over the eigenvalues l of the column covariance of x [n, d]
// (ddof = 1; the ratio does not depend on ddof). Requires n >= 2. NaN if every column is constant.
double ParticipationRatio(const torch::Tensor& x);
torch::Tensor BatchedParticipationRatio(const torch::Tensor& x);  // [K, n, d] -> [K]

// ---- class clustering ----------------------------------------------------------------------

enum class SilhouetteMetric {
  kEuclidean,  // ||x_i - x_j||
  kCosine,     // 1 - cos(x_i, x_j), clipped to [0, 2]; a zero row has cosine 0 to everything
};

// Mean silhouette coefficient of the rows of x [n, d] grouped by labels (n integers, any
// values), as sklearn.metrics.silhouette_score: a point alone in its cluster scores 0, and so
// does a point whose a and b are both 0. NaN when the number of distinct labels is not in
// [2, n - 1] (where sklearn raises). O(n^2 d).
double Silhouette(const torch::Tensor& x, const torch::Tensor& labels, SilhouetteMetric metric);

// Neural-collapse NC1 (Papyan, Han & Donoho 2020) of the rows of x [n, d] grouped by labels:
//   mu_c = mean of class c,  mu_G = (1/C) sum_c mu_c,
//   Sigma_W = (1/n) sum_i (x_i - mu_{y_i})(x_i - mu_{y_i})^T,
//   Sigma_B = (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)^T,
//   NC1 = tr(Sigma_W Sigma_B^+) / C,
// with the pseudo-inverse over the eigenvalues of Sigma_B above 1e-10 times the largest.
// NaN when there are fewer than 2 classes or all class means coincide. O(n d^2 + d^3).
double Nc1(const torch::Tensor& x, const torch::Tensor& labels);

// ---- optimisation geometry -----------------------------------------------------------------

// McCandlish et al. (2018), appendix A: from squared gradient norms measured at two batch sizes
// b_small < b_big (E|G_B|^2 = |G|^2 + tr(Sigma)/B), unbiased estimates of |G|^2 and tr(Sigma)
// and their ratio, the simple noise scale B_simple = tr(Sigma) / |G|^2.
struct GradientNoiseScale {
  double grad_sq = 0;      // (b_big |G_big|^2 - b_small |G_small|^2) / (b_big - b_small)
  double trace_sigma = 0;  // (|G_small|^2 - |G_big|^2) / (1/b_small - 1/b_big)
  double b_simple = 0;     // trace_sigma / grad_sq; NaN when grad_sq <= 0 (noise dominates)
};
// Requires 0 < b_small < b_big and finite, non-negative squared norms.
GradientNoiseScale EstimateGradientNoiseScale(double small_batch_grad_sq, int64_t b_small,
                                              double big_batch_grad_sq, int64_t b_big);

struct SharpnessOptions {
  int64_t max_iterations = 20;  // Hessian-vector products at most (ProbeSpec::sharpness_iters)
  double tolerance = 1e-3;      // stop when |l_t - l_{t-1}| <= tolerance * |l_t|
  uint64_t seed = 0;            // the start vector is N(0, 1) from a CPU generator with this seed
  // Per-member variant only, optional: member k's start vector is N(0, 1) from its own CPU
  // generator seeded with member_seeds[k] (then `seed` is unused), so each member's estimate
  // does not depend on the other members of its pack.
  std::vector<uint64_t> member_seeds;
};
struct SharpnessEstimate {
  double eigenvalue = 0;   // Rayleigh quotient v^T H v at the last iterate (|v| = 1)
  int64_t iterations = 0;  // Hessian-vector products done
  bool converged = false;  // the tolerance was met before max_iterations
};

// Top Hessian eigenvalue of loss() with respect to params by power iteration on Hessian-vector
// products (double backward through torch::autograd::grad with create_graph). Power iteration
// finds the eigenvalue of largest magnitude, reported with its sign. loss() is called once and
// must return a scalar that depends differentiably on params (which must require grad).
SharpnessEstimate TopHessianEigenvalue(const std::function<torch::Tensor()>& loss,
                                       const std::vector<torch::Tensor>& params,
                                       const SharpnessOptions& options);
// The same for an ensemble: every param is [K, ...] and loss() is a sum of per-member losses, so
// the Hessian is block-diagonal by member; the K power iterations run together (one shared
// Hessian-vector product per iteration, vectors normalised per member) until every member has
// converged or max_iterations is reached. Returns K estimates.
std::vector<SharpnessEstimate> TopHessianEigenvaluePerMember(
    const std::function<torch::Tensor()>& loss, const std::vector<torch::Tensor>& params,
    const SharpnessOptions& options);

// ---- Fourier sparsity (modular arithmetic) ---------------------------------------------------

// Gini coefficient of m >= 1 non-negative values: sum_i sum_j |v_i - v_j| / (2 m sum_i v_i);
// 0 when all are equal, (m - 1) / m when one is non-zero. NaN when they sum to 0.
double Gini(const torch::Tensor& values);

// Norms of an embedding e [p, d] (row x = residue x of Z_p) over the frequencies
// k = 0 .. floor(p/2) of the real orthonormal Fourier basis of Z_p: n_k^2 = sum over the basis
// vectors of frequency k (the constant for k = 0; cos and sin pairs sqrt(2/p) cos(2 pi k x / p),
// sqrt(2/p) sin(2 pi k x / p) for 0 < k < p/2; (-1)^x / sqrt(p) for k = p/2) of the squared
// norm of the projection of e onto them. Returns float64 [floor(p/2) + 1]; sum n_k^2 = ||e||_F^2.
torch::Tensor FourierFrequencyNorms(const torch::Tensor& embedding);
// Gini(FourierFrequencyNorms(e)). A single-frequency embedding scores
// floor(p/2) / (floor(p/2) + 1). Pass only the p residue rows (not '=' or operator tokens).
double FourierGini(const torch::Tensor& embedding);
torch::Tensor BatchedFourierGini(const torch::Tensor& embedding);  // [K, p, d] -> [K]

}  // namespace phasesweep::worker
