"""Qualitative statements about Table 1 of Vladymyrov et al. (NeurIPS 2024, arXiv:2402.14180): ids ``vladymyrov.table1.*``.

The models are fitted by :func:`numerics.vladymyrov_fit.fit_column` (float64 L-BFGS on a fixed sample, warm starts
across depth) and evaluated on *fresh* prompts through the matrix forward pass
(:func:`numerics.models.vladymyrov.forward_readouts`), paired with the ridge oracle, the Bayes posterior mean and
the ridge baselines on the same prompts (``numerics.statistics``).  Each claim's check and control share the
fitted models (cached per run).  The paper's numbers come from :mod:`proofs_check.papers`.  See
``docs/vladymyrov-table1.md``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from numerics.models import vladymyrov as vm
from numerics.regression import PAPER_D, NoiseLaw, sample_regression
from numerics.statistics import Estimate, mean_estimate, paired_difference
from numerics.vladymyrov_fit import fit_column
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.papers import VLADYMYROV, VLADYMYROV_BASELINES, VLADYMYROV_TABLE1
from proofs_check.registry import register
from theory.vladymyrov import baselines as bl

#: (fit prompts GD++, fit prompts DIAG, coarse prompts, L-BFGS evaluations, evaluation prompts) per profile.
_SIZES = {"quick": (4000, 2000, 2000, 60, 30000), "cpu": (50000, 20000, 3000, 200, 50000)}


def _sizes(profile: str) -> tuple[int, int, int, int, int]:
    """The sizes of a profile (``paper`` runs the ``cpu`` sizes: these claims have no GPU-sized version)."""
    return _SIZES["quick" if profile == "quick" else "cpu"]


@functools.lru_cache(maxsize=16)
def _column(kind: str, law: str, layers: int, profile: str, seed: int) -> tuple[dict[str, Any], ...]:
    """Fitted ``L = 1..layers`` models of one column, each with its per-prompt ½ squared errors of every read-out
    on fresh prompts (``default_rng([seed, 2])``)."""
    n_gdpp, n_diag, coarse, max_iter, n_eval = _sizes(profile)
    fits = fit_column(kind, NoiseLaw.parse(law), layers, prompts=n_gdpp if kind == "gdpp" else n_diag, seed=seed,
                      max_iter=max_iter, coarse_prompts=coarse, random_starts=1)
    ev = _eval_prompts(law, n_eval, seed)
    out = []
    for f in fits:
        t = ev.to_torch()
        with torch.no_grad():
            readouts = vm.forward_readouts(kind, f.params, t["x"], t["y"], t["x_query"]).numpy()
        out.append({"layers": f.layers, "sq": 0.5 * (readouts - ev.y_query) ** 2, "train_loss": f.train_loss,
                    "omegas": vm.omegas(kind, f.params).tolist(), "params": f.params})
    return tuple(out)


def _adjusted_at_sigma(kind: str, params: dict[str, torch.Tensor], law: str, n_eval: int, seed: int,
                       sigma: float) -> np.ndarray:
    """Per-prompt adjusted ½ squared errors ``(L, prompts)`` of every read-out of a model on fresh prompts whose
    noise level is fixed at ``sigma``, minus the oracle's (ridge at that σ) on the same prompts: one point of a
    per-σ profile (Fig. 2, 3, 7).  Every σ uses the same draws (``default_rng([seed, 3])``: ``w``, ``x``, ``x_t`` and
    the standard normal noise, scaled by σ), so profiles at two σ, or of two models, are paired samples (common
    random numbers) and their differences have paired standard errors."""
    ev = sample_regression(n_eval, NoiseLaw.parse(law), rng=np.random.default_rng([seed, 3]),
                           sigma=np.full(n_eval, sigma))
    t = ev.to_torch()
    with torch.no_grad():
        readouts = vm.forward_readouts(kind, params, t["x"], t["y"], t["x_query"]).numpy()
    oracle = bl.oracle_prediction(bl.ridge_spectrum(ev.x, ev.y, ev.x_query), ev.sigma)
    return 0.5 * (readouts - ev.y_query) ** 2 - 0.5 * (oracle - ev.y_query) ** 2


@functools.lru_cache(maxsize=32)
def _at_sigma(kind: str, law: str, layers: int, profile: str, seed: int, sigma: float) -> np.ndarray:
    """:func:`_adjusted_at_sigma` of the deepest fitted model of a column."""
    return _adjusted_at_sigma(kind, _column(kind, law, layers, profile, seed)[-1]["params"], law, _sizes(profile)[4],
                              seed, sigma)


@functools.lru_cache(maxsize=8)
def _eval_prompts(law: str, n_eval: int, seed: int) -> Any:
    return sample_regression(n_eval, NoiseLaw.parse(law), rng=np.random.default_rng([seed, 2]))


@functools.lru_cache(maxsize=8)
def _references(law: str, n_eval: int, seed: int) -> dict[str, np.ndarray]:
    """Per-prompt ½ squared errors of the oracle, the Bayes posterior mean and AdaRR on the evaluation prompts."""
    ev = _eval_prompts(law, n_eval, seed)
    spec = bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    half = lambda pred: 0.5 * (pred - ev.y_query) ** 2  # noqa: E731
    return {"oracle": half(bl.oracle_prediction(spec, ev.sigma)),
            "bayes": half(bl.bayes_prediction(spec, *NoiseLaw.parse(law).quadrature(48))),
            "adarr": half(bl.adaptive_prediction(spec))}


def _fmt(e: Estimate) -> str:
    return f"{e.value:.4g} ± {e.se:.2g}"


def _signed_z(e: Estimate) -> float:
    """``value / se`` with its sign; identical paired samples (``se = 0``, e.g. a layer the validation guard left
    as the identity) give 0, a non-zero value with ``se = 0`` gives ±inf."""
    if e.se > 0:
        return e.value / e.se
    return 0.0 if e.value == 0 else float(np.sign(e.value)) * np.inf


# ------------------------------------------------------------------------------------------- Bayes floor


def _floor(ctx: RunContext, leak: bool) -> Measurement:
    """How far (in paired SE) a fitted DIAG model, or the σ-knowing oracle (``leak``), lies below the Bayes floor."""
    law, layers = "U5", (2 if ctx.quick else 4)
    n_eval = _sizes(ctx.profile)[4]
    refs = _references(law, n_eval, ctx.seed)
    sq = refs["oracle"] if leak else _column("diag", law, layers, ctx.profile, ctx.seed)[-1]["sq"][-1]
    diff = paired_difference(sq, refs["bayes"])
    return Measurement(
        error=max(0.0, -_signed_z(diff)), expected="model − Bayes >= 0 (no prompt-only predictor beats it)",
        observed=_fmt(diff), compared=f"{'oracle (knows σ_τ)' if leak else f'DIAG L = {layers}'} minus the Bayes "
                                      f"posterior mean under {law}, per-prompt ½ squared error, in paired SE below 0",
        details={"law": law, "layers": layers, "difference": diff.value, "se": diff.se, "eval_prompts": n_eval})


register(Claim(
    id="vladymyrov.table1.bayes-floor", paper=VLADYMYROV, reference="Table 1 (App. B) and Sec. 6 (adjusted loss)",
    statement="No trained model lies below the Bayes posterior-mean floor of its noise law: the posterior mean "
              "E[w | prompt] under the mixed noise law is the best predictor that sees only the prompt, so a fitted "
              "model evaluated on fresh prompts must not beat it (a model that does has leaked the noise level).",
    kind="trained", check=lambda ctx: _floor(ctx, leak=False), control=lambda ctx: _floor(ctx, leak=True),
    control_description="the ridge oracle, which knows each prompt's σ_τ (the leak the check must catch): it lies "
                        "many SE below the floor",
    tolerance=Tolerance(3.0, "3 paired standard errors of the mean difference over the evaluation prompts (a model "
                             "at the floor is below it by chance at most ~0.1% of the time)", origin="standard-errors"),
    seed=14001,
    route="DIAG fitted by float64 L-BFGS on one sample, evaluated on fresh prompts by the matrix forward pass; the "
          "Bayes posterior mean by Gauss-Legendre quadrature over σ on the same prompts",
))


# ------------------------------------------------------------------------------------- beats AdaRR at L = 4


def _beats_adarr(ctx: RunContext, law: str) -> Measurement:
    """DIAG L = 4 minus AdaRR (paired): ``error`` = the upper 3-SE bound of the difference, floored at 0."""
    n_eval = _sizes(ctx.profile)[4]
    refs = _references(law, n_eval, ctx.seed)
    diff = paired_difference(_column("diag", law, 4, ctx.profile, ctx.seed)[-1]["sq"][-1], refs["adarr"])
    return Measurement(
        error=max(0.0, diff.value + 3 * diff.se), expected="DIAG(L=4) − AdaRR < 0 at 3 SE",
        observed=_fmt(diff), compared=f"DIAG L = 4 minus AdaRR under {law} (paired, fresh prompts): upper 3-SE bound",
        details={"law": law, "difference": diff.value, "se": diff.se,
                 "paper": {"diag_L4": VLADYMYROV_TABLE1[4, "diag"][law], "adarr": VLADYMYROV_BASELINES["adarr"][law]}})


register(Claim(
    id="vladymyrov.table1.beats-adarr", paper=VLADYMYROV, reference="Sec. 6 (discussion of Table 1), Table 1 L = 4",
    statement="At L = 4 the trained transformers beat AdaRR (ridge with the unbiased noise estimate) for σ_max >= 4; "
              "checked for DIAG at σ_max = 5 (paper: 0.059 vs 0.068).",
    kind="trained", check=lambda ctx: _beats_adarr(ctx, "U5"), control=lambda ctx: _beats_adarr(ctx, "U1"),
    control_description="the neighbouring setting σ_max = 1, where the paper has AdaRR ahead (0.003 vs DIAG 0.006): "
                        "the same one-sided test must fail",
    tolerance=Tolerance(0.0, "one-sided: the difference's upper 3-standard-error bound must be below 0",
                        origin="standard-errors"),
    seed=14001, profiles=("cpu",),
    route="DIAG fitted by float64 L-BFGS (warm starts across depth), AdaRR in closed form; both on the same fresh prompts",
))


# ----------------------------------------------------------------------------------- error falls per layer
#
# Fig. 5 of the paper (App. B, "Prediction after K layers"): for each depth L = 1..7 one model trained under U(0, 5)
# on the loss (7) of its *final* read-out only (Sec. 6), and the adjusted loss of its intermediate read-outs
# −y_t^K, K = 1..L; caption: "Linear transformer models show a consistent decrease in error per layer".  That is our
# reading too: read-out K of the L-layer model (not the final read-out of the K-layer model, which is Fig. 1), with
# the same objective (the fit minimises the final read-out's loss only).  Nothing in that objective asks the
# intermediate read-outs to fall, so the statement is about the minima training finds; see the finding below.


def _readout_drops(sq: np.ndarray) -> list[Estimate]:
    """Paired drops ``loss(K) − loss(K+1)`` of consecutive read-outs, ``sq`` of shape ``(L, prompts)``."""
    return [paired_difference(sq[k], sq[k + 1]) for k in range(sq.shape[0] - 1)]


def _readouts_fall(ctx: RunContext, identity_last: bool) -> Measurement:
    """Smallest drop (in paired SE) between consecutive read-outs over the DIAG models L = 2..4 of the U(0, 5) column;
    ``identity_last``: the deepest model with an identity layer (ω = 0) appended, through the forward pass."""
    law, layers = "U5", 4
    cols = _column("diag", law, layers, ctx.profile, ctx.seed)
    ref = _references(law, _sizes(ctx.profile)[4], ctx.seed)["oracle"]
    models: dict[str, np.ndarray] = {f"L = {c['layers']}": c["sq"] for c in cols[1:]}
    if identity_last:
        ev = _eval_prompts(law, _sizes(ctx.profile)[4], ctx.seed)
        params = {k: torch.cat([v, torch.zeros_like(v[:1])]) for k, v in cols[-1]["params"].items()}
        t = ev.to_torch()
        with torch.no_grad():
            readouts = vm.forward_readouts("diag", params, t["x"], t["y"], t["x_query"]).numpy()
        models = {f"L = {layers} + identity layer": 0.5 * (readouts - ev.y_query) ** 2}
    drops = {name: _readout_drops(sq) for name, sq in models.items()}
    worst = min(_signed_z(d) for ds in drops.values() for d in ds)
    return Measurement(
        error=max(0.0, 3.0 - worst), expected="every drop > 3 paired SE, in every model",
        observed={name: [_fmt(d) for d in ds] for name, ds in drops.items()},
        compared=f"loss of read-out K minus read-out K+1 of each DIAG model under {law}, in paired SE: 3 minus the "
                 "smallest",
        details={"law": law, "adjusted_per_readout": {name: [float((s - ref).mean()) for s in sq]
                                                      for name, sq in models.items()},
                 "adjusted_final": {f"L = {c['layers']}": float((c["sq"][-1] - ref).mean()) for c in cols},
                 "paper_final": [VLADYMYROV_TABLE1[L, "diag"][law] for L in range(1, layers + 1)],
                 "omegas": cols[-1]["omegas"]})


register(Claim(
    id="vladymyrov.table1.readouts-fall", paper=VLADYMYROV,
    reference="Fig. 5 (App. B): adjusted loss of the prediction after K layers, models trained under U(0, 5)",
    statement="In every trained DIAG model (L = 2..4 here) under U(0, 5), the adjusted loss of the intermediate "
              "read-out −y_t^K falls with every layer K (\"a consistent decrease in error per layer\"), although only "
              "the final read-out is trained.",
    kind="trained", check=lambda ctx: _readouts_fall(ctx, identity_last=False),
    control=lambda ctx: _readouts_fall(ctx, identity_last=True),
    control_description="the deepest fit with an identity layer (ω = 0) appended: a model of the same class whose "
                        "last layer leaves the read-out unchanged (our validation guard returns such a model when "
                        "depth does not help, e.g. GD++ at L = 4), so its last drop is 0 and must fail",
    tolerance=Tolerance(0.0, "each drop must exceed 3 paired standard errors (error = 3 − smallest z, floored at 0)",
                        origin="standard-errors"),
    seed=14001, profiles=("cpu",),
    route="DIAG fitted by float64 L-BFGS on the final read-out only (statistics form); every read-out through the "
          "token-matrix forward pass on fresh prompts, paired",
    finding="The falling read-outs of Fig. 5 are not a property of the objective's minimum: our DIAG L = 4 fit under "
            "U(0, 5) at the paper's loss (adjusted 0.060, paper 0.059) has read-out 3 worse than read-out 2 "
            "(+0.044 ± 0.0015, 29 paired SE), while a worse local minimum (0.073, the sweep's seed 0) has falling "
            "read-outs. Only the final read-out is trained, so the intermediate ones depend on the basin the training "
            "reaches (the paper's Adam from a small initialisation); see docs/vladymyrov-table1.md.",
))


# ------------------------------------------------------------------------ early layers fit high noise (Fig. 7)
#
# Fig. 7 (App. B): per-σ profiles of the intermediate read-outs under U(0, 5).  Text: GD++'s "early iterations
# model higher noise (similar to early stopping), gradually converging towards lower noise predictions"; "DIAG
# exhibits this pattern initially, but then dramatically improves, particularly for lower noise ranges".  Read-out 1
# is one GD step ŷ = −ω_yx ⟨α, x_t⟩ (y_t⁰ = 0), whose best step 1/(n+d+1+σ²) shrinks with σ: a small step fits
# high noise.  Checked at two noise levels inside the trained range, on the same draws (paired).

#: Low and high noise level of the comparison, both inside the trained range (0, 5) of U(0, 5).
SIGMA_LOW, SIGMA_HIGH = 0.5, 4.5


def _noise_shift(ctx: RunContext, kind: str) -> Measurement:
    """Read-out 1 and the last read-out of the L = 4 model under U(0, 5), each at σ = 0.5 against σ = 4.5."""
    law, layers = "U5", 4
    lo = _at_sigma(kind, law, layers, ctx.profile, ctx.seed, SIGMA_LOW)
    hi = _at_sigma(kind, law, layers, ctx.profile, ctx.seed, SIGMA_HIGH)
    first = paired_difference(lo[0], hi[0])      # > 0: read-out 1 is better at high noise than at low noise
    last = paired_difference(hi[-1], lo[-1])     # > 0: the last read-out is better at low noise than at high noise
    worst = min(_signed_z(first), _signed_z(last))
    return Measurement(
        error=max(0.0, 3.0 - worst),
        expected=f"read-out 1 better at σ = {SIGMA_HIGH} than at σ = {SIGMA_LOW}, read-out {layers} better at "
                 f"σ = {SIGMA_LOW} than at σ = {SIGMA_HIGH}, each by > 3 paired SE",
        observed={f"read-out 1: loss(σ={SIGMA_LOW}) − loss(σ={SIGMA_HIGH})": _fmt(first),
                  f"read-out {layers}: loss(σ={SIGMA_HIGH}) − loss(σ={SIGMA_LOW})": _fmt(last)},
        compared=f"adjusted loss of the read-outs of a {kind.upper()} L = {layers} model (U(0,5)) at two fixed σ on "
                 "the same draws, in paired SE: 3 minus the smaller",
        details={"adjusted_at_sigma": {f"read-out {k + 1}": {str(SIGMA_LOW): float(lo[k].mean()),
                                                             str(SIGMA_HIGH): float(hi[k].mean())}
                                       for k in range(lo.shape[0])},
                 "omegas": _column(kind, law, layers, ctx.profile, ctx.seed)[-1]["omegas"]})


register(Claim(
    id="vladymyrov.table1.early-layers-high-noise", paper=VLADYMYROV,
    reference="Fig. 7 and App. B text: per-σ profiles of intermediate predictions under U(0, 5)",
    statement="In a trained DIAG model under U(0, 5) the early read-outs fit high noise (read-out 1 has a lower "
              "adjusted loss at σ = 4.5 than at σ = 0.5, like early-stopped GD) and the model then improves at low "
              "noise (its last read-out has a lower adjusted loss at σ = 0.5 than at σ = 4.5); checked at L = 4.",
    kind="trained", check=lambda ctx: _noise_shift(ctx, "diag"), control=lambda ctx: _noise_shift(ctx, "gdpp"),
    control_description="GD++ of the same depth (the neighbouring parameterisation): per the paper it starts the "
                        "same way but settles on one mid-range noise level (ConstRR-like), so its last read-out is "
                        "not better at low noise",
    tolerance=Tolerance(0.0, "each of the two paired differences must exceed 3 paired standard errors (error = 3 − "
                             "the smaller z, floored at 0)", origin="standard-errors"),
    seed=14001, profiles=("cpu",),
    route="DIAG/GD++ fitted by float64 L-BFGS; read-outs through the token-matrix forward pass on fresh prompts at "
          "fixed σ, minus ridge at that σ (the oracle), common random numbers across σ",
))


# ------------------------------------------------------------------------------------------ GD++ plateau


def _plateau(ctx: RunContext, kind: str) -> Measurement:
    """Gain (in paired SE) of the deepest fitted model over the one a layer shallower, under U(0, 5)."""
    cols = _column(kind, "U5", 4, ctx.profile, ctx.seed)
    gain = paired_difference(cols[-2]["sq"][-1], cols[-1]["sq"][-1])
    ref = _references("U5", _sizes(ctx.profile)[4], ctx.seed)["oracle"]
    adjusted = [mean_estimate(c["sq"][-1] - ref).value for c in cols]
    return Measurement(
        error=max(0.0, _signed_z(gain)), expected="no significant gain from L = 3 to L = 4",
        observed=_fmt(gain), compared=f"{kind.upper()} loss at L = 3 minus L = 4 under U(0,5), in paired SE",
        details={"adjusted_by_L": adjusted, "paper": [VLADYMYROV_TABLE1[L, kind]["U5"] for L in range(1, 5)],
                 "constrr_paper": VLADYMYROV_BASELINES["constrr"]["U5"]})


register(Claim(
    id="vladymyrov.table1.gdpp-plateau", paper=VLADYMYROV, reference="Sec. 6 and Table 1 (GD++ rows, σ_max >= 3)",
    statement="Under U(0, 5) GD++ stops improving with depth (paper: 0.344 at every L >= 3, near ConstRR 0.365): "
              "the 4th layer brings no significant gain over the 3rd.",
    kind="trained", check=lambda ctx: _plateau(ctx, "gdpp"), control=lambda ctx: _plateau(ctx, "diag"),
    control_description="DIAG at the same depths (paper: 0.118 → 0.059): a large, significant gain",
    tolerance=Tolerance(3.0, "3 paired standard errors of the gain on the evaluation prompts", origin="standard-errors"),
    seed=14001, profiles=("cpu",),
    route="GD++ fitted by float64 L-BFGS in the eigenbasis of Σ, evaluated through the matrix forward pass",
))


# ------------------------------------------------------------------------------- FULL against DIAG (Fig. 1, 3)
#
# FULL ⊇ DIAG: DIAG is FULL with P = diag(p_x I, p_y), Q = diag(q_x I, q_y).  These are exactly the matrices fixed by
# P ↦ U P Uᵀ, U = diag(O, 1), O ∈ O(d), a symmetry of the loss (x and w are isotropic), so the FULL gradient at a DIAG
# point lies in the DIAG subspace and a DIAG critical point is a FULL critical point.  At its optimum FULL is never
# worse than DIAG; the paper's "FULL ≈ DIAG under uniform noise" says its extra freedom buys nothing there.  FULL is
# trained as the paper does (Adam on fresh prompts from a small random start, our cpu preset of
# numerics.vladymyrov_training.SCALES); DIAG and GD++ are the claim's L-BFGS fits.


@functools.lru_cache(maxsize=8)
def _full_model(law: str, layers: int, profile: str, seed: int, device: str = "cpu") -> dict[str, torch.Tensor]:
    """An Adam-trained FULL model (float64 CPU copy) with the preset of the profile
    (:data:`numerics.vladymyrov_training.SCALES`: ``quick``, ``cpu``, or ``paper`` — Sec. 6's 200,000 steps, batch
    2048, best of 5 — on ``device``, a GPU)."""
    from numerics.vladymyrov_training import train_scaled

    res, _ = train_scaled("full", layers, NoiseLaw.parse(law), seed, profile, device=device)
    return {k: v.detach().double().cpu() for k, v in res.params.items()}


@functools.lru_cache(maxsize=8)
def _full(law: str, layers: int, profile: str, seed: int, device: str = "cpu") -> np.ndarray:
    """Per-prompt ½ squared errors of the last read-out of :func:`_full_model` on the column's evaluation prompts."""
    params = _full_model(law, layers, profile, seed, device)      # trained outside no_grad
    ev = _eval_prompts(law, _sizes(profile)[4], seed)
    t = ev.to_torch()
    with torch.no_grad():
        pred = vm.forward_readouts("full", params, t["x"], t["y"], t["x_query"])[-1].numpy()
    return 0.5 * (pred - ev.y_query) ** 2


