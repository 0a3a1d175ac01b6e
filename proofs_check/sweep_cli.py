"""``proofs-check sweep``: run a declarative paper sweep on this machine or a Dask cluster.

    proofs-check sweep --list
    proofs-check sweep NAME [--scale cpu|paper] [--workers N | --scheduler ADDRESS | --cluster-config FILE |
                            --in-process] [--resume] [--out DIR] [--cache DIR] [--max-attempts K] [--no-gpu]

Without a route the sweep runs on a ``LocalCluster`` with one worker process per CPU core.  Exit status: 0 when
every point is OK, 1 when some point is ERROR, 130 when interrupted (rerun with ``--resume``), 2 on bad
arguments or a bad cluster configuration (a ``ValueError`` the CLI prints).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from proofs_check.sweeps.grid import SCALES


def add_sweep_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` sub-command to the ``proofs-check`` parser's sub-parsers."""
    s = subparsers.add_parser("sweep", help="run a paper sweep (Dask) and write its table and figures",
                              description=__doc__.split("\n\n")[0])
    s.add_argument("name", nargs="?", help="the sweep (see --list)")
    s.add_argument("--list", action="store_true", help="list the defined sweeps and their sizes")
    s.add_argument("--scale", choices=SCALES, default="cpu",
                   help="cpu: minutes on 2 cores; paper: the papers' own sizes (a cluster's job)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="LocalCluster with N worker processes (default: one per CPU core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--cluster-config", type=Path, default=None, metavar="FILE",
                       help="YAML naming a dask-jobqueue cluster (SLURM/PBS/...); see docs/sweeps.md")
    where.add_argument("--in-process", action="store_true", help="run the points one by one in this process")
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
    for col, kw in (("name", {"no_wrap": True}), ("cpu", {"no_wrap": True}), ("paper", {"no_wrap": True}),
                    ("what", {})):
        table.add_column(col, **kw)
    for sw in all_sweeps().values():
        sizes = [f"{len(sw.grid(s).points())}{' GPU' if sw.grid(s).gpu else ''}" if s in sw.scales else "—"
                 for s in SCALES]
        table.add_row(sw.name, *sizes, f"{sw.paper}: {sw.description}")
    console.print(table)
    return 0


def run_sweep_command(args: argparse.Namespace, console: Any) -> int:
    """Carry out ``proofs-check sweep``; bad input raises ``ValueError`` (the CLI prints it and exits 2)."""
    from proofs_check.sweeps.definitions import get_sweep
    from proofs_check.sweeps.executor import open_executor
    from proofs_check.sweeps.run import run_sweep

    if args.list:
        return _list(console)
    if not args.name:
        raise ValueError("name the sweep to run (`proofs-check sweep --list` shows them)")
    sweep = get_sweep(args.name)
    sweep.grid(args.scale)  # a missing scale is refused before any cluster starts
    out = args.out if args.out is not None else Path("sweeps") / f"{sweep.name}-{args.scale}"
    cache = args.cache if args.cache is not None else out / "cache"
    command = "proofs-check " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["sweep"] else ""
    with open_executor(in_process=args.in_process, workers=args.workers, scheduler=args.scheduler,
                       cluster_config=args.cluster_config) as executor:
        try:
            report = run_sweep(sweep, args.scale, executor, out_dir=out, cache_root=cache, resume=args.resume,
                               max_attempts=args.max_attempts, gpu=False if args.no_gpu else None,
                               console=console, progress=not args.no_progress, command=command)
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted[/]: partial report in {out}; rerun with --resume to run only "
                          "the missing points")
            return 130
    c = report.counts()
    console.print(f"OK {c['OK']}  ERROR {c['ERROR']}  (cached {c['cached']}, retried {c['retried']}) in "
                  f"{report.seconds:.1f} s on {report.executor}")
    for t in report.tasks:
        if t.status == "ERROR":
            console.print(f"[bold magenta]ERROR[/] point {t.index} ({t.label}): {t.error}")
    console.print(f"report: {out / 'sweep.md'}  {out / 'sweep.json'}")
    return 0 if report.ok else 1
