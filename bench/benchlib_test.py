#!/usr/bin/python3
"""Tests of bench/benchlib.py (bench/run's statistics, table, JSON, FLOP count and perf parsing)
on tiny inputs; run by ctest as bench_driver_logic."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


class SummaryTest(unittest.TestCase):
    def test_median_min_max(self):
        self.assertEqual(benchlib.summary([5.0, 1.0, 3.0, 2.0, 4.0]),
                         dict(median=3.0, min=1.0, max=5.0, n=5))
        self.assertEqual(benchlib.summary([1.0, 2.0])["median"], 1.5)

    def test_empty_is_an_error(self):
        with self.assertRaises(ValueError):
            benchlib.summary([])

    def test_paired_ratios_orientation(self):
        # Rates: ours / baseline; times: baseline / ours; > 1 means ours is better either way.
        self.assertEqual(benchlib.paired_ratios([4.0, 9.0], [2.0, 3.0]), [2.0, 3.0])
        self.assertEqual(benchlib.paired_ratios([2.0, 3.0], [4.0, 9.0], False), [2.0, 3.0])
        with self.assertRaises(ValueError):
            benchlib.paired_ratios([1.0], [1.0, 2.0])


class TableTest(unittest.TestCase):
    def make(self):
        r = benchlib.Results(dict(date="d", machine="m"))
        r.add("headline", "study A", "jobs/h", [100.0, 120.0, 110.0], "loop", [10.0, 12.0, 11.0],
              benchlib.paired_ratios([100.0, 120.0, 110.0], [10.0, 12.0, 11.0]), "n jobs")
        r.add("memory", "per member", "MB", 3.5, "estimate", 4.0, 4.0 / 3.5)
        r.add("memory", "no baseline", "x", 1234.5)
        return r

    def test_table_has_sections_medians_ranges_and_ratios(self):
        lines = self.make().table().splitlines()
        self.assertEqual(lines[2], "| **headline** | | | | |")
        self.assertEqual(lines[3], "| study A | 110 jobs/h (100–120) | loop: 11.0 jobs/h "
                                   "(10.0–12.0) | 10.0x (10.0–10.0) | n jobs |")
        self.assertEqual(lines[4], "| **memory** | | | | |")
        self.assertEqual(lines[5], "| per member | 3.50 MB | estimate: 4.00 MB | 1.14x |  |")
        self.assertEqual(lines[6], "| no baseline | 1,234 x |  |  |  |")

    def test_json_round_trip(self):
        d = json.loads(self.make().to_json())
        self.assertEqual(d["meta"]["machine"], "m")
        self.assertEqual(len(d["rows"]), 3)
        self.assertEqual(d["rows"][0]["ratio"], dict(median=10.0, min=10.0, max=10.0, n=3))
        self.assertIsNone(d["rows"][2]["baseline"])


class MergeTest(unittest.TestCase):
    def test_replaces_only_the_sections_run(self):
        old = dict(meta=dict(date="old"), rows=[dict(section="a", name="a1"),
                                                 dict(section="b", name="b1"),
                                                 dict(section="b", name="b2"),
                                                 dict(section="c", name="c1")])
        new = dict(meta=dict(date="new", commit="x", load_per_section=dict(kb=["1.0"])),
                   rows=[dict(section="b", name="b3"), dict(section="d", name="d1")])
        m = benchlib.merge_results(old, new, dict(b="kb", d="kd"))
        self.assertEqual([r["name"] for r in m["rows"]], ["a1", "b3", "c1", "d1"])
        self.assertEqual(m["meta"]["date"], "old")
        self.assertEqual(m["meta"]["runs"]["b"], dict(date="new", commit="x", load=["1.0"]))


class FlopsTest(unittest.TestCase):
    def test_counts_by_hand(self):
        # p = 3 (V 4, T 3, C 3), d = 2, d_mlp = 4, one example.
        # worker: per example q 8 + o 8 + mlp 32 + attention 24 + unembed 12 = 84; per step
        # K and V tables 4 (V + T) d^2 = 112; x 3 for backward.
        self.assertEqual(benchlib.transformer_flops(3, 2, 4, 1), 3 * (84 + 112))
        # every position: 3 (qkv 24 + o 8 + mlp 32) + attention 4 * 9 * 2 = 72 + unembed 12.
        self.assertEqual(benchlib.transformer_flops(3, 2, 4, 1, every_position=True),
                         3 * (3 * 64 + 72 + 12))


class PerfTest(unittest.TestCase):
    def test_gemm_share(self):
        lines = ["# comment",
                 "    40.00%  phasesweep_worker_bench  [.] phasesweep::worker::kernels::(anonymous "
                 "namespace)::RunAvx512",
                 "    10.00%  libopenblas.so.0  [.] sgemm_kernel_HASWELL",
                 "    20.00%  libc.so.6  [.] _int_malloc",
                 "    10.00%  ld-linux-x86-64.so.2  [.] do_lookup_x",
                 "    20.00%  [kernel.kallsyms]  [k] clear_page_erms"]
        s = benchlib.gemm_share(lines)
        self.assertAlmostEqual(s["gemm_percent"], 50.0)
        self.assertAlmostEqual(s["total_percent"], 100.0)
        self.assertAlmostEqual(s["step_percent"], 90.0)
        self.assertEqual(s["top_other"][0], "20.0% libc.so.6: _int_malloc")


if __name__ == "__main__":
    unittest.main()
