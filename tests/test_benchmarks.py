"""The documented benchmark command keeps working (tiny sizes; the figures themselves are in the README)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sampled_part_reports_both_modes_and_the_ceiling(bench) -> None:
    r = bench.bench_sampled(4, 2, 3, models=3, batch=4, steps=2, device="cpu", dtype="float64")
    assert set(r["ours"]) == {"eager", "compiled"}
    assert r["baseline_seq_per_s"] > 0 and r["ceiling_seq_per_s"] > 0 and r["gemm_gflops"] > 0
    assert r["ratio_compiled"] == pytest.approx(r["ours"]["compiled"]["seq_per_s"] / r["baseline_seq_per_s"])


def test_population_part_times_both_to_the_same_gap(bench) -> None:
    r = bench.bench_population([0], gd_budget_s=0.3, device="cpu")
    assert r["ours_reached"] == "1/1" and r["ours_median_s_to_gap"] <= r["ours_median_s"]
    # 0.3 s of plain GD (about 350 steps) cannot reach a 1e-8 gap: the ratio must be flagged as a lower bound
    assert not r["gd"]["reached"] and r["ratio_is_lower_bound"]
