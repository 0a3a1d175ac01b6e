"""One (parameterisation, layer count, noise law, seed, scale) training point and the baselines it is compared with.

:func:`train_point` is the unit of work of a parameter sweep (e.g. one Dask task): it trains one model, evaluates
it on fresh prompts paired with the ridge oracle, and returns a JSON-serialisable dict.  :func:`baseline_losses`
tunes the closed-form baselines of Sec. 6 on one set of prompts and evaluates them on another.

Scales (``SCALES``): ``"quick"`` (seconds on a CPU, for the quick profile), ``"cpu"`` (minutes on a CPU) and
``"paper"`` (Sec. 6: Adam, 200,000 iterations, lr 1e-4, batch 2048, 100,000 evaluation prompts; our schedule
adds a cosine decay and gradient clipping, which the paper does not mention — UNCONFIRMED).  The paper reports the
best of 5 seeds; every scale trains ``restarts`` seeds side by side and keeps the best on validation prompts.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np
import torch

from numerics.device import describe, resolve_device
from numerics.models import vladymyrov as models
from numerics.regression import PAPER_D, PAPER_N, NoiseLaw, sample_regression
from theory.arguments import ArgumentError, flag, instance, one_of, positive_int, seed as check_seed
from theory.vladymyrov import baselines as bl

SCALES: dict[str, dict[str, Any]] = {
    "quick": {"steps": 600, "batch": 256, "lr": {"full": 3e-3, "diag": 1e-2, "gdpp": 1e-2}, "eval_sequences": 20000,
              "dtype": "float32", "init_scale": 0.005, "clip_norm": 0.1, "restarts": 3},
    "cpu": {"steps": 2000, "batch": 512, "lr": {"full": 3e-3, "diag": 1e-2, "gdpp": 1e-2}, "eval_sequences": 50000,
            "dtype": "float32", "init_scale": 0.005, "clip_norm": 0.1, "restarts": 2},
    "paper": {"steps": 200000, "batch": 2048, "lr": {"full": 1e-4, "diag": 1e-4, "gdpp": 1e-4}, "eval_sequences": 100000,
              "dtype": "float32", "init_scale": 0.005, "clip_norm": 0.1, "restarts": 5},
}


def train_scaled(kind: str, layers: int, law: NoiseLaw, seed: int, scale: str, *, device: str | None = None,
                 overrides: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """Train with the settings of ``SCALES[scale]`` (``lr`` per parameterisation); returns ``(OptResult, config)``."""
    one_of("scale", scale, tuple(SCALES))
    cfg = {**SCALES[scale], **(overrides or {})}
    lr = cfg["lr"][kind] if isinstance(cfg["lr"], dict) else cfg["lr"]
    result = models.train(kind, layers, law, steps=cfg["steps"], batch=cfg["batch"], lr=lr, seed=seed,
                          dtype=cfg["dtype"], device=resolve_device(device), init_scale=cfg["init_scale"],
                          clip_norm=cfg["clip_norm"], restarts=cfg["restarts"])
    return result, {**cfg, "lr": lr}


def _paired(diff: np.ndarray) -> tuple[float, float]:
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))


def baseline_losses(law: NoiseLaw, *, tune_sequences: int, eval_sequences: int, seed: int, n: int = PAPER_N,
                    d: int = PAPER_D) -> dict[str, Any]:
    """Adjusted ½-MSE (mean, paired standard error) of the Sec. 6 baselines, tuned and evaluated on separate prompts.

    Keys: ``oracle`` (its own ½-MSE), ``constrr``, ``adarr``, ``tunedrr``, ``gd`` (tuned step size and step count),
    ``bayes`` (posterior mean under the mixed law), ``one_layer`` (closed-form best one-layer model), each
    ``{"adjusted": ..., "se": ...}`` plus the tuned constants.
    """
    seed = check_seed("seed", seed)
    instance("law", law, NoiseLaw)
    tune = sample_regression(positive_int("tune_sequences", tune_sequences), law, rng=np.random.default_rng([seed, 11]), n=n, d=d)
    ev = sample_regression(positive_int("eval_sequences", eval_sequences), law, rng=np.random.default_rng([seed, 12]), n=n, d=d)
    ts, es = bl.ridge_spectrum(tune.x, tune.y, tune.x_query), bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    scale = max(law.mean_variance, 1e-2)
    c, _ = bl.tune_constant(ts, tune.y_query, np.concatenate([[0.0], scale * np.geomspace(1e-2, 10.0, 121)]))
    k, cap, _ = bl.tune_tuned(ts, tune.y_query, np.linspace(0.5, 2.5, 21),
                              np.concatenate([scale * np.geomspace(0.1, 10.0, 25), [np.inf]]))
    eta, steps, _ = bl.tune_gd(ts, tune.y_query, np.linspace(0.002, 0.04, 20), 40)
    sq_oracle = (bl.oracle_prediction(es, ev.sigma) - ev.y_query) ** 2 / 2
    preds = {"constrr": es.predict(c), "adarr": bl.adaptive_prediction(es), "tunedrr": bl.tuned_prediction(es, k, cap),
             "gd": es.gd_path(eta, max(steps, 1))[steps]}
    if law.kind == "categorical" or law.values[0] > 0:
        preds["bayes"] = bl.bayes_prediction(es, *law.quadrature(48))
    out: dict[str, Any] = {"oracle": float(sq_oracle.mean()), "law": law.label, "eval_sequences": eval_sequences,
                           "tuned": {"constrr_c": c, "tunedrr_factor": k, "tunedrr_cap": cap if np.isfinite(cap) else None,
                                     "gd_eta": eta, "gd_steps": steps}}
    for name, p in preds.items():
        m, se = _paired((p - ev.y_query) ** 2 / 2 - sq_oracle)
        out[name] = {"adjusted": m, "se": se}
    _, opt = bl.one_layer_optimal_loss(n, d, law.mean_variance)
    out["one_layer"] = {"adjusted": opt - out["oracle"], "se": float(sq_oracle.std(ddof=1) / math.sqrt(sq_oracle.size))}
    return out


def train_point(parameterisation: str, layers: int, noise_law: str | NoiseLaw, seed: int, scale: str = "quick", *,
                device: str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train one model and evaluate it; returns a JSON-serialisable dict (no tensors, no numpy scalars).

    ``parameterisation`` ∈ {"full", "diag", "gdpp"}; ``noise_law`` a :class:`NoiseLaw` or a label like ``"U5"`` /
    ``"S1,3"``; ``scale`` ∈ ``SCALES``; ``overrides`` replaces entries of the scale (steps, batch, lr, ...).
    The device goes through :func:`numerics.device.resolve_device` (``None`` → CUDA if available).
    """
    one_of("parameterisation", parameterisation, models.KINDS)
    seed = check_seed("seed", seed)
    law = noise_law if isinstance(noise_law, NoiseLaw) else NoiseLaw.parse(noise_law)
    dev = resolve_device(device)
    t0 = time.perf_counter()
    result, cfg = train_scaled(parameterisation, layers, law, seed, scale, device=str(dev), overrides=overrides)
    ev = sample_regression(cfg["eval_sequences"], law, rng=np.random.default_rng([seed, 2]))
    metrics = models.evaluate(parameterisation, result.params, ev)
    out: dict[str, Any] = {
        "parameterisation": parameterisation, "layers": int(layers), "noise_law": law.label, "seed": int(seed),
        "scale": scale, "config": {k: v for k, v in cfg.items()}, "device": describe(dev),
        "train_seconds": result.seconds, "total_seconds": time.perf_counter() - t0,
        "validation_loss": result.loss, "restarts": result.attempts, "history": [float(v) for v in result.history],
        **{k: v for k, v in metrics.items() if k != "predictions"},
        "params": {k: v.detach().double().cpu().tolist() for k, v in result.params.items()},
    }
    if parameterisation != "full":
        out["omegas"] = models.omegas(parameterisation, result.params).detach().double().cpu().tolist()
    return out