def _full_gain(ctx: RunContext, other: str) -> Measurement:
    """FULL's gain over ``other`` (DIAG, or GD++ for the control) under U(0, 5) at L = 2 and 3, in paired SE."""
    law, depths = "U5", (2, 3)
    cols = _column(other, law, 4, ctx.profile, ctx.seed)
    ref = _references(law, _sizes(ctx.profile)[4], ctx.seed)["oracle"]
    full = {L: _full(law, L, ctx.profile, ctx.seed, ctx.device) for L in depths}
    gains = {L: paired_difference(cols[L - 1]["sq"][-1], full[L]) for L in depths}
    return Measurement(
        error=max(0.0, max(_signed_z(g) for g in gains.values())),
        expected=f"FULL not significantly below {other.upper()} (gain < 3 paired SE) at every L",
        observed={f"L = {L}": _fmt(g) for L, g in gains.items()},
        compared=f"{other.upper()} minus FULL (Adam) under {law}, per-prompt ½ squared error on the same fresh prompts, "
                 "in paired SE (the larger over L)",
        details={"adjusted": {f"L = {L}": {other: float((cols[L - 1]["sq"][-1] - ref).mean()),
                                           "full": float((full[L] - ref).mean())}
                              for L in depths},
                 "paper": {f"L = {L}": {other: VLADYMYROV_TABLE1[L, other][law], "full": VLADYMYROV_TABLE1[L, "full"][law]}
                           for L in depths}})


