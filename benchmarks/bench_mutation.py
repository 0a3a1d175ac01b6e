"""Wall time and score of the whole mutation catalogue (issue #12): every mutant of ``theory`` against the quick claims.

    python benchmarks/bench_mutation.py                                   # everything, 2 workers
    python benchmarks/bench_mutation.py --modules 'theory.vladymyrov.*'   # a part
    python benchmarks/bench_mutation.py --sample 400 --seed 1             # a uniform sample (score ± SE)

Runs :func:`proofs_check.mutation.harness.run_mutation` once, writes the usual ``mutation.md``/``mutation.json``
under ``--out`` (partial reports every 25 mutants, so a stopped run still shows its modules), and prints a table:
per module the mutants, the score, the seconds the module's mutants ran (summed over workers), and the total wall
time with the dependency trace (every quick claim once under a call tracer; cached per code version, so a second
run on unchanged code skips it).  For a sample, the score's binomial standard error is printed too.  The
1-minute load average is printed: on a shared machine it is what the time mostly measures.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: list[str] | None = None) -> int:
    """Run the catalogue (or the selected part), print the table, return 0."""
    from proofs_check.mutation import harness, report

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modules", nargs="*", default=None, metavar="GLOB")
    p.add_argument("--sample", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("reports/mutation-bench"))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    run = harness.run_mutation(modules=args.modules, sample=args.sample, seed=args.seed, workers=args.workers,
                               checkpoint=lambda partial: report.write(partial, args.out))
    wall = time.perf_counter() - t0
    report.write(run, args.out)
    data = report.to_json(run)
    table = Table(title=f"mutation catalogue: {data['total']} mutants, {wall:.0f} s wall "
                        f"(dependency trace {data['trace_seconds']:.0f} s), load {os.getloadavg()[0]:.1f}")
    for col in ("module", "mutants", "killed", "timeout", "survived", "equivalent", "score", "mutant-seconds"):
        table.add_column(col)
    for name, c in data["modules"].items():
        table.add_row(name, str(c["total"]), str(c["killed"]), str(c["timeout"]), str(c["survived"]),
                      str(c["equivalent"]), "—" if c["score"] is None else f"{100 * c['score']:.1f} %",
                      f"{c['seconds']:.0f}")
    console = Console()
    console.print(table)
    score = data["score"]
    if score is not None:
        live = data["total"] - data["equivalent"]
        se = math.sqrt(score * (1 - score) / live) if args.sample else 0.0
        console.print(f"score {100 * score:.1f} %" + (f" ± {100 * se:.1f} % (1 SE, sample of {live})" if se else ""))
    console.print(f"report: {args.out / 'mutation.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