# ------------------------------------------------------------------------------------------- Table-1 columns

#: Presets of :func:`train_column` (one noise law, every parameterisation and depth).  GD++ and DIAG are fitted by
#: float64 L-BFGS on a fixed sample (:func:`numerics.vladymyrov_fit.fit_column`, warm starts across depth); FULL
#: keeps the better (on validation prompts) of Adam from a random start (``SCALES[full_adam]``) and the fitted
#: DIAG model written as a FULL model.  ``layers`` is the deepest model per parameterisation.
COLUMN_SCALES: dict[str, dict[str, Any]] = {
    "quick": {"layers": {"gdpp": 2, "diag": 2, "full": 1}, "prompts": {"gdpp": 4000, "diag": 2000},
              "coarse_prompts": {"gdpp": 4000, "diag": 2000}, "random_starts": {"gdpp": 2, "diag": 1},
              "random_max_layers": {"gdpp": 4, "diag": 2}, "max_iter": 60, "validation": 2000, "full_adam": "quick",
              "eval_sequences": 4000, "profile_sequences": 500, "profile_points": 5, "baseline_tune": 4000},
    "cpu": {"layers": {"gdpp": 4, "diag": 4, "full": 3}, "prompts": {"gdpp": 30000, "diag": 20000},
            "coarse_prompts": {"gdpp": 6000, "diag": 4000}, "random_starts": {"gdpp": 3, "diag": 1},
            "random_max_layers": {"gdpp": 4, "diag": 2}, "max_iter": 150, "validation": 10000, "full_adam": "cpu",
            "eval_sequences": 30000, "profile_sequences": 2000, "profile_points": 9, "baseline_tune": 20000},
}


