#!/usr/bin/python3
"""Runs the worker benchmark (bench/worker_bench.cc) and the plain PyTorch loop
(bench/worker_baseline.py) side by side, interleaved, and prints the ratios as markdown.

    /usr/bin/python3 bench/worker_compare.py BUILD/bench/phasesweep_worker_bench [threads=1]
        [reps=5]

Rows:
  - K=1 C++ vs the plain Python loop (full batch and batch 32): >= 1.0x and >= 1.2x wanted;
    also vs the Python loop doing the same arithmetic as the worker (last_only=1, the
    transformer's answer-position shortcut) under the worker's glibc allocator settings;
  - packing: K=16 vs K=1 member-steps/s at batch 32 (>= 6x wanted), for the default study's
    transformer and for a small transformer / the MLP.
Each figure is the best of `reps` interleaved runs (the machines these run on are shared: a busy
neighbour on the sibling vCPU halves a run's speed, and best-of is the least disturbed run of
each command; both sides of every ratio are measured the same way). Step counts are chosen so
that each run lasts roughly half a second to two seconds.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


# glibc settings equal to the worker's TuneAllocatorForTraining, for the baseline.
TUNED = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def run(cmd):
    env = dict(os.environ)
    if cmd[0] == "TUNED":
        cmd = cmd[1:]
        env.update(TUNED)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bench = sys.argv[1]
    opts = dict(a.split("=", 1) for a in sys.argv[2:])
    threads, reps = opts.get("threads", "1"), int(opts.get("reps", 5))
    common = [f"threads={threads}", "warmup=20"]
    py = ["/usr/bin/python3", os.path.join(HERE, "worker_baseline.py")]

    def best(cmds):
        """Runs each command of `cmds` reps times, interleaved; the best member-steps per wall
        second and per CPU second of each."""
        wall = [[] for _ in cmds]
        cpu = [[] for _ in cmds]
        for _ in range(reps):
            for i, c in enumerate(cmds):
                r = run(c)
                wall[i].append(r["member_steps_per_s"])
                cpu[i].append(r["member_steps_per_cpu_s"])
        return ([max(r) for r in wall], [max(r) for r in cpu])

    rows = []
    for model in ["transformer", "mlp"]:
        for batch in ["0", "32"]:
            steps = "60" if batch == "0" else "600"
            args = [f"model={model}", f"batch={batch}", f"steps={steps}"] + common
            same = ["last_only=1"] if model == "transformer" else []
            cmds = [[bench, "K=1"] + args, py + args, ["TUNED"] + py + args + same]
            wall, cpu = best(cmds)
            label = "full batch" if batch == "0" else f"batch {batch}"
            rows.append(
                f"| {model}, {label} | {wall[0]:.1f} / {cpu[0]:.1f} | {wall[1]:.1f} / {cpu[1]:.1f} | "
                f"**{wall[0] / wall[1]:.2f}x** / **{cpu[0] / cpu[1]:.2f}x** | "
                f"{wall[2]:.1f} / {cpu[2]:.1f} | {wall[0] / wall[2]:.2f}x / {cpu[0] / cpu[2]:.2f}x |")
    print(f"threads={threads}, best of {reps} interleaved runs; "
          "each cell: per wall second / per CPU second\n")
    print("| K=1 | C++ steps/s | plain PyTorch loop | C++ / plain loop | PyTorch loop, same "
          "arithmetic and allocator settings | C++ / that |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))

    rows = []
    for name, args, steps in [
        ("transformer, default study (p 47, d_model 64, d_mlp 256)", ["model=transformer"], 600),
        ("transformer, smoke size (p 13, d_model 16, d_mlp 32)",
         ["model=transformer", "p=13", "d_model=16", "d_mlp=32"], 2000),
        ("mlp, sparse parity n 30, 2 x 256", ["model=mlp"], 600),
        ("mlp, sparse parity n 30, 2 x 64", ["model=mlp", "width=64"], 2000),
    ]:
        a = args + ["batch=32"] + common
        wall, cpu = best([[bench, "K=1", f"steps={steps}"] + a,
                          [bench, "K=16", f"steps={steps // 8}"] + a])
        rows.append(f"| {name} | {wall[0]:.0f} / {cpu[0]:.0f} | {wall[1]:.0f} / {cpu[1]:.0f} | "
                    f"**{wall[1] / wall[0]:.2f}x** / **{cpu[1] / cpu[0]:.2f}x** |")
    print("\n| packing, batch 32 | K=1 member-steps/s | K=16 member-steps/s | K=16 / K=1 |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
