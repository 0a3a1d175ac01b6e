"""Speed of the Table-1 trainer (Vladymyrov et al. 2024, Table 1) and the GPU-sized batched run.

Modes (one torch thread unless ``--threads``)::

    python benchmarks/bench_table1.py --ratio            # L-BFGS column fit vs the Adam `cpu` preset, one run
    python benchmarks/bench_table1.py --column U5        # one whole noise-law column at --scale cpu: seconds, memory
    python benchmarks/bench_table1.py --column U5 --kinds full   # one FULL point of the cpu sweep (L <= 3)
    python benchmarks/bench_table1.py --sander           # Sander exact fit, d=10 H=8 T=20 case O, 20 seeds, 2 ways
    python benchmarks/bench_table1.py --gpu-sized OUT    # GPU: L <= 3, every parameterisation, 10 laws x 5 seeds

``--ratio`` trains GD++ at L = 3 under U(0,1) (the issue's example) with the existing Adam ``cpu`` preset
(``train_point``) and with :func:`numerics.vladymyrov_fit.fit_column`, evaluates both on the same fresh prompts,
and reports the time ratio at equal or better accuracy (``None`` when the fit is not at least as accurate).
``--gpu-sized`` writes a sweep report (``sweep.md`` with verdicts, figures) to ``OUT`` through the same
aggregator as ``proofs-check sweep vladymyrov-table1-batched``, at the ``gpu-sized`` preset of
:data:`numerics.vladymyrov_training.BATCHED_SCALES`.  Results print as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def bench_ratio(seed: int = 0) -> dict:
    """Adam `cpu` preset vs the L-BFGS column fit on GD++ L = 3, U(0,1): adjusted loss and seconds, one run."""
    from numerics.models import vladymyrov as vm
    from numerics.regression import NoiseLaw, sample_regression
    from numerics.statistics import paired_difference
    from numerics.vladymyrov_fit import fit_column
    from numerics.vladymyrov_training import COLUMN_SCALES, train_scaled
    from theory.vladymyrov import baselines as bl

    law = NoiseLaw.uniform(1.0)
    cfg = COLUMN_SCALES["cpu"]
    t0 = time.perf_counter()
    adam, _ = train_scaled("gdpp", 3, law, seed, "cpu", device="cpu")
    t_adam = time.perf_counter() - t0
    t0 = time.perf_counter()
    fits = fit_column("gdpp", law, 3, prompts=cfg["prompts"]["gdpp"], seed=seed, max_iter=cfg["max_iter"],
                      random_starts=cfg["random_starts"]["gdpp"], coarse_prompts=cfg["coarse_prompts"]["gdpp"],
                      validation=cfg["validation"])
    t_fit = time.perf_counter() - t0
    ev = sample_regression(50000, law, rng=np.random.default_rng([seed, 2]))
    oracle = 0.5 * (bl.oracle_prediction(bl.ridge_spectrum(ev.x, ev.y, ev.x_query), ev.sigma) - ev.y_query) ** 2
    sq = {name: 0.5 * (vm.evaluate("gdpp", {k: v.double() for k, v in p.items()}, ev)["predictions"] - ev.y_query) ** 2
          for name, p in (("adam", adam.params), ("fit", fits[-1].params))}
    est = {name: paired_difference(v, oracle) for name, v in sq.items()}
    better = paired_difference(sq["fit"], sq["adam"])
    return {"case": "GD++ L=3 U(0,1)", "paper": 0.021,
            "adam_cpu_preset": {"adjusted": est["adam"].value, "se": est["adam"].se, "seconds": t_adam},
            "lbfgs_column_L1_to_3": {"adjusted": est["fit"].value, "se": est["fit"].se, "seconds": t_fit},
            "fit_minus_adam": {"value": better.value, "se": better.se},
            "speed_ratio_at_equal_or_better_accuracy": (t_adam / t_fit) if better.value <= 3 * better.se else None}


def bench_column(law: str, kinds: tuple[str, ...] = ("full", "diag", "gdpp")) -> dict:
    """One column at --scale cpu (``kinds``, every depth; ``("full",)`` is one FULL point of the sweep): seconds per
    part, peak memory, the load average before and after (other processes on the cores inflate the seconds)."""
    import os

    from numerics.vladymyrov_training import train_column

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    out = train_column(law, "cpu", seed=0, kinds=kinds, baselines="gdpp" in kinds)   # as the sweep's points
    return {"law": law, "kinds": list(kinds), "seconds": time.perf_counter() - t0, "peak_rss_gib": _peak_rss_gib(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "cells": {k: [{"L": L, "adjusted": c["adjusted"], "se": c["se"], "seconds": c["seconds"],
                           **({"chosen": c["chosen"], "adam": c["adam"]["adjusted"],
                               "adam_seconds": c["adam"]["seconds"]} if k == "full" else {})}
                          for L, c in enumerate(out[k], 1)] for k in ("gdpp", "diag", "full") if k in out}}


def _sander_unit_costs(repeats: int = 200) -> dict:
    """Seconds of one loss + gradient evaluation (the reduced loss of the default fit, ``P*`` solved without gradient
    tracking as :func:`numerics.models.sander_non_augmented.fit_exact` does; and the full-parameter loss of the
    plain route) and of one Hessian (through ``P*``) + eigendecomposition, at d=10 H=8 T=20 case O: thread CPU
    time (waiting for a core excluded), the minimum over 5 rounds of ``repeats`` calls (the least-disturbed round:
    a quiet-core estimate on a shared machine)."""
    from torch.func import hessian

    from numerics.models import sander_non_augmented as na

    p = na.init_params(8, 10, 20, generator=torch.Generator().manual_seed(0))
    solve = na.position_solver("orthogonal", 20)
    reduced = lambda x: na.exact_loss({"A": x[:80].reshape(8, 10), "B": x[80:].reshape(8, 10),  # noqa: E731
                                       "P": solve(x[80:].reshape(8, 10).T @ x[:80].reshape(8, 10))}, "orthogonal")
    x = torch.cat([p["A"].reshape(-1), p["B"].reshape(-1)])

    def best(fn, n: int) -> float:
        fn()
        rounds = []
        for _ in range(5):
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            rounds.append((time.thread_time() - t0) / n)
        return min(rounds)

    def grad_reduced() -> None:                  # as fit_exact evaluates it: P* without gradient tracking
        leaf = x.clone().requires_grad_(True)
        A, B = leaf[:80].reshape(8, 10), leaf[80:].reshape(8, 10)
        with torch.no_grad():
            P = solve(B.T @ A)
        torch.autograd.grad(na.exact_loss({"A": A, "B": B, "P": P}, "orthogonal"), leaf)

    def grad_full() -> None:
        leaves = {k: v.clone().requires_grad_(True) for k, v in p.items()}
        torch.autograd.grad(na.exact_loss(leaves, "orthogonal"), list(leaves.values()))

    return {"evaluation_s": best(grad_reduced, repeats), "evaluation_full_s": best(grad_full, repeats),
            "hessian_s": best(lambda: torch.linalg.eigh(hessian(reduced)(x)), max(1, repeats // 20))}


def bench_sander(seeds: int = 20) -> dict:
    """Sander exact fit (case O, d=10, H=8, T=20), ``seeds`` seeds: the first loss evaluation below 1e-10 (the
    closed-form minimum is 0) for the default recipe of :func:`numerics.models.sander_non_augmented.fit_exact`
    (``P`` eliminated in closed form, L-BFGS with a 20-iteration stall window, then trust-region Newton steps) and
    for the earlier plain route (L-BFGS over ``A, B, P``, perturbation restarts only).

    Per seed: loss + gradient ``evaluations`` to the hit, exact ``hessians`` computed, wall ``seconds`` to the hit,
    ``cpu_s`` (thread CPU time of the whole fit, which ends at the hit: less inflated than wall time when other
    processes share the cores) and ``quiet_s`` = evaluations x evaluation_s + hessians x hessian_s from the unit
    costs measured first (a quiet-core estimate of the loss work; optimiser bookkeeping excluded).  Evaluation
    counts do not depend on the machine's load; ``budget_evaluations_2s`` is how many evaluations fit in 2 s at
    the measured unit cost.  The load average before and after is recorded.  One fit runs first, untimed (imports
    and first-call set-up)."""
    import os

    from numerics.models.sander_non_augmented import fit_exact

    load_before = os.getloadavg()
    units = _sander_unit_costs()
    fit_exact("orthogonal", 10, 8, 20, seed=10_000, gap=1e-10)
    out: dict = {"unit_costs": units, "budget_evaluations_2s": {"default": int(2 / units["evaluation_s"]),
                                                                "plain": int(2 / units["evaluation_full_s"])}}
    plain = {"eliminate_p": False, "stall_window": None, "newton_steps": 0}
    for name, kw, unit in (("default", {}, units["evaluation_s"]), ("plain", plain, units["evaluation_full_s"])):
        rows = []
        for seed in range(seeds):
            t0, c0 = time.perf_counter(), time.thread_time()
            r = fit_exact("orthogonal", 10, 8, 20, seed=seed, gap=1e-10, **kw)
            cpu = time.thread_time() - c0
            hit = next((i for i, v in enumerate(r.history) if v < 1e-10), None)
            evals = hit + 1 if hit is not None else None
            rows.append({"seed": seed, "evaluations": evals, "hessians": r.hessians,
                         "seconds": (r.history_clock[hit] - t0) if hit is not None else float("inf"), "cpu_s": cpu,
                         "quiet_s": evals * unit + r.hessians * units["hessian_s"] if evals else float("inf"),
                         "attempts": len(r.attempts)})
        summary = {"seeds": seeds}
        for key in ("seconds", "cpu_s", "quiet_s", "evaluations", "hessians"):
            vals = np.array([r[key] if r[key] is not None else np.inf for r in rows], dtype=float)
            summary[f"median_{key}"], summary[f"max_{key}"] = float(np.median(vals)), float(vals.max())
            if key.endswith("s") and key != "hessians" and key != "evaluations":
                summary[f"under_2s_{key}"] = int((vals < 2).sum())
        out[name] = {**summary, "rows": rows}
    out["loadavg_before"], out["loadavg_after"] = load_before, os.getloadavg()
    return out


def bench_gpu_sized(out: Path, layers: int = 3, preset: str = "gpu-sized") -> dict:
    """L <= ``layers`` x every parameterisation, 10 noise laws x 5 seeds per point, ``preset`` (``gpu-sized``; ``quick``
    for a CPU smoke test), on CUDA when there is one."""
    from proofs_check.sweeps.definitions import vladymyrov as v
    from proofs_check.sweeps.executor import InProcessExecutor
    from proofs_check.sweeps.grid import Grid, Sweep
    from proofs_check.sweeps.run import run_sweep

    grid = Grid(axes={"parameterisation": v.PARAMETERISATIONS, "layers": tuple(range(1, layers + 1))}, seeds=(0,),
                fixed={"batched": True, "preset": preset, "noises": list(v.NOISE_LAWS), "model_seeds": [0, 1, 2, 3, 4]})
    sweep = Sweep("vladymyrov-table1-gpu-sized", v.PAPER, f"Table 1, L <= {layers} at the {preset} preset",
                  f"{v.__name__}:table1_batched_point", {"paper": grid}, v.table1)
    t0 = time.perf_counter()
    report = run_sweep(sweep, "paper", InProcessExecutor(), out_dir=out, cache_root=out / "cache", resume=True,
                       progress=False)
    return {"seconds": time.perf_counter() - t0, "ok": report.ok, "report": str(out / "sweep.md"),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratio", action="store_true")
    ap.add_argument("--column", metavar="LAW")
    ap.add_argument("--kinds", default="full,diag,gdpp", help="parameterisations of --column (full: one FULL sweep point)")
    ap.add_argument("--sander", action="store_true")
    ap.add_argument("--gpu-sized", type=Path, metavar="OUT")
    ap.add_argument("--gpu-layers", type=int, default=3, help="deepest L of --gpu-sized (default 3)")
    ap.add_argument("--gpu-preset", default="gpu-sized", help="BATCHED_SCALES preset of --gpu-sized (quick: smoke test)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results: dict = {}
    if args.ratio:
        results["ratio"] = bench_ratio()
    if args.column:
        results["column"] = bench_column(args.column, tuple(args.kinds.split(",")))
    if args.sander:
        results["sander"] = bench_sander()
    if args.gpu_sized:
        results["gpu_sized"] = bench_gpu_sized(args.gpu_sized, args.gpu_layers, args.gpu_preset)
    if not results:
        ap.error("choose at least one of --ratio, --column, --sander, --gpu-sized")
    json.dump(results, sys.stdout, indent=1, default=float)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
