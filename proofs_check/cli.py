"""``proofs-check``: list the registered claims, run them and write a report, run sweeps, run mutation tests.

    proofs-check list  [--claims PATTERN ...] [--profile quick|cpu|paper] [--claims-module PATH ...] [--json | --ids]
    proofs-check run   [--claims PATTERN ...] [--profile quick|cpu|paper] [--claims-module PATH ...] [--out DIR]
                       [--device auto|cpu|cuda[:N]] [--seed N] [--max-attempts K]
                       [--workers N | --scheduler ADDRESS | --cluster-config FILE] [--dashboard [HOST:]PORT]
    proofs-check sweep NAME [--scale quick|cpu|paper] [--device ...] [--workers N | --scheduler ADDR | ...] [--resume]
    proofs-check mutate ...                      (the mutation tests of proofs_check.mutation)
    proofs-check --version

Exit status: 0 when every claim (point) is PASS/SKIPPED (OK); 1 when some FAIL or ERROR, a claims module failed
to load, or on an internal error (a bug: its traceback is printed); 2 on bad arguments (an
:class:`~theory.arguments.ArgumentError`, which names the argument and its value); 130 when interrupted.
Messages about errors go to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from proofs_check import __version__
from proofs_check.claim import PROFILES
from proofs_check.registry import load_all
from proofs_check.sweep_cli import add_route_arguments, add_sweep_subcommand, run_sweep_command
from theory.arguments import ArgumentError

_STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "bold magenta", "SKIPPED": "yellow"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proofs-check", description=__doc__.split("\n\n")[0])
    p.add_argument("--version", action="version", version=f"proofs-check (icl-verify) {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "list"):
        s = sub.add_parser(name, help="run claims and write a report" if name == "run" else "list registered claims")
        s.add_argument("--claims", nargs="+", default=None, metavar="PATTERN",
                       help="claim ids or glob patterns (e.g. 'sander.*'); each must match some claim; "
                            "default: all")
        s.add_argument("--profile", choices=PROFILES, default="quick" if name == "run" else None,
                       help="quick: minutes on 2 CPU cores; cpu: long CPU runs; paper: the papers' sizes (GPU)")
        s.add_argument("--claims-module", action="append", default=[], metavar="PATH", type=Path,
                       help="also load the claims registered by this Python file (repeatable)")
    lst = sub.choices["list"]
    fmt = lst.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="a JSON list of the claims (for scripts)")
    fmt.add_argument("--ids", action="store_true", help="one claim id per line (for scripts)")
    add_sweep_subcommand(sub)
    sub.add_parser("mutate", help="mutation tests of the closed forms (proofs_check.mutation)", add_help=False,
                   prefix_chars="\0").add_argument("rest", nargs=argparse.REMAINDER)
    run = sub.choices["run"]
    run.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    run.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, or cuda[:N]")
    run.add_argument("--seed", type=int, default=None, help="override every claim's seed (to reproduce a failure)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in CI logs)")
    run.add_argument("--mutation-report", type=Path, default=None, metavar="MUTATION_JSON",
                     help="mutation.json written by `proofs-check mutate`: its score goes into the report's "
                          "Verdict strength section")
    run.add_argument("--threads", type=int, default=1,
                     help="torch intra-op threads (default 1: the models are small, and on 2 busy cores two "
                          "threads made the trained claims 2-3x slower)")
    run.add_argument("--max-attempts", type=int, default=3, metavar="K",
                     help="attempts per claim when its worker dies (default 3)")
    add_route_arguments(run, in_process=False)
    return p


def _load(files: list[Path], err: Console) -> Any:
    """Load every claims module; name each one that failed (with its error) on stderr; return the registry."""
    registry = load_all(files)
    for e in registry.load_errors:
        err.print(f"[red]error:[/red] claims module {e.module} failed to load: {escape(e.error)}", soft_wrap=True)
    return registry


def _cmd_list(args: argparse.Namespace, out: Console, err: Console) -> int:
    registry = _load(args.claims_module, err)
    claims = registry.select(args.claims, args.profile)
    if args.ids:
        sys.stdout.write("".join(f"{c.id}\n" for c in claims))
    elif args.json:
        rows = [{"id": c.id, "paper": c.paper, "reference": c.reference, "kind": c.kind,
                 "profiles": list(c.profiles), "requires_cuda": c.requires_cuda, "statement": c.statement,
                 "route": c.route, "finding": c.finding, "source_file": registry.source_file(c.id)} for c in claims]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif not out.is_terminal:  # piped: whole values, tab-separated, never truncated to a terminal width
        sys.stdout.write("".join(f"{c.id}\t{c.paper}\t{c.reference}\t{c.kind}\t{','.join(c.profiles)}\n"
                                 for c in claims))
    else:
        from rich.table import Table

        table = Table(title=f"{len(claims)} claims")
        table.add_column("id", no_wrap=True, overflow="fold")
        for col in ("paper", "reference", "kind", "profiles"):
            table.add_column(col)
        for c in claims:
            table.add_row(c.id, c.paper, c.reference, c.kind, ",".join(c.profiles))
        out.print(table)
    return 1 if registry.load_errors else 0


def _cmd_run(args: argparse.Namespace, out: Console, err: Console, argv: list[str]) -> int:
    from numerics.device import check_device_name, resolve_device
    from proofs_check.engine import Display, prepare_output_dir
    from proofs_check.report import write_report
    from proofs_check.runner import ClaimResult, run_claims
    from proofs_check.sweeps.executor import InProcessExecutor, open_executor
    from theory.arguments import nonnegative_int, positive_int

    positive_int("--threads", args.threads)
    if args.seed is not None:
        nonnegative_int("--seed", args.seed)
    positive_int("--max-attempts", args.max_attempts)
    if args.mutation_report is not None and not args.mutation_report.is_file():
        raise ArgumentError(f"--mutation-report {str(args.mutation_report)!r}: no such file (write one with "
                            "`proofs-check mutate --out DIR`, then pass DIR/mutation.json)")
    remote = args.scheduler is not None or args.cluster_config is not None
    # Resolved here, once: on this machine for in-process and local-cluster runs; on a remote cluster only the
    # spelling is checked here and each worker resolves it (its own CUDA for "auto").
    device = check_device_name(args.device) if remote else str(resolve_device(args.device))
    registry = _load(args.claims_module, err)
    claims = registry.select(args.claims, args.profile)
    if not claims:
        raise ArgumentError(f"--claims {args.claims or 'all'}: no claim runs in the {args.profile!r} profile")
    out_dir = prepare_output_dir(args.out, "--out")
    import torch

    torch.set_num_threads(args.threads)

    def on_result(r: ClaimResult) -> None:
        out.print(f"[{_STYLE[r.verdict]}]{r.verdict:7s}[/] {r.id}  ({r.seconds:.1f} s)", soft_wrap=True)

    local = args.workers is None and not remote
    executor = (InProcessExecutor() if local else
                open_executor(workers=args.workers, scheduler=args.scheduler, cluster_config=args.cluster_config,
                              dashboard=args.dashboard))
    with executor:
        if executor.dashboard_link:
            out.print(f"Dask dashboard: {executor.dashboard_link}", soft_wrap=True)
        with Display(out, len(claims), executor, label="claims", enabled=not args.no_progress) as display:
            report = run_claims(claims, profile=args.profile, device=device, out_dir=out_dir, seed=args.seed,
                                on_result=on_result, command="proofs-check " + shlex.join(argv), executor=executor,
                                max_attempts=args.max_attempts, claims_modules=[str(p) for p in args.claims_module],
                                display=display, load_errors=[e.as_dict() for e in registry.load_errors])
    c = report.counts()
    out.print(f"PASS {c['PASS']}  FAIL {c['FAIL']}  ERROR {c['ERROR']}  SKIPPED {c['SKIPPED']}  "
              f"in {report.seconds:.1f} s on {report.environment['device']} ({report.executor})")
    for r in report.results:
        if r.verdict in ("FAIL", "ERROR"):
            out.print(f"[{_STYLE[r.verdict]}]{r.verdict}[/] {r.id}: {escape(r.reason)}", soft_wrap=True)
            out.print(f"    reproduce: {r.reproduce}", soft_wrap=True, markup=False, highlight=False)
    try:
        paths = write_report(report, out_dir, mutation=args.mutation_report)
    except OSError as exc:
        err.print(f"[red]error:[/red] the report could not be written ({escape(str(exc))}); every result is in "
                  f"{escape(str(out_dir / 'results.jsonl'))}", soft_wrap=True)
        return 1
    out.print(f"report: {paths['html']}  {paths['md']}  {paths['json']}", soft_wrap=True, markup=False, highlight=False)
    return 0 if report.ok else 1


def _cmd_mutate(rest: list[str]) -> int:
    """Delegate to ``proofs_check.mutation.cli`` (imported only now: it is optional for every other command)."""
    try:
        from proofs_check.mutation import cli as mutation_cli
    except ImportError as exc:
        raise ArgumentError(f"mutate: the mutation tests (proofs_check.mutation) are not available here ({exc})") \
            from exc
    parser = argparse.ArgumentParser(prog="proofs-check mutate", description=(mutation_cli.__doc__ or "").strip()
                                     .split("\n\n")[0] or None)
    mutation_cli.add_arguments(parser)
    return int(mutation_cli.main(parser.parse_args(rest)))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        if args.command == "mutate":
            return _cmd_mutate(args.rest)
        if args.command == "sweep":
            return run_sweep_command(args, out, err=err, argv=argv)
        if args.command == "list":
            return _cmd_list(args, out, err)
        return _cmd_run(args, out, err, argv)
    except ArgumentError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        return 130
    except Exception:  # a bug, not a bad argument: say so, with the traceback
        err.print("[bold red]internal error[/bold red] (a bug in proofs-check; please report it with this "
                  "traceback):", soft_wrap=True)
        sys.stderr.write(traceback.format_exc())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
