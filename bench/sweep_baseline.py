#!/usr/bin/python3
"""The headline baselines of bench/run: a sweep of modular-addition jobs as a PyTorch user would
run it without phasesweep, on Debian's python3-torch, one thread per process. Prints one JSON line.

    /usr/bin/python3 bench/sweep_baseline.py mode=plain|ensemble study=default|grokking
        seeds=1 steps=150 every=25 procs=2 [p=.. d_model=.. d_mlp=..]

mode=plain: `procs` worker processes, each trains its share of the jobs one after the other in an
ordinary loop (bench/worker_baseline.py's Transformer: every position of every layer computed, as
TransformerLens-style code does; nn.Linear, torch.optim.AdamW).
mode=ensemble: PyTorch's own model ensembling: functorch.combine_state_for_ensemble + vmap(grad)
over the stacked members of each group of jobs that share a data shape (same train fraction),
AdamW written over the stacked tensors (per-member weight decay), one process per core.

Jobs and probes are those of the study (configs/embedding_stability.yaml or configs/grokking.yaml):
the grid (weight decay x train fraction x random labels) x `seeds`, full batch, AdamW with betas
0.9/0.98 and 10 linear warm-up steps; at every `every`-th step and the last: train/test loss and
accuracy over the whole sets, emb_norm, emb_cos_prev, emb_cos_init, rel_update, cka_prev (linear,
on the residual at the answer position of the first `probe_batch` training examples) and
fourier_gini (docs/METRICS.md), all computed in PyTorch.
"""
import itertools
import json
import math
import multiprocessing as mp
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from worker_baseline import Transformer  # noqa: E402

STUDIES = {
    # name: model and task, grid (weight decay, train fraction, random labels), lr, probe batch
    "default": dict(p=31, d_model=48, d_mlp=192, heads=4, lr=1e-2, probe_batch=256,
                    grid=list(itertools.product([1.0, 2.0], [0.5, 0.6], [False, True]))),
    "grokking": dict(p=113, d_model=128, d_mlp=512, heads=4, lr=1e-3, probe_batch=512,
                     grid=list(itertools.product([0.3, 1.0], [0.3], [False, True]))),
}


def worker_param_count(p, d, d_mlp):
    """Parameters of phasesweep's transformer (worker/src/model/model_transformer.cc: embed, pos,
    q/k/v/o with biases, MLP with biases, untied unembedding with bias), 1 layer, no layer norm."""
    V, T, C = p + 1, 3, p
    return V * d + T * d + 4 * (d * d + d) + d * d_mlp + d_mlp + d_mlp * d + d + d * C + C


def job_data(p, fraction, random_labels, seed):
    """Train and test split of all p^2 pairs (a seeded permutation), labels (a + b) mod p; random
    labels replace the training labels with seeded uniform draws."""
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    x = torch.stack([a, b, torch.full_like(a, p)], 1)
    y = (a + b) % p
    perm = torch.randperm(p * p, generator=gen)
    n = round(fraction * p * p)
    xtr, ytr = x[perm[:n]], y[perm[:n]]
    if random_labels:
        ytr = torch.randint(0, p, (n,), generator=gen)
    return xtr, ytr, x[perm[n:]], y[perm[n:]]


def cosine(a, b):
    return float((a * b).sum() / torch.sqrt((a * a).sum() * (b * b).sum()))


def linear_cka(x, y):
    x, y = x - x.mean(0), y - y.mean(0)
    return float((y.T @ x).square().sum() / (torch.linalg.norm(x.T @ x) * torch.linalg.norm(y.T @ y)))


def fourier_gini(e):
    """Gini of the Fourier frequency norms of the p residue rows of the embedding."""
    p = e.shape[0]
    n2 = torch.fft.rfft(e, dim=0).abs().square().sum(1)
    w = torch.full_like(n2, 2.0 / p)
    w[0] = 1.0 / p
    if p % 2 == 0:
        w[-1] = 1.0 / p
    v, m = torch.sort((w * n2).sqrt()).values, n2.shape[0]
    i = torch.arange(1, m + 1, dtype=v.dtype)
    return float(((2 * i - m - 1) * v).sum() / (m * v.sum()))


