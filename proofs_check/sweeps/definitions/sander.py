"""Sweeps of Sander et al. 2024 (arXiv:2402.05787): head count vs minimal loss, and the PE-only μ sweep.

**Head count** (``sander-heads``).  The non-augmented model (diagonal multi-head linear attention times a
positional matrix ``P``, :mod:`numerics.models.sander_non_augmented`) is trained with float64 L-BFGS on the
*exact* population loss (:func:`~numerics.models.sander_non_augmented.fit_exact`) for every head count ``H``.
The predicted minima (:mod:`theory.sander.non_augmented`) are

* case U (unitary diagonal ``W``):           ``(T−1)·max(d − H, 0)``   (``tr(C)² ≤ rank(C)·‖C‖_F²``);
* case O (commuting orthogonal ``W``, d even): ``(T−1)·max(d − 2H, 0)`` (numerical for ``H < d/2``).

A point *reaches* the prediction when ``|loss − predicted| ≤ 1e-6·max(1, predicted)`` (exact population loss,
float64 L-BFGS: the project's tolerance for exact training).  ``fit_exact`` restarts L-BFGS from a perturbed
point when it stops above the predicted minimum (saddles), so the table also reports the loss of the *first*
L-BFGS run, which uses no knowledge of the prediction.

**μ sweep** (``sander-pe-mu``).  The PE-only model (``H = 1``, ``a = b = 𝟙``, only ``P`` learned, ``d = 1``) on
``s_t = λ^t``, ``λ = e^{iθ/μ}``, trained as the public ``pe_only.py`` does (full-batch GD from ``P = 0``, lr 0.5,
1000 sequences, ``T = 30``, stop below 1e-3; :func:`~numerics.models.sander_non_augmented.pe_only_gd`).  The
table gives the features of row ``P[28, 0..28]`` (the plotted row, superdiagonal excluded) next to those of the
reference code's stored arrays (quoted in ``/work/shared/sander.md`` §4, from ``michaelsdr/ical``; the paper's
own figure values are not available in text form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from proofs_check.figures import pyplot, save_figure
from proofs_check.papers import SANDER
from proofs_check.sweeps.grid import Aggregate, Grid, Sweep, group_outcomes

PAPER = SANDER
REACH_RTOL = 1e-6

# Features of the stored rows P[28, 0..28] of the reference code (pe_eps_mu_{μ}.npy), [C] in sander.md §4.
REFERENCE_PE_ROWS: dict[int, dict[str, float]] = {
    50: {"max": 0.334, "min": -0.071, "zero_crossings": 4, "row_sum": 0.526},
    100: {"max": 0.242, "min": -0.042, "zero_crossings": 2, "row_sum": 0.705},
    200: {"max": 0.183, "min": -0.031, "zero_crossings": 2, "row_sum": 0.763},
    300: {"max": 0.132, "min": -0.040, "zero_crossings": 1, "row_sum": 0.825},
}


# ----------------------------------------------------------------------------------------------- head count


def head_count_point(p: dict[str, Any]) -> dict[str, Any]:
    """Train one (case, d, T, H, seed) model on the exact population loss; return its loss and the prediction."""
    from numerics.models.sander_non_augmented import fit_exact
    from theory.sander import non_augmented as theory

    case, d, T, H, seed = p["case"], p["d"], p["T"], p["H"], p["seed"]
    predicted = theory.loss_u_minimum(d, H, T) if case == "unitary" else theory.loss_o_minimum(d, H, T)
    # device=None: the run's device (proofs-check sweep --device), not fit_exact's own default
    res = fit_exact(case, d, H, T, seed=seed, restarts=p.get("restarts", 8), max_iter=p.get("max_iter", 3000),
                    device=None)
    return {"loss": float(res.loss), "predicted": predicted, "first_loss": float(res.attempts[0]["loss"]),
            "restarts_used": len(res.attempts) - 1, "iterations": int(res.iterations), "seconds": float(res.seconds)}


def _reached(loss: float, predicted: float) -> bool:
    return abs(loss - predicted) <= REACH_RTOL * max(1.0, abs(predicted))


def head_count_table(tasks: list[dict[str, Any]], out_dir: Path | None) -> Aggregate:
    """Per (case, H): predicted minimum, min/max trained loss over seeds, seeds reaching it; figure loss vs H."""
    by_cell, errors = group_outcomes(tasks, lambda p: (p["case"], p["d"], p["T"], p["H"]))
    lines = ["| case | d | T | H | predicted min | trained min | trained max | seeds reaching (final) | "
             "seeds reaching (first L-BFGS run) | ERROR |", "|---|---|---|---|---|---|---|---|---|---|"]
    data: dict[str, Any] = {}
    for case, d, T, H in sorted(set(by_cell) | set(errors)):
        ok = by_cell.get((case, d, T, H), [])
        n_err = errors.get((case, d, T, H), 0)
        if not ok:
            lines.append(f"| {case} | {d} | {T} | {H} | — | — | — | 0/0 | 0/0 | {n_err} |")
            continue
        pred = ok[0]["predicted"]
        losses = [r["loss"] for r in ok]
        reach = sum(_reached(r["loss"], pred) for r in ok)
        reach_first = sum(_reached(r["first_loss"], pred) for r in ok)
        data[f"{case}/d{d}/T{T}/H{H}"] = {"predicted": pred, "losses": losses, "reached": reach, "n": len(ok),
                                          "reached_first_run": reach_first, "errors": n_err}
        lines.append(f"| {case} | {d} | {T} | {H} | {pred:g} | {min(losses):.6g} | {max(losses):.6g} | "
                     f"{reach}/{len(ok)} | {reach_first}/{len(ok)} | {n_err} |")
    figures = [f for f in [_head_count_figure(data, out_dir)] if f]
    note = (f"\n\nReaching = within {REACH_RTOL:g}·max(1, predicted) of the predicted minimum (float64 L-BFGS on "
            "the exact loss). 'first L-BFGS run' is before any saddle-escape restart.")
    return Aggregate("\n".join(lines) + note, data=data, figures=figures)


def _head_count_figure(data: dict[str, Any], out_dir: Path | None) -> str | None:
    if out_dir is None or not data:
        return None
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    for case, marker in (("unitary", "o"), ("orthogonal", "s")):
        rows = sorted((int(k.split("/H")[1]), v) for k, v in data.items() if k.startswith(case + "/"))
        if not rows:
            continue
        H = [h for h, _ in rows]
        ax.plot(H, [v["predicted"] for _, v in rows], "-", label=f"{case}: predicted", alpha=0.6)
        for h, v in rows:
            ax.plot([h] * len(v["losses"]), v["losses"], marker, mfc="none", color="k", ms=5)
        ax.plot([], [], marker, mfc="none", color="k", label=f"{case}: trained (each seed)")
    ax.set_xlabel("heads H")
    ax.set_ylabel("population loss")
    ax.set_title("Sander et al.: minimal loss vs number of heads")
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir, "sander-heads")


# --------------------------------------------------------------------------------------------------- μ sweep


def pe_mu_point(p: dict[str, Any]) -> dict[str, Any]:
    """Train the PE-only model at one (μ, seed) as ``pe_only.py`` does; return the plotted row and its features."""
    from numerics.models.sander_non_augmented import pe_only_gd, pe_only_sequences

    rng = np.random.default_rng(np.random.SeedSequence([p["seed"], 0]))
    seqs = pe_only_sequences(p["n"], p["T"], float(p["mu"]), rng=rng)
    out = pe_only_gd(seqs, lr=p["lr"], stop_below=p["stop_below"], max_steps=p["max_steps"])
    P = out["P"].cpu().numpy()
    r = p["T"] - 2  # the plotted row: the last prediction row (28 for T = 30)
    row = P[r, : r + 1]  # superdiagonal P[r, r+1] excluded, as in the stored arrays
    return {"steps": int(out["steps"]), "loss": float(out["loss"]), "row": row.tolist(),
            "superdiagonal": float(P[r, r + 1]), **row_features(row)}


def row_features(row: np.ndarray) -> dict[str, float]:
    """Max, its position, min, sign changes (zero crossings) and sum of a positional row."""
    row = np.asarray(row, dtype=float)
    signs = np.sign(row[row != 0])
    return {"max": float(row.max()), "argmax": int(row.argmax()), "min": float(row.min()),
            "zero_crossings": int(np.count_nonzero(signs[1:] != signs[:-1])), "row_sum": float(row.sum())}


def pe_mu_table(tasks: list[dict[str, Any]], out_dir: Path | None) -> Aggregate:
    """Per μ: GD steps, P[r, r+1], features of the plotted row (mean over seeds) vs the reference code's rows."""
    by_mu, errors = group_outcomes(tasks, lambda p: p["mu"])
    lines = ["| μ | seeds | GD steps | P[r,r+1] | max | min | zero crossings | row sum (no superdiag.) | "
             "reference code: max / min / crossings / row sum | ERROR |", "|---|---|---|---|---|---|---|---|---|---|"]
    data: dict[str, Any] = {}
    for mu in sorted(set(by_mu) | set(errors)):
        rs = by_mu.get(mu, [])
        ref = REFERENCE_PE_ROWS.get(int(mu)) if float(mu).is_integer() else None
        ref_txt = (f"{ref['max']:.3f} / {ref['min']:.3f} / {ref['zero_crossings']} / {ref['row_sum']:.3f}"
                   if ref else "—")
        if not rs:
            lines.append(f"| {mu:g} | 0 | — | — | — | — | — | — | {ref_txt} | {errors.get(mu, 0)} |")
            continue
        mean = {k: float(np.mean([r[k] for r in rs])) for k in ("steps", "superdiagonal", "max", "min", "row_sum")}
        crossings = sorted({r["zero_crossings"] for r in rs})
        data[f"{mu:g}"] = {**mean, "zero_crossings": crossings, "n": len(rs), "reference": ref,
                           "row_seed_first": rs[0]["row"]}
        lines.append(f"| {mu:g} | {len(rs)} | {mean['steps']:.0f} | {mean['superdiagonal']:.3f} | {mean['max']:.3f} | "
                     f"{mean['min']:.3f} | {','.join(map(str, crossings))} | {mean['row_sum']:.3f} | {ref_txt} | "
                     f"{errors.get(mu, 0)} |")
    figures = [f for f in [_pe_figure(data, out_dir)] if f]
    note = ("\n\nThe plotted row is the last prediction row r = T−2 of P, without its superdiagonal entry (as the "
            "reference code saves it). Reference columns: features of the stored arrays of the public code.")
    return Aggregate("\n".join(lines) + note, data=data, figures=figures)


