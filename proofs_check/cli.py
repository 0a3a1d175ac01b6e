"""``proofs-check``: list the registered claims, or run them and write a report.

    proofs-check list [--claims PATTERN ...] [--profile quick|full]
    proofs-check run  [--claims PATTERN ...] [--profile quick|full] [--out DIR] [--device auto|cpu|cuda] [--seed N]
                      [--workers N | --scheduler ADDRESS | --cluster-config FILE]
    proofs-check sweep NAME --scale cpu|paper [--workers N | --scheduler ADDR | --cluster-config FILE] [--resume]

``run`` exits 0 when no claim FAILs or ERRORs, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from proofs_check.claim import PROFILES
from proofs_check.registry import load_all
from proofs_check.report import write_report
from proofs_check.runner import ClaimResult, run_claims
from proofs_check.sweep_cli import add_sweep_subcommand, run_sweep_command

_STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "bold magenta", "SKIPPED": "yellow"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proofs-check", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "list"):
        s = sub.add_parser(name, help="run claims and write a report" if name == "run" else "list registered claims")
        s.add_argument("--claims", nargs="*", default=None, metavar="PATTERN",
                       help="claim ids or glob patterns (e.g. 'sander.*'); default: all")
        s.add_argument("--profile", choices=PROFILES, default="quick" if name == "run" else None,
                       help="quick: minutes on 2 CPU cores; full: longer training")
    add_sweep_subcommand(sub)
    run = sub.choices["run"]
    run.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    run.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, or cuda[:N]")
    run.add_argument("--seed", type=int, default=None, help="override every claim's seed (to reproduce a failure)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in CI logs)")
    run.add_argument("--threads", type=int, default=1,
                     help="torch intra-op threads (default 1: the models are small, and on 2 busy cores two "
                          "threads made the trained claims 2-3x slower)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run the claims in parallel on a local Dask cluster of N single-threaded workers "
                            "(default: one by one in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run them on a running Dask scheduler")
    where.add_argument("--cluster-config", type=Path, default=None, metavar="FILE",
                       help="run them on a dask-jobqueue cluster (YAML, see docs/sweeps.md)")
    return p


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    claims = load_all().select(args.claims, args.profile)
    table = Table(title=f"{len(claims)} claims")
    for col in ("id", "paper", "reference", "kind", "profiles"):
        table.add_column(col)
    for c in claims:
        table.add_row(c.id, c.paper, c.reference, c.kind, ",".join(c.profiles))
    console.print(table)
    return 0


def _cmd_run(args: argparse.Namespace, console: Console, argv: list[str]) -> int:
    from numerics.device import resolve_device

    device = str(resolve_device(args.device))
    if args.threads < 1:
        raise ValueError(f"--threads must be a positive integer, got {args.threads}")
    import torch

    torch.set_num_threads(args.threads)
    claims = load_all().select(args.claims, args.profile)
    if not claims:
        console.print(f"[red]no claim matches {args.claims} in profile {args.profile}[/red]")
        return 2
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=args.no_progress, transient=True) as progress:
        task = progress.add_task("claims", total=len(claims))

        def on_result(r: ClaimResult) -> None:
            progress.advance(task)
            console.print(f"[{_STYLE[r.verdict]}]{r.verdict:7s}[/] {r.id}  ({r.seconds:.1f} s)")

        common = dict(profile=args.profile, device=device, out_dir=args.out, seed=args.seed, on_result=on_result,
                      command="proofs-check " + shlex.join(argv))
        if args.workers is None and args.scheduler is None and args.cluster_config is None:
            report = run_claims(claims, **common)
        else:
            from proofs_check.sweeps.claims import run_claims_on
            from proofs_check.sweeps.executor import open_executor

            with open_executor(workers=args.workers, scheduler=args.scheduler,
                               cluster_config=args.cluster_config) as executor:
                report = run_claims_on(executor, claims, **common)
    paths = write_report(report, args.out)
    c = report.counts()
    console.print(f"PASS {c['PASS']}  FAIL {c['FAIL']}  ERROR {c['ERROR']}  SKIPPED {c['SKIPPED']}  "
                  f"in {report.seconds:.1f} s on {report.environment['device']}")
    for r in report.results:
        if r.verdict in ("FAIL", "ERROR"):
            console.print(f"[{_STYLE[r.verdict]}]{r.verdict}[/] {r.id}: {r.reason}\n    reproduce: {r.reproduce}")
    console.print(f"report: {paths['md']}  {paths['json']}")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    console = Console(stderr=False, highlight=False)
    try:
        if args.command == "sweep":
            return run_sweep_command(args, console)
        if args.command == "list":
            return _cmd_list(args, console)
        return _cmd_run(args, console, argv)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