register(Claim(
    id="vladymyrov.table1.full-matches-diag", paper=VLADYMYROV,
    reference="Fig. 1 and Sec. 6 ('FULL and DIAG achieve comparable performance'), Table 1 uniform columns",
    statement="Under uniform noise FULL's 242 parameters per layer buy nothing over DIAG's 4: at L = 2 and 3 under "
              "U(0, 5), FULL trained as in the paper (Adam from a small random start) is not significantly below "
              "DIAG (paper: 0.245 vs 0.242, 0.117 vs 0.118). One-sided: FULL contains DIAG, so only a gain can "
              "contradict the statement.",
    kind="trained", check=lambda ctx: _full_gain(ctx, "diag"), control=lambda ctx: _full_gain(ctx, "gdpp"),
    control_description="the same FULL models against GD++ (the neighbouring parameterisation; paper: 0.245 vs "
                        "0.366 at L = 2, 0.117 vs 0.344 at L = 3): a gain of the size the paper reports between "
                        "parameterisations must be seen",
    tolerance=Tolerance(3.0, "3 paired standard errors of the gain on the evaluation prompts", origin="standard-errors"),
    seed=14001, profiles=("cpu", "paper"),
    route="FULL by Adam on fresh prompts through the token-matrix forward pass; DIAG/GD++ by float64 L-BFGS; all "
          "evaluated on the same fresh prompts, paired",
))