def _pe_figure(data: dict[str, Any], out_dir: Path | None) -> str | None:
    if out_dir is None or not data:
        return None
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    for mu, v in sorted(data.items(), key=lambda kv: float(kv[0])):
        ax.plot(v["row_seed_first"], label=f"μ = {mu}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("key position j")
    ax.set_ylabel("P[T−2, j]")
    ax.set_title("Sander et al.: learned positional row (PE-only, first seed)")
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir, "sander-pe-mu")


# ------------------------------------------------------------------------------------------------- sweeps

_PE_FIXED = {"n": 1000, "T": 30, "lr": 0.5, "stop_below": 1e-3, "max_steps": 20_000}

SWEEPS = (
    Sweep(
        name="sander-heads",
        paper=PAPER,
        description="non-augmented model: minimal exact population loss vs number of heads H (cases U and O)",
        task=f"{__name__}:head_count_point",
        scales={
            "quick": Grid(axes={"case": ("unitary", "orthogonal"), "d": (6,), "T": (8,), "H": tuple(range(1, 8))},
                          seeds=(0, 1, 2), where=lambda q: q["case"] == "unitary" or q["H"] <= q["d"] // 2 + 1),
            # d = 10, T = 20 are the reference scripts' sizes; the paper's own head grid is UNCONFIRMED.
            "paper": Grid(axes={"case": ("unitary", "orthogonal"), "d": (10,), "T": (20,), "H": tuple(range(1, 13))},
                          seeds=(0, 1, 2, 3, 4), where=lambda q: q["case"] == "unitary" or q["H"] <= q["d"] // 2 + 2),
        },
        aggregate=head_count_table,
    ),
    Sweep(
        name="sander-pe-mu",
        paper=PAPER,
        description="PE-only model: learned positional row vs the angle-law concentration μ (pe_only.py setting)",
        task=f"{__name__}:pe_mu_point",
        scales={
            "quick": Grid(axes={"mu": (1, 50, 100, 200, 300)}, seeds=(0,), fixed=_PE_FIXED),
            "paper": Grid(axes={"mu": (1, 10, 25, 50, 100, 200, 300, 500)}, seeds=(0, 1, 2, 3, 4), fixed=_PE_FIXED),
        },
        aggregate=pe_mu_table,
    ),
)
