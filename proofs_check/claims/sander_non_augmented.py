"""Sander et al. (2024), non-augmented tokens: diagonal multi-head linear attention with a positional matrix.

Closed forms: :mod:`theory.sander.non_augmented`; model and training: :mod:`numerics.models.sander_non_augmented`.
Indexing (query ``s_r``, keys ``s_0..s_{r+1}``, target ``s_{r+2}``) and derivations: ``docs/sander-non-augmented.md``.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
import torch

from numerics.models import sander_non_augmented as model
from numerics.statistics import mean_estimate, ratio_estimate
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.figures import Series, compare_figure, heatmap, pyplot
from proofs_check.papers import SANDER
from proofs_check.registry import register
from theory.sander import non_augmented as theory

SECTION = "Non-augmented tokens section (section/theorem numbers UNCONFIRMED)"

U_UNIFORM = "UNCONFIRMED: the paper's angle law is θ iid uniform on [0, 2π) (the closed forms need it)"
S0_UNIT = "UNCONFIRMED: |s_{0,k}| = 1 (s_0 = 1 or uniform phases), as the reference scripts' '+d' constant implies"
INDEXING = ("UNCONFIRMED: the paper's indexing: row r uses query s_r and keys s_0..s_{r+1} to predict s_{r+2} "
            "(the reference scripts' indexing; with the query at the last token case U is unpredictable)")
NO_NORM = "UNCONFIRMED: the loss is summed over positions without a 1/T factor (reference scripts)"

MC_Z = 5.0
MC_REASON = ("5 standard errors of the Monte-Carlo mean (two-sided normal false alarm 5.7e-7 per comparison, "
             "Bonferroni over the draws compared)")


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().double().numpy()


def _random_point(rng: np.random.Generator, H: int, d: int, T: int, scale: float = 0.5) -> dict[str, torch.Tensor]:
    return {"A": torch.as_tensor(scale * rng.standard_normal((H, d))),
            "B": torch.as_tensor(scale * rng.standard_normal((H, d))),
            "P": torch.as_tensor(scale * rng.standard_normal((T, T)))}


def _mc_losses(ctx: RunContext, case: str, params: dict[str, torch.Tensor], n: int, T: int, stream: int,
               chunk: int = 25_000) -> tuple[float, float]:
    """MC mean and standard error of the per-sequence loss of the torch model (float64)."""
    rng = ctx.rng(stream)
    d = params["A"].shape[1]
    p = {k: v.to(ctx.device, torch.float64) for k, v in params.items()}
    vals = []
    left = n
    while left > 0:
        m = min(chunk, left)
        seqs = model.sample_sequences(case, m, d, T, rng=rng, device=ctx.device)
        with torch.no_grad():
            vals.append(model.sequence_losses(p, seqs).cpu())
        left -= m
    est = mean_estimate(torch.cat(vals).double().numpy())
    return est.value, est.se


#: The sympy derivations from the model definition, cached: the symbolic and the numpy claims share them.
_derive_u = functools.lru_cache(maxsize=None)(theory.loss_u_derivation)
_derive_o = functools.lru_cache(maxsize=None)(theory.loss_o_derivation)
NUMPY_ROUNDOFF = 1e-12


def _numpy_vs_derivation(ctx: RunContext, derive: Any, formula: Any, cases: list[dict[str, Any]], what: str) -> Measurement:
    """|numpy ``formula(C, P)`` − the sympy derivation from the model at the same point| / max(1, |derivation|), worst
    over ``cases`` (kwargs of ``derive``), at random rational points ``c, p ∈ {−20..20}/7`` (exact in sympy)."""
    rng = ctx.rng(7)
    worst, rows = 0.0, []
    for case in cases:
        derived, C, P = derive(**case)
        point = {sym: sp.Rational(int(rng.integers(-20, 21)), 7) for sym in sorted(C.free_symbols | P.free_symbols, key=str)}
        exact = float(derived.xreplace(point))
        Cn = np.array(C.xreplace(point).tolist(), dtype=float)
        Pn = np.array(P.xreplace(point).tolist(), dtype=float)
        value = float(formula(Cn, Pn))
        rel = abs(value - exact) / max(1.0, abs(exact))
        worst = max(worst, rel)
        rows.append({**case, "derived": exact, "numpy": value, "rel": rel})
    return Measurement(error=worst, expected=[r["derived"] for r in rows], observed=[r["numpy"] for r in rows],
                       compared=f"|{what} (numpy) − the sympy derivation from the model| / max(1, |derivation|) at a "
                                "random rational (C, P) per case, worst over " + ", ".join(
                                    "(" + ", ".join(f"{k}={v}" for k, v in c.items()) + ")" for c in cases),
                       details={"cases": rows})


def _symbolic_residual(derive: Any, formula: Any, cases: list[dict[str, Any]], compared: str) -> Measurement:
    """Worst number of non-zero terms of ``expand(derived − formula)`` over ``cases`` (kwargs of ``derive``)."""
    worst, rows = 0, []
    for case in cases:
        derived, C, P = derive(**case)
        res = sp.expand(derived - formula(C, P))
        n_terms = 0 if res == 0 else len(sp.Add.make_args(res))
        worst = max(worst, n_terms)
        rows.append({**case, "residual_terms": n_terms})
    return Measurement(error=worst, expected=0, observed=worst, compared=compared, details={"cases": rows})


def _mc_vs_formula(ctx: RunContext, case: str, formula: Any, settings: tuple[tuple[int, int, int], ...],
                   stream: int, sampler: str) -> Measurement:
    """|formula − MC mean| / SE at random points (one per ``(d, H, T)`` setting), worst over the settings."""
    n = 20_000 if ctx.quick else 400_000
    rows = []
    for i, (d, H, T) in enumerate(settings):
        params = _random_point(ctx.rng(stream + 100 + i), H, d, T)
        mc, se = _mc_losses(ctx, case, params, n, T, stream=stream + i)
        C, P = _np(model.attention_product(params)), _np(params["P"])
        val = float(formula(C, P))
        rows.append({"d": d, "H": H, "T": T, "n": n, "mc": mc, "se": se, "formula": val, "z": (val - mc) / se})
    dims = ", ".join(str(r["d"]) for r in rows)
    return Measurement(error=max(abs(r["z"]) for r in rows), expected=[round(r["formula"], 4) for r in rows],
                       observed=[f"{r['mc']:.4f} ± {r['se']:.4f}" for r in rows],
                       compared=f"|formula − MC mean| / standard error, worst over {len(rows)} random (C, P) (d = {dims})",
                       details={"draws": rows, "dtype": "float64", "sampler": sampler})


@functools.lru_cache(maxsize=None)
def _fit(case: str, d: int, H: int, T: int, seed: int) -> tuple[dict[str, torch.Tensor], float, int, list[float],
                                                                list[float]]:
    """The exact-loss fit, cached (a check and its control measure the same runs): params, loss, attempts,
    history, and the seconds since the start at each history entry (Newton's Hessians cost several evaluations,
    so time to the gap is read off this clock, not pro rata)."""
    t0 = time.perf_counter()
    res = model.fit_exact(case, d, H, T, seed=seed, gap=GAP)
    return res.params, res.loss, len(res.attempts), res.history, [c - t0 for c in res.history_clock]


#: The neighbouring case of each case: its closed-form minimum and structure are the plausible wrong answer
#: (the d ↔ d/2 pitfall between complex diagonal and real block-rotation W).
_OTHER = {"unitary": "orthogonal", "orthogonal": "unitary"}
_MINIMUM = {"unitary": theory.loss_u_minimum, "orthogonal": theory.loss_o_minimum}
_STRUCTURE = {"unitary": theory.structure_u, "orthogonal": theory.structure_o}
MC_FIT = 20_000


# --------------------------------------------------------------------------------------------------------------
# 1a. case U: symbolic derivation of the population loss
# --------------------------------------------------------------------------------------------------------------

_SYM_U = [{"d": d, "T": T, "s0": s0} for d, T in ((2, 3), (3, 3), (2, 4), (3, 4)) for s0 in ("torus", "ones")]


def _check_sym_u(ctx: RunContext) -> Measurement:
    return _symbolic_residual(_derive_u, theory.loss_u_closed_sympy, _SYM_U,
                              "number of non-zero terms of expand(constant term of the model's squared error − "
                              "closed form), worst over (d, T) ∈ {2,3}×{3,4} and s_0 ∈ {torus, ones}")


def _control_sym_u(ctx: RunContext) -> Measurement:
    return _symbolic_residual(_derive_u, theory.loss_u_reference_sympy, _SYM_U,
                              "the same residual for the unitary.py formula (‖C‖_F²‖p‖² + …)")


register(Claim(
    id="sander.non-aug.loss-u.symbolic", paper=SANDER, reference=f"{SECTION}: population loss, unitary case",
    statement=("Case U (W = diag(e^{iθ_k}), θ iid uniform, |s_0,k| = 1): the expected squared error of row r is "
               "‖C‖_F² Σ_{j≠q} p_j² + ‖C𝟙‖² p_q² − 2 tr(C) p_c + d with C = BᵀA, p = P[r, 0..r+1], q = r, c = r+1."),
    kind="symbolic", check=_check_sym_u, control=_control_sym_u,
    control_description="the reference script unitary.py's formula (‖C‖_F²‖p‖², over-counting p_q²‖C‖_F²)",
    tolerance=Tolerance(0.0, "exact symbolic identity: the expanded difference must be the zero polynomial", origin="exact"),
    seed=0, rests_on=(U_UNIFORM, S0_UNIT, INDEXING, NO_NORM),
    route="sympy constant-term extraction of the model's squared error over symbolic unitary sequences, compared with the sympy closed form and with the numpy loss_u the other claims use, at rational points",
))


register(Claim(
    id="sander.non-aug.loss-u.numpy", paper=SANDER, reference=f"{SECTION}: population loss, unitary case",
    statement=("The numpy case-U loss every other claim uses (theory.sander.non_augmented.loss_u) equals the expected "
               "squared error derived in sympy from the model definition."),
    kind="identity",
    check=lambda ctx: _numpy_vs_derivation(ctx, _derive_u, theory.loss_u, _SYM_U, "loss_u"),
    control=lambda ctx: _numpy_vs_derivation(ctx, _derive_u, theory.loss_u_reference, _SYM_U, "the unitary.py formula"),
    control_description="the reference script unitary.py's formula (numpy) at the same points",
    tolerance=Tolerance(NUMPY_ROUNDOFF, ("float64 round-off: a sum of a few hundred products of entries ≤ 3 against an "
                                         "exact rational, relative ~1e-15; 1e-12 leaves 3 orders"), origin="round-off"),
    seed=1, rests_on=(U_UNIFORM, S0_UNIT, INDEXING, NO_NORM),
    route="the sympy derivation from the model definition (constant term over symbolic unitary sequences), evaluated "
          "exactly at rational points",
))


# --------------------------------------------------------------------------------------------------------------
# 1b. case U: closed form vs Monte Carlo through the torch model
# --------------------------------------------------------------------------------------------------------------

_MC_U = ((2, 2, 4), (3, 3, 4), (4, 4, 4))      # (d, H, T)


def _mc_u(ctx: RunContext, formula: Any) -> Measurement:
    return _mc_vs_formula(ctx, "unitary", formula, _MC_U, stream=0, sampler="unitary_diagonal + torus s_0")


register(Claim(
    id="sander.non-aug.loss-u.mc", paper=SANDER, reference=f"{SECTION}: population loss, unitary case",
    statement="The case-U closed-form loss equals the Monte-Carlo mean of the torch model's squared error.",
    kind="monte-carlo", check=lambda ctx: _mc_u(ctx, theory.loss_u),
    control=lambda ctx: _mc_u(ctx, theory.loss_u_reference),
    control_description="the unitary.py formula (over-counts Σ_r P[r,r]²‖C‖_F²) against the same MC means",
    tolerance=Tolerance(MC_Z, MC_REASON, origin="standard-errors"), seed=11, rests_on=(U_UNIFORM, INDEXING),
    route="Monte Carlo through the torch forward pass on sampled case-U sequences",
))


# --------------------------------------------------------------------------------------------------------------
# 1c. case U: global minimum reached by float64 L-BFGS on the exact loss, with the predicted structure
# --------------------------------------------------------------------------------------------------------------

GAP = 1e-8
INV = 1e-4
NORMALISED_REASON = (f"normalised: max(loss gap / {GAP:g}, invariant deviation / {INV:g}) ≤ 1. The loss gap bound "
                     f"is the float64 L-BFGS target; a gap of {GAP:g} puts the parameters within ~√gap = {INV:g} "
                     "of the minimiser set (the loss is quadratic there), which bounds the invariants")


def _exact_fit_rows(ctx: RunContext, case: str, settings: list[tuple[int, int, int]], seeds: int, *,
                    claimed: str) -> tuple[list[dict[str, Any]], float]:
    """L-BFGS on the exact loss for every ``(d, H, T)`` and seed, measured against the closed-form minimum and
    minimiser structure of ``claimed`` (``case`` for the check, the neighbouring case for the control): each run's
    loss gap, its structure invariants (every H in case U, ``H ≥ d/2`` in case O; ``ABᵀ`` at the smallest zero-loss
    head count) and, for the first seed of each setting, the trained model's loss measured by Monte Carlo through
    the torch forward pass on ``MC_FIT`` fresh sequences.  Worst normalised error
    ``max(|gap|/GAP, deviation/INV, |MC − minimum|/(5 SE + 1e-9·zero-predictor loss))``."""
    minimum, structure = _MINIMUM[claimed], _STRUCTURE[claimed]
    rows, worst = [], 0.0
    for i, (d, H, T) in enumerate(settings):
        if claimed == "orthogonal" and d % 2:
            continue  # no block-rotation case at odd d: the neighbouring claim exists only at even d
        full = d if claimed == "unitary" else d // 2
        for k in range(seeds):
            s = ctx.torch_seed(10 * d + H) + k
            params, loss, attempts, _, _ = _fit(case, d, H, T, s)
            target = minimum(d, H, T)
            gap = (loss - target) / max(1.0, target)
            err = abs(gap) / GAP
            inv: dict[str, float] = {}
            if claimed == "unitary" or H >= full:
                C, P = _np(model.attention_product(params)), _np(params["P"])
                AB = _np(params["A"] @ params["B"].T) if H == full else None
                inv = structure(C, P, H=H, AB=AB)
                # a ratio deviation against P[r,r] = 0 is ~1.8e308 and overflows /INV to inf; Measurement needs a
                # finite error, so the normalised deviation is capped at 1e12 (still a FAIL by 12 decades)
                err = max(err, min(theory.max_deviation(inv) / INV, 1e12))
            row = {"d": d, "H": H, "T": T, "seed": s, "loss": loss, "target": target, "gap": gap, "attempts": attempts, **inv}
            if k == 0:
                mc, se = _mc_losses(ctx, case, params, MC_FIT, T, stream=200 + i)
                allow = MC_Z * se + 1e-9 * (T - 1) * d
                row.update({"mc_loss": mc, "mc_se": se, "mc_normalised": abs(mc - target) / allow})
                err = max(err, row["mc_normalised"])
            worst = max(worst, err)
            rows.append(row)
    return rows, worst


def _trained_u(ctx: RunContext, *, claimed: str) -> Measurement:
    settings = [(3, 3, 5), (3, 2, 5), (4, 4, 6)] if ctx.quick else [(3, 3, 5), (3, 2, 5), (3, 4, 5), (4, 4, 6), (5, 3, 8), (6, 6, 10)]
    rows, worst = _exact_fit_rows(ctx, "unitary", settings, 3, claimed=claimed)
    return Measurement(error=worst, expected="loss = (T−1)·max(d−H, 0); C = αΠ, αP[r,r+1] = 1, other αP = 0 (P[r,r] up to ‖C𝟙‖), eig(ABᵀ) = α",
                       observed=[f"d={r['d']} H={r['H']}: gap {r['gap']:.1e}, max dev {theory.max_deviation(r):.1e}" for r in rows],
                       compared=(f"normalised max of loss gap, invariant deviations (every seed, 3 per setting) and "
                                 f"Monte-Carlo loss through the torch model (first seed) against the {claimed}-case minimum"),
                       details={"runs": rows})


register(Claim(
    id="sander.non-aug.min-u.trained", paper=SANDER, reference=f"{SECTION}: global minima, unitary case",
    statement=("Case U: the minimum of the loss over A, B ∈ R^{H×d} and P is (T−1)·max(d−H, 0); at a minimiser "
               "C = BᵀA = αΠ (Π an orthogonal projection of rank min(H, d), Π = I when H ≥ d), α·P[r,r+1] = 1, the "
               "used P entries with j ∉ {r, r+1} vanish and so does ‖C𝟙‖·P[r,r] (P[r,r] is free only when "
               "Π𝟙 = 0, possible for H < d); at H = d, ABᵀ = αI (head orthogonality)."),
    kind="trained", check=lambda ctx: _trained_u(ctx, claimed="unitary"),
    control=lambda ctx: _trained_u(ctx, claimed="orthogonal"),
    control_description=("the same trained runs against the neighbouring case's minimum (T−1)·max(d−2H, 0) and structure "
                         "(the d ↔ d/2 pitfall)"),
    tolerance=Tolerance(1.0, NORMALISED_REASON, origin="optimiser-gap"), seed=21, rests_on=(U_UNIFORM, INDEXING),
    route="L-BFGS on the exact loss, then the trained model's loss measured by Monte Carlo through the torch forward pass on fresh sequences",
))


# --------------------------------------------------------------------------------------------------------------
# 1d. case U: Adam on sampled sequences
# --------------------------------------------------------------------------------------------------------------

SAMPLED_REASON = (
    f"normalised: max(|polished − claimed minimum| / ({GAP:g}·max(1, minimum)), |MC − exact| / (5 SE)) ≤ 1. The first "
    "bound is the stopping rule of the float64 minimisation of the exact loss started at the Adam endpoint (one "
    "start, no perturbation restarts, no fresh starts: a local descent, so reaching the global minimum shows that "
    "Adam ended in its basin); the second is 5 standard errors of the Monte-Carlo mean of the Adam model's loss "
    "through the torch forward pass. The Adam endpoint's own remaining gap is reported, not bounded by hand")


def _polished(params: dict[str, torch.Tensor], case: str, H: int, seed: int) -> float:
    """Loss of a local float64 minimisation of the exact loss from a trained point (the first ``H`` heads)."""
    d, T = params["A"].shape[-1], params["P"].shape[-1]
    init = {"A": params["A"][:H].clone(), "B": params["B"][:H].clone(), "P": params["P"].clone()}
    return float(model.fit_exact(case, d, H, T, seed=seed, init=init, starts=1, restarts=0, gap=GAP).loss)


def _trained_sampled_u(ctx: RunContext, d: int, heads: list[int], T: int, steps: int, batch: int,
                       lr: float) -> tuple[list[dict[str, torch.Tensor]], float]:
    """Adam on sampled case-U sequences, one model per entry of ``heads``, all in one batched run
    (:func:`numerics.models.sander_non_augmented.fit_sampled`); each model's float64 CPU parameters and the time.
    Cached per (seed, device, sizes): a check and its control measure the same trained models."""
    return _fit_sampled_u(ctx.torch_seed(0), ctx.device, d, tuple(heads), T, steps, batch, lr)


@functools.lru_cache(maxsize=None)
def _fit_sampled_u(seed: int, device: str, d: int, heads: tuple[int, ...], T: int, steps: int, batch: int,
                   lr: float) -> tuple[list[dict[str, torch.Tensor]], float]:
    t0 = time.perf_counter()
    res = model.fit_sampled("unitary", d, list(heads), T, seed=seed, steps=steps, batch=batch, lr=lr,
                            models=len(heads), device=device)
    seconds = time.perf_counter() - t0
    return [{k: v.double().cpu() for k, v in model.unstack(res.params, m).items()} for m in range(len(heads))], seconds


def _sampled_u(ctx: RunContext, *, heads_short: int) -> Measurement:
    """Adam-trained case-U models with ``H = d − heads_short`` heads against the claimed minimum 0 of ``H = d``: the
    exact loss and the Monte-Carlo loss through the torch forward pass (mean + 5 SE), relative to the zero predictor."""
    d, T = 3, 5
    H = d - heads_short
    steps, batch, lr, models = (120, 64, 0.1, 2) if ctx.quick else (600, 256, 0.05, 4)
    params, seconds = _trained_sampled_u(ctx, d, [H] * models, T, steps, batch, lr)
    zero = (T - 1) * d
    losses = [float(model.exact_loss(p, "unitary")) for p in params]
    mc = [_mc_losses(ctx, "unitary", p, MC_FIT, T, stream=400 + i) for i, p in enumerate(params)]
    polished = [_polished(p, "unitary", H, ctx.torch_seed(600 + i)) for i, p in enumerate(params)]
    err = [max(abs(x) / GAP, abs(m - e) / (MC_Z * se)) for x, e, (m, se) in zip(polished, losses, mc)]
    return Measurement(error=max(err), expected="polished loss within 1e-8 of the claimed minimum 0; MC within 5 SE",
                       observed=[f"Adam {e / zero:.1e} of the zero predictor → polished {x:.1e}" for e, x in zip(losses, polished)],
                       compared=(f"normalised max over {models} Adam-trained models with H = {H} heads of |loss after a "
                                 "local float64 minimisation of the exact loss from the Adam endpoint − 0| / 1e-8 and "
                                 f"|MC loss through the torch model ({MC_FIT} fresh sequences) − exact loss| / (5 SE)"),
                       details={"d": d, "H": H, "T": T, "steps": steps, "batch": batch, "lr": lr, "models": models,
                                "exact_losses": losses, "adam_gap_relative": [e / zero for e in losses],
                                "polished_losses": polished, "mc_losses": [m for m, _ in mc],
                                "mc_se": [se for _, se in mc], "seconds": seconds})


register(Claim(
    id="sander.non-aug.min-u.sampled", paper=SANDER, reference=f"{SECTION}: global minima, unitary case",
    statement=("Case U, H = d: Adam on sampled sequences ends in the basin of a global minimiser (loss 0): a local "
               "descent on the exact loss from its endpoint reaches 0."),
    kind="trained", check=lambda ctx: _sampled_u(ctx, heads_short=0),
    control=lambda ctx: _sampled_u(ctx, heads_short=1),
    control_description="the neighbouring head count H = d − 1 trained the same way, against the same claimed minimum 0",
    tolerance=Tolerance(1.0, SAMPLED_REASON, origin="optimiser-gap"),
    seed=31, rests_on=(U_UNIFORM, INDEXING),
    route="Adam on sampled sequences; loss of the trained models measured by Monte Carlo through the torch forward pass",
))


def _heads_figure(ctx: RunContext, d: int, T: int, rows: list[dict[str, Any]]) -> list[str]:
    """Loss against the head count H: the closed-form minimum (T−1)·max(d−H, 0) and every trained model."""
    h_all = np.arange(1, max(r["H"] for r in rows) + 1)
    series = [Series("minimum (T−1)·max(d−H, 0)", h_all, [theory.loss_u_minimum(d, int(h), T) for h in h_all]),
              Series("Adam on sampled sequences (exact loss of each seed)", [r["H"] for r in rows],
                     [r["loss"] for r in rows], kind="points")]
    fig = compare_figure([(f"case U, d = {d}, T = {T}", series)], xlabel="heads H", ylabel="population loss",
                         integer_x=True, title="Non-augmented tokens: loss against the head count")
    path = ctx.save_figure(fig, "sander-non-aug-loss-vs-heads-u")
    return [path] if path else []


def _sampled_heads_u(ctx: RunContext, *, claimed: str) -> Measurement:
    """Every head count 1..d+1 (two seeds each) trained in ONE batched Adam run (padded heads stay zero);
    compared with the claimed minimum of its own H (``claimed="own"``) or, for the control, with the wrong
    claim that every H reaches the full-head minimum 0 (``claimed="full"``)."""
    d, T = 4, 5
    steps, batch, lr = (120, 64, 0.1) if ctx.quick else (400, 128, 0.05)
    heads = [h for h in range(1, d + 2) for _ in range(2)]
    trained, seconds = _trained_sampled_u(ctx, d, heads, T, steps, batch, lr)
    zero = (T - 1) * d
    rows = []
    for i, (h, p) in enumerate(zip(heads, trained)):
        target = theory.loss_u_minimum(d, h if claimed == "own" else d, T)
        loss = float(model.exact_loss(p, "unitary"))
        mc, se = _mc_losses(ctx, "unitary", p, MC_FIT // 4, T, stream=500 + i)
        polished = _polished(p, "unitary", h, ctx.torch_seed(700 + i))
        err = max(abs(polished - target) / (GAP * max(1.0, target)), abs(mc - loss) / (MC_Z * se))
        rows.append({"H": h, "loss": loss, "mc_loss": mc, "mc_se": se, "claimed_minimum": target, "polished": polished,
                     "adam_gap_relative": (loss - target) / zero, "normalised": err,
                     "padded_heads_max_abs": float(max(p["A"][h:].abs().max(), p["B"][h:].abs().max()))
                     if h < max(heads) else 0.0})
    figures = _heads_figure(ctx, d, T, rows) if claimed == "own" else []
    return Measurement(
        figures=figures,
        error=max(r["normalised"] for r in rows),
        expected=("a local descent from every Adam endpoint reaches (T−1)·max(d−H, 0) within 1e-8" if claimed == "own"
                  else "the wrong claim: every H reaches 0"),
        observed={f"H={r['H']}": f"Adam {r['loss']:.4f} → polished {r['polished']:.6f} (claimed {r['claimed_minimum']:g})"
                  for r in rows[::2]},
        compared=("normalised max over the models of one batched Adam run (every H, two seeds) of |loss after a local "
                  "float64 minimisation of the exact loss from the Adam endpoint (its H heads) − claimed minimum| / "
                  "(1e-8·max(1, minimum)) and |MC loss through the torch model (5000 fresh sequences) − exact loss| / (5 SE)"),
        details={"d": d, "T": T, "heads": heads, "steps": steps, "batch": batch, "lr": lr, "rows": rows,
                 "seconds": seconds})


register(Claim(
    id="sander.non-aug.heads-u.sampled", paper=SANDER, reference=f"{SECTION}: global minima, unitary case, head count",
    statement=("Case U, d = 4: with H heads the minimum is (T−1)·max(d−H, 0) and Adam on sampled sequences ends in its "
               "basin for every H (a local descent on the exact loss from the endpoint reaches it) — all head counts "
               "1..d+1 trained at once in one batched computation (zero-padded heads, which stay exactly zero)."),
    kind="trained", check=lambda ctx: _sampled_heads_u(ctx, claimed="own"),
    control=lambda ctx: _sampled_heads_u(ctx, claimed="full"),
    control_description="the same trained models against the wrong claim that H < d heads also reach 0",
    tolerance=Tolerance(1.0, SAMPLED_REASON, origin="optimiser-gap"),
    seed=33, rests_on=(U_UNIFORM, INDEXING),
    route="Adam on sampled sequences for every head count; loss of each trained model measured by Monte Carlo through the torch forward pass",
))


# --------------------------------------------------------------------------------------------------------------
# 2. case O: exact loss (symbolic, quadrature, MC), minima, head count, PE ratio
# --------------------------------------------------------------------------------------------------------------

O_PHASE = ("UNCONFIRMED: s_0 blocks have squared radius 2 and uniform random phases (with the fixed s_0 = 𝟙 the "
           "loss differs in the terms with key s_0; both agree at the minimiser)")


#: Case-O sizes for the exact checks: one, two and three rotation blocks (d = 6 is the first size at which a block
#: interacts with two others).
_SYM_O = [{"d": 2, "T": 3}, {"d": 4, "T": 3}, {"d": 6, "T": 3}]


def _sym_o(formula: Any) -> Measurement:
    return _symbolic_residual(_derive_o, formula, _SYM_O,
                              "non-zero terms of expand(constant term in (λ, u) of the model's squared error − "
                              "formula), worst over (d, T) ∈ {(2, 3), (4, 3), (6, 3)}")


register(Claim(
    id="sander.non-aug.loss-o.symbolic", paper=SANDER, reference=f"{SECTION}: population loss, orthogonal case",
    statement=("Case O (2×2 rotation blocks, θ and s_0 phases uniform, block radius² 2): the row loss is "
               "2[g_J (Σp)² + 2 g_X p_q Σp + g_I ‖p‖² + g_Q p_q²] − p_c Σ_k S_k + d with the block sums of C "
               "given in theory.sander.non_augmented (linear term ½ Σ_m 𝟙ᵀC^(mm)𝟙, not tr C)."),
    kind="symbolic", check=lambda ctx: _sym_o(theory.loss_o_closed_sympy),
    control=lambda ctx: _sym_o(theory.loss_o_reference_sympy),
    control_description="the reference script orthogonal.py's closed form",
    tolerance=Tolerance(0.0, "exact symbolic identity: the expanded difference must be the zero polynomial", origin="exact"),
    seed=0, rests_on=(O_PHASE, INDEXING, NO_NORM),
    route="sympy constant-term extraction of the model's squared error over symbolic rotation sequences, compared with the sympy closed form and with the numpy loss_o the other claims use, at rational points",
))


register(Claim(
    id="sander.non-aug.loss-o.numpy", paper=SANDER, reference=f"{SECTION}: population loss, orthogonal case",
    statement=("The numpy case-O loss every other claim uses (theory.sander.non_augmented.loss_o) equals the expected "
               "squared error derived in sympy from the model definition, for one, two and three rotation blocks."),
    kind="identity",
    check=lambda ctx: _numpy_vs_derivation(ctx, _derive_o, theory.loss_o, _SYM_O, "loss_o"),
    control=lambda ctx: _numpy_vs_derivation(ctx, _derive_o, theory.loss_o_reference, _SYM_O, "the orthogonal.py formula"),
    control_description="the reference script orthogonal.py's formula (numpy) at the same points",
    tolerance=Tolerance(NUMPY_ROUNDOFF, ("float64 round-off: a sum of a few hundred products of entries ≤ 3 against an "
                                         "exact rational, relative ~1e-15; 1e-12 leaves 3 orders"), origin="round-off"),
    seed=2, rests_on=(O_PHASE, INDEXING, NO_NORM),
    route="the sympy derivation from the model definition (constant term over symbolic rotation sequences), evaluated "
          "exactly at rational points",
))


def _quadrature(ctx: RunContext, formula: Any, kind: str) -> Measurement:
    rows = []
    for i, (d, H, T) in enumerate(((2, 1, 3), (4, 3, 3), (4, 2, 4))):
        g = torch.Generator().manual_seed(ctx.torch_seed(i))
        params = model.init_params(H, d, T, scale=0.6, generator=g, device=ctx.device)
        exact = model.quadrature_loss(params, "orthogonal")
        C, P = _np(model.attention_product(params)), _np(params["P"])
        val = float(formula(C, P))
        rows.append({"d": d, "H": H, "T": T, "quadrature": exact, "formula": val, "rel": abs(val - exact) / exact})
    return Measurement(error=max(r["rel"] for r in rows), expected=[round(r["quadrature"], 6) for r in rows],
                       observed=[round(r["formula"], 6) for r in rows],
                       compared=f"relative difference between the {kind} and the exact expectation of the torch model "
                                "(equispaced product quadrature, exact for trigonometric polynomials)",
                       details={"points": rows})


register(Claim(
    id="sander.non-aug.loss-o.quadrature", paper=SANDER, reference=f"{SECTION}: population loss, orthogonal case",
    statement="The case-O closed form equals the torch model's exact expectation (equispaced quadrature).",
    kind="identity", check=lambda ctx: _quadrature(ctx, theory.loss_o, "closed form"),
    control=lambda ctx: _quadrature(ctx, theory.loss_o_reference, "orthogonal.py formula"),
    control_description="the orthogonal.py closed form at the same random points",
    tolerance=Tolerance(1e-10, "float64 round-off of a sum over ≤ 4·10⁴ grid points (the quadrature is exact)", origin="round-off"),
    seed=41, rests_on=(O_PHASE, INDEXING),
    route="exact equispaced quadrature of the torch model's squared error over angles and phases",
))


def _mc_o(ctx: RunContext, formula: Any) -> Measurement:
    return _mc_vs_formula(ctx, "orthogonal", formula, ((4, 4, 4), (6, 6, 4)), stream=10,
                          sampler="commuting_family (identity basis) + torus s_0, radius √2")


register(Claim(
    id="sander.non-aug.loss-o.mc", paper=SANDER, reference=f"{SECTION}: population loss, orthogonal case",
    statement="The case-O closed form equals the Monte-Carlo mean of the torch model's squared error.",
    kind="monte-carlo", check=lambda ctx: _mc_o(ctx, theory.loss_o),
    control=lambda ctx: _mc_o(ctx, theory.loss_o_reference),
    control_description="the orthogonal.py closed form against the same MC means",
    tolerance=Tolerance(MC_Z, MC_REASON, origin="standard-errors"), seed=43, rests_on=(O_PHASE, INDEXING),
    route="Monte Carlo through the torch forward pass on sampled case-O sequences",
))


def _trained_o(ctx: RunContext, *, claimed: str) -> Measurement:
    settings = [(4, 2, 5), (4, 3, 5), (4, 1, 5), (6, 2, 5)]
    if not ctx.quick:
        settings += [(6, 3, 6), (6, 1, 6), (8, 4, 6), (8, 3, 6), (8, 5, 6)]
    rows, worst = _exact_fit_rows(ctx, "orthogonal", settings, 2 if ctx.quick else 3, claimed=claimed)
    return Measurement(error=worst,
                       expected="loss = (T−1)·max(d−2H, 0); for H ≥ d/2: C = α·blockdiag(𝟙𝟙ᵀ), αP[r,r+1] = 1, "
                                "αP[r,r] = −½, rank d/2, and at H = d/2 eig(ABᵀ) = 2α",
                       observed=[f"d={r['d']} H={r['H']}: loss {r['loss']:.6g} (target {r['target']:g})" for r in rows],
                       compared=("normalised max of |loss gap| (both ways: H < d/2 must stop at (T−1)(d−2H), not "
                                 "below), the invariant deviations for H ≥ d/2 (every seed) and the Monte-Carlo loss "
                                 f"through the torch model (first seed), against the {claimed}-case minimum"),
                       details={"runs": rows})


register(Claim(
    id="sander.non-aug.min-o.trained", paper=SANDER, reference=f"{SECTION}: global minima, orthogonal case",
    statement=("Case O: the minimum over A, B ∈ R^{H×d}, P is (T−1)·max(d−2H, 0): zero needs H ≥ d/2 heads. A "
               "zero-loss point has C = α·blockdiag(𝟙𝟙ᵀ) (rank d/2), α·P[r,r+1] = 1, α·P[r,r] = −½ (ratio −2), "
               "all other used P entries 0, and at H = d/2, ABᵀ = 2αI_H (every eigenvalue of ABᵀ equals 2α; the "
               "statement is invariant under A → GA, B → G^{-T}B)."),
    kind="trained", check=lambda ctx: _trained_o(ctx, claimed="orthogonal"),
    control=lambda ctx: _trained_o(ctx, claimed="unitary"),
    control_description=("the same trained runs against the neighbouring case's minimum (T−1)·max(d−H, 0) and structure "
                         "C = αΠ (the d ↔ d/2 pitfall)"),
    tolerance=Tolerance(1.0, NORMALISED_REASON, origin="optimiser-gap"), seed=45, rests_on=(O_PHASE, INDEXING),
    finding=("Below d/2 heads the case-O minimum (T−1)(d−2H) is found numerically (L-BFGS, perturbation restarts and "
             "fresh starts), not proved here; the landscape then has spurious local minima (d = 4, H = 1, T = 3: "
             "5.28 and 5.93 above the global 4, one start in 20), so a single local run can stop above it."),
    route="L-BFGS on the exact loss, then the trained model's loss measured by Monte Carlo through the torch forward pass on fresh sequences",
))


def _zero_point(ctx: RunContext, C: np.ndarray, P: np.ndarray, what: str) -> Measurement:
    """Exact (quadrature) loss of the torch model at ``(C, P)``, with ``C`` factored into ``H = rank`` heads."""
    params = model.factor_params(C, P, device=ctx.device)
    exact = model.quadrature_loss(params, "orthogonal")
    return Measurement(error=exact, expected=0.0, observed=exact, compared=f"exact (quadrature) loss of {what}",
                       details={"heads": params["A"].shape[0], "closed_form": float(theory.loss_o(C, P))})


def _best_identity_point(d: int, T: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    C = alpha * np.eye(d)
    P = np.zeros((T, T))
    for r in range(T - 1):
        P[r, : r + 2] = theory.best_p_row_o(C, r + 2, r)[0]
    return C, P


register(Claim(
    id="sander.non-aug.zero-o.identity", paper=SANDER, reference=f"{SECTION}: global minima, orthogonal case",
    statement="C = α·blockdiag(𝟙𝟙ᵀ), α·P[r,r+1] = 1, α·P[r,r] = −½ gives exactly zero loss (d = 4, T = 4).",
    kind="identity",
    check=lambda ctx: _zero_point(ctx, *theory.loss_o_minimiser(4, 4, alpha=-1.289), "the block minimiser"),
    control=lambda ctx: _zero_point(ctx, *_best_identity_point(4, 4, -1.289), "C = αI with the best P rows"),
    control_description="C = αI (block-diagonal identity) with the loss-minimising P rows",
    tolerance=Tolerance(1e-10, "float64 round-off of the exact quadrature mean", origin="round-off"), seed=0,
    rests_on=(O_PHASE, INDEXING),
    route="exact quadrature of the torch model's loss at the factored point (not the closed form)",
))


def _pe_ratio(ctx: RunContext, ratios: tuple[float, ...]) -> Measurement:
    sol = theory.pe_ratio_from_cayley_hamilton()
    ch = theory.cayley_hamilton_rotation()
    C, P0 = theory.loss_o_minimiser(4, 5, alpha=1.0)
    losses = {}
    for ratio in ratios:
        P = P0.copy()
        r = np.arange(4)
        P[r, r] = P[r, r + 1] / ratio
        losses[ratio] = float(theory.loss_o(C, P))
    symbolic_ok = ch == sp.zeros(2, 2) and sol["ratio"] == -2
    err = min(losses.values()) if ratios != (-2.0,) else (losses[-2.0] + (0.0 if symbolic_ok else 1.0))
    return Measurement(error=err, expected=0.0, observed={str(k): v for k, v in losses.items()},
                       compared="exact loss at C = blockdiag(𝟙𝟙ᵀ), P[r,r+1] = 1, P[r,r] = P[r,r+1]/ratio (min over ratios);"
                                " the check also requires R² − 2cosθ R + I = 0 and the solved ratio −2 (sympy)",
                       details={"solved": {k: str(v) for k, v in sol.items()}, "cayley_hamilton_zero": ch == sp.zeros(2, 2)})


register(Claim(
    id="sander.non-aug.pe-ratio.symbolic", paper=SANDER, reference=f"{SECTION}: positional encoding, orthogonal case",
    statement=("The positional encoding captures a trigonometric relation: s_{c+1} = 2cosθ s_c − s_q (Cayley–Hamilton, "
               "R(θ)² − 2cosθ R(θ) + I = 0) forces P[r,r+1]/P[r,r] = −2."),
    kind="symbolic", check=lambda ctx: _pe_ratio(ctx, (-2.0,)), control=lambda ctx: _pe_ratio(ctx, (-1.0, 2.0)),
    control_description="the ratios −1 and +2 (smaller of their two exact losses)",
    tolerance=Tolerance(1e-12, "exact: zero loss up to float64 round-off", origin="round-off"), seed=0, rests_on=(O_PHASE, INDEXING),
    route="sympy Cayley-Hamilton identity of a symbolic rotation, and the loss at the resulting point",
))


# --------------------------------------------------------------------------------------------------------------
# 3. findings about the reference code's loss formulas
# --------------------------------------------------------------------------------------------------------------


def _overcount(ctx: RunContext, *, assumed_overcount: bool) -> Measurement:
    d, H, T = 4, 4, 4
    n = 20_000 if ctx.quick else 400_000
    params = _random_point(ctx.rng(300), H, d, T)
    mc, se = _mc_losses(ctx, "unitary", params, n, T, stream=30)
    C, P = _np(model.attention_product(params)), _np(params["P"])
    ref = float(theory.loss_u_reference(C, P))
    predicted = float((C ** 2).sum() * sum(P[r, r] ** 2 for r in range(T - 1)))
    diff = ref - mc
    assumed = predicted if assumed_overcount else 0.0
    return Measurement(error=abs(diff - assumed) / se, expected=round(assumed, 4), observed=f"{diff:.4f} ± {se:.4f}",
                       compared="(unitary.py formula − MC mean) against the stated over-count Σ_r P[r,r]²‖C‖_F², in SE",
                       details={"d": d, "T": T, "n": n, "mc": mc, "se": se, "unitary_py": ref,
                                "ours": float(theory.loss_u(C, P)), "overcount": predicted})


register(Claim(
    id="sander.non-aug.finding.unitary-py", paper=SANDER, reference=f"{SECTION}; reference code unitary.py",
    statement="The reference script unitary.py's loss exceeds the true population loss by Σ_r P[r,r]²‖C‖_F².",
    kind="monte-carlo", check=lambda ctx: _overcount(ctx, assumed_overcount=True),
    control=lambda ctx: _overcount(ctx, assumed_overcount=False),
    control_description="the hypothesis that unitary.py's formula is exact (over-count 0)",
    tolerance=Tolerance(MC_Z, MC_REASON, origin="standard-errors"), seed=51, rests_on=(U_UNIFORM, INDEXING),
    finding=("unitary.py (michaelsdr/ical) uses ‖C‖_F²‖p‖² where the expectation has ‖C‖_F² Σ_{j≠q} p_j²: it "
             "over-counts p_q²‖C‖_F² per row. Its minimisers are unchanged (p_q = 0 there)."),
    route="Monte Carlo through the torch forward pass against the reference script's formula",
))


def _orthogonal_py(ctx: RunContext, *, at_minimiser: bool) -> Measurement:
    rows = []
    if at_minimiser:
        points = [theory.loss_o_minimiser(d, T, alpha=a) for d, T, a in ((4, 5, 1.0), (6, 6, -1.289), (10, 20, 0.7))]
    else:
        rng = ctx.rng(0)
        points = [(0.5 * rng.standard_normal((d, d)), 0.5 * rng.standard_normal((T, T))) for d, T in ((4, 5), (6, 6), (10, 20))]
    for C, P in points:
        exact, code = float(theory.loss_o(C, P)), float(theory.loss_o_reference(C, P))
        rows.append({"d": C.shape[0], "T": P.shape[0], "exact": exact, "orthogonal_py": code, "gap": code - exact})
    rel = [abs(r["gap"]) / max(1.0, abs(r["exact"])) for r in rows]
    return Measurement(error=max(rel), expected=[round(r["exact"], 6) for r in rows],
                       observed=[round(r["orthogonal_py"], 6) for r in rows],
                       compared="|orthogonal.py formula − exact loss| / max(1, exact), worst over three points (d = 4, 6, 10)",
                       details={"points": rows})


register(Claim(
    id="sander.non-aug.finding.orthogonal-py", paper=SANDER, reference=f"{SECTION}; reference code orthogonal.py",
    statement="The reference script orthogonal.py's closed form equals the exact loss at the zero-loss minimiser.",
    kind="identity", check=lambda ctx: _orthogonal_py(ctx, at_minimiser=True),
    control=lambda ctx: _orthogonal_py(ctx, at_minimiser=False),
    control_description="the same comparison at random (C, P): the formula is not the expectation there",
    tolerance=Tolerance(1e-12, "float64 round-off of two closed forms", origin="round-off"), seed=53, rests_on=(O_PHASE,),
    finding=("orthogonal.py (michaelsdr/ical) is not the population loss away from its minimiser: its linear term is "
             "−2 tr(C) p_c where the expectation has −½ Σ_m 𝟙ᵀC^(mm)𝟙 · 2 p_c, and its quadratic terms differ; at "
             "random (C, P) (entries 0.5·N(0,1)) it is off by 1–20 % (see the control's details), and at the authors' own stored final point "
             "(d=10, H=8, T=20) it reports 3.5e-6 where the exact loss is 9.0e-5. Both agree (0) at the minimiser, "
             "so gradient descent still finds the right structure."),
    route="the exact closed form (itself checked by quadrature and sympy) against the reference script's formula",
))


# --------------------------------------------------------------------------------------------------------------
# 4. Fig. 3 reproduction (d = 10, T = 20): invariants of our L-BFGS runs and of the reference code's stored runs
# --------------------------------------------------------------------------------------------------------------

DATA = Path(__file__).resolve().parents[1] / "data" / "sander_reference"
STORED_INV = 1e-2
FIG3 = {"unitary": (10, 10, 20), "orthogonal": (10, 8, 20)}


def _stored(case: str) -> dict[str, np.ndarray]:
    return {k: np.load(DATA / f"tensors_{k}_{case}.npy").astype(np.float64) for k in ("A", "B", "P")}


def _structure(case: str, params: dict[str, np.ndarray], H: int) -> dict[str, float]:
    C = params["B"].T @ params["A"]
    AB = params["A"] @ params["B"].T
    fn = theory.structure_u if case == "unitary" else theory.structure_o
    return fn(C, params["P"], H=H, AB=AB)


def _fig3_figure(ctx: RunContext, case: str, ours: dict[str, np.ndarray], stored: dict[str, np.ndarray], alpha: float) -> str | None:
    plt = pyplot()

    d, H, T = FIG3[case]
    if case == "unitary":
        C_th, P_th = theory.loss_u_minimiser(d, T, alpha=alpha)
    else:
        C_th, P_th = theory.loss_o_minimiser(d, T, alpha=alpha)
    keep = ~np.triu(np.ones((T, T), dtype=bool), k=2)      # the reference plot masks j > r+1

    def panels(p: dict[str, np.ndarray] | None, C: np.ndarray, P: np.ndarray) -> list[np.ndarray | None]:
        return [None if p is None else p["A"], None if p is None else p["B"], C, np.where(keep, P, 0.0)[:-1, :-1]]

    def signed(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # (A, P) → (sign α·A, sign α·P) is the symmetry (C, P) → (γC, P/γ) with γ = ±1: shows every run with α > 0
        s = 1.0 if np.trace(p["B"].T @ p["A"]) >= 0 else -1.0
        return {"A": s * p["A"], "B": p["B"], "P": s * p["P"]}

    ours, stored = signed(ours), signed(stored)
    rows = [("this run (L-BFGS, float64)", panels(ours, ours["B"].T @ ours["A"], ours["P"])),
            ("reference code, stored", panels(stored, stored["B"].T @ stored["A"], stored["P"])),
            (f"theory (|α| = {abs(alpha):.3f})", panels(None, np.sign(alpha) * C_th, np.sign(alpha) * P_th))]
    fig, axes = plt.subplots(3, 4, figsize=(12.5, 7.5))
    for i, (label, mats) in enumerate(rows):
        for j, (title, mat) in enumerate(zip(("A", "B", "BᵀA", "P (j ≤ r+1)"), mats)):
            ax = axes[i, j]
            if mat is None:
                ax.set_xticks([])
                ax.set_yticks([])
                ax.text(0.5, 0.5, "not identifiable\n(A→GA, B→G⁻ᵀB)", ha="center", va="center", fontsize=8)
            else:  # signed entries: diverging map centred at 0, with its colorbar
                heatmap(fig, ax, mat, signed=True)
            if i == 0:
                ax.set_title(title)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(f"Fig. 3 ({case}): d = {d}, H = {H}, T = {T}; signs normalised to α > 0 via (C, P) → (−C, −P)")
    return ctx.save_figure(fig, f"sander-non-aug-fig3-{case}")


def _fig3(ctx: RunContext, *, neighbour: bool) -> Measurement:
    """Our L-BFGS runs and the reference code's stored runs at the Fig. 3 sizes against the closed-form minimum and
    minimiser structure of their own case (check) or of the neighbouring case (``neighbour``, the control)."""
    seeds = 1 if ctx.quick else 5  # quick: one seed per case, so the default report carries the Fig. 3 heatmaps
    rows: list[dict[str, Any]] = []
    stored_rows: dict[str, dict[str, float]] = {}
    figures: list[str] = []
    err = 0.0
    for case, (d, H, T) in FIG3.items():
        claimed = _OTHER[case] if neighbour else case
        stored = _stored(case)
        inv_stored = _structure(claimed, stored, H)
        loss_stored = float((theory.loss_u if case == "unitary" else theory.loss_o)(stored["B"].T @ stored["A"], stored["P"]))
        stored_rows[case] = {"exact_loss": loss_stored, **inv_stored}
        err = max(err, theory.max_deviation(inv_stored) / STORED_INV)
        target = _MINIMUM[claimed](d, H, T)
        for k in range(seeds):
            s = ctx.torch_seed(k)
            params, loss, attempts, history, clock = _fit(case, d, H, T, s)
            hit = [i for i, v in enumerate(history) if v - target <= GAP * max(1.0, target)]
            to_gap = clock[hit[0]] if hit else None
            p = {kk: _np(v) for kk, v in params.items()}
            inv = _structure(claimed, p, H)
            gap = (loss - target) / max(1.0, target)
            normalised = {kk: min(v / INV, 1e12) for kk, v in inv.items() if kk.endswith("_dev")}  # capped as above
            normalised["loss_gap"] = abs(gap) / GAP
            row = {"case": case, "seed": s, "loss": loss, "gap": gap, "seconds": clock[-1] if clock else 0.0,
                   "seconds_to_gap_1e-8": to_gap, "attempts": attempts,
                   "under_10_s": to_gap is not None and to_gap < 10.0, **inv}
            if k == 0:
                mc, se = _mc_losses(ctx, case, params, MC_FIT // 5, T, stream=300 + d + H)
                normalised["mc_loss"] = abs(mc - target) / (MC_Z * se + 1e-9 * (T - 1) * d)
                row.update({"mc_loss": mc, "mc_se": se})
            err = max(err, max(normalised.values()))
            rows.append(row)
            if k == 0 and not neighbour:
                fig = _fig3_figure(ctx, case, p, stored, inv["alpha"])
                if fig:
                    figures.append(fig)
    ortho = [r for r in rows if r["case"] == "orthogonal"]
    return Measurement(
        error=err,
        expected="gap ≤ 1e-8, invariants ≤ 1e-4 and MC loss within 5 SE of the minimum (ours); invariants ≤ 1e-2 "
                 "(stored float32 GD runs); unitary αP[r,r+1] = 1; orthogonal αP[r,r+1] = 1, αP[r,r] = −½",
        observed=[f"{r['case']} seed {r['seed']}: gap {r['gap']:.1e}, {r['seconds']:.2f} s, α = {r['alpha']:.3f}" for r in rows],
        compared=("normalised max over every seed of loss gap / 1e-8, invariant deviation / 1e-4 and (first seed) "
                  "|MC loss through the torch model − minimum| / (5 SE + round-off), and over the stored reference runs "
                  "of invariant deviation / 1e-2, against the "
                  + ("neighbouring case's minimum and structure" if neighbour else "own case's minimum and structure")),
        details={"runs": rows, "stored_reference": stored_rows,
                 "orthogonal_seconds": [r["seconds"] for r in ortho],
                 "orthogonal_seconds_to_gap": [r["seconds_to_gap_1e-8"] for r in ortho],
                 "orthogonal_all_under_10_s": all(r["under_10_s"] for r in ortho),
                 "stored_alpha_times_P": {c: {"alpha": v["alpha"]} for c, v in stored_rows.items()}},
        figures=figures)


register(Claim(
    id="sander.non-aug.fig3.trained", paper=SANDER, reference="Fig. 3 (reference code unitary.py / orthogonal.py)",
    statement=("Fig. 3: gradient-based training on the population loss (d = 10, T = 20; unitary H = 10, orthogonal "
               "H = 8) ends at C = α·I resp. α·blockdiag(𝟙𝟙ᵀ) with α·P[r,r+1] = 1 (and α·P[r,r] = −½), as the "
               "reference code's stored runs (α = −1.202 and −1.289) also show."),
    kind="trained", check=lambda ctx: _fig3(ctx, neighbour=False), control=lambda ctx: _fig3(ctx, neighbour=True),
    control_description=("the same runs (ours and the stored ones) against the neighbouring case's minimum and structure "
                         "(unitary runs vs blockdiag(𝟙𝟙ᵀ), orthogonal runs vs C = αΠ)"),
    tolerance=Tolerance(1.0, NORMALISED_REASON + f"; the stored runs are float32 plain GD (final exact loss 9e-5 for "
                        f"the orthogonal case), so their invariants are held to √(1e-4) = {STORED_INV:g}", origin="optimiser-gap"),
    seed=61, profiles=("quick", "full"), rests_on=(U_UNIFORM, O_PHASE, INDEXING),
    route="L-BFGS on the exact loss at the paper's size, the reference code's stored runs, and the trained model's loss measured by Monte Carlo through the torch forward pass",
))


# --------------------------------------------------------------------------------------------------------------
# 6. non-commuting Haar W (measured, qualitative)
# --------------------------------------------------------------------------------------------------------------

def _haar(ctx: RunContext, *, zero_predictor: bool) -> Measurement:
    """Upper 5-SE bound (paired, delta method) of the MC loss ratio of each Adam-trained model (or, the control, of the
    zero predictor) to the commuting-case minimiser C = I, P[r,r+1] = 1 carried over to Haar sequences."""
    d, H, T, models = 4, 4, 8, 3
    steps, batch, lr = 400, 256, 0.03
    seed = ctx.torch_seed(0)
    if zero_predictor:
        params = []
    else:
        res = model.fit_sampled("haar", d, H, T, seed=seed, steps=steps, batch=batch, lr=lr, models=models,
                                device=ctx.device)
        params = [{k: v.cpu() for k, v in model.unstack(res.params, i).items()} for i in range(models)]
    rng = ctx.rng(5)
    seqs = model.sample_sequences("haar", 40_000, d, T, rng=rng)
    zero_losses = (seqs[:, 2:] ** 2).sum((-1, -2)).double().numpy()
    zero = float(zero_losses.mean())

    def losses_of(p: dict[str, torch.Tensor]) -> np.ndarray:
        with torch.no_grad():
            return model.sequence_losses({k: v.double() for k, v in p.items()}, seqs).numpy()

    commuting = losses_of(model.factor_params(*theory.loss_u_minimiser(d, T, alpha=1.0)))
    ratios = ([ratio_estimate(zero_losses, commuting)] if zero_predictor else [])
    rows = []
    for p in params:
        per_seq = losses_of(p)
        loss = float(per_seq.mean())
        ratios.append(ratio_estimate(per_seq, commuting))
        C, P = _np(model.attention_product(p)), _np(p["P"])
        AB = _np(p["A"] @ p["B"].T)
        off = lambda M: float(np.linalg.norm(M - np.diag(np.diag(M))) / np.linalg.norm(M))  # noqa: E731
        sv = np.linalg.svd(C, compute_uv=False)
        alpha = float(np.trace(C) / d)
        r = np.arange(T - 1)
        used = P[theory.used_mask(T)]
        band = (P[r, r + 1] ** 2).sum() + (P[r, r] ** 2).sum() + (P[r[1:], r[1:] - 1] ** 2).sum()
        rows.append({"loss_ratio": loss / zero, "offdiag_C": off(C), "offdiag_ABt": off(AB),
                     "C_singular_values_normalised": (sv / sv[0]).round(4).tolist(),
                     "ABt_eigenvalues": [complex(x) for x in np.round(np.linalg.eigvals(AB), 4)],
                     "alpha_P_super_mean": float(np.mean(alpha * P[r, r + 1])),
                     "alpha_P_diag_mean": float(np.mean(alpha * P[r, r])),
                     "alpha_P_sub_mean": float(np.mean(alpha * P[r[1:], r[1:] - 1])),
                     "P_band_energy_fraction": float(band / (used ** 2).sum())})
    for row in rows:
        row["ABt_eigenvalues"] = [str(x) for x in row["ABt_eigenvalues"]]
    # one-sided 5-SE test of "ratio < 1", in units of 5 SE: ratio + 5 SE ≤ 1  ⇔  2 + (ratio − 1)/(5 SE) ≤ 1
    return Measurement(error=max(max(0.0, 2.0 + (r.value - 1.0) / (MC_Z * r.se)) for r in ratios),
                       expected="ratio + 5 SE ≤ 1 (improves on the commuting-case solution)",
                       observed=[f"{r.value:.3f} ± {r.se:.3f}" for r in ratios],
                       compared=("2 + (ratio − 1)/(5 SE) for the MC loss ratio (40 000 fresh sequences, paired, delta "
                                 "method) of " + ("the zero predictor" if zero_predictor else "each of 3 Adam-trained models")
                                 + " over the loss of the commuting-case minimiser C = I, αP[r,r+1] = 1 on the same "
                                 "sequences (≤ 1 iff ratio + 5 SE ≤ 1), worst over the models"),
                       details={"d": d, "H": H, "T": T, "steps": steps, "batch": batch, "lr": lr, "s0": "uniform on the sphere",
                                "zero_predictor_loss": zero, "commuting_solution_loss": float(commuting.mean()),
                                "models": rows})


register(Claim(
    id="sander.non-aug.haar.measured", paper=SANDER, reference="Section 5 / Fig. 7 (non-commuting W) [UNCONFIRMED targets]",
    statement=("Non-commuting Haar W (d = 4, H = 4, T = 8, isotropic s_0): the diagonal model trained with Adam predicts "
               "better than the commuting-case solution carried over (C = I, αP[r,r+1] = 1, itself 0.88 of the zero "
               "predictor); the learned C, ABᵀ and P band structure are reported, not asserted."),
    kind="measured", check=lambda ctx: _haar(ctx, zero_predictor=False), control=lambda ctx: _haar(ctx, zero_predictor=True),
    control_description="the zero predictor against the same commuting-case solution",
    tolerance=Tolerance(1.0, ("the statement itself: the loss ratio to the commuting-case solution is below 1, tested by "
                              "its upper 5-standard-error bound (paired sequences, delta method; one-sided false alarm "
                              "3e-7); the error 2 + (ratio − 1)/(5 SE) measures the distance from that bound in units of "
                              "5 SE, so a control's margin says how many such units it lies above the commuting "
                              "solution"), origin="standard-errors"),
    seed=71, profiles=("full",), rests_on=("UNCONFIRMED: what the paper's Fig. 7 measures and on which model",),
    finding=("With Haar W our diagonal model does not learn head orthogonality: C = BᵀA becomes ≈ α·𝟙𝟙ᵀ (rank one, "
             "one effective head scoring with the plain inner product ⟨s_q, s_j⟩), and α·P keeps the superdiagonal ≈ 1 "
             "plus a negative subdiagonal band; the loss stays at ~0.73 of the zero predictor. The paper's Fig. 7 uses "
             "another model (64 heads, softmax positional factor, LayerNorm), so this is not a contradiction."),
    route="Adam on sampled Haar sequences; loss measured by Monte Carlo through the torch forward pass on fresh sequences",
))
