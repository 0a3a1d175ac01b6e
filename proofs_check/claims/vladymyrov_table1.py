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
from numerics.regression import NoiseLaw, sample_regression
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
                    "omegas": vm.omegas(kind, f.params).tolist()})
    return tuple(out)


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


def _readouts_fall(ctx: RunContext, kind: str) -> Measurement:
    """Smallest drop (in paired SE) of the read-out loss from layer K to K+1 of the deepest fitted model."""
    law, layers = "U5", 4
    sq = _column(kind, law, layers, ctx.profile, ctx.seed)[-1]["sq"]          # (L, prompts)
    drops = [paired_difference(sq[k], sq[k + 1]) for k in range(layers - 1)]
    worst = min(_signed_z(d) for d in drops)
    return Measurement(
        error=max(0.0, 3.0 - worst), expected="every drop > 3 SE",
        observed=[_fmt(d) for d in drops],
        compared=f"loss of read-out K minus read-out K+1 of a {kind.upper()} L = {layers} model under {law}, in paired "
                 "SE: 3 minus the smallest",
        details={"law": law, "layers": layers, "per_readout": [float(s.mean()) for s in sq],
                 "omegas": _column(kind, law, layers, ctx.profile, ctx.seed)[-1]["omegas"]})


register(Claim(
    id="vladymyrov.table1.readouts-fall", paper=VLADYMYROV, reference="Fig. 5 (Sec. 6): loss of the intermediate read-outs",
    statement="The error of the intermediate read-outs −y_t^K of a trained DIAG model falls with every layer K.",
    kind="trained", check=lambda ctx: _readouts_fall(ctx, "diag"), control=lambda ctx: _readouts_fall(ctx, "gdpp"),
    control_description="GD++ of the same depth (the neighbouring parameterisation), which plateaus under U(0,5): "
                        "its last layers bring no significant drop",
    tolerance=Tolerance(0.0, "each drop must exceed 3 paired standard errors (error = 3 − smallest z, floored at 0)",
                        origin="standard-errors"),
    seed=14001, profiles=("cpu",),
    route="DIAG fitted by float64 L-BFGS; per-read-out losses through the matrix forward pass on fresh prompts",
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
