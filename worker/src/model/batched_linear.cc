// BatchedLinear (see batched_linear.h): per-member products behind a custom autograd function.
#include "model/batched_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

#include "kernels/row_kernels.h"
#include "kernels/small_gemm.h"
#include "phasesweep/worker/kernel_policy.h"

#if defined(PHASESWEEP_WORKER_CBLAS)
#include <cblas.h>
#endif

namespace phasesweep::worker {
namespace {

torch::Tensor Reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::baddbmm(b, x, w) : torch::bmm(x, w);
}

#if defined(PHASESWEEP_WORKER_CBLAS)
// Row-major C[m x n] = op(A) op(B) + beta C.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
#endif

// Runs fn(k0, k1) over the members, in parallel only when there is enough work to pay for a
// parallel region (about 2^21 multiply-adds): small packs stay on the calling thread, which
// matters on busy machines where waking a second thread costs more than the work.
template <typename F>
void ForMembers(int64_t K, int64_t work, const F& fn) {
  if (work < (int64_t{1} << 21) || K < 2) {
    fn(0, K);
  } else {
    at::parallel_for(0, K, 1, fn);
  }
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// y = x w + b per member (relu applied when `relu`). x, w contiguous float32 CPU; b contiguous
// float32 CPU, or empty for no bias.
torch::Tensor LinearForward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool relu) {
  const int64_t K = x.size(0), M = x.size(1), I = x.size(2), O = w.size(2);
  torch::Tensor y = torch::empty({K, M, O}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const float* bp = b.numel() > 0 ? b.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  // With the kernels a row's result does not depend on the rows around it, so the ReLU runs on
  // blocks of rows while they are in cache; the BLAS gets the whole product. Blocks are a
  // multiple of the kernels' eight rows in flight: a block's leftover rows run in smaller,
  // slower tiles (at O = 192, blocks of 85 rows had left 5 of every 85).
  const int64_t rows = relu && detail::MemberProductUsesKernels(M, I, O)
                           ? std::max<int64_t>(8, (int64_t{1} << 14) / O / 8 * 8)
                           : M;
  ForMembers(K, K * M * I * O, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t m0 = 0; m0 < M; m0 += rows) {
        const int64_t m = std::min(rows, M - m0);
        float* yk = yp + (k * M + m0) * O;
        detail::MemberLinearForward(m, I, O, xp + (k * M + m0) * I, wp + k * I * O,
                                    bp != nullptr ? bp + k * O : nullptr, yk);
        if (relu) kernels::ReluInPlace(m * O, yk);  // as torch::relu (row_kernels.h)
      }
    }
  });
  return y;
}

// The gradients of x w + b along g (contiguous) for the inputs flagged in `need`.
tensor_list LinearBackward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& g,
                           bool need_x, bool need_w, bool need_b) {
  const int64_t K = x.size(0), M = x.size(1), I = x.size(2), O = w.size(2);
  torch::Tensor gx = need_x ? torch::empty_like(x) : torch::Tensor();
  torch::Tensor gw = need_w ? torch::empty_like(w) : torch::Tensor();
  torch::Tensor gb = need_b ? torch::empty({K, 1, O}, g.options()) : torch::Tensor();
  const float* gp = g.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  ForMembers(K, 2 * K * M * I * O, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const float* gk = gp + k * M * O;
      if (need_x) {
        detail::MemberLinearInputGrad(M, I, O, gk, wp + k * I * O,
                                      gx.data_ptr<float>() + k * M * I);
      }
      if (need_w) {
        detail::MemberLinearWeightGrad(M, I, O, xp + k * M * I, gk,
                                       gw.data_ptr<float>() + k * I * O);
      }
      if (need_b) kernels::LinearBiasGrad(M, O, gk, gb.data_ptr<float>() + k * O);
    }
  });
  return {gx, gw, gb};
}

// Differentiable gradients of x w + b along g, for a double backward.
tensor_list DifferentiableLinearBackward(const torch::Tensor& x, const torch::Tensor& w,
                                         const torch::Tensor& g, bool need_x, bool need_w,
                                         bool need_b) {
  return {need_x ? torch::bmm(g, w.transpose(1, 2)) : torch::Tensor(),
          need_w ? torch::bmm(x.transpose(1, 2), g) : torch::Tensor(),
          need_b ? g.sum(1, true) : torch::Tensor()};
}

class BatchedLinearFn : public torch::autograd::Function<BatchedLinearFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    return LinearForward(x, w, b, /*relu=*/false);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    torch::Tensor g = grads[0].contiguous();
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1),
               need_b = ctx->needs_input_grad(2);
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: use differentiable operations.
      return DifferentiableLinearBackward(saved[0], saved[1], g, need_x, need_w, need_b);
    }
    return LinearBackward(saved[0], saved[1], g, need_x, need_w, need_b);
  }
};

