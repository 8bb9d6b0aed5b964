"""Reference generator only: a small, faithful re-implementation of ruptures' Pelt and Binseg
with the costs "l2", "normal" and "rbf", used to produce golden values for the C++ detectors.

ruptures is not installed here, so this file transcribes the algorithms of ruptures 1.1.9
(github.com/deepcharles/ruptures, src/ruptures/detection/{pelt,binseg}.py,
src/ruptures/costs/{costl2,costnormal,costrbf}.py, src/ruptures/utils/utils.py::sanity_check)
line by line, keeping its tie-breaking (Python's min/max over lists and tuples), its admissible
breakpoint grids for `jump`, and the cost quirks (CostNormal adds 1e-6 to the variance; CostRbf
clips gamma * squared distances to [1e-2, 1e2] off the diagonal). It is not part of the build.

Self-check: `python3 ruptures_reference.py` reproduces the ruptures results quoted in
/work/shared/REFERENCE_VALUES.md and exits non-zero if it does not.
"""
from math import ceil, floor

import numpy as np
from scipy.spatial.distance import pdist, squareform


class BadSegmentationParameters(Exception):
    pass


class NotEnoughPoints(Exception):
    pass


def sanity_check(n_samples, n_bkps, jump, min_size):
    n_adm_bkps = n_samples // jump
    if n_bkps > n_adm_bkps:
        return False
    if n_bkps * ceil(min_size / jump) * jump + min_size > n_samples:
        return False
    return True


def pairwise(seq):
    return list(zip(seq[:-1], seq[1:]))


class CostL2:
    model = "l2"

    def __init__(self):
        self.min_size = 1

    def fit(self, signal):
        self.signal = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        return self

    def error(self, start, end):
        if end - start < self.min_size:
            raise NotEnoughPoints
        return self.signal[start:end].var(axis=0).sum() * (end - start)


class CostNormal:
    model = "normal"

    def __init__(self):
        self.min_size = 2

    def fit(self, signal):
        self.signal = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        self.n_samples, self.n_dims = self.signal.shape
        return self

    def error(self, start, end):
        if end - start < self.min_size:
            raise NotEnoughPoints
        sub = self.signal[start:end]
        cov = np.array([[sub.var()]])  # 1-D signals only here
        cov += 1e-6 * np.eye(self.n_dims)
        _, val = np.linalg.slogdet(cov)
        return val * (end - start)


class CostRbf:
    model = "rbf"

    def __init__(self, gamma=None):
        self.min_size = 1
        self.gamma = gamma
        self._gram = None

    @property
    def gram(self):
        if self._gram is None:
            K = pdist(self.signal, metric="sqeuclidean")
            if self.gamma is None:
                self.gamma = 1.0
                K_median = np.median(K)
                if K_median != 0:
                    self.gamma = 1 / K_median
            K *= self.gamma
            np.clip(K, 1e-2, 1e2, K)
            self._gram = np.exp(squareform(-K))
        return self._gram

    def fit(self, signal):
        self.signal = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        if self.gamma is None:
            self.gram
        return self

    def error(self, start, end):
        if end - start < self.min_size:
            raise NotEnoughPoints
        sub_gram = self.gram[start:end, start:end]
        val = np.diagonal(sub_gram).sum()
        val -= sub_gram.sum() / (end - start)
        return val


COSTS = {"l2": CostL2, "normal": CostNormal, "rbf": CostRbf}


