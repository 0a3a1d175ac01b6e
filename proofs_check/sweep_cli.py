"""``proofs-check sweep``: run a declarative paper sweep on this machine or a Dask cluster.

    proofs-check sweep --list
    proofs-check sweep NAME [--scale quick|cpu|paper] [--device auto|cpu|cuda[:N]]
                            [--workers N | --scheduler ADDRESS | --cluster-config FILE | --in-process]
                            [--dashboard [HOST:]PORT] [--resume] [--out DIR] [--cache DIR] [--max-attempts K]
                            [--no-gpu]

Without a route the sweep runs on a ``LocalCluster`` with one worker process per CPU core.  Exit status: 0 when
every point is OK, 1 when some point is ERROR, 130 when interrupted (rerun with ``--resume``), 2 on bad
arguments or a bad cluster configuration (an ``ArgumentError`` naming the option, file or key).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from rich.markup import escape

from proofs_check.sweeps.grid import SCALES
from theory.arguments import ArgumentError, positive_int


def add_route_arguments(parser: argparse.ArgumentParser, *, in_process: bool) -> None:
    """The options saying where tasks run (shared by ``run`` and ``sweep``): one route, plus the dashboard."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="a LocalCluster of N single-threaded worker processes"
                            + (" (default: one per CPU core)" if in_process else " (default: in this process)"))
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--cluster-config", type=Path, default=None, metavar="FILE",
                       help="YAML naming a dask-jobqueue cluster (SLURM/PBS/...); see docs/sweeps.md")
    if in_process:
        where.add_argument("--in-process", action="store_true", help="run the points one by one in this process")
    parser.add_argument("--dashboard", default=None, metavar="[HOST:]PORT",
                        help="serve the Dask dashboard of a local cluster (host 127.0.0.1 unless given); "
                             "default: no dashboard")


def add_sweep_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` sub-command to the ``proofs-check`` parser's sub-parsers."""
    s = subparsers.add_parser("sweep", help="run a paper sweep (Dask) and write its table and figures",
                              description=__doc__.split("\n\n")[0])
    s.add_argument("name", nargs="?", help="the sweep (see --list)")
    s.add_argument("--list", action="store_true", help="list the defined sweeps and their sizes")
    s.add_argument("--scale", choices=SCALES, default="quick",
                   help="quick: minutes on 2 cores; cpu: long CPU runs; paper: the papers' own sizes (a cluster's "
                        "job); the training preset of the same name")
    s.add_argument("--device", default="auto",
                   help="auto (each worker's CUDA if it has one), cpu, or cuda[:N]; resolved once here for "
                        "in-process and local runs")
    add_route_arguments(s, in_process=True)
    s.add_argument("--resume", action="store_true", help="take the points already in the cache; run only the rest")
    s.add_argument("--out", type=Path, default=None, help="report folder (default: sweeps/NAME-SCALE)")
    s.add_argument("--cache", type=Path, default=None, help="result cache folder (default: OUT/cache)")
    s.add_argument("--max-attempts", type=int, default=3, metavar="K",
                   help="attempts per point when its worker dies (default 3)")
    s.add_argument("--no-gpu", action="store_true", help="do not ask for GPU workers (run GPU points on any worker)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in CI logs)")
    return s


def _list(console: Any) -> int:
    from rich.table import Table

    from proofs_check.sweeps.definitions import all_sweeps

    table = Table(title="sweeps (points per scale; GPU = the points ask for a GPU worker)")
    table.add_column("name", no_wrap=True)
    for s in SCALES:
        table.add_column(s, no_wrap=True)
    table.add_column("what")
    for sw in all_sweeps().values():
        sizes = [f"{len(sw.grid(s).points())}{' GPU' if sw.grid(s).gpu else ''}" if s in sw.scales else "—"
                 for s in SCALES]
        table.add_row(sw.name, *sizes, f"{sw.paper}: {sw.description}")
    console.print(table)
    return 0


def run_sweep_command(args: argparse.Namespace, console: Any, *, err: Any = None,
                      argv: list[str] | None = None) -> int:
    """Carry out ``proofs-check sweep``; bad input raises ``ArgumentError`` (the CLI prints it and exits 2).

    Everything is checked before a cluster starts or a point runs: the sweep and its scale, the device, the
    output and cache folders (writable), the attempt count."""
    from numerics.device import check_device_name, resolve_device
    from proofs_check.engine import prepare_output_dir
    from proofs_check.sweeps.definitions import get_sweep
    from proofs_check.sweeps.executor import open_executor
    from proofs_check.sweeps.run import run_sweep

    err = err or console
    if args.list:
        return _list(console)
    if not args.name:
        raise ArgumentError("name the sweep to run (`proofs-check sweep --list` shows them)")
    sweep = get_sweep(args.name)
    sweep.grid(args.scale)
    positive_int("--max-attempts", args.max_attempts)
    remote = args.scheduler is not None or args.cluster_config is not None
    device = check_device_name(args.device) if remote else str(resolve_device(args.device))
    out = args.out if args.out is not None else Path("sweeps") / f"{sweep.name}-{args.scale}"
    out = prepare_output_dir(out, "--out")
    cache = prepare_output_dir(args.cache if args.cache is not None else out / "cache", "--cache")
    command = "proofs-check " + shlex.join(argv) if argv else ""
    with open_executor(in_process=args.in_process, workers=args.workers, scheduler=args.scheduler,
                       cluster_config=args.cluster_config, dashboard=args.dashboard) as executor:
        try:
            report = run_sweep(sweep, args.scale, executor, out_dir=out, cache_root=cache, resume=args.resume,
                               max_attempts=args.max_attempts, gpu=False if args.no_gpu else None,
                               console=console, progress=not args.no_progress, command=command, device=device)
        except KeyboardInterrupt:
            err.print(f"[yellow]interrupted[/]: partial report in {escape(str(out))}; rerun with --resume to run "
                      "only the missing points", soft_wrap=True)
            return 130
    c = report.counts()
    console.print(f"OK {c['OK']}  ERROR {c['ERROR']}  (cached {c['cached']}, retried {c['retried']}, refused cache "
                  f"entries {c['cache_refused']}) in {report.seconds:.1f} s on {escape(report.executor)}")
    for t in report.tasks:
        if t.status == "ERROR":
            console.print(f"[bold magenta]ERROR[/] point {t.index} ({escape(t.label)}): {escape(str(t.error))}",
                          soft_wrap=True)
    console.print(f"report: {out / 'sweep.md'}  {out / 'sweep.json'}", soft_wrap=True, markup=False)
    return 0 if report.ok else 1
