// Optimisation geometry: the two-batch gradient noise scale (McCandlish et al. 2018) and
// sharpness, the top Hessian eigenvalue by power iteration on Hessian-vector products.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

#include "phasesweep/worker/representation_metrics.h"

namespace phasesweep::worker {

GradientNoiseScale EstimateGradientNoiseScale(double small_batch_grad_sq, int64_t b_small,
                                              double big_batch_grad_sq, int64_t b_big) {
  TORCH_CHECK(b_small > 0 && b_big > b_small,
              "the gradient noise scale needs batch sizes 0 < b_small < b_big, got ", b_small,
              " and ", b_big);
  TORCH_CHECK(std::isfinite(small_batch_grad_sq) && std::isfinite(big_batch_grad_sq) &&
                  small_batch_grad_sq >= 0 && big_batch_grad_sq >= 0,
              "squared gradient norms must be finite and non-negative, got ", small_batch_grad_sq,
              " and ", big_batch_grad_sq);
  const double bs = static_cast<double>(b_small);
  const double bb = static_cast<double>(b_big);
  GradientNoiseScale g;
  g.grad_sq = (bb * big_batch_grad_sq - bs * small_batch_grad_sq) / (bb - bs);
  g.trace_sigma = (small_batch_grad_sq - big_batch_grad_sq) / (1.0 / bs - 1.0 / bb);
  g.b_simple = g.grad_sq > 0 ? g.trace_sigma / g.grad_sq : std::numeric_limits<double>::quiet_NaN();
  return g;
}

namespace {

// Per-member inner product of two parameter-shaped lists, each tensor viewed as [K, -1]: [K].
torch::Tensor MemberDot(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                        int64_t members) {
  torch::Tensor sum;
  for (size_t i = 0; i < a.size(); ++i) {
    torch::Tensor term =
        (a[i].to(torch::kDouble) * b[i].to(torch::kDouble)).reshape({members, -1}).sum(1);
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

// Scales member k's slice of every tensor by factor[k] ([K] float64).
std::vector<torch::Tensor> ScaleMembers(const std::vector<torch::Tensor>& v,
                                        const torch::Tensor& factor, int64_t members) {
  std::vector<torch::Tensor> out;
  out.reserve(v.size());
  for (const torch::Tensor& t : v) {
    torch::Tensor f = factor.to(t.device(), t.scalar_type());
    std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
    if (t.dim() == 0) {
      out.push_back(t * f.reshape({}));
      continue;
    }
    shape[0] = members;
    out.push_back(t * f.reshape(shape));
  }
  return out;
}

// Power iteration on the Hessian of loss() over `members` independent blocks: every parameter
// is viewed as [members, -1] (members = 1: one block holding everything).
std::vector<SharpnessEstimate> PowerIteration(const std::function<torch::Tensor()>& loss_fn,
                                              const std::vector<torch::Tensor>& params,
                                              const SharpnessOptions& options, int64_t members) {
  TORCH_CHECK(!params.empty(), "sharpness needs at least one parameter");
  TORCH_CHECK(options.max_iterations >= 1, "sharpness needs max_iterations >= 1, got ",
              options.max_iterations);
  TORCH_CHECK(options.tolerance >= 0, "sharpness needs tolerance >= 0, got ", options.tolerance);
  for (const torch::Tensor& p : params) {
    TORCH_CHECK(p.defined() && p.requires_grad() && p.is_floating_point(),
                "sharpness parameters must be floating tensors that require grad");
    TORCH_CHECK(members == 1 || (p.dim() >= 1 && p.size(0) == members),
                "per-member sharpness needs every parameter as [K, ...] with K = ", members,
                ", got ", p.sizes());
  }
  torch::AutoGradMode grad_mode(true);
  torch::Tensor loss = loss_fn();
  TORCH_CHECK(loss.numel() == 1, "sharpness needs a scalar loss, got ", loss.sizes());
  std::vector<torch::Tensor> grads = torch::autograd::grad(
      {loss.reshape({})}, params, {}, /*retain_graph=*/true, /*create_graph=*/true,
      /*allow_unused=*/true);
  // Only gradients that still depend on the parameters have a non-zero Hessian row block.
  std::vector<size_t> active;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].defined() && grads[i].requires_grad()) active.push_back(i);
  }