#: Noise levels of the {1, 3} extrapolation comparison: the training levels, one between them and one beyond them.
SEEN, BETWEEN, BEYOND = (1.0, 3.0), 2.0, 4.0


def _extrapolation(ctx: RunContext, full_from_diag: bool) -> Measurement:
    """Trained on σ ∈ {1, 3} at L = 3: FULL's excess adjusted loss over DIAG at σ = 4 minus its mean excess at the
    training levels (the same draws at every σ and for both models: paired).  ``full_from_diag``: the DIAG fit written
    as a FULL model stands in for the Adam-trained FULL model."""
    law, layers = "S1,3", 3
    n_eval = _sizes(ctx.profile)[4]
    diag = {s: _at_sigma("diag", law, layers, ctx.profile, ctx.seed, s)[-1] for s in (*SEEN, BETWEEN, BEYOND)}
    if full_from_diag:
        P, Q = vm.weight_matrices("diag", _column("diag", law, layers, ctx.profile, ctx.seed)[-1]["params"], PAPER_D)
        full_params = {"P": P, "Q": Q}
    else:
        full_params = _full_model(law, layers, ctx.profile, ctx.seed, ctx.device)
    full = {s: _adjusted_at_sigma("full", full_params, law, n_eval, ctx.seed, s)[-1] for s in diag}
    excess = {s: full[s] - diag[s] for s in diag}
    stat = mean_estimate(excess[BEYOND] - 0.5 * (excess[SEEN[0]] + excess[SEEN[1]]))
    between = mean_estimate(excess[BETWEEN] - 0.5 * (excess[SEEN[0]] + excess[SEEN[1]]))
    return Measurement(
        error=max(0.0, 3.0 - _signed_z(stat)),
        expected=f"FULL − DIAG larger at σ = {BEYOND:g} than at the training levels σ ∈ {{1, 3}} by > 3 paired SE",
        observed=_fmt(stat),
        compared=f"(FULL − DIAG)(σ = {BEYOND:g}) − mean over σ ∈ {{1, 3}} of (FULL − DIAG), L = {layers} models trained "
                 "on σ ∈ {1, 3}, per-prompt adjusted ½ squared errors on common draws, in paired SE",
        details={"adjusted": {f"σ = {s:g}": {"diag": float(diag[s].mean()), "full": float(full[s].mean()),
                                             "full_minus_diag": _fmt(mean_estimate(excess[s]))} for s in diag},
                 "between_minus_seen": _fmt(between), "eval_prompts": n_eval,
                 "full_route": "DIAG fit written as FULL" if full_from_diag else "Adam, cpu preset"})


