// The increment scan; see increment_scan.h.
#include "statistics/increment_scan.h"

#include <algorithm>
#include <cmath>

#include "statistics/ramp_scan.h"

namespace phasesweep::analysis::internal {
namespace {

// The lower median of v (reordered).
double Median(std::vector<double>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>((v.size() - 1) / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

double IncrementStatistic(const double* y, std::size_t n, const std::vector<std::size_t>& lengths,
                          IncrementWorkspace& ws, std::size_t* at, std::size_t* len) {
  if (at) *at = 0;
  if (len) *len = 0;
  if (n < 3) return 0.0;
  const std::size_t m = n - 1;
  const double md = static_cast<double>(m);
  ws.c.resize(m);
  double mean = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < m; ++i) {
    ws.c[i] = y[i + 1] - y[i];
    mean += ws.c[i];
    scale = std::max(scale, std::abs(ws.c[i]));
  }
  mean /= md;
  double ss = 0.0;
  for (double& c : ws.c) {
    c -= mean;
    ss += c * c;
  }
  const double rms = std::sqrt(ss / md);
  // Increments all equal up to rounding (1e-12 of the largest): an exactly linear trace.
  if (!(rms > 1e-12 * scale)) return 0.0;
  ws.sorted = ws.c;
  const double med = Median(ws.sorted);
  for (double& v : ws.sorted) v = std::abs(v - med);
  double s = 1.4826 * Median(ws.sorted);
  if (!(s > 1e-12 * scale)) s = rms;
  ws.prefix.resize(m + 1);
  double* p = ws.prefix.data();
  double run = 0.0;
  p[0] = 0.0;
  for (std::size_t i = 0; i < m; ++i) p[i + 1] = (run += ws.c[i]);
  double best = 0.0;
  for (std::size_t L : lengths) {
    if (2 * L > m) break;
    const std::size_t stride = std::max<std::size_t>(1, L / 4);
    double top = 0.0;
    std::size_t top_a = 0;
    for (std::size_t a = 0; a + L <= m; a += stride) {
      const double w = std::abs(p[a + L] - p[a]);
      if (w > top) {
        top = w;
        top_a = a;
      }
    }
    const double score = top / (s * std::sqrt(static_cast<double>(L))) + LengthBonus(m, L);
    if (score > best) {
      best = score;
      if (at) *at = top_a;
      if (len) *len = L;
    }
  }
  return best;
}

}  // namespace phasesweep::analysis::internal
