"""The engine benchmark's documented command keeps working (few tasks, in-process levels only)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_engine.py"


def test_engine_benchmark_reports_each_level_per_task(tmp_path) -> None:
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.measure(5, workers=0)
    assert out["tasks"] == 5 and set(out["seconds_per_task"]) == {
        "execute", "run_tasks in-process", "run_sweep in-process (cache, log, report)"}
    assert all(s > 0 for s in out["seconds_per_task"].values())
