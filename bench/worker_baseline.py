#!/usr/bin/python3
"""The baseline for bench/worker_bench.cc: the same model and data trained in a plain PyTorch
Python loop (Debian's python3-torch), one model, torch.optim.AdamW. Prints one JSON line.

    /usr/bin/python3 bench/worker_baseline.py model=transformer batch=32 steps=200 threads=1

The transformer mirrors the worker's (embedding, learned positions, 1 pre-norm-free block with
causal attention and a ReLU MLP, untied unembedding, logits at the last position, biases
everywhere). By default it computes every position in every layer, as a plain implementation
does; last_only=1 applies the worker's shortcut (the last block computes the query, output
projection and MLP for the answer position only) so the implementations can also be compared
doing the same arithmetic.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Transformer(nn.Module):
    def __init__(self, vocab, seq_len, n_classes, d, heads, d_mlp, layers, last_only):
        super().__init__()
        self.heads, self.last_only = heads, last_only
        self.return_resid = False  # True: forward returns the answer position's residual stream
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(seq_len, d) / math.sqrt(d))
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict(dict(
                qkv=nn.Linear(d, 3 * d), o=nn.Linear(d, d),
                w_in=nn.Linear(d, d_mlp), w_out=nn.Linear(d_mlp, d))))
        self.unembed = nn.Linear(d, n_classes)
        self.register_buffer("mask", torch.full((seq_len, seq_len), float("-inf")).triu(1))

    def forward(self, x):
        B, T = x.shape
        h = self.embed(x) + self.pos
        d = h.shape[-1]
        H, dh = self.heads, d // self.heads
        for i, blk in enumerate(self.blocks):
            last = self.last_only and i == len(self.blocks) - 1
            q, k, v = blk["qkv"](h).view(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)
            if last:
                q = q[:, :, -1:, :]
                s = q @ k.transpose(-1, -2) / math.sqrt(dh)
                z = (s.softmax(-1) @ v).reshape(B, d)
                r = h[:, -1] + blk["o"](z)
                h = r + blk["w_out"](F.relu(blk["w_in"](r)))
            else:
                s = q @ k.transpose(-1, -2) / math.sqrt(dh) + self.mask
                z = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
                h = h + blk["o"](z)
                h = h + blk["w_out"](F.relu(blk["w_in"](h)))
        if not (self.last_only and len(self.blocks) > 0):
            h = h[:, -1]
        return h if self.return_resid else self.unembed(h)


def modular_data(p, fraction, gen):
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    x = torch.stack([a, b, torch.full_like(a, p)], 1)
    y = (a + b) % p
    perm = torch.randperm(p * p, generator=gen)
    n = round(fraction * p * p)
    return x[perm[:n]], y[perm[:n]]


def parity_data(n_bits, k, n, gen):
    bits = torch.randint(0, 2, (n, n_bits), generator=gen)
    y = bits[:, :k].sum(1) % 2
    x = F.one_hot(bits, 2).reshape(n, 2 * n_bits).float()  # the worker's one-hot input
    return x, y


def main():
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    model_name = args.get("model", "transformer")
    batch, steps = int(args.get("batch", 32)), int(args.get("steps", 200))
    warmup, threads = int(args.get("warmup", 20)), int(args.get("threads", 1))
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    if model_name == "mlp":
        n_bits, width = int(args.get("n_bits", 30)), int(args.get("width", 256))
        x, y = parity_data(n_bits, 3, 1000, gen)
        model = nn.Sequential(nn.Linear(2 * n_bits, width), nn.ReLU(), nn.Linear(width, width),
                              nn.ReLU(), nn.Linear(width, 2))
    else:
        p = int(args.get("p", 47))
        x, y = modular_data(p, float(args.get("train_fraction", 0.4)), gen)
        model = Transformer(p + 1, 3, p, int(args.get("d_model", 64)), 4,
                            int(args.get("d_mlp", 256)), int(args.get("layers", 1)),
                            args.get("last_only", "0") == "1")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8,
                            weight_decay=1.0)
    n = x.shape[0]
    full = batch == 0 or batch >= n
    per_epoch = 1 if full else n // batch
    order = None

    def step(i):
        nonlocal order
        if full:
            xb, yb = x, y
        else:
            j = i % per_epoch
            if j == 0:
                order = torch.randperm(n, generator=gen)
            idx = order[j * batch:(j + 1) * batch]
            xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(warmup, warmup + steps):
        step(i)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps(dict(impl="python" + ("_last_only" if args.get("last_only") == "1" else ""),
                          model=model_name, K=1, batch=batch, steps=steps,
                          threads=torch.get_num_threads(), seconds=sec, cpu_seconds=cpu,
                          steps_per_s=steps / sec, member_steps_per_s=steps / sec,
                          member_steps_per_cpu_s=steps / cpu)))


if __name__ == "__main__":
    main()
