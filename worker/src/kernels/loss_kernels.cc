// Cross-entropy loops (see loss_kernels.h): the exponentials of a member's rows in one
// vectorised pass (Exp, fast_exp.h).
#include "kernels/loss_kernels.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu_targets.h"
#include "kernels/fast_exp.h"

namespace phasesweep::worker::kernels {

PHASESWEEP_TARGET_CLONES double CrossEntropyForward(int64_t B, int64_t C, const float* x,
                                                    const int64_t* y, float* prob, float* row_max) {
  for (int64_t b = 0; b < B; ++b) {  // logits minus their row maximum
    const float* xr = x + b * C;
    float mx = xr[0];
    for (int64_t c = 1; c < C; ++c) mx = std::max(mx, xr[c]);
    row_max[b] = mx;
    for (int64_t c = 0; c < C; ++c) prob[b * C + c] = xr[c] - mx;
  }
  for (int64_t i = 0; i < B * C; ++i) prob[i] = Exp(prob[i]);
  double total = 0;  // sum over rows of -log softmax_label = log(sum) - (x_label - max)
  for (int64_t b = 0; b < B; ++b) {
    float* pr = prob + b * C;
    float sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += pr[c];
    const float inv = 1.0f / sum;
    for (int64_t c = 0; c < C; ++c) pr[c] *= inv;
    total += static_cast<double>(std::log(sum) - (x[b * C + y[b]] - row_max[b]));
  }
  return total;
}

PHASESWEEP_TARGET_CLONES void CrossEntropyBackward(int64_t B, int64_t C, const float* prob,
                                                   const int64_t* y, float scale, float* gx) {
  for (int64_t i = 0; i < B * C; ++i) gx[i] = prob[i] * scale;
  for (int64_t b = 0; b < B; ++b) gx[b * C + y[b]] -= scale;
}

}  // namespace phasesweep::worker::kernels
