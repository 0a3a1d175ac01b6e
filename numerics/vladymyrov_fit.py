"""Sample-average training of the Table-1 models of Vladymyrov et al. 2024 (arXiv:2402.14180, Sec. 6).

The paper trains every (parameterisation, L, noise law) cell with Adam for 200,000 steps on fresh prompts.  On a
CPU that budget is out of reach, and a short Adam run stops well above the paper (see ``docs/vladymyrov-table1.md``).
The few-parameter models (GD++: ``p_x, p_y, q_x`` per layer; DIAG: ``p_x, p_y, q_x, q_y``) are instead fitted
here by **sample-average approximation**: the ½-MSE on one fixed set of ``prompts`` prompts is minimised in
float64 by L-BFGS (strong-Wolfe line search), and the fitted model is then evaluated on fresh prompts (paired
with the ridge oracle, :func:`numerics.models.vladymyrov.evaluate`), so the sample's own optimism never enters
the reported loss.

Depth is trained as a *column*: the L-layer model starts from the fitted (L−1)-layer model with one new layer
(appended at the end, or inserted in front), plus a fresh random start; the best start on the training sample is
kept.  A layer with ``ω = 0`` is the identity, so each warm start begins exactly at the (L−1)-layer loss; the new
layer's ``p, q`` are drawn small but non-zero, since ``p = q = 0`` is a saddle of the bilinear ``ω = p qᵀ``.

FULL (``P, Q`` unconstrained, 242 parameters per layer) would over-fit a sample of this size; it is trained by
Adam on fresh prompts instead (:func:`numerics.vladymyrov_training.train_column`), and :func:`train_batched`
trains many models of one parameterisation at once on a GPU (the paper-scale route).

The forward pass used for fitting is the ω form of DIAG/GD++ (``../shared/vladymyrov.md`` §2): per layer
``x ← x + ω_xx Σˡ x + ω_xy y αˡ`` and ``y ← y + ω_yx ⟨αˡ, x⟩ + ω_yy λˡ y``, applied to every token (query
included, ``Σˡ, αˡ, λˡ`` over the ``n`` context tokens only), read-out ``ŷ = −y_t^L``.  It equals
:func:`numerics.models.vladymyrov.forward_readouts` (tested), at about a tenth of its cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from numerics.models import vladymyrov as models
from numerics.regression import PAPER_D, PAPER_N, NoiseLaw, sample_regression
from numerics.arguments import tensor
from numerics.arguments import params as check_params
from theory.arguments import ArgumentError, instance, one_of, positive_float, positive_int, seed as check_seed

Params = dict[str, torch.Tensor]
FIT_KINDS: tuple[str, ...] = ("gdpp", "diag")


def _check_prompts(x: Any, y: Any, x_query: Any = None, *, query: bool = True) -> None:
    """Real tensors ``x (B, n, d)``, ``y (B, n)`` and (if ``query``) ``x_query (B, d)`` of matching shapes."""
    tensor("x", x, ndim=3, real=True)
    tensor("y", y, ndim=2, real=True)
    if y.shape != x.shape[:2]:
        raise ArgumentError(f"y must have shape (B, n) = {tuple(x.shape[:2])} like x, got {tuple(y.shape)}")
    if query and tensor("x_query", x_query, ndim=2, real=True).shape != (x.shape[0], x.shape[2]):
        raise ArgumentError(f"x_query must have shape (B, d) = {(x.shape[0], x.shape[2])}, got {tuple(x_query.shape)}")


#: The statistics :func:`prepare` returns per parameterisation (what :func:`readout` reads).
PREPARED_KEYS = {"gdpp": ("s", "a", "xq"), "diag": ("S", "a", "lam", "xq")}


def context_statistics(x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """``Σ = Σ_i x_i x_iᵀ (B, d, d)``, ``α = Σ_i y_i x_i (B, d)``, ``λ = Σ_i y_i² (B,)`` over the ``n`` context tokens."""
    _check_prompts(x, y, query=False)
    return {"S": x.transpose(1, 2) @ x, "a": (x * y[..., None]).sum(1), "lam": (y * y).sum(1)}


def omega_readout(kind: str, params: Params, stats: dict[str, torch.Tensor], x_query: torch.Tensor) -> torch.Tensor:
    """``ŷ = −y_t^L`` of a DIAG or GD++ model from the context statistics alone, shape ``(B,)``.

    With ``B = I + ω_xx Σˡ``, ``g = 1 + ω_yy λˡ`` and ``a = αˡ``, the token updates ``x_i ← B x_i + ω_xy y_i a``,
    ``y_i ← g y_i + ω_yx ⟨a, x_i⟩`` (``../shared/vladymyrov.md`` §2) move the statistics of the ``n`` context
    tokens as (sum over ``i`` of the updated tokens; ``Σ_i y_i x_i = a``)

    * ``Σˡ⁺¹ = B Σˡ B + ω_xy (B a aᵀ + a aᵀ B) + ω_xy² λˡ a aᵀ``,
    * ``αˡ⁺¹ = g (B a + ω_xy λˡ a) + ω_yx (B Σˡ a + ω_xy ⟨a, a⟩ a)``,
    * ``λˡ⁺¹ = g² λˡ + 2 g ω_yx ⟨a, a⟩ + ω_yx² aᵀ Σˡ a``,

    and the query token ``(x_t, y_t)`` (``y_t⁰ = 0``, not in the statistics) as ``x_t ← B x_t + ω_xy y_t a``,
    ``y_t ← g y_t + ω_yx ⟨a, x_t⟩``.  No ``n``-token tensor is kept: a layer costs two ``d×d`` products per
    prompt.  ``stats`` comes from :func:`context_statistics`; ``params`` as
    :func:`numerics.models.vladymyrov.init_params`.  Equal to :func:`numerics.models.vladymyrov.forward_readouts`
    (tested to round-off).
    """
    one_of("kind", kind, ("diag", "gdpp"))
    models._check_params(kind, params)
    check_params("stats", stats, ("S", "a", "lam"))
    tensor("x_query", x_query, ndim=2, real=True)
    return _omega_readout(kind, params, stats, x_query)


def _omega_readout(kind: str, params: Params, stats: dict[str, torch.Tensor], x_query: torch.Tensor) -> torch.Tensor:
    """:func:`omega_readout` on checked arguments (L-BFGS evaluates it many times)."""
    om = models._omegas(kind, params)                     # (L, 4): ω_xx, ω_xy, ω_yx, ω_yy
    S, a, lam = stats["S"], stats["a"], stats["lam"]
    xt, yt = x_query, torch.zeros_like(x_query[:, 0])     # the query token, y_t = 0
    for layer in range(om.shape[0]):
        wxx, wxy, wyx, wyy = om[layer]
        g = 1.0 + wyy * lam                                # (B,)
        yt_next = g * yt + wyx * (a * xt).sum(-1)
        if layer < om.shape[0] - 1:                        # the last layer's x and context updates are never read
            Sa = (S @ a[..., None])[..., 0]               # Σˡ a (B, d)
            S2 = S @ S
            SB = S + wxx * S2                              # Σˡ B
            Ba = a + wxx * Sa
            aa, aSa = (a * a).sum(-1), (a * Sa).sum(-1)
            BSa = Sa + wxx * (S2 @ a[..., None])[..., 0]
            outer = Ba[:, :, None] * a[:, None, :]
            S_next = (SB + wxx * (S @ SB) + wxy * (outer + outer.transpose(1, 2))
                      + (wxy * wxy * lam)[:, None, None] * a[:, :, None] * a[:, None, :])
            a_next = g[:, None] * (Ba + (wxy * lam)[:, None] * a) + wyx * (BSa + (wxy * aa)[:, None] * a)
            lam = g * g * lam + 2 * g * wyx * aa + wyx * wyx * aSa
            xt = xt + wxx * (S @ xt[..., None])[..., 0] + wxy * yt[:, None] * a
            S, a = S_next, a_next
        yt = yt_next
    return -yt


def spectral_statistics(x: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor) -> dict[str, torch.Tensor]:
    """Eigenvalues ``s`` of ``Σ`` and ``α``, ``x_t`` in its eigenbasis, each ``(B, d)`` (for GD++)."""
    _check_prompts(x, y, x_query)
    s, V = torch.linalg.eigh(x.transpose(1, 2) @ x)
    a = (x * y[..., None]).sum(1)
    return {"s": s, "a": (V.transpose(1, 2) @ a[..., None])[..., 0], "xq": (V.transpose(1, 2) @ x_query[..., None])[..., 0]}


def gdpp_spectral_readout(params: Params, spec: dict[str, torch.Tensor]) -> torch.Tensor:
    """``ŷ`` of a GD++ model in the eigenbasis of ``Σ``: ``O(L d)`` per prompt, shape ``(B,)``.

    GD++ has ``ω_xy = ω_yy = 0``, so in Lemma 4.3 ``u = 0``, ``a = 1`` and ``Mˡ`` is a polynomial in ``Σ``
    (``../shared/vladymyrov.md`` §7): with ``mˡ`` the eigenvalues of ``Mˡ`` (``m⁰ = 1``) and ``w̃ˡ`` the
    coordinates of ``wˡ`` (``w̃⁰ = 0``), ``αˡ = Mˡ(α − Σ wˡ)``, ``wˡ⁺¹ = wˡ − ω_yx Mˡ αˡ`` and
    ``Mˡ⁺¹ = (I + ω_xx Mˡ Σ Mˡ) Mˡ`` act coordinate-wise; ``ŷ = ⟨w^L, x_t⟩``.  ``spec`` from
    :func:`spectral_statistics`.  Equal to :func:`numerics.models.vladymyrov.forward_readouts` (tested).
    """
    models._check_params("gdpp", params)
    check_params("spec", spec, PREPARED_KEYS["gdpp"])
    return _gdpp_spectral_readout(params, spec)


def _gdpp_spectral_readout(params: Params, spec: dict[str, torch.Tensor]) -> torch.Tensor:
    """:func:`gdpp_spectral_readout` on checked arguments (L-BFGS evaluates it many times)."""
    om = models._omegas("gdpp", params)
    s, a, xq = spec["s"], spec["a"], spec["xq"]
    m, w = torch.ones_like(s), torch.zeros_like(s)
    for layer in range(om.shape[0]):
        wxx, _, wyx, _ = om[layer]
        w = w - wyx * m * m * (a - s * w)
        m = m + wxx * m * m * s * m
    return (w * xq).sum(-1)


def prepare(kind: str, x: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor) -> dict[str, torch.Tensor]:
    """What :func:`readout` needs of a batch of prompts for ``kind``: statistics, not tokens."""
    one_of("kind", kind, FIT_KINDS)
    if kind == "gdpp":
        return spectral_statistics(x, y, x_query)
    _check_prompts(x, y, x_query)
    return {**context_statistics(x, y), "xq": x_query}


def readout(kind: str, params: Params, prepared: dict[str, torch.Tensor]) -> torch.Tensor:
    """``ŷ`` from :func:`prepare`'s output: spectral GD++, ω-statistics DIAG."""
    _check_fit_inputs(kind, params, prepared, "prepared")
    return _readout(kind, params, prepared)


