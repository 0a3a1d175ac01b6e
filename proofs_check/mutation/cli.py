"""``proofs-check mutate`` (also ``python3 -m proofs_check.mutation``): mutate ``theory``, run the dependent claims,
write ``mutation.md`` and ``mutation.json``.

    proofs-check mutate [--modules GLOB ...] [--functions GLOB ...] [--operators OP ...] [--claims GLOB ...]
                        [--sample N --seed S] [--max-mutants N] [--mutants ID ...] [--survivors-of JSON]
                        [--workers 2] [--shard K/N] [--merge JSON ...] [--fold BASE_JSON RERUN_JSON ...]
                        [--out reports/mutation] [--profile quick] [--device cpu] [--cache-dir DIR]

Exit status: 0 when every selected mutant is killed or equivalent and no catalogue entry is stale, 1 otherwise,
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from proofs_check.claim import PROFILES
from proofs_check.mutation.operators import OPERATORS
from theory.arguments import ArgumentError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``mutate`` options to ``parser``."""
    parser.add_argument("--modules", nargs="*", default=None, metavar="GLOB",
                        help="theory modules to mutate (e.g. 'theory.vladymyrov.*'); default: all")
    parser.add_argument("--functions", nargs="*", default=None, metavar="GLOB",
                        help="functions to mutate (e.g. 'loss_u*' or 'theory.sander.pe_only:loss'); default: all")
    parser.add_argument("--operators", nargs="*", default=list(OPERATORS), choices=OPERATORS, metavar="OP",
                        help=f"mutation operators, of {', '.join(OPERATORS)} (default: all)")
    parser.add_argument("--claims", nargs="*", default=None, metavar="GLOB",
                        help="claims that may kill mutants (default: every claim of the profile)")
    parser.add_argument("--mutants", nargs="*", default=None, metavar="ID", help="run exactly these mutant ids")
    parser.add_argument("--survivors-of", type=Path, default=None, metavar="JSON",
                        help="re-run the survivors of an earlier mutation.json (ids no longer generated are listed)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="every N-th selected mutant from the K-th: shards 1/N..N/N partition the run, for "
                             "several machines; join their reports with --merge")
    parser.add_argument("--merge", nargs="+", type=Path, default=None, metavar="JSON",
                        help="join the mutation.json of shards 1/N..N/N (or any disjoint runs) into one report "
                             "under --out; runs nothing")
    parser.add_argument("--fold", nargs="+", type=Path, default=None, metavar="JSON",
                        help="an earlier mutation.json, then re-runs of some of its mutants (--survivors-of, after "
                             "sharper claims or new equivalence proofs): one report under --out with the re-runs' "
                             "results replacing the earlier ones; runs nothing")
    parser.add_argument("--sample", type=int, default=None, metavar="N", help="a random sample of N mutants")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument("--max-mutants", type=int, default=None, metavar="N", help="at most the first N mutants")
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once, one process each (default 2)")
    parser.add_argument("--profile", choices=PROFILES, default="quick", help="claim profile (default quick)")
    parser.add_argument("--device", default="cpu", help="torch device for the claims (default cpu)")
    parser.add_argument("--timeout-factor", type=float, default=4.0,
                        help="a mutant's limit: floor + factor x the unmutated seconds of its claims (default 4)")
    parser.add_argument("--timeout-floor", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--out", type=Path, default=Path("reports/mutation"),
                        help="report folder (default reports/mutation)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="dependency-map cache (default ~/.cache/icl-verify/mutation)")
    parser.add_argument("--list", action="store_true", help="only list the selected mutant ids, run nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def main(args: argparse.Namespace) -> int:
    """Run ``mutate`` with parsed ``args``; the exit status (0: nothing survived, 1: survivors or stale, 2: bad)."""
    from proofs_check.mutation import harness, report

    if args.merge is not None or args.fold is not None:
        return _join(args)
    ids, modules, missing_ok = args.mutants, args.modules, False
    if args.survivors_of is not None:
        try:
            previous = json.loads(args.survivors_of.read_text(encoding="utf-8"))
            ids = [s["id"] for s in previous["survivors"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"proofs-check mutate: --survivors-of {args.survivors_of}: not a mutation.json ({exc})",
                  file=sys.stderr)
            return 2
        if not ids:
            print(f"{args.survivors_of} lists no survivors")
            return 0
        modules, missing_ok = sorted({i.split(":", 1)[0] for i in ids}), True
    try:
        shard = harness.parse_shard(args.shard)
        if args.list:
            everything = [m for ms in harness.generate(modules, tuple(args.operators)).values() for m in ms]
            for m in harness.select(everything, ids=ids, functions=args.functions, shard=shard, sample=args.sample,
                                    seed=args.seed, max_mutants=args.max_mutants, missing_ok=missing_ok):
                print(m.id)
            return 0
        run = harness.run_mutation(
            modules=modules, functions=args.functions, operators=tuple(args.operators), claims=args.claims,
            profile=args.profile, device=args.device, workers=args.workers, shard=shard, sample=args.sample,
            seed=args.seed,
            max_mutants=args.max_mutants, ids=ids, missing_ok=missing_ok, timeout_factor=args.timeout_factor,
            timeout_floor=args.timeout_floor, cache_dir=args.cache_dir,
            log=None if args.quiet else (lambda line: print(line, flush=True)),
            checkpoint=lambda partial: report.write(partial, args.out))
    except ArgumentError as exc:
        print(f"proofs-check mutate: {exc}", file=sys.stderr)
        return 2
    paths = report.write(run, args.out)
    return _summarise(report.to_json(run), paths, stale=bool(run.stale))


def _join(args: argparse.Namespace) -> int:
    """``--merge`` (disjoint shards) or ``--fold`` (an earlier report and re-runs of some of its mutants)."""
    from proofs_check.mutation import report

    verb, paths = ("merge", args.merge) if args.merge is not None else ("fold", args.fold)
    try:
        if args.merge is not None and args.fold is not None:
            raise ArgumentError("give either --merge or --fold, not both")
        parts = []
        for path in paths:
            try:
                parts.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise ArgumentError(f"{verb}: {path} is not a readable mutation.json ({exc})") from exc
        data = report.merge(parts) if verb == "merge" else report.fold(parts[0], parts[1:])
    except ArgumentError as exc:
        print(f"proofs-check mutate: {exc}", file=sys.stderr)
        return 2
    paths = report.write_data(data, args.out)
    return _summarise(data, paths, stale=bool(data["stale_equivalents"]))


def _summarise(data: dict, paths: dict[str, Path], *, stale: bool) -> int:
    score = "—" if data["score"] is None else f"{100 * data['score']:.1f} %"
    print(f"score {score}: killed {data['killed']}, timeout {data['timeout']}, survived {data['survived']} "
          f"(uncovered {data['uncovered']}), equivalent {data['equivalent']} of {data['total']} in "
          f"{data['seconds']:.0f} s")
    for name, c in data["modules"].items():
        print(f"  {name}: {c['killed'] + c['timeout']}/{c['total'] - c['equivalent']} killed, {c['seconds']} s")
    if stale:
        print(f"{len(data['stale_equivalents'])} stale equivalent-catalogue entries (see the report)")
    print(f"report: {paths['md']}  {paths['json']}")
    if data["error"]:
        print(f"{data['error']} mutants could not be run (harness errors, see the report)")
    return 0 if data["survived"] == 0 and data["error"] == 0 and not stale else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m proofs_check.mutation", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser


def entry(argv: list[str] | None = None) -> int:
    """``python3 -m proofs_check.mutation [options]``."""
    return main(_parser().parse_args(argv))