def _paired_stats(diff: np.ndarray) -> dict[str, float]:
    from numerics.statistics import mean_estimate

    e = mean_estimate(diff)
    return {"mean": e.value, "se": e.se}


def _sigma_grid(law: NoiseLaw, points: int) -> np.ndarray:
    """Noise levels of a per-σ profile: ``[0, σ_max + 1]`` (uniform) or ``[0, max S + 1]`` (Fig. 2/3 style)."""
    return np.linspace(0.0, max(law.values) + 1.0, points)


def train_column(noise_law: str | NoiseLaw, scale: str = "cpu", *, seed: int = 0, device: str | None = None,
                 kinds: tuple[str, ...] = models.KINDS, baselines: bool = True) -> dict[str, Any]:
    """Every Table-1 cell of one noise law: fitted models, their adjusted loss, the floor and baselines.

    Parameters
    ----------
    noise_law : str or NoiseLaw
        ``"U0"`` … ``"U7"``, ``"S1,3"``, ``"S1,3,5"`` (or a :class:`NoiseLaw`).
    scale : {"quick", "cpu"}
        A preset of :data:`COLUMN_SCALES`.
    seed : int
        Seeds the training samples, starts, evaluation prompts (``default_rng([seed, 2])``) and profiles.
    device : str, optional
        Through :func:`numerics.device.resolve_device`.
    kinds : tuple of str
        Parameterisations to fit.  FULL is Adam from a random start, and the DIAG fit written as a FULL model is a
        second candidate (the better on validation prompts is kept); without ``"diag"`` in ``kinds`` DIAG is fitted
        to FULL's depth for that candidate only.
    baselines : bool
        Also tune and evaluate ConstRR/AdaRR/TunedRR (and their per-σ profiles).

    Returns
    -------
    dict
        JSON-serialisable: ``law``, ``oracle``, ``bayes`` (the Bayes posterior mean's adjusted loss — the floor no
        model may beat), ``baselines`` (ConstRR/AdaRR/TunedRR, tuned on separate prompts), ``sigma_grid`` and per
        parameterisation a list over ``L`` of cells: ``adjusted``, ``se``, ``per_readout``, ``below_bayes``
        (paired mean and SE of model − Bayes), ``profile`` (adjusted loss at each fixed σ of ``sigma_grid``),
        ``train_loss``, ``starts``, ``seconds``, ``params``, ``omegas`` (DIAG/GD++); FULL cells add ``chosen``
        (``"adam"`` or ``"from-diag"``), ``validation_loss`` of both candidates and ``adam``: the Adam-only model's
        ``adjusted``, ``se``, ``per_readout``, ``profile``, ``seconds`` and ``minus_diag`` (paired mean and SE of
        its per-prompt ½ squared error minus the DIAG fit's, on the evaluation prompts — FULL vs DIAG, Fig. 1).
    """
    from numerics.statistics import mean_estimate
    from numerics.vladymyrov_fit import fit_column

    one_of("scale", scale, tuple(COLUMN_SCALES))
    seed = check_seed("seed", seed)
    baselines = flag("baselines", baselines)
    for k in kinds:
        one_of("kinds", k, models.KINDS)
    cfg = COLUMN_SCALES[scale]
    law = noise_law if isinstance(noise_law, NoiseLaw) else NoiseLaw.parse(noise_law)
    dev = resolve_device(device)
    t_start = time.perf_counter()
    ev = sample_regression(cfg["eval_sequences"], law, rng=np.random.default_rng([seed, 2]))
    es = bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    sq = lambda pred: 0.5 * (pred - ev.y_query) ** 2  # noqa: E731 - per-prompt ½ squared error
    sq_oracle = sq(bl.oracle_prediction(es, ev.sigma))
    bayes_pred = (bl.bayes_prediction(es, *law.quadrature(48)) if max(law.values) > 0
                  else bl.oracle_prediction(es, ev.sigma))
    sq_bayes = sq(bayes_pred)
    grid = _sigma_grid(law, cfg["profile_points"])
    prof = sample_regression(cfg["profile_sequences"] * grid.size, law, rng=np.random.default_rng([seed, 31]),
                             sigma=np.repeat(grid, cfg["profile_sequences"]))
    ps = bl.ridge_spectrum(prof.x, prof.y, prof.x_query)
    sq_prof_oracle = 0.5 * (bl.oracle_prediction(ps, prof.sigma) - prof.y_query) ** 2

    def profile(pred: np.ndarray) -> list[float]:
        diff = 0.5 * (pred - prof.y_query) ** 2 - sq_prof_oracle
        return [float(v) for v in diff.reshape(grid.size, -1).mean(1)]

    out: dict[str, Any] = {
        "law": law.label, "scale": scale, "seed": int(seed), "device": describe(dev), "config": cfg,
        "kinds": list(kinds), "oracle": float(sq_oracle.mean()), "bayes": _paired_stats(sq_bayes - sq_oracle),
        "sigma_grid": [float(s) for s in grid],
    }
    if baselines:
        base = baseline_losses(law, tune_sequences=cfg["baseline_tune"], eval_sequences=cfg["eval_sequences"],
                               seed=seed)
        t = base["tuned"]
        out["baselines"] = {k: base[k] for k in ("constrr", "adarr", "tunedrr", "gd", "one_layer") if k in base}
        out["baseline_profiles"] = {
            "constrr": profile(ps.predict(t["constrr_c"])), "adarr": profile(bl.adaptive_prediction(ps)),
            "tunedrr": profile(bl.tuned_prediction(ps, t["tunedrr_factor"],
                                                   t["tunedrr_cap"] if t["tunedrr_cap"] is not None else np.inf))}

    def cell(kind: str, params: dict[str, torch.Tensor], **extra: Any) -> dict[str, Any]:
        m = models.evaluate(kind, params, ev)          # the matrix forward pass, not the fitting route
        diff = sq(m["predictions"]) - sq_oracle
        est = mean_estimate(diff)
        res = {"adjusted": est.value, "se": est.se, "per_readout": m["adjusted_per_readout"],
               "below_bayes": _paired_stats(sq(m["predictions"]) - sq_bayes),
               "profile": profile(_predict(kind, params, prof)),
               "params": {k: v.detach().double().cpu().tolist() for k, v in params.items()}, **extra}
        if kind != "full":
            res["omegas"] = models.omegas(kind, params).detach().double().cpu().tolist()
        return res

    def fit(kind: str, layers: int) -> list[Any]:
        return fit_column(kind, law, layers, prompts=cfg["prompts"][kind], seed=seed,
                          random_starts=cfg["random_starts"][kind], random_max_layers=cfg["random_max_layers"][kind],
                          coarse_prompts=cfg["coarse_prompts"][kind], validation=cfg["validation"],
                          max_iter=cfg["max_iter"], device=dev)

    fitted: dict[str, Any] = {}
    want = tuple(k for k in ("gdpp", "diag", "full") if k in kinds)
    for kind in ("gdpp", "diag"):
        if kind not in want:
            continue
        fits = fit(kind, cfg["layers"][kind])
        fitted[kind] = fits
        out[kind] = [cell(kind, f.params, train_loss=f.train_loss, starts=f.starts, seconds=f.seconds,
                          chosen=f.chosen, validation_loss=f.validation, route="float64 L-BFGS on a fixed sample")
                     for f in fits]
    if "full" in want:
        # FULL ⊇ DIAG (P, Q restricted to diag(p_x I, p_y), diag(q_x I, q_y)), so the DIAG fit written as a FULL model
        # is always a candidate; a FULL-only call (a sweep point) fits DIAG to FULL's depth for it (not reported).
        t0 = time.perf_counter()
        diag_fits = fitted.get("diag") or fit("diag", cfg["layers"]["full"])
        diag_seconds = 0.0 if "diag" in fitted else time.perf_counter() - t0
        out["full"] = []
        val = sample_regression(cfg["validation"], law, rng=np.random.default_rng([seed, 5]))
        for L in range(1, cfg["layers"]["full"] + 1):
            t0 = time.perf_counter()
            adam, _ = train_scaled("full", L, law, seed, cfg["full_adam"], device=str(dev))
            adam_seconds = time.perf_counter() - t0
            cands = {"adam": {k: v.double().cpu() for k, v in adam.params.items()},
                     "from-diag": dict(zip(("P", "Q"), (m.clone() for m in models.weight_matrices(
                         "diag", diag_fits[L - 1].params, PAPER_D))))}
            val_loss = {name: float(models.half_mse(torch.as_tensor(_predict("full", p, val)), torch.as_tensor(val.y_query)))
                        for name, p in cands.items()}
            adam_eval = models.evaluate("full", cands["adam"], ev)
            adam_est = mean_estimate(sq(adam_eval["predictions"]) - sq_oracle)
            diag_pred = _predict("full", cands["from-diag"], ev)
            best = min(val_loss, key=val_loss.get)
            out["full"].append(cell("full", cands[best], chosen=best, validation_loss=val_loss,
                                    adam={"adjusted": adam_est.value, "se": adam_est.se,
                                          "per_readout": adam_eval["adjusted_per_readout"], "seconds": adam_seconds,
                                          "minus_diag": _paired_stats(sq(adam_eval["predictions"]) - sq(diag_pred)),
                                          "profile": profile(_predict("full", cands["adam"], prof))},
                                    seconds=time.perf_counter() - t0 + (diag_seconds if L == 1 else 0.0),
                                    route=f"best on validation of Adam ({cfg['full_adam']} preset) and the DIAG fit"))
    out["seconds"] = time.perf_counter() - t_start
    return out


