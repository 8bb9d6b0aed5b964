"""Table, statistics and arithmetic counts for bench/run (tested by bench/benchlib_test.py).

A figure is a list of repeated measurements of one quantity; a row puts a figure beside the
baseline it is compared with (measured in the same run, interleaved with it) and their ratio.
"""
import json
import re
import statistics


def summary(values):
    """Median, min, max and count of a non-empty list of numbers."""
    if not values:
        raise ValueError("summary of no measurements")
    return dict(median=statistics.median(values), min=min(values), max=max(values),
                n=len(values))


def paired_ratios(ours, baseline, higher_is_better=True):
    """Per-repetition ratios of interleaved measurements (ours[i] with baseline[i]), oriented so
    that > 1 means ours is better: rates ours/baseline, times baseline/ours."""
    if len(ours) != len(baseline) or not ours:
        raise ValueError(f"paired ratios need equal non-empty lists ({len(ours)}, {len(baseline)})")
    return [o / b if higher_is_better else b / o for o, b in zip(ours, baseline)]


def fmt_num(x):
    """A number with about three significant digits, thousands separated."""
    if x is None:
        return ""
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt_summary(s, suffix=""):
    """'median (min-max)' of a summary, or the single value when n == 1."""
    if s is None:
        return ""
    if s["n"] == 1:
        return fmt_num(s["median"]) + suffix
    return (f"{fmt_num(s['median'])}{suffix} ({fmt_num(s['min'])}–{fmt_num(s['max'])})")


class Results:
    """Rows of the run, in order: each a section, a figure's name, its unit, our summary, the
    baseline's name and summary, the ratio's summary and a note."""

    def __init__(self, meta):
        self.meta = dict(meta)
        self.rows = []

    def add(self, section, name, unit, ours, baseline_name="", baseline=None, ratio=None,
            note="", extra=None):
        def s(v):  # a list of repetitions, one number, or None
            return None if v is None else summary(v if isinstance(v, list) else [v])

        row = dict(section=section, name=name, unit=unit, value=s(ours),
                   baseline_name=baseline_name, baseline=s(baseline), ratio=s(ratio), note=note)
        if extra:
            row["extra"] = extra
        self.rows.append(row)
        return row

    def table(self):
        """The rows as one markdown table, a header line per section."""
        out = ["| figure | ours | baseline | ratio | note |",
               "|---|---|---|---|---|"]
        section = None
        for r in self.rows:
            if r["section"] != section:
                section = r["section"]
                out.append(f"| **{section}** | | | | |")
            unit = f" {r['unit']}" if r["unit"] else ""
            base = ""
            if r["baseline_name"]:
                base = r["baseline_name"]
                if r["baseline"] is not None:
                    base += ": " + fmt_summary(r["baseline"], unit)
            ratio = fmt_summary(r["ratio"], "x") if r["ratio"] is not None else ""
            ours = fmt_summary(r["value"], unit) if r["value"] is not None else ""
            out.append(f"| {r['name']} | {ours} | {base} | {ratio} | {r['note']} |")
        return "\n".join(out)

    def to_json(self):
        return json.dumps(dict(meta=self.meta, rows=self.rows), indent=1)


def merge_results(old, new, sections):
    """bench/run --merge: the JSON of a run that measured only `sections` (a dict: row section
    name -> the run's section key, that of meta.load_per_section) merged into an earlier results file: the earlier rows of those sections are replaced by the
    new ones, in place of the first replaced row (or appended), the other rows and their meta
    kept; meta["runs"] records each section's date, commit, mode, repetitions and load."""
    rows, placed = [], set()
    for r in old.get("rows", []):
        s = r["section"]
        if s in sections:
            if s not in placed:
                rows.extend(x for x in new["rows"] if x["section"] == s)
                placed.add(s)
            continue
        rows.append(r)
    rows.extend(x for x in new["rows"] if x["section"] not in placed)
    meta = dict(old.get("meta", {}))
    runs = dict(meta.get("runs", {}))
    nm = new["meta"]
    for s, key in sections.items():
        runs[s] = {k: nm[k] for k in ("date", "commit", "mode", "reps", "machine") if k in nm}
        runs[s]["load"] = nm.get("load_per_section", {}).get(key)
    meta["runs"] = runs
    return dict(meta=meta, rows=rows)


def transformer_flops(p, d, d_mlp, n_examples, heads=4, every_position=False):
    """Floating-point operations (multiply and add counted separately) of one full training step
    (forward + backward) of one member of the 1-layer modular-addition transformer on
    `n_examples` examples, counting the matrix products and attention scores.

    every_position=False counts what phasesweep's worker computes (worker/src/model/model_transformer.cc
    and token_projection.h): keys and values of the first (only) block per vocabulary row and
    position, (V + T) rows, then gathered; the query, attention, output projection, MLP and
    unembedding at the answer position only. every_position=True counts the usual model
    (bench/worker_baseline.py): every projection and the MLP at all 3 positions, full 3 x 3
    attention. Backward = 2 x forward for every product (input and weight gradients)."""
    T, V, C = 3, p + 1, p
    if every_position:
        per_example = T * (2 * d * 3 * d + 2 * d * d + 2 * 2 * d * d_mlp) + 2 * 2 * T * T * d
        per_step = 0
    else:
        per_example = 2 * d * d + 2 * d * d + 2 * 2 * d * d_mlp + 2 * 2 * T * d
        per_step = 2 * 2 * (V + T) * d * d
    per_example += 2 * d * C
    return 3 * (per_example * n_examples + per_step)


GEMM_SYMBOL = re.compile(
    r"sgemm|gemm_|_gemm|Gemm|RunAvx512|RunAvx2|RunSse2|RunPortable|LinearForward|"
    r"LinearInputGrad|LinearWeightGrad|addmm|mkldnn_matmul")


def gemm_share(perf_lines):
    """Percent of the samples of `perf report --no-children --sort dso,sym --stdio -g none` text
    in matrix-product code (the worker's small_gemm kernels, OpenBLAS's sgemm and its packing);
    percent not in the dynamic loader (step_percent: what is left of start-up, if the recording
    began before it ended, is the loader's symbol lookups); the five largest other symbols."""
    gemm, total, loader, others = 0.0, 0.0, 0.0, []
    for line in perf_lines:
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip()
        total += pct
        if dso.startswith("ld-linux"):
            loader += pct
        elif GEMM_SYMBOL.search(sym):
            gemm += pct
        else:
            others.append((pct, f"{dso}: {sym}"))
    others.sort(reverse=True)
    return dict(gemm_percent=gemm, total_percent=total, step_percent=total - loader,
                top_other=[f"{p:.1f}% {s}" for p, s in others[:5]])