class ProbeState:
    """One member's probe history: the embedding and parameters at step 0 and at the previous
    probe, and the previous probe's representation."""

    def __init__(self):
        self.e_init = self.e_prev = self.params_prev = self.h_prev = None

    def probe(self, logits_fn, resid_fn, params, embed, data, probe_x, p):
        xtr, ytr, xte, yte = data
        out = {}
        with torch.no_grad():
            for name, x, y in (("train", xtr, ytr), ("test", xte, yte)):
                logits = logits_fn(x)
                out[name + "_loss"] = float(F.cross_entropy(logits, y))
                out[name + "_acc"] = float((logits.argmax(1) == y).float().mean())
            h = resid_fn(probe_x)
            e = embed.detach().clone()
            flat = torch.cat([q.detach().reshape(-1) for q in params])
            out["emb_norm"] = float(torch.linalg.norm(e))
            if self.e_prev is not None:
                out["emb_cos_prev"] = cosine(e, self.e_prev)
                out["emb_cos_init"] = cosine(e, self.e_init)
                out["rel_update"] = float(torch.linalg.norm(flat - self.params_prev) /
                                          torch.linalg.norm(self.params_prev))
                out["cka_prev"] = linear_cka(h, self.h_prev)
            out["fourier_gini"] = fourier_gini(e[:p])
            if self.e_init is None:
                self.e_init = e
            self.e_prev, self.params_prev, self.h_prev = e, flat, h
        return out


def lr_at(step, lr, warmup=10):
    return lr * min(1.0, (step + 1) / warmup)


def probe_steps(steps, every):
    return sorted(set(range(0, steps, every)) | {steps - 1})


def make_model(s, seed):
    torch.manual_seed(seed)
    p = s["p"]
    return Transformer(p + 1, 3, p, s["d_model"], s["heads"], s["d_mlp"], 1, False)


def run_plain(s, jobs, steps, every):
    """Trains `jobs` one after the other; returns the number of probe rows written."""
    rows, when = 0, set(probe_steps(steps, every))
    for wd, frac, rnd, seed in jobs:
        data = job_data(s["p"], frac, rnd, seed)
        model = make_model(s, seed)
        opt = torch.optim.AdamW(model.parameters(), lr=s["lr"], betas=(0.9, 0.98), eps=1e-8,
                                weight_decay=wd)
        probe_x = data[0][:s["probe_batch"]]
        state = ProbeState()

        def resid(x):
            model.return_resid = True
            h = model(x)
            model.return_resid = False
            return h

        for step in range(steps):
            if step in when:
                state.probe(model, resid, list(model.parameters()), model.embed.weight, data,
                            probe_x, s["p"])
                rows += 1
            for g in opt.param_groups:
                g["lr"] = lr_at(step, s["lr"])
            opt.zero_grad()
            F.cross_entropy(model(data[0]), data[1]).backward()
            opt.step()
    return rows