register(Claim(
    id="vladymyrov.table1.diag-extrapolates", paper=VLADYMYROV,
    reference="Sec. 6 'Categorical noise variance' and Fig. 3 (σ_τ ∈ {1, 3})",
    statement="Trained on σ_τ ∈ {1, 3}, DIAG extrapolates better than FULL to noise levels not used for training: "
              "at L = 3, FULL's excess loss over DIAG is larger at σ = 4 (beyond the training levels) than at σ = 1 "
              "and 3 (the change of FULL − DIAG from the training levels to σ = 4: the paper's FULL is also better "
              "in distribution). Profile paper only: FULL needs the paper's Adam budget (GPU); at the cpu budget "
              "FULL is not better in distribution and the sign of the statistic changed between two seeds "
              "(docs/vladymyrov-table1.md).",
    kind="trained", check=lambda ctx: _extrapolation(ctx, full_from_diag=False),
    control=lambda ctx: _extrapolation(ctx, full_from_diag=True),
    control_description="the FULL cell as the sweep keeps it when Adam loses: the DIAG fit written as a FULL model "
                        "(a FULL model with DIAG's profile), whose excess over DIAG is 0 at every σ",
    tolerance=Tolerance(0.0, "one-sided: the paired difference must exceed 3 paired standard errors (error = 3 − z, "
                             "floored at 0)", origin="standard-errors"),
    seed=14001, profiles=("paper",), requires_cuda=True,
    route="DIAG by float64 L-BFGS, FULL by Adam on fresh prompts; both through the token-matrix forward pass on "
          "common draws at fixed σ, minus ridge at that σ",
))