def _predict(kind: str, params: dict[str, torch.Tensor], batch: Any) -> np.ndarray:
    """Last read-out of a model on a numpy :class:`RegressionBatch` (float64, CPU), by the matrix forward pass."""
    ref = next(iter(params.values()))
    t = batch.to_torch(dtype=ref.dtype, device=ref.device)
    with torch.no_grad():
        return models.forward_readouts(kind, params, t["x"], t["y"], t["x_query"])[-1].double().cpu().numpy()


#: Presets of :func:`train_batched_point` (GPU route).  ``paper`` is Sec. 6 (Adam 200,000 steps, lr 1e-4, batch 2048,
#: 100,000 evaluation prompts); ``gpu-sized`` the same at 3,000 steps (a few minutes on one H200 for L <= 3);
#: ``quick`` a CPU smoke test.
BATCHED_SCALES: dict[str, dict[str, Any]] = {
    "quick": {"steps": 30, "batch": 64, "lr": 1e-2, "eval_sequences": 2000, "dtype": "float32"},
    "gpu-sized": {"steps": 3000, "batch": 2048, "lr": {"full": 1e-3, "diag": 3e-3, "gdpp": 3e-3},
                  "eval_sequences": 20000, "dtype": "float32"},
    "paper": {"steps": 200000, "batch": 2048, "lr": 1e-4, "eval_sequences": 100000, "dtype": "float32"},
}