def run_ensemble(s, jobs, steps, every):
    """Trains the jobs in groups of equal data shape, each group as one vmapped ensemble."""
    from functorch import combine_state_for_ensemble, grad, vmap

    rows, when = 0, set(probe_steps(steps, every))
    groups = {}
    for job in jobs:
        groups.setdefault(job[1], []).append(job)
    for frac, members in groups.items():
        K = len(members)
        models = [make_model(s, seed) for _, _, _, seed in members]
        fmodel, params, buffers = combine_state_for_ensemble(models)
        for m in models:
            m.return_resid = True
        fresid, _, _ = combine_state_for_ensemble(models)
        params = [q.detach().clone() for q in params]
        datas = [job_data(s["p"], frac, rnd, seed) for _, _, rnd, seed in members]
        X, Y = torch.stack([d[0] for d in datas]), torch.stack([d[1] for d in datas])
        Xte, Yte = torch.stack([d[2] for d in datas]), torch.stack([d[3] for d in datas])
        PX = X[:, :s["probe_batch"]]
        wd = torch.tensor([w for w, _, _, _ in members])

        def loss_fn(ps, bs, x, y):
            return F.cross_entropy(fmodel(ps, bs, x), y)

        grad_fn = vmap(grad(loss_fn))
        m1 = [torch.zeros_like(q) for q in params]
        m2 = [torch.zeros_like(q) for q in params]
        states = [ProbeState() for _ in range(K)]
        embed_index = [n for n, _ in models[0].named_parameters()].index("embed.weight")
        for step in range(steps):
            if step in when:
                with torch.no_grad():
                    logits = {"train": vmap(fmodel)(params, buffers, X),
                              "test": vmap(fmodel)(params, buffers, Xte)}
                    H = vmap(fresid)(params, buffers, PX)
                for k in range(K):
                    cache = {id(X): logits["train"][k], id(Xte): logits["test"][k]}
                    states[k].probe(lambda x: cache[id(x)], lambda x: H[k],
                                    [q[k] for q in params], params[embed_index][k],
                                    (X, datas[k][1], Xte, datas[k][3]), PX, s["p"])
                    rows += 1
            grads = grad_fn(params, buffers, X, Y)
            lr, b1, b2, t = lr_at(step, s["lr"]), 0.9, 0.98, step + 1
            with torch.no_grad():
                for q, g, a, v in zip(params, grads, m1, m2):
                    shape = (K,) + (1,) * (q.dim() - 1)
                    q.mul_(1 - lr * wd.view(shape))
                    a.mul_(b1).add_(g, alpha=1 - b1)
                    v.mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = (v / (1 - b2 ** t)).sqrt_().add_(1e-8)
                    q.addcdiv_(a, denom, value=-lr / (1 - b1 ** t))
    return rows


def child(args):
    mode, s, jobs, steps, every = args
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    rows = (run_plain if mode == "plain" else run_ensemble)(s, jobs, steps, every)
    return rows, time.perf_counter() - t0


def main():
    opts = dict(a.split("=", 1) for a in sys.argv[1:])
    mode, study = opts.get("mode", "plain"), opts.get("study", "default")
    if mode not in ("plain", "ensemble") or study not in STUDIES:
        sys.exit(f"usage: {sys.argv[0]} mode=plain|ensemble study=default|grokking ...")
    s = dict(STUDIES[study])
    for key in ("p", "d_model", "d_mlp", "probe_batch"):
        if key in opts:
            s[key] = int(opts[key])
    seeds, steps = int(opts.get("seeds", 1)), int(opts.get("steps", 150))
    every, procs = int(opts.get("every", 25)), int(opts.get("procs", 2))
    jobs = [(wd, frac, rnd, seed) for seed in range(seeds) for wd, frac, rnd in s["grid"]]
    model = make_model(s, 0)
    n_params = sum(q.numel() for q in model.parameters())
    expected = worker_param_count(s["p"], s["d_model"], s["d_mlp"])
    if n_params != expected:
        sys.exit(f"sweep_baseline: model has {n_params} parameters, phasesweep's {expected}")
    # Each process gets whole groups of equal train fraction when it can (the ensemble needs them).
    by_frac = sorted(jobs, key=lambda j: (j[1], j[3], j[0], j[2]))
    shares = [by_frac[i * len(jobs) // procs:(i + 1) * len(jobs) // procs] for i in range(procs)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(procs) as pool:
        results = pool.map(child, [(mode, s, share, steps, every) for share in shares])
    wall = time.perf_counter() - t0
    print(json.dumps(dict(impl="pytorch_" + mode, study=study, jobs=len(jobs), steps=steps,
                          every=every, procs=procs, params=n_params, seconds=wall,
                          probe_rows=sum(r for r, _ in results),
                          process_seconds=[t for _, t in results],
                          jobs_per_hour=len(jobs) * 3600.0 / wall)))


if __name__ == "__main__":
    main()