# ----------------------------------------------------------------------------- findings: below the paper

_FINDINGS = Path(__file__).resolve().parent.parent / "data" / "vladymyrov_table1"


def _stored_findings() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(_FINDINGS.glob("L*.json"))]


def _below_paper(ctx: RunContext, deeper: bool) -> Measurement:
    """Each stored finding re-evaluated on fresh prompts (a new seed): how far it is from being below the paper's
    value (or, for ``deeper``, the paper's value one layer deeper) by 3 paired SE."""
    n_eval = 20000 if ctx.quick else 200000   # heavy-tailed errors: see proofs_check/data/vladymyrov_table1/README.md
    rows, worst = [], 0.0
    for f in _stored_findings():
        L, kind, law = f["layers"], f["parameterisation"], f["noise_law"]
        if deeper and (L + 1, kind) not in VLADYMYROV_TABLE1:
            continue
        paper = VLADYMYROV_TABLE1[L + 1 if deeper else L, kind][law]
        params = {k: torch.tensor(v, dtype=torch.float64) for k, v in f["params"].items()}
        ev = sample_regression(n_eval, NoiseLaw.parse(law), rng=ctx.rng(L))
        t = ev.to_torch()
        with torch.no_grad():
            pred = vm.forward_readouts(kind, params, t["x"], t["y"], t["x_query"])[-1].numpy()
        spec = bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
        est = paired_difference(0.5 * (pred - ev.y_query) ** 2, 0.5 * (bl.oracle_prediction(spec, ev.sigma) - ev.y_query) ** 2)
        z = (est.value - paper) / est.se
        rows.append({"cell": f"L{L}/{kind}/{law}", "ours": est.value, "se": est.se, "paper": paper, "z": z})
        worst = max(worst, z + 3.0)
    if not rows:
        raise RuntimeError(f"no stored findings in {_FINDINGS}")
    return Measurement(error=max(0.0, worst), expected="ours < paper − 3 SE in every stored cell",
                       observed={r["cell"]: f"{r['ours']:.4g} ± {r['se']:.2g} vs {r['paper']}" for r in rows},
                       compared="adjusted loss of each stored model on fresh prompts minus the paper's value, in SE, + 3"
                                + (" (paper value one layer deeper)" if deeper else ""),
                       details={"rows": rows, "eval_prompts": n_eval})


register(Claim(
    id="vladymyrov.table1.findings-below-paper", paper=VLADYMYROV, reference="Table 1 (App. B)",
    statement="In the cells stored under proofs_check/data/vladymyrov_table1/ the paper's best-of-5 Adam models were not "
              "at the optimum of their parameterisation: our stored models reach a lower adjusted loss on fresh prompts.",
    kind="trained", check=lambda ctx: _below_paper(ctx, deeper=False), control=lambda ctx: _below_paper(ctx, deeper=True),
    control_description="the same models against the paper's value one layer deeper (an off-by-one in L), which an "
                        "L-layer model cannot reach",
    tolerance=Tolerance(0.0, "one-sided: each stored model's loss must lie more than 3 paired standard errors below "
                             "the paper's value (error = largest z + 3, floored at 0)", origin="standard-errors"),
    seed=14005,
    route="stored weights evaluated by the matrix forward pass on prompts of a new seed, paired with the ridge oracle",
    finding="The paper's Table 1 values in these cells are above what the same parameterisation reaches (best of 5 "
            "Adam runs of 200,000 steps stopped short); see docs/vladymyrov-table1.md.",
))
