"""Torch twins of the linear Transformers of Vladymyrov et al. 2024 (FULL, DIAG, GD++) and their training.

Functional models: parameters are a ``dict[str, Tensor]``; every parameterisation is turned into the weight
matrices ``P, Q`` of shape ``(L, H, d+1, d+1)`` (see :mod:`theory.vladymyrov.model` for the equations) and run
through one shared forward pass, so the three settings share all code but the parameter map:

* ``"full"``: ``{"P", "Q"}`` unconstrained;
* ``"diag"``: ``{"p_x", "p_y", "q_x", "q_y"}`` of shape ``(L, H)`` — ``P = diag(p_x I, p_y)``, ``Q = diag(q_x I, q_y)``;
* ``"gdpp"``: ``{"p_x", "p_y", "q_x"}`` — DIAG with ``q_y = 0``.

The paper trains ``p, q`` (not the ``ω`` directly) for DIAG — our reading (UNCONFIRMED); initialisation is not
given in the paper (UNCONFIRMED): we draw every parameter from ``N(0, scale²)``.

Losses follow the paper's ½-MSE convention; the *adjusted* loss is the model's loss minus the loss of the
ridge oracle (``λ = σ_τ²``) on the same prompts (Sec. 6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from numerics.arguments import generator as check_generator
from numerics.arguments import params as check_params
from numerics.arguments import tensor
from numerics.device import resolve_device, resolve_dtype
from numerics.optimize import OptResult, train_sampled
from numerics.regression import PAPER_D, PAPER_N, NoiseLaw, RegressionBatch, sample_regression
from theory.arguments import ArgumentError, instance, one_of, positive_float, positive_int, seed as check_seed
from theory.vladymyrov.baselines import oracle_prediction, ridge_spectrum

Params = dict[str, torch.Tensor]
KINDS: tuple[str, ...] = ("full", "diag", "gdpp")
PARAM_NAMES = {"full": ("P", "Q"), "diag": ("p_x", "p_y", "q_x", "q_y"), "gdpp": ("p_x", "p_y", "q_x")}


def init_params(kind: str, layers: int, *, d: int = PAPER_D, heads: int = 1, scale: float = 0.005,
                generator: torch.Generator, dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu") -> Params:
    """Parameters of an ``layers``-layer, ``heads``-head model drawn iid ``N(0, scale²)`` (on the CPU, then moved)."""
    one_of("kind", kind, KINDS)
    layers, d, heads = positive_int("layers", layers), positive_int("d", d), positive_int("heads", heads)
    scale = positive_float("scale", scale)
    check_generator("generator", generator)
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    shape = (layers, heads, d + 1, d + 1) if kind == "full" else (layers, heads)
    return {name: (scale * torch.randn(shape, generator=generator, dtype=torch.float64)).to(dtype=dt, device=dev)
            for name in PARAM_NAMES[kind]}


def _check_params(kind: str, params: Params) -> None:
    one_of("kind", kind, KINDS)
    check_params("params", params, PARAM_NAMES[kind])
    if set(params) != set(PARAM_NAMES[kind]):
        raise ArgumentError(f"params of a {kind!r} model must be {PARAM_NAMES[kind]}, got {tuple(params)}")


def weight_matrices(kind: str, params: Params, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``P, Q`` of shape ``(L, H, d+1, d+1)`` for any parameterisation."""
    _check_params(kind, params)
    return _weight_matrices(kind, params, positive_int("d", d))


