"""Vladymyrov, von Oswald, Sandler, Ge 2024 (arXiv:2402.14180), Table 1 as a sweep.

Table 1 reports the *adjusted evaluation loss* (the model's loss minus the oracle's: ridge regression at each
sequence's true noise level σ_τ, on the same evaluation sequences; ½·MSE convention) of single-head linear
Transformers with L = 1..7 layers, three parameterisations (GD++, DIAG, FULL), for ten noise laws: σ_τ ~
U(0, σ_max) with σ_max = 0..7 and σ_τ ∈ {1, 3} or {1, 3, 5}.  The paper trains every (L, parameterisation,
noise law) with Adam (200,000 steps, lr 1e-4, batch 2048), on 5 seeds, and reports the **best** seed, evaluated
on 100,000 fresh sequences (paper, Section 6 and Appendix B).

Each sweep point trains one (parameterisation, L, noise law, seed) model with the project's training function
(:func:`numerics.vladymyrov_training.train_point`) and returns its adjusted loss.  The aggregator keeps the
best seed, as the paper does, and prints every cell as ``ours / paper``; the figure is the paper's Figure 1
layout (adjusted loss vs L, one panel per noise law), ours solid, the paper's dashed.  A second sweep,
``vladymyrov-baselines``, computes the table's baseline rows (ConstRR, AdaRR, TunedRR) per noise law.

The paper's numbers (:data:`PAPER_TABLE1`) are transcribed from the text copy of the NeurIPS version's Table 1
(Appendix B) reachable through the project's search tool; the same numbers are quoted in
``/work/shared/vladymyrov.md`` §6.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from proofs_check.figures import pyplot, save_figure
from proofs_check.sweeps.grid import Aggregate, Grid, Sweep, group_outcomes

PAPER = "Vladymyrov et al. 2024 (arXiv:2402.14180)"
# Labels as numerics.regression.NoiseLaw.parse reads them: U<σ_max> uniform, S<a,b,..> categorical.
NOISE_LAWS: tuple[str, ...] = ("U0", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "S1,3", "S1,3,5")
NOISE_LABELS = {**{f"U{k}": f"U(0,{k})" for k in range(8)}, "S1,3": "{1,3}", "S1,3,5": "{1,3,5}"}
PARAMETERISATIONS: tuple[str, ...] = ("gdpp", "diag", "full")
PARAM_LABELS = {"gdpp": "GD++", "diag": "DIAG", "full": "FULL"}
BASELINES: tuple[str, ...] = ("constrr", "adarr", "tunedrr")
BASELINE_LABELS = {"constrr": "ConstRR", "adarr": "AdaRR", "tunedrr": "TunedRR"}

# Keys of a point forwarded to numerics.vladymyrov_training.train_point(overrides=...).
_OVERRIDES = ("steps", "batch", "lr", "eval_sequences", "restarts")
_HISTORY_POINTS = 50


def _row(*values: float) -> dict[str, float]:
    return dict(zip(NOISE_LAWS, values))


# Table 1 of the paper: adjusted evaluation loss, columns U(0,0..7), {1,3}, {1,3,5}.
PAPER_TABLE1: dict[tuple[int, str], dict[str, float]] = {
    (1, "gdpp"): _row(1.768, 1.639, 1.396, 1.175, 1.015, 0.907, 0.841, 0.806, 1.007, 0.819),
    (1, "diag"): _row(1.767, 1.639, 1.396, 1.175, 1.015, 0.906, 0.841, 0.806, 1.007, 0.819),
    (1, "full"): _row(1.768, 1.640, 1.397, 1.176, 1.016, 0.907, 0.842, 0.806, 1.008, 0.820),
    (2, "gdpp"): _row(0.341, 0.295, 0.243, 0.265, 0.347, 0.366, 0.440, 0.530, 0.305, 0.427),
    (2, "diag"): _row(0.265, 0.214, 0.173, 0.188, 0.219, 0.242, 0.254, 0.259, 0.201, 0.246),
    (2, "full"): _row(0.264, 0.215, 0.173, 0.188, 0.220, 0.245, 0.259, 0.263, 0.202, 0.276),
    (3, "gdpp"): _row(0.019, 0.021, 0.071, 0.161, 0.259, 0.344, 0.454, 0.530, 0.222, 0.422),
    (3, "diag"): _row(0.013, 0.015, 0.048, 0.087, 0.109, 0.118, 0.121, 0.123, 0.098, 0.119),
    (3, "full"): _row(0.012, 0.015, 0.049, 0.075, 0.101, 0.117, 0.124, 0.127, 0.076, 0.113),
    (4, "gdpp"): _row(9.91e-05, 0.014, 0.066, 0.160, 0.258, 0.344, 0.454, 0.530, 0.222, 0.422),
    (4, "diag"): _row(1.19e-04, 0.006, 0.024, 0.041, 0.050, 0.059, 0.065, 0.073, 0.043, 0.062),
    (4, "full"): _row(1.63e-04, 0.005, 0.021, 0.038, 0.052, 0.065, 0.068, 0.076, 0.032, 0.061),
    (5, "gdpp"): _row(1.14e-07, 0.014, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (5, "diag"): _row(1.81e-07, 0.004, 0.016, 0.029, 0.041, 0.051, 0.058, 0.062, 0.026, 0.051),
    (5, "full"): _row(1.79e-07, 0.002, 0.015, 0.026, 0.038, 0.048, 0.059, 0.065, 0.016, 0.048),
    (6, "gdpp"): _row(2.37e-10, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (6, "diag"): _row(2.57e-10, 0.003, 0.014, 0.028, 0.040, 0.048, 0.054, 0.059, 0.020, 0.047),
    (6, "full"): _row(2.71e-10, 0.002, 0.014, 0.025, 0.036, 0.044, 0.052, 0.059, 0.011, 0.043),
    (7, "gdpp"): _row(2.65e-12, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (7, "diag"): _row(2.50e-12, 0.002, 0.014, 0.027, 0.040, 0.047, 0.052, 0.059, 0.018, 0.046),
    (7, "full"): _row(2.50e-12, 0.002, 0.010, 0.025, 0.035, 0.047, 0.050, 0.057, 0.010, 0.035),
}
PAPER_BASELINES: dict[str, dict[str, float]] = {
    "constrr": _row(0.0, 0.009, 0.066, 0.161, 0.265, 0.365, 0.454, 0.530, 0.222, 0.422),
    "adarr": _row(0.0, 0.003, 0.016, 0.034, 0.053, 0.068, 0.081, 0.092, 0.051, 0.084),
    "tunedrr": _row(0.0, 0.002, 0.010, 0.023, 0.037, 0.049, 0.060, 0.068, 0.021, 0.054),
}


def table1_point(p: dict[str, Any]) -> dict[str, Any]:
    """Train one (parameterisation, layers, noise, seed) model with
    :func:`numerics.vladymyrov_training.train_point` (its preset ``p["preset"]``, with ``steps``, ``batch``,
    ``lr``, ``eval_sequences``, ``restarts`` overridden when the point gives them) on the device
    :func:`numerics.device.resolve_device` picks (CUDA when the worker has one).

    Returns ``adjusted_loss`` (the Table 1 number) and everything else ``train_point`` reports (standard
    error, per-read-out losses, trained parameters, ω, configuration, timings), with the training curve
    subsampled to 50 points (it is ``steps`` long)."""
    from numerics.vladymyrov_training import train_point

    out = train_point(p["parameterisation"], p["layers"], p["noise"], p["seed"], scale=p["preset"],
                      overrides={k: p[k] for k in _OVERRIDES if k in p})
    history = out.pop("history", [])
    keep = sorted({int(i) for i in np.linspace(0, len(history) - 1, min(_HISTORY_POINTS, len(history)))}
                  ) if history else []
    for echoed in ("parameterisation", "layers", "noise_law", "seed"):  # already in the point's parameters
        out.pop(echoed, None)
    return {"adjusted_loss": out.pop("adjusted"), **out, "history_steps": keep, "history": [history[i] for i in keep]}


# ------------------------------------------------------------------------------------------------ aggregate


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.3f}"


def best_of_seeds(tasks: list[dict[str, Any]]) -> dict[tuple[int, str, str], dict[str, Any]]:
    """Per (layers, parameterisation, noise): best (lowest) adjusted loss over OK seeds, all values, errors."""
    cells: dict[tuple[int, str, str], dict[str, Any]] = {}
    for t in tasks:
        p = t["params"]
        cell = cells.setdefault((p["layers"], p["parameterisation"], p["noise"]),
                                {"values": [], "seeds": [], "errors": 0, "baselines": {}})
        if t["status"] != "OK":
            cell["errors"] += 1
            continue
        value = float(t["result"]["adjusted_loss"])
        cell["values"].append(value)
        cell["seeds"].append(t["seed"])
        for name in BASELINES:
            if name in t["result"].get("baselines", {}):
                cell["baselines"].setdefault(name, []).append(float(t["result"]["baselines"][name]))
    for cell in cells.values():
        finite = [v for v in cell["values"] if math.isfinite(v)]
        cell["best"] = min(finite) if finite else None
        cell["best_seed"] = cell["seeds"][cell["values"].index(cell["best"])] if finite else None
    return cells


def table1(tasks: list[dict[str, Any]], out_dir: Path | None) -> Aggregate:
    """The paper's Table 1 layout, each cell ``ours / paper`` (ours: best of the seeds run)."""
    cells = best_of_seeds(tasks)
    noises = [n for n in NOISE_LAWS if any(k[2] == n for k in cells)]
    head = "| L | model | " + " | ".join(NOISE_LABELS[n] for n in noises) + " |"
    lines = ["Adjusted evaluation loss, **ours (best of seeds) / paper**; `ERROR` = every seed of the cell "
             "failed (see Errors).", "", head, "|---|---|" + "---|" * len(noises)]
    layers = sorted({k[0] for k in cells})
    data: dict[str, Any] = {}
    for L in layers:
        for par in PARAMETERISATIONS:
            if not any((L, par, n) in cells for n in noises):
                continue
            row = []
            for n in noises:
                cell = cells.get((L, par, n))
                paper = PAPER_TABLE1.get((L, par), {}).get(n)
                if cell is None:
                    row.append(f"— / {_fmt(paper)}")
                    continue
                ours = "ERROR" if cell["best"] is None else _fmt(cell["best"])
                row.append(f"{ours} / {_fmt(paper)}")
                data[f"L{L}/{par}/{n}"] = {"best": cell["best"], "best_seed": cell["best_seed"],
                                           "values": cell["values"], "errors": cell["errors"], "paper": paper}
            lines.append(f"| {L} | {PARAM_LABELS[par]} | " + " | ".join(row) + " |")
    baseline_rows = _baseline_rows(cells, noises)
    lines += baseline_rows
    n_seeds = max((len(c["values"]) + c["errors"] for c in cells.values()), default=0)
    lines += ["", f"Seeds per cell: up to {n_seeds} (the paper: best of 5); a point may itself keep the best of "
              "several restarts (`restarts` in its configuration). Paper values: Table 1 of arXiv:2402.14180 "
              "(Appendix B)."]
    figures = [f for f in [_figure(cells, noises, out_dir)] if f]
    return Aggregate("\n".join(lines), data=data, figures=figures)