def train_batched_point(parameterisation: str, layers: int, noise_laws: list[str], seeds: list[int],
                        scale: str = "paper", *, device: str | None = None) -> dict[str, Any]:
    """Train every (noise law, seed) model of one (parameterisation, L) together, then evaluate each.

    The models are trained by :func:`numerics.vladymyrov_fit.train_batched` (one tensor program on the device);
    every model of a law is evaluated on the same ``eval_sequences`` fresh prompts (``default_rng([seeds[0], 2])``,
    cached per process, so seeds are compared on paired prompts) against the ridge oracle.  Returns ``cells``: one JSON dict per model (``noise``,
    ``seed``, ``adjusted``, ``se``, ``per_readout``, ``params``), and ``seconds``, ``device``, ``config``.
    """
    from numerics.statistics import mean_estimate
    from numerics.vladymyrov_fit import train_batched

    one_of("parameterisation", parameterisation, models.KINDS)
    one_of("scale", scale, tuple(BATCHED_SCALES))
    if isinstance(noise_laws, str) or not hasattr(noise_laws, "__iter__") or not noise_laws:
        raise ArgumentError(f"noise_laws must be a non-empty list of labels like 'U5', got {noise_laws!r}")
    if isinstance(seeds, str) or not hasattr(seeds, "__iter__") or not list(seeds):
        raise ArgumentError(f"seeds must be a non-empty list of seeds, got {seeds!r}")
    seeds = [check_seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
    cfg = BATCHED_SCALES[scale]
    lr = cfg["lr"][parameterisation] if isinstance(cfg["lr"], dict) else cfg["lr"]
    laws = [NoiseLaw.parse(label) for label in noise_laws]
    dev = resolve_device(device)
    params, order, seconds = train_batched(parameterisation, layers, laws, list(seeds), steps=cfg["steps"],
                                           batch=cfg["batch"], lr=lr, dtype=cfg["dtype"], device=dev)
    cells = []
    for i, (law, seed) in enumerate(order):
        p = {k: v[i] for k, v in params.items()}
        ev, sq_oracle = _evaluation_set(law.label, cfg["eval_sequences"], int(seeds[0]))
        m = models.evaluate(parameterisation, p, ev)
        diff = 0.5 * (m["predictions"] - ev.y_query) ** 2 - sq_oracle
        est = mean_estimate(diff) if np.all(np.isfinite(diff)) else None   # a diverged model has no loss
        cells.append({"noise": law.label, "seed": seed, "adjusted": est.value if est else None,
                      "se": est.se if est else None, "per_readout": m["adjusted_per_readout"],
                      "params": {k: v.detach().double().cpu().tolist() for k, v in p.items()}})
    return {"cells": cells, "seconds": seconds, "device": describe(dev), "config": {**cfg, "lr": lr}}


@functools.lru_cache(maxsize=16)
def _evaluation_set(label: str, size: int, seed: int) -> tuple[Any, np.ndarray]:
    """Evaluation prompts of a noise law and the oracle's per-prompt ½ squared error (cached per process)."""
    ev = sample_regression(size, NoiseLaw.parse(label), rng=np.random.default_rng([seed, 2]))
    oracle = bl.oracle_prediction(bl.ridge_spectrum(ev.x, ev.y, ev.x_query), ev.sigma)
    return ev, 0.5 * (oracle - ev.y_query) ** 2