def _weight_matrices(kind: str, params: Params, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`weight_matrices` on checked arguments."""
    if kind == "full":
        return params["P"], params["Q"]
    ref = params["p_x"]
    is_y = torch.zeros(d + 1, dtype=ref.dtype, device=ref.device)
    is_y[-1] = 1.0
    q_y = params["q_y"] if kind == "diag" else torch.zeros_like(params["q_x"])

    def diag(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.diag_embed(a[..., None] * (1.0 - is_y) + b[..., None] * is_y)

    return diag(params["p_x"], params["p_y"]), diag(params["q_x"], q_y)


def omegas(kind: str, params: Params) -> torch.Tensor:
    """DIAG/GD++ re-parametrisation ``(ω_xx, ω_xy, ω_yx, ω_yy)`` per layer, shape ``(L, 4)``."""
    one_of("kind", kind, ("diag", "gdpp"))
    _check_params(kind, params)
    return _omegas(kind, params)


def _omegas(kind: str, params: Params) -> torch.Tensor:
    """:func:`omegas` on checked arguments (the fitted forward passes call it on every evaluation)."""
    px, py, qx = params["p_x"], params["p_y"], params["q_x"]
    qy = params["q_y"] if kind == "diag" else torch.zeros_like(qx)
    return torch.stack([(px * qx).sum(-1), (px * qy).sum(-1), (py * qx).sum(-1), (py * qy).sum(-1)], dim=-1)


def forward_readouts(kind: str, params: Params, x: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Read-outs ``−y_t^K`` after every layer ``K = 1..L``, shape ``(L, B)``; the last row is ``ŷ``.

    ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``.  Same equations as :func:`theory.vladymyrov.model.forward`.
    """
    _check_params(kind, params)
    x, y, x_query = (tensor(name, v, real=True) for name, v in (("x", x), ("y", y), ("x_query", x_query)))
    if x.ndim != 3 or y.shape != x.shape[:2] or x_query.shape != (x.shape[0], x.shape[2]):
        raise ArgumentError(f"x, y, x_query must be (B, n, d), (B, n), (B, d); got {tuple(x.shape)}, {tuple(y.shape)}, {tuple(x_query.shape)}")
    return _forward_readouts(kind, params, x, y, x_query)


def _forward_readouts(kind: str, params: Params, x: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """:func:`forward_readouts` on checked arguments (the training step calls it, unchecked, on every batch)."""
    P, Q = _weight_matrices(kind, params, x.shape[-1])
    context = torch.cat([x, y[..., None]], dim=-1)
    query = torch.cat([x_query, torch.zeros_like(x_query[:, :1])], dim=-1)[:, None, :]
    Z = torch.cat([context, query], dim=1)
    out = []
    for layer in range(P.shape[0]):
        C = Z[:, :-1, :]
        E = C.transpose(-1, -2) @ C
        B = (P[layer][:, None] @ E[None] @ Q[layer][:, None]).sum(0)  # Σ_k P_k E Q_k, (B, d+1, d+1)
        Z = Z + Z @ B.transpose(-1, -2)
        out.append(-Z[:, -1, -1])
    return torch.stack(out)


def half_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``½ mean (ŷ − y_t)²`` (the paper's loss convention); ``prediction`` and ``target`` of one shape ``(B,)``."""
    prediction = tensor("prediction", prediction, ndim=1, real=True)
    target = tensor("target", target, ndim=1, real=True)
    if prediction.shape != target.shape:
        raise ArgumentError(f"prediction and target must have one shape, got {tuple(prediction.shape)} and {tuple(target.shape)}")
    return _half_mse(prediction, target)


def _half_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """:func:`half_mse` on checked tensors (called on every training step)."""
    return 0.5 * ((prediction - target) ** 2).mean()


def oracle_predictions(batch: RegressionBatch) -> np.ndarray:
    """Ridge at the true ``σ_τ²`` for every prompt of a batch (numpy, float64)."""
    instance("batch", batch, RegressionBatch)
    return oracle_prediction(ridge_spectrum(batch.x, batch.y, batch.x_query), batch.sigma)


def train(kind: str, layers: int, law: NoiseLaw, *, steps: int, batch: int, lr: float, seed: int,
          n: int = PAPER_N, d: int = PAPER_D, heads: int = 1, init_scale: float = 0.005,
          dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu",
          final_lr_fraction: float = 1e-2, clip_norm: float = 0.1, restarts: int = 1,
          validation: int = 10000) -> OptResult:
    """Adam with cosine decay and per-model gradient-norm clipping on fresh prompts; best of ``restarts`` seeds.

    ``restarts`` independent initialisations (one ``torch.Generator`` seeded with ``seed``) train side by side
    (``torch.func.vmap`` over the parameters, the same prompts for all) and the one with the lowest ½-MSE on
    ``validation`` separate prompts is returned — the paper reports the best of 5 training seeds.  Deep linear
    attention is a polynomial of degree ``3^L`` in the data, so rare high-noise prompts give huge gradients;
    clipping each model's gradient norm at ``clip_norm`` keeps Adam stable (the paper instead lowered the
    learning rate of deep models; its clipping, if any, is UNCONFIRMED).  A restart whose loss turns non-finite
    is frozen and excluded (``attempts`` shows it with validation loss ``inf``); if all diverge,
    ``FloatingPointError`` is raised.  Prompts come from ``numpy.random.default_rng([seed, 1])`` (validation ``[seed, 3]``).
    ``OptResult.attempts`` lists every restart's validation loss.
    """
    steps, batch = positive_int("steps", steps), positive_int("batch", batch)
    restarts, validation = positive_int("restarts", restarts), positive_int("validation", validation)
    lr, clip_norm = positive_float("lr", lr), positive_float("clip_norm", clip_norm)
    seed = check_seed("seed", seed)
    instance("law", law, NoiseLaw)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    gen = torch.Generator().manual_seed(seed)
    inits = [init_params(kind, layers, d=d, heads=heads, scale=init_scale, generator=gen, dtype=dt, device=dev)
             for _ in range(restarts)]
    leaves = {k: torch.stack([p[k] for p in inits]) for k in PARAM_NAMES[kind]}
    rng = np.random.default_rng([int(seed), 1])

    def losses(params: Params, b: dict[str, torch.Tensor]) -> torch.Tensor:
        def one(p: Params) -> torch.Tensor:
            return _half_mse(_forward_readouts(kind, p, b["x"], b["y"], b["x_query"])[-1], b["y_query"])
        return torch.func.vmap(one)(params)

    def sample(_: int) -> dict[str, torch.Tensor]:
        return sample_regression(batch, law, rng=rng, n=n, d=d).to_torch(dtype=dt, device=dev)

    trained = train_sampled(losses, leaves, sample, steps=steps, lr=lr, final_lr_fraction=final_lr_fraction,
                            per_model=True, clip_norm=clip_norm, name="restart")
    alive = torch.tensor([not a["diverged"] for a in trained.attempts], device=dev)
    with torch.no_grad():
        val = sample_regression(validation, law, rng=np.random.default_rng([int(seed), 3]), n=n, d=d)
        val_loss = losses(trained.params, val.to_torch(dtype=dt, device=dev))
        val_loss = torch.where(alive, torch.nan_to_num(val_loss, nan=float("inf")), float("inf"))
    best = int(torch.argmin(val_loss))
    return OptResult(params={k: v[best].clone() for k, v in trained.params.items()}, loss=float(val_loss[best]),
                     iterations=steps, seconds=trained.seconds, history=trained.history,
                     attempts=[{"restart": i, "validation_loss": float(v)} for i, v in enumerate(val_loss)])


def evaluate(kind: str, params: Params, batch: RegressionBatch, *, chunk: int = 20000) -> dict[str, Any]:
    """Adjusted ½-MSE of every read-out on the given prompts, paired with the oracle on the same prompts.

    Returns ``loss``, ``oracle``, ``adjusted`` (last layer), ``adjusted_se`` (standard error of the paired mean),
    ``adjusted_per_readout`` (list over ``K = 1..L``) and ``predictions`` (numpy, last layer).
    """
    _check_params(kind, params)
    if not isinstance(batch, RegressionBatch):
        raise ArgumentError(f"batch must be a RegressionBatch, got {type(batch).__name__}")
    ref = next(iter(params.values()))
    preds = []
    with torch.no_grad():
        for start in range(0, batch.x.shape[0], positive_int("chunk", chunk)):
            sl = slice(start, start + chunk)
            t = RegressionBatch(batch.x[sl], batch.y[sl], batch.x_query[sl], batch.y_query[sl], batch.w[sl],
                                batch.sigma[sl]).to_torch(dtype=ref.dtype, device=ref.device)
            preds.append(_forward_readouts(kind, params, t["x"], t["y"], t["x_query"]).double().cpu().numpy())
    readouts = np.concatenate(preds, axis=1)
    oracle = oracle_predictions(batch)
    sq_oracle = 0.5 * (oracle - batch.y_query) ** 2
    diffs = 0.5 * (readouts - batch.y_query) ** 2 - sq_oracle
    last = diffs[-1]
    return {
        "loss": float(np.mean(0.5 * (readouts[-1] - batch.y_query) ** 2)),
        "oracle": float(sq_oracle.mean()),
        "adjusted": float(last.mean()),
        "adjusted_se": float(last.std(ddof=1) / math.sqrt(last.size)),
        "adjusted_per_readout": [float(v) for v in diffs.mean(axis=1)],
        "predictions": readouts[-1],
    }