def _baseline_rows(cells: dict[tuple[int, str, str], dict[str, Any]], noises: list[str]) -> list[str]:
    """Baseline rows ``ours / paper`` (ours when the task returns ``baselines``: mean over points)."""
    rows = []
    for name in BASELINES:
        vals = []
        for n in noises:
            ours = [v for (L, par, nn), c in cells.items() if nn == n for v in c["baselines"].get(name, [])]
            vals.append(f"{_fmt(float(np.mean(ours))) if ours else '—'} / {_fmt(PAPER_BASELINES[name][n])}")
        rows.append(f"| – | {BASELINE_LABELS[name]} | " + " | ".join(vals) + " |")
    return rows


def _figure(cells: dict[tuple[int, str, str], dict[str, Any]], noises: list[str], out_dir: Path | None) -> str | None:
    if out_dir is None or not noises:
        return None
    plt = pyplot()

    cols = min(5, len(noises))
    rows = math.ceil(len(noises) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    colors = {"gdpp": "tab:blue", "diag": "tab:orange", "full": "tab:green"}
    for ax, n in zip(axes.flat, noises):
        for par in PARAMETERISATIONS:
            ours = sorted((L, c["best"]) for (L, pp, nn), c in cells.items()
                          if pp == par and nn == n and c["best"] is not None and c["best"] > 0)
            if ours:
                ax.plot(*zip(*ours), "o-", color=colors[par], label=f"{PARAM_LABELS[par]} (ours)", ms=3)
            paper = sorted((L, v[n]) for (L, pp), v in PAPER_TABLE1.items() if pp == par)
            ax.plot(*zip(*paper), "--", color=colors[par], alpha=0.5, label=f"{PARAM_LABELS[par]} (paper)")
        for name, style in zip(BASELINES, (":", "-.", (0, (1, 3)))):
            if PAPER_BASELINES[name][n] > 0:
                ax.axhline(PAPER_BASELINES[name][n], color="gray", ls=style, lw=0.8,
                           label=f"{BASELINE_LABELS[name]} (paper)")
        ax.set_yscale("log")
        ax.set_title(NOISE_LABELS[n], fontsize=9)
        ax.set_xlabel("layers", fontsize=8)
    for ax in list(axes.flat)[len(noises):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("adjusted eval loss")
    legend: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.suptitle("Vladymyrov et al. Table 1 / Fig. 1: ours (solid, best of seeds) vs paper (dashed)", fontsize=10)
    fig.tight_layout()
    fig.legend(list(legend.values()), list(legend), loc="center left", fontsize=7, bbox_to_anchor=(1.0, 0.5))
    return save_figure(fig, out_dir, "vladymyrov_table1")


# ---------------------------------------------------------------------------------------------- baselines

EXTRA_BASELINES = {"gd": "GD (tuned step, steps)", "bayes": "Bayes posterior mean", "one_layer": "1-layer optimum"}


def baselines_point(p: dict[str, Any]) -> dict[str, Any]:
    """The closed-form baselines of Sec. 6 for one noise law: tuned on ``tune_sequences`` prompts, evaluated
    (paired with the oracle) on ``eval_sequences`` others (:func:`numerics.vladymyrov_training.baseline_losses`)."""
    from numerics.regression import NoiseLaw
    from numerics.vladymyrov_training import baseline_losses

    return baseline_losses(NoiseLaw.parse(p["noise"]), tune_sequences=p["tune_sequences"],
                           eval_sequences=p["eval_sequences"], seed=p["seed"])


def baselines_table(tasks: list[dict[str, Any]], out_dir: Path | None) -> Aggregate:
    """Adjusted loss of each baseline, ``ours ± 2 SE / paper`` (mean over seeds; the 1-layer optimum is compared
    with the paper's L = 1 GD++ row, which the closed form predicts)."""
    by_noise, errors = group_outcomes(tasks, lambda p: p["noise"])
    noises = [n for n in NOISE_LAWS if n in by_noise or n in errors]
    lines = ["Adjusted evaluation loss of the closed-form baselines, **ours ± 2 SE / paper** (mean over seeds).", "",
             "| baseline | " + " | ".join(NOISE_LABELS[n] for n in noises) + " |", "|---|" + "---|" * len(noises)]
    papers = {**PAPER_BASELINES, "one_layer": PAPER_TABLE1[1, "gdpp"]}
    labels = {**BASELINE_LABELS, **EXTRA_BASELINES}
    data: dict[str, Any] = {}
    for name in (*BASELINES, *EXTRA_BASELINES):
        row = []
        for n in noises:
            rs = [r[name] for r in by_noise.get(n, []) if name in r]
            paper = papers.get(name, {}).get(n)
            if not rs:
                row.append(("ERROR" if errors.get(n) else "—") + (f" / {_fmt(paper)}" if paper is not None else ""))
                continue
            mean = float(np.mean([r["adjusted"] for r in rs]))
            se = float(np.sqrt(np.mean([r["se"] ** 2 for r in rs]) / len(rs)))
            data[f"{name}/{n}"] = {"adjusted": mean, "se": se, "paper": paper, "n": len(rs)}
            row.append(f"{_fmt(mean)} ± {_fmt(2 * se)}" + (f" / {_fmt(paper)}" if paper is not None else ""))
        lines.append(f"| {labels[name]} | " + " | ".join(row) + " |")
    lines += ["", "GD, Bayes: no counterpart in the paper's table. The 1-layer optimum is compared with the paper's "
              "L = 1 GD++ row."]
    return Aggregate("\n".join(lines), data=data)


# ------------------------------------------------------------------------------------------------- sweeps

# The training budgets are the presets of numerics.vladymyrov_training.SCALES (the paper's: Sec. 6), written out
# here for the report; the code version in the cache key covers any change of the presets themselves.
# At paper scale each point trains one model (restarts = 1) and the five seeds are five points, so the paper's
# best-of-5 is taken by the aggregator over points that run in parallel.  The cpu scale keeps the preset's own
# best-of-restarts inside a point (cheap: the restarts train side by side).
_PAPER_FIXED = {"preset": "paper", "restarts": 1}

SWEEPS = (
    Sweep(
        name="vladymyrov-table1",
        paper=PAPER,
        description="Table 1: adjusted loss per layer count, noise law and parameterisation (best of seeds)",
        task=f"{__name__}:table1_point",
        scales={
            "quick": Grid(axes={"parameterisation": PARAMETERISATIONS, "layers": (1, 2, 3), "noise": ("U1", "U5")},
                          seeds=(0,), fixed={"preset": "quick"}),
            "cpu": Grid(axes={"parameterisation": PARAMETERISATIONS, "layers": (1, 2, 3, 4),
                              "noise": ("U1", "U3", "U5", "S1,3")}, seeds=(0,), fixed={"preset": "cpu"}),
            "paper": Grid(axes={"parameterisation": PARAMETERISATIONS, "layers": tuple(range(1, 8)),
                                "noise": NOISE_LAWS}, seeds=(0, 1, 2, 3, 4), fixed=_PAPER_FIXED, gpu=True),
        },
        aggregate=table1,
    ),
    Sweep(
        name="vladymyrov-baselines",
        paper=PAPER,
        description="Table 1 baselines (ConstRR, AdaRR, TunedRR) and the 1-layer optimum, per noise law",
        task=f"{__name__}:baselines_point",
        scales={
            "quick": Grid(axes={"noise": NOISE_LAWS}, seeds=(0,),
                        fixed={"tune_sequences": 20_000, "eval_sequences": 20_000}),
            "paper": Grid(axes={"noise": NOISE_LAWS}, seeds=(0, 1, 2, 3, 4),
                          fixed={"tune_sequences": 100_000, "eval_sequences": 100_000}),
        },
        aggregate=baselines_table,
    ),
)
