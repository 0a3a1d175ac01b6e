"""Wall time of a CPU-scale sweep: in-process vs a local Dask cluster (issue #8).

    python benchmarks/bench_sweeps.py                       # vladymyrov-table1, --scale quick, 2 workers
    python benchmarks/bench_sweeps.py --sweep sander-heads --workers 2 --json bench.json

Runs the same sweep twice without a cache — once in this process (sequential), once on a ``LocalCluster`` with
``--workers`` single-threaded worker processes — checks that both give the same numbers, and prints a table:
wall time of each route (the cluster's includes starting its workers, which is what a user waits for), the
sum of the points' own compute times, and the speed-up ratio in-process / cluster.  Every point runs on one torch
thread on both routes (``proofs_check.sweeps.executor.TASK_THREADS``).  With ``W`` workers on ``W`` free cores
the ideal ratio is ``W``; the gap is start-up, each worker importing torch once, load imbalance at the end of the
sweep, and whatever else runs on the machine (the 1-minute load averages are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table




def _max_relative_difference(a: list, b: list) -> float:
    """Largest relative difference between the numeric leaves of two lists of result dicts (timings skipped)."""
    worst = 0.0

    def walk(x, y):
        nonlocal worst
        if isinstance(x, dict):
            for k in x:
                if "seconds" not in k:  # timings (seconds, train_seconds, ...) differ by nature
                    walk(x[k], y[k])
        elif isinstance(x, (list, tuple)):
            for u, v in zip(x, y):
                walk(u, v)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300) if x != y else 0.0)

    for x, y in zip(a, b):
        walk(x, y)
    return worst


def main(argv: list[str] | None = None) -> int:
    from proofs_check.sweeps.cache import code_version
    from proofs_check.sweeps.definitions import get_sweep
    from proofs_check.sweeps.executor import InProcessExecutor, local_executor
    from proofs_check.sweeps.run import run_sweep

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep", default="vladymyrov-table1")
    ap.add_argument("--scale", default="quick")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ap.add_argument("--out", type=Path, default=None, help="write each route's sweep report under OUT/<route>/")
    args = ap.parse_args(argv)
    console = Console(highlight=False)
    sweep = get_sweep(args.sweep)
    version = code_version()  # one version for both routes, so a file saved mid-run cannot split them

    out = (lambda route: args.out / route) if args.out else (lambda route: None)  # noqa: E731
    load = {"before": os.getloadavg()[0]}
    t0 = time.perf_counter()
    ref = run_sweep(sweep, args.scale, InProcessExecutor(), version=version, out_dir=out("in-process"))
    t_in = time.perf_counter() - t0
    load["after_in_process"] = os.getloadavg()[0]

    t0 = time.perf_counter()
    with local_executor(args.workers) as ex:
        t_up = time.perf_counter() - t0
        got = run_sweep(sweep, args.scale, ex, version=version, out_dir=out("cluster"))
    t_cl = time.perf_counter() - t0
    load["after_cluster"] = os.getloadavg()[0]

    same_status = [t.status for t in ref.tasks] == [t.status for t in got.tasks]
    diff = _max_relative_difference([t.result or {} for t in ref.tasks], [t.result or {} for t in got.tasks])
    numbers = {
        "sweep": args.sweep, "scale": args.scale, "points": len(ref.tasks), "workers": args.workers,
        "cpu_count": os.cpu_count(), "in_process_s": t_in, "cluster_s": t_cl, "cluster_startup_s": t_up,
        "ratio": t_in / t_cl, "ratio_excluding_startup": t_in / (t_cl - t_up),
        "compute_s_in_process": sum(t.seconds or 0 for t in ref.tasks),
        "compute_s_cluster": sum(t.seconds or 0 for t in got.tasks),
        "errors": {"in_process": ref.counts()["ERROR"], "cluster": got.counts()["ERROR"]},
        "same_status": same_status, "max_relative_difference": diff,
        "load_average_1min": load,  # other processes on the machine distort both times
    }
    table = Table(title=f"{args.sweep} --scale {args.scale}: {len(ref.tasks)} points, {os.cpu_count()} CPU cores")
    for col in ("route", "wall time (s)", "sum of point times (s)", "ERROR points"):
        table.add_column(col)
    table.add_row("in-process", f"{t_in:.1f}", f"{numbers['compute_s_in_process']:.1f}",
                  str(numbers["errors"]["in_process"]))
    table.add_row(f"LocalCluster, {args.workers} workers", f"{t_cl:.1f} (start-up {t_up:.1f})",
                  f"{numbers['compute_s_cluster']:.1f}", str(numbers["errors"]["cluster"]))
    console.print(table)
    console.print(f"speed-up (in-process / cluster): {numbers['ratio']:.2f}x including start-up, "
                  f"{numbers['ratio_excluding_startup']:.2f}x excluding it; same statuses: {same_status}; "
                  f"largest relative difference between the two routes' numbers: {diff:.3g}; 1-min load average "
                  f"{load['before']:.1f} / {load['after_in_process']:.1f} / {load['after_cluster']:.1f} "
                  "(before / after in-process / after cluster)")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0 if same_status else 1


if __name__ == "__main__":  # a LocalCluster spawns worker processes: the guard is required
    raise SystemExit(main())
