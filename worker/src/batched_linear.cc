// BatchedLinear (see batched_linear.h): per-member CBLAS calls behind a custom autograd function.
#include "batched_linear.h"

#include <ATen/Parallel.h>

#include <cstring>

#if defined(PHASESWEEP_WORKER_CBLAS)
#include <cblas.h>
#endif

namespace phasesweep::worker {
namespace {

torch::Tensor Reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::baddbmm(b, x, w) : torch::bmm(x, w);
}

#if defined(PHASESWEEP_WORKER_CBLAS)

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

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

// Row-major C[m x n] = alpha op(A) op(B) + beta C.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

class BatchedLinearFn : public torch::autograd::Function<BatchedLinearFn> {
 public:
  // x, w, b contiguous float32 CPU.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    const int64_t K = x.size(0), M = x.size(1), I = x.size(2), O = w.size(2);
    torch::Tensor y = torch::empty({K, M, O}, x.options());
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    ForMembers(K, K * M * I * O, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        float* yk = yp + k * M * O;
        for (int64_t m = 0; m < M; ++m) std::memcpy(yk + m * O, bp + k * O, O * sizeof(float));
        Gemm(false, false, M, O, I, xp + k * M * I, I, wp + k * I * O, O, 1.0f, yk, O);
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
          Gemm(false, true, M, I, O, gk, O, wp + k * I * O, O, 0.0f,
               gx.data_ptr<float>() + k * M * I, I);
        }
        if (need_w) {
          Gemm(true, false, I, O, M, xp + k * M * I, I, gk, O, 0.0f,
               gw.data_ptr<float>() + k * I * O, O);
        }
        if (need_b) {
          float* bk = gb.data_ptr<float>() + k * O;
          std::memcpy(bk, gk, O * sizeof(float));
          for (int64_t m = 1; m < M; ++m) {
            const float* row = gk + m * O;
            for (int64_t o = 0; o < O; ++o) bk[o] += row[o];
          }
        }
      }
    });
    return {gx, gw, gb};
  }
};

#endif  // PHASESWEEP_WORKER_CBLAS

}  // namespace

bool BatchedLinearUsesBlas() {
#if defined(PHASESWEEP_WORKER_CBLAS)
  return true;
#else
  return false;
#endif
}

torch::Tensor BatchedLinear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                            bool allow_blas) {
#if defined(PHASESWEEP_WORKER_CBLAS)
  const bool fast = allow_blas && b.defined() && x.device().is_cpu() &&
                    x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
                    b.scalar_type() == torch::kFloat32 && x.size(1) > 0;
  if (fast) return BatchedLinearFn::apply(x.contiguous(), w.contiguous(), b.contiguous());
#endif
  (void)allow_blas;
  return Reference(x, w, b);
}

}  // namespace phasesweep::worker
