#!/usr/bin/python3
"""Golden values for worker/src/probe_math/representation_metrics*_test.cc.

Run with Debian's interpreter (numpy 1.24.2, SciPy 1.10.1, scikit-learn 1.2.1):
    /usr/bin/python3 worker/src/probe_math/golden/probe_goldens.py
Every fixture is a closed-form formula so the C++ tests rebuild it exactly; each printed line is
"<name> = <expression> = <value>", and the tests copy the expression beside the value.
The references are independent of the C++ code: scikit-learn for the silhouette, numpy/scipy
linear algebra for spectra, Kornblith et al.'s published CKA code (reproduced below verbatim in
substance: gram_linear / center_gram / cka and feature_space_linear_cka) for CKA.
"""
import numpy as np
import scipy.linalg
import sklearn
from sklearn.metrics import silhouette_score


def fixture(n, d, f):
    i = np.arange(n, dtype=float)[:, None]
    j = np.arange(d, dtype=float)[None, :]
    return f(i, j)


A = fixture(8, 3, lambda i, j: np.sin(1 + 0.7 * i + 1.3 * j) + 0.1 * i)
B = fixture(8, 3, lambda i, j: np.cos(0.5 + 0.9 * i - 0.4 * j) + 0.05 * i * j)
X = fixture(12, 5, lambda i, j: np.sin(0.3 + 0.45 * i + 0.9 * j + 0.13 * i * j) + 0.05 * i - 0.2 * j)
Y = fixture(12, 4, lambda i, j: np.cos(1.1 - 0.35 * i + 0.6 * j * j) * (1 + 0.1 * j) + 0.02 * i * i)
P = fixture(6, 9, lambda i, j: np.sin(0.2 + 0.37 * i + 1.1 * j + 0.05 * i * j))
Q = fixture(6, 4, lambda i, j: np.cos(1.7 * i - 0.3 * j * j) + 0.1 * j)
Z = fixture(20, 3, lambda i, j: np.sin(2.1 * i + 0.7 * j) + 0.3 * np.cos(0.5 * i * j) + 0.1 * j)


# ---- Kornblith et al. 2019, google-research/.../representation_similarity (Demo.ipynb) ----
def gram_linear(x):
    return x.dot(x.T)


