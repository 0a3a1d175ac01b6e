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

import math
import time
from typing import Any

import numpy as np

from numerics.device import describe, resolve_device
from numerics.models import vladymyrov as models
from numerics.regression import PAPER_D, PAPER_N, NoiseLaw, sample_regression
from theory.arguments import one_of, positive_int
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
