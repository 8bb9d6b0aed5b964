#!/usr/bin/env python3
"""The plain PyTorch baseline of scripts/device/check: one model of a config's shape trained in
an ordinary Python loop (torch.optim.AdamW, full batch) on a device, the model and data of
bench/worker_baseline.py. Prints one JSON line with steps/s and runs per device-hour.

    python3 scripts/device/torch_loop.py device=cuda p=97 d_model=128 d_mlp=512 fraction=0.3 \
        steps=30 warmup=5 run_steps=3000
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from worker_baseline import Transformer, modular_data  # noqa: E402


def main():
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    device = torch.device(args.get("device", "cuda" if torch.cuda.is_available() else "cpu"))
    p, d, d_mlp = int(args.get("p", 97)), int(args.get("d_model", 128)), int(args.get("d_mlp", 512))
    heads, fraction = int(args.get("heads", 4)), float(args.get("fraction", 0.3))
    steps, warmup = int(args.get("steps", 30)), int(args.get("warmup", 5))
    run_steps = int(args.get("run_steps", 3000))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x, y = modular_data(p, fraction, gen)
    x, y = x.to(device), y.to(device)
    model = Transformer(p + 1, 3, p, d, heads, d_mlp, 1, False).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    sec = time.perf_counter() - t0
    print(json.dumps(dict(impl="pytorch_loop", device=str(device), torch=torch.__version__,
                          p=p, d_model=d, n_train=int(x.shape[0]), steps=steps,
                          step_s=sec / steps, member_steps_per_s=steps / sec,
                          runs_per_device_hour=3600.0 / (run_steps * sec / steps))))


if __name__ == "__main__":
    main()