class Pelt:
    def __init__(self, model="l2", min_size=2, jump=5):
        self.cost = COSTS[model]()
        self.min_size = max(min_size, self.cost.min_size)
        self.jump = jump

    def fit(self, signal):
        self.cost.fit(signal)
        self.n_samples = signal.shape[0]
        return self

    def _seg(self, pen):
        partitions = dict()
        partitions[0] = {(0, 0): 0}
        admissible = []
        ind = [k for k in range(0, self.n_samples, self.jump) if k >= self.min_size]
        ind += [self.n_samples]
        for bkp in ind:
            new_adm_pt = floor((bkp - self.min_size) / self.jump)
            new_adm_pt *= self.jump
            admissible.append(new_adm_pt)
            subproblems = list()
            for t in admissible:
                try:
                    tmp_partition = partitions[t].copy()
                except KeyError:
                    continue
                tmp_partition.update({(t, bkp): self.cost.error(t, bkp) + pen})
                subproblems.append(tmp_partition)
            partitions[bkp] = min(subproblems, key=lambda d: sum(d.values()))
            admissible = [
                t
                for t, partition in zip(admissible, subproblems)
                if sum(partition.values()) <= sum(partitions[bkp].values()) + pen
            ]
        best_partition = partitions[self.n_samples]
        del best_partition[(0, 0)]
        return best_partition

    def predict(self, pen):
        if not sanity_check(self.cost.signal.shape[0], 0, self.jump, self.min_size):
            raise BadSegmentationParameters
        partition = self._seg(pen)
        return sorted(e for s, e in partition.keys())


class Binseg:
    def __init__(self, model="l2", min_size=2, jump=5):
        self.cost = COSTS[model]()
        self.min_size = max(min_size, self.cost.min_size)
        self.jump = jump
        self._cache = {}

    def fit(self, signal):
        self.signal = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        self.n_samples, _ = self.signal.shape
        self.cost.fit(signal)
        self._cache = {}
        return self

    def single_bkp(self, start, end):
        if (start, end) in self._cache:  # ruptures uses functools.lru_cache
            return self._cache[(start, end)]
        segment_cost = self.cost.error(start, end)
        if np.isinf(segment_cost) and segment_cost < 0:
            res = (None, 0)
        else:
            gain_list = list()
            for bkp in range(start, end, self.jump):
                if bkp - start >= self.min_size and end - bkp >= self.min_size:
                    gain = segment_cost - self.cost.error(start, bkp) - self.cost.error(bkp, end)
                    gain_list.append((gain, bkp))
            try:
                gain, bkp = max(gain_list)
                res = (bkp, gain)
            except ValueError:
                res = (None, 0)
        self._cache[(start, end)] = res
        return res

    def _seg(self, n_bkps=None, pen=None):
        bkps = [self.n_samples]
        stop = False
        while not stop:
            stop = True
            new_bkps = [self.single_bkp(start, end) for start, end in pairwise([0] + bkps)]
            bkp, gain = max(new_bkps, key=lambda x: x[1])
            if bkp is None:
                break
            if n_bkps is not None:
                if len(bkps) - 1 < n_bkps:
                    stop = False
            elif pen is not None:
                if gain > pen:
                    stop = False
            if not stop:
                bkps.append(bkp)
                bkps.sort()
        return {(s, e): self.cost.error(s, e) for s, e in pairwise([0] + bkps)}

    def predict(self, n_bkps=None, pen=None):
        assert n_bkps is not None or pen is not None
        if not sanity_check(self.cost.signal.shape[0], 0 if n_bkps is None else n_bkps,
                            self.jump, self.min_size):
            raise BadSegmentationParameters
        partition = self._seg(n_bkps=n_bkps, pen=pen)
        return sorted(e for s, e in partition.keys())


def _self_check():
    y = np.array([0, 0, 0, 5, 5, 5, 5, -2, -2], dtype=float)
    checks = [
        (Pelt("l2", min_size=1, jump=1).fit(y).predict(pen=0.5), [3, 7, 9]),
        (Binseg("l2", min_size=1, jump=1).fit(y).predict(n_bkps=2), [3, 7, 9]),
        (Pelt("l2").fit(y).predict(pen=0.5), [5, 9]),
        (CostL2().fit(y).error(0, 9), 79.55555555555556),
        (CostL2().fit(y).error(0, 4), 18.75),
    ]
    ok = True
    for got, want in checks:
        good = got == want if isinstance(want, list) else abs(got - want) <= 1e-12 * abs(want)
        print(("ok  " if good else "FAIL"), got, "expected", want)
        ok &= good
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if _self_check() else 1)
