"""Overhead of the task engine per task: in-process and on a local Dask cluster (issue #13).

    python benchmarks/bench_engine.py                  # 400 tasks in-process, 400 on a 2-worker LocalCluster
    python benchmarks/bench_engine.py --tasks 1000 --workers 2 --json engine.json

Every task is ``builtins:dict`` — it returns a copy of its (small) payload, so the time measured is the engine's
own, not a task's.  Four levels, each as seconds per task (wall time / tasks):

* ``execute``: the wrapper every task runs in (one torch thread, the run's device, the JSON round trip);
* ``run_tasks in-process``: the engine's submit / retry loop / final callback on the in-process executor;
* ``run_sweep in-process``: a whole sweep of the same tasks, with the result cache (one checksummed file per
  point), the ``points.jsonl`` log (one synced line per point) and the report;
* ``run_tasks LocalCluster``: the engine on ``--workers`` worker processes (start-up excluded, printed apart):
  scheduling, serialisation and two network hops per task.

Compare them with a point's own compute time (seconds to hours) to see what the engine costs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

NOOP = "builtins:dict"


def _tasks(n: int) -> list:
    from proofs_check.engine import Task

    return [Task(i, NOOP, {"i": i, "seed": 0}, f"i={i}") for i in range(n)]


def _engine_seconds(executor, n: int) -> float:
    from proofs_check.engine import run_tasks

    done = []
    t0 = time.perf_counter()
    run_tasks(executor, _tasks(n), on_final=lambda task, outcome: done.append(outcome["ok"]), device="cpu",
              name="bench")
    seconds = time.perf_counter() - t0
    if len(done) != n or not all(done):
        raise RuntimeError(f"{n - sum(done)} of {n} no-op tasks did not finish OK")
    return seconds


def measure(n: int, workers: int) -> dict:
    """Seconds per task at each level (see the module docstring); ``workers=0`` skips the cluster."""
    from proofs_check.sweeps.executor import InProcessExecutor, execute, local_executor
    from proofs_check.sweeps.grid import Aggregate, Grid, Sweep
    from proofs_check.sweeps.run import run_sweep

    execute(NOOP, {"i": -1, "seed": 0}, "cpu")  # warm-up: the first call imports what the wrapper uses
    t0 = time.perf_counter()
    for i in range(n):
        execute(NOOP, {"i": i, "seed": 0}, "cpu")
    per = {"execute": (time.perf_counter() - t0) / n}
    per["run_tasks in-process"] = _engine_seconds(InProcessExecutor(), n) / n
    sweep = Sweep("bench-engine", "benchmark", "no-op points", NOOP,
                  {"quick": Grid(axes={"i": tuple(range(n))}, seeds=(0,))}, lambda tasks, out: Aggregate("(none)"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rep = run_sweep(sweep, "quick", InProcessExecutor(), out_dir=Path(tmp) / "out", cache_root=Path(tmp) / "c",
                        version="0" * 16, device="cpu")
        per["run_sweep in-process (cache, log, report)"] = (time.perf_counter() - t0) / n
        if not rep.ok:
            raise RuntimeError("the no-op sweep did not finish OK")
    out = {"tasks": n, "workers": workers, "cpu_count": os.cpu_count(), "seconds_per_task": per,
           "load_average_1min": os.getloadavg()[0]}
    if workers:
        t0 = time.perf_counter()
        with local_executor(workers) as ex:
            out["cluster_startup_s"] = time.perf_counter() - t0
            per[f"run_tasks LocalCluster ({workers} workers)"] = _engine_seconds(ex, n) / n
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers (0: in-process levels only)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    numbers = measure(args.tasks, args.workers)
    table = Table(title=f"task engine overhead: {args.tasks} no-op tasks, {os.cpu_count()} CPU cores, "
                        f"1-min load {numbers['load_average_1min']:.1f}")
    table.add_column("level")
    table.add_column("ms per task", justify="right")
    for level, seconds in numbers["seconds_per_task"].items():
        table.add_row(level, f"{1e3 * seconds:.3f}")
    console = Console(highlight=False)
    console.print(table)
    if "cluster_startup_s" in numbers:
        console.print(f"LocalCluster start-up (not per task): {numbers['cluster_startup_s']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":  # a LocalCluster spawns worker processes: the guard is required
    raise SystemExit(main())