// relu(x w + b): the product, then the ReLU in place; backward masks the gradient where the
// output is not positive (torch's threshold_backward) and continues as BatchedLinearFn.
class BatchedLinearReluFn : public torch::autograd::Function<BatchedLinearReluFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    torch::Tensor y = LinearForward(x, w, b, /*relu=*/true);
    ctx->save_for_backward({x, w, y});
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &y = saved[2];
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1),
               need_b = ctx->needs_input_grad(2);
    if (torch::GradMode::is_enabled()) {
      // A double backward: the operations autograd records for torch::relu, then as
      // BatchedLinearFn.
      return DifferentiableLinearBackward(x, w, torch::threshold_backward(grads[0], y, 0), need_x,
                                          need_w, need_b);
    }
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gm = torch::empty_like(y);
    kernels::ReluBackward(y.numel(), y.data_ptr<float>(), g.data_ptr<float>(),
                          gm.data_ptr<float>());
    return LinearBackward(x, w, gm, need_x, need_w, need_b);
  }
};

}  // namespace

namespace detail {

bool MemberProductUsesKernels(int64_t M, int64_t I, int64_t O) {
#if defined(PHASESWEEP_WORKER_CBLAS)
  // A product big enough for a parallel region (2^21 multiply-adds) keeps the BLAS when there
  // are intra-op threads: the kernels run one product on one thread. (Whatever the pack size:
  // a member's arithmetic must not depend on K.)
  if (M * I * O > (int64_t{1} << 21) && at::get_num_threads() > 1) return false;
  return kernels::SmallGemmPreferred(I, O);
#else
  (void)M, (void)I, (void)O;
  return true;
#endif
}

void MemberLinearForward(int64_t M, int64_t I, int64_t O, const float* x, const float* w,
                         const float* bias, float* y) {
#if defined(PHASESWEEP_WORKER_CBLAS)
  if (!MemberProductUsesKernels(M, I, O)) {
    if (bias != nullptr) {
      for (int64_t m = 0; m < M; ++m) std::memcpy(y + m * O, bias, O * sizeof(float));
    }
    return Gemm(false, false, M, O, I, x, I, w, O, bias != nullptr ? 1.0f : 0.0f, y, O);
  }
#endif
  kernels::LinearForward(M, I, O, x, w, bias, y);
}

void MemberLinearInputGrad(int64_t M, int64_t I, int64_t O, const float* g, const float* w,
                           float* gx) {
#if defined(PHASESWEEP_WORKER_CBLAS)
  if (!MemberProductUsesKernels(M, I, O))
    return Gemm(false, true, M, I, O, g, O, w, O, 0.0f, gx, I);
#endif
  kernels::LinearInputGrad(M, I, O, g, w, gx);
}

void MemberLinearWeightGrad(int64_t M, int64_t I, int64_t O, const float* x, const float* g,
                            float* gw) {
#if defined(PHASESWEEP_WORKER_CBLAS)
  if (!MemberProductUsesKernels(M, I, O))
    return Gemm(true, false, I, O, M, x, I, g, O, 0.0f, gw, O);
#endif
  kernels::LinearWeightGrad(M, I, O, x, g, gw);
}

}  // namespace detail

torch::Tensor BatchedLinearRelu(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& b, bool allow_blas) {
  const bool fast = allow_blas && FusedCpuKernelsOn(x.device()) &&
                    x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
                    (!b.defined() || b.scalar_type() == torch::kFloat32) && x.size(1) > 0;
  if (!fast) return torch::relu(Reference(x, w, b));
  return BatchedLinearReluFn::apply(x.contiguous(), w.contiguous(),
                                    b.defined() ? b.contiguous() : torch::empty({0}, x.options()));
}

bool BatchedLinearUsesBlas() {
#if defined(PHASESWEEP_WORKER_CBLAS)
  return true;
#else
  return false;
#endif
}

torch::Tensor BatchedLinear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool allow_blas) {
  const bool fast = allow_blas && FusedCpuKernelsOn(x.device()) &&
                    x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
                    (!b.defined() || b.scalar_type() == torch::kFloat32) && x.size(1) > 0;
  if (!fast) return Reference(x, w, b);
  // (No bias travels as an empty tensor: the autograd function takes defined tensors only.)
  return BatchedLinearFn::apply(x.contiguous(), w.contiguous(),
                                b.defined() ? b.contiguous() : torch::empty({0}, x.options()));
}

}  // namespace phasesweep::worker
