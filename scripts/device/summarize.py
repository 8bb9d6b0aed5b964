#!/usr/bin/env python3
"""Writes the one-page summary of scripts/device/check (markdown, stdout) from its JSON lines
(results.jsonl) and the GPU tests' gtest JSON report.

    python3 scripts/device/summarize.py OUT/results.jsonl OUT/gpu_tests.json > OUT/summary.md
"""
import json
import sys

# Dense peaks of the cards the GPU machines have (NVIDIA data sheets, SXM parts): FP32, TF32.
PEAKS = {"H100": (67.0, 494.7), "H200": (67.0, 494.7), "A100": (19.5, 156.0)}
TARGET_RUNS_PER_HOUR, TARGET_RATIO = 1000.0, 25.0


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    tests = {}
    try:
        report = json.load(open(sys.argv[2]))
        for suite in report.get("testsuites", []):
            for t in suite.get("testsuite", []):
                status = "FAILED" if t.get("failures") else (
                    "SKIPPED" if t.get("result") == "SKIPPED" else "OK")
                tests[t["name"]] = status
    except (OSError, ValueError, IndexError):
        pass
    machine = next((r for r in rows if r.get("kind") == "machine"), {})
    gpu = machine.get("gpu", "none")
    peak = next((v for k, v in PEAKS.items() if k in gpu), None)
    out = ["# scripts/device/check summary", ""]
    if machine.get("dry_run"):
        out += ["**DRY RUN on the CPU**: the figures below are CPU figures of the dry run, not "
                "GPU results.", ""]
    out += [f"- machine: {gpu}; {machine.get('nproc', '?')} CPU cores"]
    for r in rows:
        if r.get("kind") == "build":
            out.append(f"- build: {r['status']} ({r['seconds']} s)")
        if r.get("kind") == "nccl_test":
            out.append("- NCCL single-rank init + allreduce: " +
                       ("passed" if r["rc"] == 0 else f"rc {r['rc']} {r.get('note', '')}"))
        if r.get("kind") == "gpu_tests":
            out.append(f"- GPU tests: rc {r['rc']} ({r['seconds']} s)")
    for name, status in sorted(tests.items()):
        out.append(f"  - {name}: {status}")
    base = {r["config"]: r for r in rows if r.get("kind") == "baseline"}
    out += ["", "## Throughput", "",
            "| config | K | member-steps/s | runs per device-hour (probes on) | model TFLOP/s | "
            "% FP32 peak | % TF32 peak | x plain PyTorch loop |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    best = {}
    for r in rows:
        if "K" not in r or r.get("kind") == "baseline":
            continue
        b = base.get(r["config"])
        ratio = r["runs_per_device_hour"] / b["runs_per_device_hour"] if b else None
        fp32 = f"{100 * r['model_tflops'] / peak[0]:.2f}" if peak else "n/a"
        tf32 = f"{100 * r['model_tflops'] / peak[1]:.2f}" if peak else "n/a"
        out.append(f"| {r['config']} | {r['K']} | {r['member_steps_per_s']:.1f} | "
                   f"{r['runs_per_device_hour']:.0f} | {r['model_tflops']:.3f} | {fp32} | {tf32} | "
                   + (f"{ratio:.1f}" if ratio else "n/a") + " |")
        best[r["config"]] = max(best.get(r["config"], 0), r["runs_per_device_hour"])
    out += ["", "Plain PyTorch loop (one model, same device, TF32 off):", ""]
    for c, b in base.items():
        out.append(f"- {c}: {b['member_steps_per_s']:.1f} steps/s, "
                   f"{b['runs_per_device_hour']:.1f} runs per device-hour (torch {b['torch']})")
    g = best.get("grokking.yaml")
    gb = base.get("grokking.yaml")
    out += ["", "## Targets (grokking, p = 97, d_model 128, 3000 full-batch steps)", ""]
    if g is not None:
        out.append(f"- >= {TARGET_RUNS_PER_HOUR:.0f} runs per GPU-hour with probes: best {g:.0f} "
                   f"({'met' if g >= TARGET_RUNS_PER_HOUR else 'NOT met'})")
        if gb:
            ratio = g / gb["runs_per_device_hour"]
            out.append(f"- >= {TARGET_RATIO:.0f}x the plain loop: {ratio:.1f}x "
                       f"({'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    else:
        out.append("- no grokking throughput measured")
    out += ["", "Runs per device-hour: K x 3600 / (run steps x step time + the run's probe steps x "
            "a probe step's extra time), both timed on this device. Model TFLOP/s: 3 x the "
            "forward FLOPs of a plain implementation per member-step (the worker skips part of "
            "them), so it is a useful-work rate, not the hardware's."]
    print("\n".join(out))


if __name__ == "__main__":
    main()
