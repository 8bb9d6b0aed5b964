// BatchedLinear (see batched_linear.h): per-member products behind a custom autograd function.
#include "model/batched_linear.h"

#include <ATen/Parallel.h>

#include <cstring>

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

class BatchedLinearFn : public torch::autograd::Function<BatchedLinearFn> {
 public:
  // x, w contiguous float32 CPU; b contiguous float32 CPU, or empty for no bias.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    const int64_t K = x.size(0), M = x.size(1), I = x.size(2), O = w.size(2);
    torch::Tensor y = torch::empty({K, M, O}, x.options());
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    const float* bp = b.numel() > 0 ? b.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    ForMembers(K, K * M * I * O, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        detail::MemberLinearForward(M, I, O, xp + k * M * I, wp + k * I * O,
                                    bp != nullptr ? bp + k * O : nullptr, yp + k * M * O);
      }
    });
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w = saved[1];
    torch::Tensor g = grads[0].contiguous();
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1),
               need_b = ctx->needs_input_grad(2);
    if (torch::GradMode::is_enabled()) {
      // A double backward is being recorded: use differentiable operations.
      return {need_x ? torch::bmm(g, w.transpose(1, 2)) : torch::Tensor(),
              need_w ? torch::bmm(x.transpose(1, 2), g) : torch::Tensor(),
              need_b ? g.sum(1, true) : torch::Tensor()};
    }
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

bool BatchedLinearUsesBlas() {
#if defined(PHASESWEEP_WORKER_CBLAS)
  return true;
#else
  return false;
#endif
}

torch::Tensor BatchedLinear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool allow_blas) {
  const bool fast = allow_blas && FusedCpuKernelsOn(x.device()) && x.scalar_type() == torch::kFloat32 &&
                    w.scalar_type() == torch::kFloat32 &&
                    (!b.defined() || b.scalar_type() == torch::kFloat32) && x.size(1) > 0;
  if (!fast) return Reference(x, w, b);
  // (No bias travels as an empty tensor: the autograd function takes defined tensors only.)
  return BatchedLinearFn::apply(x.contiguous(), w.contiguous(),
                                b.defined() ? b.contiguous() : torch::empty({0}, x.options()));
}

}  // namespace phasesweep::worker
