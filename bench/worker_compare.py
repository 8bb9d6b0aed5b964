#!/usr/bin/python3
"""Runs the worker benchmark (bench/worker_bench.cc) and the plain PyTorch loop
(bench/worker_baseline.py) side by side, interleaved, and prints the ratios as markdown.

    /usr/bin/python3 bench/worker_compare.py BUILD/bench/phasesweep_worker_bench [threads=1]
        [reps=3] [steps=200]

Rows:
  - K=1 C++ vs the plain Python loop (full batch and batch 32): >= 1.0x and >= 1.2x wanted;
    also vs the Python loop doing the same arithmetic as the worker (last_only=1);
  - packing: K=16 vs K=1 member-steps/s at batch 32 (>= 6x wanted), for the default study's
    transformer and for a small transformer / the MLP.
Each figure is the median of `reps` interleaved runs.
"""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bench = sys.argv[1]
    opts = dict(a.split("=", 1) for a in sys.argv[2:])
    threads, reps = opts.get("threads", "1"), int(opts.get("reps", 3))
    steps = opts.get("steps", "200")
    common = [f"threads={threads}", f"steps={steps}", "warmup=20"]
    py = ["/usr/bin/python3", os.path.join(HERE, "worker_baseline.py")]

    def median(cmds):
        """Runs each command of `cmds` reps times, interleaved; the median member-steps per wall
        second and per CPU second of each."""
        wall = [[] for _ in cmds]
        cpu = [[] for _ in cmds]
        for _ in range(reps):
            for i, c in enumerate(cmds):
                r = run(c)
                wall[i].append(r["member_steps_per_s"])
                cpu[i].append(r["member_steps_per_cpu_s"])
        return ([statistics.median(r) for r in wall], [statistics.median(r) for r in cpu])

    rows = []
    for model in ["transformer", "mlp"]:
        for batch in ["0", "32"]:
            args = [f"model={model}", f"batch={batch}"] + common
            cmds = [[bench, "K=1"] + args, py + args]
            if model == "transformer":
                cmds.append(py + args + ["last_only=1"])
            wall, cpu = median(cmds)
            label = "full batch" if batch == "0" else f"batch {batch}"
            row = (f"| {model}, {label} | {wall[0]:.1f} / {cpu[0]:.1f} | {wall[1]:.1f} / {cpu[1]:.1f} | "
                   f"**{wall[0] / wall[1]:.2f}x** / **{cpu[0] / cpu[1]:.2f}x** |")
            if len(wall) > 2:
                row += f" {wall[0] / wall[2]:.2f}x / {cpu[0] / cpu[2]:.2f}x |"
            else:
                row += " — |"
            rows.append(row)
    print(f"threads={threads}, steps={steps}, median of {reps} interleaved runs; "
          "each cell: per wall second / per CPU second\n")
    print("| K=1 | C++ steps/s | plain PyTorch loop steps/s | C++ / Python "
          "| C++ / Python with the same answer-position shortcut |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))

    rows = []
    for name, args in [
        ("transformer, default study (p 47, d_model 64, d_mlp 256)", ["model=transformer"]),
        ("transformer, smoke size (p 13, d_model 16, d_mlp 32)",
         ["model=transformer", "p=13", "d_model=16", "d_mlp=32"]),
        ("mlp, sparse parity n 30, 2 x 256", ["model=mlp"]),
        ("mlp, sparse parity n 30, 2 x 64", ["model=mlp", "width=64"]),
    ]:
        a = args + ["batch=32"] + common
        wall, cpu = median([[bench, "K=1"] + a, [bench, "K=16"] + a])
        rows.append(f"| {name} | {wall[0]:.0f} / {cpu[0]:.0f} | {wall[1]:.0f} / {cpu[1]:.0f} | "
                    f"**{wall[1] / wall[0]:.2f}x** / **{cpu[1] / cpu[0]:.2f}x** |")
    print("\n| packing, batch 32 | K=1 member-steps/s | K=16 member-steps/s | K=16 / K=1 |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
