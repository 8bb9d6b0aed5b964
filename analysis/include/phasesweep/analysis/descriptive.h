// Descriptive statistics shared by the detectors and tests, with NumPy/SciPy conventions where
// a convention exists (median of an even count averages the two middle values; percentiles use
// NumPy's default 'linear' interpolation; ranks are SciPy's rankdata(method='average')).
// Inputs must be finite unless a function says otherwise.
#pragma once

#include <cstddef>
#include <vector>

namespace phasesweep::analysis {

double Mean(const std::vector<double>& x);  // NaN for an empty input
// Variance with `ddof` degrees of freedom removed (NumPy's var(ddof=...)); NaN if n <= ddof.
double Variance(const std::vector<double>& x, int ddof = 0);
// numpy.median; NaN for an empty input. Takes a copy because it partially sorts.
double Median(std::vector<double> x);
// numpy.percentile(x, q) with q in [0, 100], linear interpolation; NaN for an empty input.
double Percentile(std::vector<double> x, double q);
// The same on an already sorted (ascending) input, without copying.
double PercentileSorted(const std::vector<double>& sorted, double q);
// Median absolute deviation about the median (unscaled); NaN for an empty input.
double MedianAbsoluteDeviation(const std::vector<double>& x);
// scipy.stats.rankdata(x, method='average'): ranks 1..n, ties get the mean of their ranks.
std::vector<double> RankAverage(const std::vector<double>& x);
// Sizes of the groups of tied values (only groups with more than one member), as SciPy's
// find_repeats counts them.
std::vector<double> TieGroupSizes(const std::vector<double>& x);

// Robust scale of independent noise around a piecewise-constant signal:
// sigma = 1.4826 * MAD(diff(y)) / sqrt(2). Differencing removes the segment levels (a jump
// spoils only one difference, which the median ignores); 1.4826 makes the MAD consistent for a
// Gaussian standard deviation; Var(y[t+1] - y[t]) = 2 sigma^2 for independent noise. When more
// than half of the differences are exactly equal (MAD = 0, e.g. accuracies on a small test set)
// it falls back to sqrt(pi)/2 * mean|diff - median(diff)|, the Gaussian-consistent mean absolute
// difference. Returns 0 for constant or shorter-than-2 input.
double RobustNoiseSigma(const std::vector<double>& y);

// Ordinary least-squares residuals of y on [1, t] with t = 0..n-1 (linear detrending).
std::vector<double> DetrendLinear(const std::vector<double>& y);

}  // namespace phasesweep::analysis