  std::vector<torch::Tensor> v;
  if (options.member_seeds.empty()) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    for (const torch::Tensor& p : params) {
      torch::Tensor r = torch::randn(p.sizes(), generator, torch::TensorOptions(torch::kDouble));
      v.push_back(r.to(p.device(), p.scalar_type()));
    }
  } else {
    // Member k's start vector from its own generator, parameter after parameter: it depends on
    // the member's seed and the model's shape only, not on K or the member's place in the pack.
    TORCH_CHECK(static_cast<int64_t>(options.member_seeds.size()) == members, "sharpness needs ",
                members, " member seeds, got ", options.member_seeds.size());
    std::vector<std::vector<torch::Tensor>> slices(params.size());
    for (int64_t k = 0; k < members; ++k) {
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
          options.member_seeds[static_cast<size_t>(k)]);
      for (size_t i = 0; i < params.size(); ++i) {
        slices[i].push_back(torch::randn(params[i].sizes().slice(1), generator,
                                         torch::TensorOptions(torch::kDouble)));
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      v.push_back(torch::stack(slices[i]).to(params[i].device(), params[i].scalar_type()));
    }
  }
  v = ScaleMembers(v, 1.0 / MemberDot(v, v, members).sqrt(), members);

  std::vector<SharpnessEstimate> estimates(static_cast<size_t>(members));
  std::vector<double> previous(static_cast<size_t>(members),
                               std::numeric_limits<double>::quiet_NaN());
  if (active.empty()) {  // the loss is at most linear in params: H = 0
    for (SharpnessEstimate& e : estimates) e.converged = true;
    return estimates;
  }
  std::vector<torch::Tensor> outputs;
  std::vector<torch::Tensor> inputs;
  for (size_t i : active) {
    outputs.push_back(grads[i]);
    inputs.push_back(params[i]);
  }
  for (int64_t iteration = 1; iteration <= options.max_iterations; ++iteration) {
    std::vector<torch::Tensor> directions;
    for (size_t i : active) directions.push_back(v[i]);
    std::vector<torch::Tensor> hv_active = torch::autograd::grad(
        outputs, inputs, directions, /*retain_graph=*/true, /*create_graph=*/false,
        /*allow_unused=*/true);
    std::vector<torch::Tensor> hv;
    for (const torch::Tensor& p : params) hv.push_back(torch::zeros_like(p).detach());
    for (size_t j = 0; j < active.size(); ++j) {
      if (hv_active[j].defined()) hv[active[j]] = hv_active[j].detach();
    }
    torch::Tensor rayleigh = MemberDot(v, hv, members).cpu();  // |v_k| = 1
    torch::Tensor hv_norm = MemberDot(hv, hv, members).sqrt();
    torch::Tensor hv_norm_host = hv_norm.cpu();
    bool all_done = true;
    for (int64_t k = 0; k < members; ++k) {
      SharpnessEstimate& e = estimates[static_cast<size_t>(k)];
      if (e.converged) continue;
      const double value = rayleigh[k].item<double>();
      double& prev = previous[static_cast<size_t>(k)];
      e.eigenvalue = value;
      e.iterations = iteration;
      // Hv = 0: v lies in the null space, and 0 is the block's eigenvalue along it.
      e.converged = hv_norm_host[k].item<double>() == 0.0 ||
                    std::abs(value - prev) <= options.tolerance * std::abs(value);
      prev = value;
      all_done = all_done && e.converged;
    }
    if (all_done) break;
    // v <- Hv / |Hv| per member (a member with Hv = 0 has converged; its v no longer matters).
    v = ScaleMembers(hv, torch::where(hv_norm > 0, 1.0 / hv_norm, torch::ones_like(hv_norm)),
                     members);
  }
  return estimates;
}

}  // namespace

SharpnessEstimate TopHessianEigenvalue(const std::function<torch::Tensor()>& loss,
                                       const std::vector<torch::Tensor>& params,
                                       const SharpnessOptions& options) {
  return PowerIteration(loss, params, options, 1).front();
}

std::vector<SharpnessEstimate> TopHessianEigenvaluePerMember(
    const std::function<torch::Tensor()>& loss, const std::vector<torch::Tensor>& params,
    const SharpnessOptions& options) {
  TORCH_CHECK(!params.empty() && params.front().dim() >= 1,
              "per-member sharpness needs parameters shaped [K, ...]");
  return PowerIteration(loss, params, options, params.front().size(0));
}

}  // namespace phasesweep::worker