def center_gram(gram, unbiased=False):
    gram = gram.copy()
    if unbiased:
        n = gram.shape[0]
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0, dtype=np.float64) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = np.mean(gram, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def cka(gram_x, gram_y, debiased=False):
    gram_x = center_gram(gram_x, unbiased=debiased)
    gram_y = center_gram(gram_y, unbiased=debiased)
    scaled_hsic = gram_x.ravel().dot(gram_y.ravel())
    return scaled_hsic / (np.linalg.norm(gram_x) * np.linalg.norm(gram_y))


def _debiased_dot(xty, ssr_x, ssr_y, sn_x, sn_y, n):
    return xty - n / (n - 2.) * ssr_x.dot(ssr_y) + sn_x * sn_y / ((n - 1) * (n - 2))


def feature_space_linear_cka(x, y, debiased=False):
    x = x - np.mean(x, 0, keepdims=True)
    y = y - np.mean(y, 0, keepdims=True)
    dot = np.linalg.norm(x.T.dot(y)) ** 2
    nx = np.linalg.norm(x.T.dot(x))
    ny = np.linalg.norm(y.T.dot(y))
    if debiased:
        n = x.shape[0]
        ssr_x = np.einsum('ij,ij->i', x, x)
        ssr_y = np.einsum('ij,ij->i', y, y)
        sn_x, sn_y = np.sum(ssr_x), np.sum(ssr_y)
        dot = _debiased_dot(dot, ssr_x, ssr_y, sn_x, sn_y, n)
        nx = np.sqrt(_debiased_dot(nx ** 2, ssr_x, ssr_x, sn_x, sn_x, n))
        ny = np.sqrt(_debiased_dot(ny ** 2, ssr_y, ssr_y, sn_y, sn_y, n))
    return dot / (nx * ny)


def cka_both(x, y, debiased):
    # Kornblith's code centres features first for the debiased Gram form too.
    xc, yc = x - x.mean(0), y - y.mean(0)
    g = cka(gram_linear(xc), gram_linear(yc), debiased=debiased)
    f = feature_space_linear_cka(x, y, debiased=debiased)
    assert abs(g - f) < 1e-12, (g, f)
    return g


def effective_rank(x):
    s = scipy.linalg.svdvals(x)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def stable_rank(x):
    s = scipy.linalg.svdvals(x)
    return float((s ** 2).sum() / s[0] ** 2)


def participation_ratio(x):
    lam = np.linalg.eigvalsh(np.cov(x, rowvar=False, ddof=1))
    return float(lam.sum() ** 2 / (lam ** 2).sum())


def nc1(x, labels):
    labels = np.asarray(labels)
    classes = np.unique(labels)
    mu = np.stack([x[labels == c].mean(0) for c in classes])
    mu_g = mu.mean(0)
    within = x - mu[np.searchsorted(classes, labels)]
    sw = within.T @ within / len(x)
    sb = (mu - mu_g).T @ (mu - mu_g) / len(classes)
    return float(np.trace(sw @ np.linalg.pinv(sb, rcond=1e-10, hermitian=True)) / len(classes))


def real_fourier_basis(p):
    x = np.arange(p)
    cols, freq = [np.ones(p) / np.sqrt(p)], [0]
    for k in range(1, p // 2 + 1):
        if 2 * k == p:
            cols.append((-1.0) ** x / np.sqrt(p)); freq.append(k)
        else:
            cols.append(np.sqrt(2 / p) * np.cos(2 * np.pi * k * x / p)); freq.append(k)
            cols.append(np.sqrt(2 / p) * np.sin(2 * np.pi * k * x / p)); freq.append(k)
    basis = np.stack(cols, 1)
    assert np.allclose(basis.T @ basis, np.eye(p))
    return basis, np.array(freq)


def fourier_norms(e):
    basis, freq = real_fourier_basis(e.shape[0])
    coeff = basis.T @ e
    return np.array([np.sqrt((coeff[freq == k] ** 2).sum()) for k in range(e.shape[0] // 2 + 1)])


def gini(v):
    v = np.asarray(v, float)
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) * v.sum()))


def show(name, expr, value):
    print(f"{name} = {expr} = {value!r}")


def main():
    print(f"# numpy {np.__version__}, scipy {scipy.__version__}, sklearn {sklearn.__version__}")
    for nx, ny, x, y in [("A", "B", A, B), ("X", "Y", X, Y), ("P", "Q", P, Q), ("X", "X**3", X, X ** 3)]:
        for deb in (False, True):
            show(f"cka_{'debiased' if deb else 'linear'}({nx},{ny})",
                 f"cka(gram_linear({nx}c), gram_linear({ny}c), debiased={deb})", cka_both(x, y, deb))
    for name, m in [("A", A), ("X", X), ("P", P), ("Q", Q), ("Z", Z)]:
        show(f"effective_rank({name})", "exp(entropy(svdvals/sum))", effective_rank(m))
        show(f"stable_rank({name})", "sum(s**2)/s[0]**2", stable_rank(m))
        show(f"participation_ratio({name})", "eigvalsh(np.cov(ddof=1)): sum**2/sum(l**2)",
             participation_ratio(m))
    show("cosine(X,X**3)", "X.ravel()@(X**3).ravel()/norms", float(X.ravel() @ (X ** 3).ravel() / np.linalg.norm(X) / np.linalg.norm(X ** 3)))
    show("cosine(P[:,:4],Q)", "ravel dot / norms", float(P[:, :4].ravel() @ Q.ravel() / np.linalg.norm(P[:, :4]) / np.linalg.norm(Q)))
    show("frobenius(X)", "np.linalg.norm(X)", float(np.linalg.norm(X)))
    show("mean_row_norm(X)", "np.linalg.norm(X,axis=1).mean()", float(np.linalg.norm(X, axis=1).mean()))
    show("rel_update(Y,X[:,:4])", "norm(Y-X[:,:4])/norm(X[:,:4])", float(np.linalg.norm(Y - X[:, :4]) / np.linalg.norm(X[:, :4])))
    show("rel_update([X,A],[Y,B]) with X[:,:4]", "sqrt(|Y-X4|^2+|B-A|^2)/sqrt(|X4|^2+|A|^2)",
         float(np.sqrt(np.linalg.norm(Y - X[:, :4]) ** 2 + np.linalg.norm(B - A) ** 2) /
               np.sqrt(np.linalg.norm(X[:, :4]) ** 2 + np.linalg.norm(A) ** 2)))
    labels = {
        "L1": [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1],
        "L2 (singleton 5)": [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 5],
        "L3 (values 7,-1,3)": [7, -1, 7, 3, -1, 7, 3, 3, -1, -1, 7, 3],
    }
    for lname, lab in labels.items():
        for metric in ("euclidean", "cosine"):
            show(f"silhouette(X,{lname},{metric})", f"silhouette_score(X, {lab}, metric='{metric}')",
                 float(silhouette_score(X, lab, metric=metric)))
    x0 = X.copy()
    x0[3] = 0
    show("silhouette(X with row 3 = 0,L1,cosine)", "silhouette_score(X0, L1, metric='cosine')",
         float(silhouette_score(x0, labels["L1"], metric="cosine")))
    zl = [i % 5 for i in range(20)]
    show("silhouette(Z,i%5,euclidean)", "silhouette_score(Z, i%5)", float(silhouette_score(Z, zl)))
    show("nc1(X,L1)", "tr(Sw pinv(Sb, rcond=1e-10, hermitian=True))/C", nc1(X, labels["L1"]))
    show("nc1(Z,i%5)", "same", nc1(Z, zl))
    show("nc1(A,[0,0,0,1,1,1,2,2])", "same", nc1(A, [0, 0, 0, 1, 1, 1, 2, 2]))
    for p, d in [(7, 3), (8, 2)]:
        e = fixture(p, d, lambda i, j: np.sin(0.4 + 1.3 * i * (j + 1)) + 0.2 * j + 0.05 * i * i)
        norms = fourier_norms(e)
        show(f"fourier_norms(E{p})", "per-frequency norms of basis.T @ E", norms.tolist())
        show(f"fourier_gini(E{p})", "gini(norms)", gini(norms))
    show("gini([1,2,3,4])", "sum|vi-vj|/(2 m sum v)", gini([1, 2, 3, 4]))
    show("gini([0,0,5])", "same", gini([0, 0, 5]))
    h = 1.0 / (1.0 + np.add.outer(np.arange(5), np.arange(5)))
    show("lambda_max(hilbert5)", "np.linalg.eigvalsh(1/(1+i+j))[-1]", float(np.linalg.eigvalsh(h)[-1]))
    m = h - 0.5 * np.eye(5)
    show("eig(hilbert5 - 0.5 I)", "np.linalg.eigvalsh", np.linalg.eigvalsh(m).tolist())


if __name__ == "__main__":
    main()
