"""Speed benchmark (issue #6): ratios against baselines measured in the same run, on the same machine.

    python benchmarks/bench_speed.py                 # all three parts, CPU (and CUDA too when present)
    python benchmarks/bench_speed.py --parts pop     # one part: pop | sampled | quick
    python benchmarks/bench_speed.py --json out.json # also write the numbers

Parts
-----
1. ``pop``: exact population loss, Sander non-augmented orthogonal case at the reference size (d=10, H=8,
   T=20).  Ours: float64 L-BFGS with saddle-escape restarts (``numerics.models.sander_non_augmented.fit_exact``).
   Baseline: plain gradient descent with the reference hyper-parameters (lr 1e-3, initialisation 0.1·N(0,1)) on
   the same closed form.  Metric: wall time until the normalised gap ``(L − L*)/(d(T−1))`` (``d(T−1)`` is the
   loss of the zero predictor) is first below 1e-8 (ours: the first L-BFGS evaluation below it; the full
   convergence time is reported too); the baseline gets a time budget and, if it does not get there, its ratio
   is reported as a lower bound (">").
2. ``sampled``: sampled-sequence training throughput (sequences per second, forward+backward+Adam step).
   Ours: ``fit_sampled(models=M)`` — M independent models in cache-sized batched chunks, data drawn on the fly,
   eager and with ``compile_loss=True`` (``torch.compile``; its one-off compilation is timed separately, as a
   warm-up).  The ceiling column is the rate at which the pass's dominant arithmetic would run at this machine's
   dense-matmul speed (measured in the same run).
   Baseline: the straightforward loop — for each model, a ``torch.utils.data.DataLoader`` over a pre-generated
   ``TensorDataset`` (data generation *excluded* from the baseline's time, in its favour), one Adam step per
   mini-batch.
3. ``quick``: wall time of every quick-profile claim (``proofs-check run --profile quick``), per paper setting.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from functools import lru_cache
from collections import defaultdict

import numpy as np
import torch

from numerics.device import resolve_device, resolve_dtype
from numerics.models import sander_non_augmented as na
from theory.sander import non_augmented as theory

D, H, T = 10, 8, 20


def _gap(loss: float) -> float:
    return (loss - theory.loss_o_minimum(D, H, T)) / (D * (T - 1))


def bench_population(seeds: list[int], gd_budget_s: float, device: str) -> dict:
    ours = []
    for seed in seeds:
        t0 = time.perf_counter()
        res = na.fit_exact("orthogonal", D, H, T, seed=seed, device=device)
        reached = [c for loss, c in zip(res.history, res.history_clock) if _gap(loss) < 1e-8]
        ours.append({"seed": seed, "seconds": time.perf_counter() - t0, "gap": _gap(res.loss),
                     "seconds_to_gap": reached[0] - t0 if reached else float("nan"),
                     "restarts": len(res.attempts) - 1})
    # Plain GD with the reference hyper-parameters, same closed form, same initialisation as seed 0.
    g = torch.Generator().manual_seed(seeds[0])
    params = {k: v.requires_grad_(True) for k, v in na.init_params(H, D, T, scale=0.1, generator=g, device=device).items()}
    t0, steps, gap = time.perf_counter(), 0, float("inf")
    while time.perf_counter() - t0 < gd_budget_s:
        loss = na.exact_loss(params, "orthogonal")
        gap = _gap(float(loss.detach()))  # the same "first evaluation below the gap" as ours
        if gap < 1e-8:
            break
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for p, gr in zip(params.values(), grads):
                p -= 1e-3 * gr
        steps += 1
    gd_seconds = time.perf_counter() - t0
    ours_ok = [o for o in ours if o["gap"] < 1e-8]
    ours_time = float(np.median([o["seconds"] for o in ours]))
    # A seed that never reached the gap counts as +inf (never), so the median stays honest.
    to_gap = float(np.median([o["seconds_to_gap"] if o["seconds_to_gap"] == o["seconds_to_gap"] else np.inf
                              for o in ours]))
    return {"ours": ours, "ours_reached": f"{len(ours_ok)}/{len(ours)}", "ours_median_s": ours_time,
            "ours_median_s_to_gap": to_gap,
            "gd": {"steps": steps, "seconds": gd_seconds, "gap": gap, "reached": gap < 1e-8},
            "ratio": gd_seconds / to_gap, "ratio_full_convergence": gd_seconds / ours_time,
            "ratio_is_lower_bound": not gap < 1e-8}


@lru_cache(maxsize=None)
def gemm_gflops(dtype: torch.dtype, device: torch.device) -> float:
    """This machine's dense matmul rate (GFLOP/s, 1024² operands): the compute ceiling for the ratios below;
    measured once per dtype and device in a run."""
    a = torch.randn(1024, 1024, dtype=dtype, device=device)
    (a @ a).sum().item()
    t0, reps = time.perf_counter(), 5
    for _ in range(reps):
        (a @ a).sum().item()
    return 2 * 1024 ** 3 * reps / (time.perf_counter() - t0) / 1e9


def bench_sampled(d: int, h: int, t: int, models: int, batch: int, steps: int, device: str, dtype: str) -> dict:
    dev = resolve_device(device)
    common = dict(seed=0, batch=batch, lr=1e-2, models=models, device=dev, dtype=dtype)
    ours = {}
    for mode, compiled in (("eager", False), ("compiled", True)):
        t0 = time.perf_counter()
        na.fit_sampled("orthogonal", d, h, t, steps=2, compile_loss=compiled, **common)  # warm-up (compilation)
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        na.fit_sampled("orthogonal", d, h, t, steps=steps, compile_loss=compiled, **common)
        ours[mode] = {"seq_per_s": models * batch * steps / (time.perf_counter() - t0), "warm_up_s": warm_s}

    # Baseline: one model at a time, a DataLoader over pre-generated data, the head-by-head forward pass.
    data = na.sample_sequences("orthogonal", batch * steps, d, t, rng=np.random.default_rng(0), dtype=dtype, device="cpu")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    base_models = max(1, models // 8)  # time a few models and scale: the loop is linear in the number of models
    t0 = time.perf_counter()
    for m in range(base_models):
        g = torch.Generator().manual_seed(m)
        params = {k: v.requires_grad_(True)
                  for k, v in na.init_params(h, d, t, generator=g, dtype=dtype, device=dev).items()}
        opt = torch.optim.Adam(list(params.values()), lr=1e-2)
        for (x,) in loader:
            opt.zero_grad()
            na.sequence_losses(params, x.to(dev)).mean().backward()
            opt.step()
    base_rate = base_models * batch * steps / (time.perf_counter() - t0)
    # Dominant arithmetic of the grouped pass: the (T−1)×T moments product forward and its P-gradient backward.
    flop_per_seq = 4 * (t - 1) * t * d * d
    peak = gemm_gflops(resolve_dtype(dtype), dev)
    return {"size": f"d={d},H={h},T={t}", "models": models, "batch": batch, "steps": steps, "dtype": dtype,
            "ours": ours, "baseline_seq_per_s": base_rate,
            "ratio_eager": ours["eager"]["seq_per_s"] / base_rate,
            "ratio_compiled": ours["compiled"]["seq_per_s"] / base_rate,
            "gemm_gflops": peak, "ceiling_seq_per_s": peak * 1e9 / flop_per_seq}


def bench_quick(device: str) -> dict:
    from proofs_check.registry import load_all
    from proofs_check.runner import run_claims

    report = run_claims(load_all().select(profile="quick"), profile="quick", device=device)
    per: dict[str, float] = defaultdict(float)
    for r in report.results:
        per[".".join(r.id.split(".")[:2])] += r.seconds
    return {"total_s": report.seconds, "per_setting_s": dict(per), "counts": report.counts()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="*", default=["pop", "sampled", "quick"], choices=["pop", "sampled", "quick"])
    ap.add_argument("--seeds", type=int, default=5, help="L-BFGS seeds for part 1")
    ap.add_argument("--gd-budget", type=float, default=60.0, help="seconds of plain GD for part 1")
    ap.add_argument("--steps", type=int, default=40, help="Adam steps per sampled-training configuration")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="sampled-training dtype")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the suite's default is 1)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    out: dict = {"machine": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads()}
    rows = []
    for dev in devices:
        if "pop" in args.parts:
            r = bench_population(list(range(args.seeds)), args.gd_budget, dev)
            out[f"pop_{dev}"] = r
            gd = r["gd"]
            rows.append((dev, "population loss to gap 1e-8 (d=10,H=8,T=20)",
                         f"L-BFGS median {r['ours_median_s_to_gap']:.2f} s to the gap, {r['ours_median_s']:.2f} s to "
                         f"full convergence ({r['ours_reached']} seeds reached)",
                         f"plain GD lr 1e-3: {gd['steps']} steps, {gd['seconds']:.1f} s, gap {gd['gap']:.2g}",
                         f"{'>' if r['ratio_is_lower_bound'] else ''}{r['ratio']:.0f}x to the gap "
                         f"({r['ratio_full_convergence']:.1f}x vs our full convergence)"))
        if "sampled" in args.parts:
            # The reference size (arithmetic-bound) and a property-test size (overhead-bound).
            for cfg in ((D, H, T, 32, 128), (4, 2, 6, 64, 64)):
                r = bench_sampled(*cfg, steps=args.steps, device=dev, dtype=args.dtype)
                out.setdefault(f"sampled_{dev}", []).append(r)
                e, c = r["ours"]["eager"], r["ours"]["compiled"]
                rows.append((dev, f"sampled training {r['size']}, {r['models']} models x batch {r['batch']}, {r['dtype']}",
                             f"{e['seq_per_s']:.3g} seq/s batched eager; {c['seq_per_s']:.3g} seq/s compiled "
                             f"(+{c['warm_up_s']:.0f} s compilation once)",
                             f"{r['baseline_seq_per_s']:.3g} seq/s (per-model DataLoader loop); compute ceiling "
                             f"{r['ceiling_seq_per_s']:.3g} seq/s at {r['gemm_gflops']:.0f} GFLOP/s",
                             f"{r['ratio_eager']:.1f}x eager, {r['ratio_compiled']:.1f}x compiled"))
        if "quick" in args.parts and dev == devices[-1]:
            r = bench_quick(dev)
            out[f"quick_{dev}"] = r
            per = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(r["per_setting_s"].items()))
            rows.append((dev, "quick profile, all claims", f"{r['total_s']:.1f} s", per, str(r["counts"])))
    print("| device | benchmark | ours | baseline | ratio |\n|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