def _check_fit_inputs(kind: str, params: Any, prepared: Any, name: str, extra: tuple[str, ...] = ()) -> None:
    one_of("kind", kind, FIT_KINDS)
    models._check_params(kind, params)
    check_params(name, prepared, PREPARED_KEYS[kind] + extra)


def _readout(kind: str, params: Params, prepared: dict[str, torch.Tensor]) -> torch.Tensor:
    """:func:`readout` on checked arguments."""
    if kind == "gdpp":
        return _gdpp_spectral_readout(params, prepared)
    return _omega_readout(kind, params, prepared, prepared["xq"])


@dataclass
class LayerFit:
    """The fitted ``layers``-layer model of one column: parameters (float64, CPU), its loss on the training
    sample (½-MSE), every start tried (``name``, ``loss``, ``diverged``, ``iterations``, ``prompts``; a diverged
    start has ``loss`` None), the seconds spent on this depth, which candidate was kept and the validation loss of
    each candidate (None where it is not finite)."""

    layers: int
    params: Params
    train_loss: float
    starts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    chosen: str = ""
    validation: dict[str, float] = field(default_factory=dict)


def fixed_prompts(law: NoiseLaw, prompts: int, *, seed: int, stream: int = 21, n: int = PAPER_N, d: int = PAPER_D,
                  dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """A fixed sample of ``prompts`` prompts from ``numpy.random.default_rng([seed, stream])`` (21: training)."""
    instance("law", law, NoiseLaw)
    seed, stream = check_seed("seed", seed), check_seed("stream", stream)
    batch = sample_regression(positive_int("prompts", prompts), law, rng=np.random.default_rng([seed, stream]),
                              n=n, d=d)
    return batch.to_torch(dtype=dtype, device=device)


def prepared_sample(kind: str, law: NoiseLaw, prompts: int, *, seed: int, device: torch.device | str = "cpu"
                    ) -> dict[str, torch.Tensor]:
    """:func:`fixed_prompts` passed through :func:`prepare` (plus the targets ``y_query``)."""
    one_of("kind", kind, FIT_KINDS)
    t = fixed_prompts(law, prompts, seed=seed, device=device)
    return {**prepare(kind, t["x"], t["y"], t["x_query"]), "y_query": t["y_query"]}


def sample_loss(kind: str, params: Params, data: dict[str, torch.Tensor]) -> torch.Tensor:
    """½-MSE of ``ŷ`` on a fixed sample from :func:`prepared_sample` (the sample-average objective)."""
    _check_fit_inputs(kind, params, data, "data", ("y_query",))
    return _sample_loss(kind, params, data)


def _sample_loss(kind: str, params: Params, data: dict[str, torch.Tensor]) -> torch.Tensor:
    """:func:`sample_loss` on checked arguments (the L-BFGS objective)."""
    return models._half_mse(_readout(kind, params, data), data["y_query"])


def _new_layer(kind: str, d: int, scale: float, generator: torch.Generator, like: torch.Tensor) -> Params:
    p = models.init_params(kind, 1, d=d, scale=scale, generator=generator)
    return {k: v.to(dtype=like.dtype, device=like.device) for k, v in p.items()}


def _stack(first: Params, second: Params) -> Params:
    return {k: torch.cat([first[k], second[k]]) for k in first}


def _fit(kind: str, init: Params, data: dict[str, torch.Tensor], max_iter: int) -> tuple[Params, float, int]:
    from numerics.optimize import minimize_population

    res = minimize_population(lambda p: _sample_loss(kind, p, data), init, max_iter=max_iter, grad_tol=1e-11,
                              restarts=0)
    return res.params, res.loss, res.iterations


def fit_column(kind: str, law: NoiseLaw, max_layers: int, *, prompts: int = 20000, seed: int = 0,
               random_starts: int = 1, max_iter: int = 300, init_scale: float = 0.1, new_layer_scale: float = 0.03,
               coarse_prompts: int = 4000, random_max_layers: int = 2, validation: int = 10000,
               device: torch.device | str = "cpu") -> list[LayerFit]:
    """Fit the ``L = 1..max_layers`` models of one (parameterisation, noise law) column on one fixed sample.

    Parameters
    ----------
    kind : {"gdpp", "diag"}
        The parameterisation (Sec. 3 of the paper; ``../shared/vladymyrov.md`` §2).
    law : NoiseLaw
        The noise law of the column.
    max_layers : int
        Deepest model fitted; every depth ``1..max_layers`` is returned.
    prompts : int
        Size of the fixed float64 training sample (``numpy.random.default_rng([seed, 21])``).
    seed : int
        Seeds the sample and the ``torch.Generator`` of the random starts.
    random_starts : int
        Random starts (``N(0, init_scale²)`` parameters) per depth, besides the warm starts.
    max_iter : int
        L-BFGS function evaluations per start (and for the polish).
    random_max_layers : int
        Random starts are tried only up to this depth (deeper random starts diverge or stall, measured).
    validation : int
        Fresh prompts (``default_rng([seed, 22])``) on which the polished fit is compared with the (L−1)-layer
        model plus an identity layer; the better one is kept (``chosen``, ``validation`` in :class:`LayerFit`).
    coarse_prompts : int
        Every start is fitted on the first ``coarse_prompts`` prompts of the sample; only the best is then
        polished on the whole sample (a start costs ``coarse_prompts/prompts`` of a full fit).
    init_scale, new_layer_scale : float
        Scale of random parameters, and of the new layer added to a warm start.
    device : str or torch.device
        Where to fit (the sample is drawn on the CPU and moved).

    Returns
    -------
    list of LayerFit
        One per depth: the best start on the coarse sample, polished on the whole sample (``train_loss``).
    """
    one_of("kind", kind, FIT_KINDS)
    max_layers, max_iter = positive_int("max_layers", max_layers), positive_int("max_iter", max_iter)
    random_starts = positive_int("random_starts", random_starts)
    random_max_layers = positive_int("random_max_layers", random_max_layers)
    init_scale, new_layer_scale = positive_float("init_scale", init_scale), positive_float("new_layer_scale", new_layer_scale)
    instance("law", law, NoiseLaw)
    seed = check_seed("seed", seed)
    data = prepared_sample(kind, law, prompts, seed=seed, device=device)
    coarse = min(positive_int("coarse_prompts", coarse_prompts), prompts)
    coarse_data = {k: v[:coarse] for k, v in data.items()}
    t = fixed_prompts(law, positive_int("validation", validation), seed=seed, stream=22, device=device)
    val = {**prepare(kind, t["x"], t["y"], t["x_query"]), "y_query": t["y_query"]}
    d = data["xq"].shape[-1]
    gen = torch.Generator().manual_seed(int(seed))
    like = data["xq"]
    fits: list[LayerFit] = []
    for L in range(1, max_layers + 1):
        t0 = time.perf_counter()
        starts: list[tuple[str, Params]] = []
        if fits:
            prev = fits[-1].params
            starts += [("append", _stack(prev, _new_layer(kind, d, new_layer_scale, gen, like))),
                       ("prepend", _stack(_new_layer(kind, d, new_layer_scale, gen, like), prev))]
        for r in range(random_starts if L <= random_max_layers else 0):
            init = models.init_params(kind, L, d=d, scale=init_scale, generator=gen)
            starts.append((f"random{r}", {k: v.to(like) for k, v in init.items()}))
        tried = []
        best: tuple[float, str, Params] | None = None
        for name, init in starts:
            params, loss, iters = _fit(kind, init, coarse_data, max_iter)
            tried.append(_start_record(name, loss, iters, coarse))
            loss = loss if np.isfinite(loss) else float("inf")
            if best is None or loss < best[0]:
                best = (loss, name, params)
        assert best is not None
        params, name = best[2], best[1]
        if coarse < prompts:                                  # polish the best start on the whole sample
            params, loss, iters = _fit(kind, params, data, max_iter)
            name = f"{name}+polish"
            tried.append(_start_record(name, loss, iters, prompts))
        # The L-layer class holds the (L−1)-layer model (a layer with ω = 0 is the identity): keep whichever of the
        # two is better on fresh validation prompts, so a fit that over-fits its sample never makes depth worse.
        candidates = {name: params}
        if fits:
            zero = {k: torch.zeros_like(v) for k, v in _new_layer(kind, d, new_layer_scale, gen, like).items()}
            candidates["previous+identity"] = _stack({k: v.to(like) for k, v in fits[-1].params.items()}, zero)
        scores = {}
        with torch.no_grad():
            for cname, cparams in candidates.items():
                v = float(_sample_loss(kind, cparams, val))
                scores[cname] = v if np.isfinite(v) else float("inf")
        chosen = min(scores, key=scores.get)
        with torch.no_grad():
            train = float(_sample_loss(kind, candidates[chosen], data))
        fits.append(LayerFit(L, {k: v.detach().to("cpu", torch.float64) for k, v in candidates[chosen].items()}, train,
                             tried, time.perf_counter() - t0, chosen,
                             {c: (v if np.isfinite(v) else None) for c, v in scores.items()}))
    return fits


def _start_record(name: str, loss: float, iterations: int, prompts: int) -> dict[str, Any]:
    """One tried start as JSON-safe numbers: a start that diverged (non-finite loss) is ``loss: None,
    diverged: True``, so a column with a diverged random start is still a valid sweep result (the engine refuses
    any non-finite number in a result)."""
    finite = bool(np.isfinite(loss))
    return {"name": name, "loss": float(loss) if finite else None, "diverged": not finite,
            "iterations": int(iterations), "prompts": int(prompts)}


def _device_prompts(batch: int, sigma_max: torch.Tensor, levels: torch.Tensor, counts: torch.Tensor, *,
                    n: int, d: int, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Fresh prompts for ``M`` models at once, drawn on their device: model ``m`` has σ_τ ~ U(0, sigma_max[m]) when
    ``counts[m] == 0``, else σ_τ uniform on ``levels[m, :counts[m]]``.  Shapes ``(M, batch, ...)``."""
    M, dev = sigma_max.shape[0], sigma_max.device

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator, device=dev, dtype=dtype)

    w, x, xq = normal(M, batch, d), normal(M, batch, n, d), normal(M, batch, d)
    u = torch.rand((M, batch), generator=generator, device=dev, dtype=dtype)
    pick = torch.minimum((u * counts.clamp(min=1)[:, None]).long(), (counts.clamp(min=1) - 1)[:, None])
    sigma = torch.where(counts[:, None] > 0, torch.gather(levels, 1, pick), sigma_max[:, None] * u)
    y = (x @ w[..., None])[..., 0] + sigma[..., None] * normal(M, batch, n)
    return {"x": x, "y": y, "x_query": xq, "y_query": (xq * w).sum(-1)}


def train_batched(kind: str, layers: int, laws: list[NoiseLaw], seeds: list[int], *, steps: int, batch: int,
                  lr: float, init_scale: float = 0.005, clip_norm: float = 0.1, final_lr_fraction: float = 1e-2,
                  dtype: str | torch.dtype = "float32", device: str | torch.device | None = None,
                  n: int = PAPER_N, d: int = PAPER_D) -> tuple[Params, list[tuple[NoiseLaw, int]], float]:
    """Adam on fresh prompts for every (noise law, seed) model of one (parameterisation, L) in one tensor program.

    The paper-scale route (Sec. 6: Adam, lr 1e-4, batch 2048, 200,000 steps; our cosine decay and per-model
    gradient clipping as in :func:`numerics.models.vladymyrov.train`).  ``len(laws)·len(seeds)`` models train side
    by side (``torch.func.vmap`` over parameters *and* data), each on its own prompts drawn on the device from one
    ``torch.Generator`` seeded with ``seeds[0]`` (so a run is reproducible on one device, not across devices).  A
    diverged model is frozen (see :func:`numerics.optimize.train_sampled`).

    Returns the stacked parameters (leading axis: models, in ``[(law, seed) for law in laws for seed in seeds]``
    order), that order, and the seconds.
    """
    from numerics.device import resolve_device, resolve_dtype
    from numerics.optimize import train_sampled

    one_of("kind", kind, models.KINDS)
    layers, steps, batch = positive_int("layers", layers), positive_int("steps", steps), positive_int("batch", batch)
    lr = positive_float("lr", lr)
    init_scale, clip_norm = positive_float("init_scale", init_scale), positive_float("clip_norm", clip_norm)
    n, d = positive_int("n", n), positive_int("d", d)
    if isinstance(laws, str) or not hasattr(laws, "__iter__") or not laws or not all(isinstance(law, NoiseLaw) for law in laws):
        raise ArgumentError(f"laws must be a non-empty list of NoiseLaw, got {laws!r}")
    if isinstance(seeds, str) or not hasattr(seeds, "__iter__") or not list(seeds):
        raise ArgumentError(f"seeds must be a non-empty list of seeds, got {seeds!r}")
    seeds = [check_seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    order = [(law, int(s)) for law in laws for s in seeds]
    width = max(len(law.values) for law in laws)
    sigma_max = torch.tensor([law.values[0] if law.kind == "uniform" else 0.0 for law, _ in order], dtype=dt, device=dev)
    counts = torch.tensor([0 if law.kind == "uniform" else len(law.values) for law, _ in order], device=dev)
    levels = torch.tensor([list(law.values) + [0.0] * (width - len(law.values)) if law.kind == "categorical"
                           else [0.0] * width for law, _ in order], dtype=dt, device=dev)
    inits = []
    for _, s in order:
        g = torch.Generator().manual_seed(int(s))
        inits.append(models.init_params(kind, layers, d=d, scale=init_scale, generator=g, dtype=dt, device=dev))
    leaves = {k: torch.stack([p[k] for p in inits]) for k in inits[0]}
    gen = torch.Generator(device=dev).manual_seed(int(seeds[0]))

    def losses(params: Params, b: dict[str, torch.Tensor]) -> torch.Tensor:
        def one(p: Params, x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor, yq: torch.Tensor) -> torch.Tensor:
            return models._half_mse(models._forward_readouts(kind, p, x, y, xq)[-1], yq)
        return torch.func.vmap(one)(params, b["x"], b["y"], b["x_query"], b["y_query"])

    def sample(_: int) -> dict[str, torch.Tensor]:
        return _device_prompts(batch, sigma_max, levels, counts, n=n, d=d, generator=gen, dtype=dt)

    res = train_sampled(losses, leaves, sample, steps=steps, lr=lr, final_lr_fraction=final_lr_fraction,
                        per_model=True, clip_norm=clip_norm, name="model")
    return res.params, order, res.seconds
