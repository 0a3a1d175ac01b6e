"""One-layer causal linear attention on augmented tokens (Sander et al. 2024, arXiv:2402.05787, Section 3).

Tokens ``e_t = (0_d, s_t, s_{t-1}) ∈ R^{3d}`` (``C^{3d}`` in case U), ``s_{-1} = 0``; parameters a full
``3d × 3d`` key-query matrix ``W_KQ`` and value matrix ``W_V`` (no biases, no LayerNorm, no normalisation of
the scores — see ``docs/sander-augmented.md``)::

    f(e_{0:t}) = e_t + Σ_{i=0}^{t} (W_V e_i)(e_i^* W_KQ e_t),      ŝ_{t+1} = f(e_{0:t})[:d].

Functional: parameters are ``{"W_KQ": (3d, 3d), "W_V": (3d, 3d)}``.  Training objective: the sum over
positions ``t = 0..T−1`` of ``‖ŝ_{t+1} − s_{t+1}‖²``, averaged over sequences.  The restricted block family
(``V``: slot 2 → 1, ``M``: key slot 3 × query slot 2) has an exact population loss in case U
(:func:`theory.sander.augmented.restricted_tensors_u`), trained with :func:`numerics.optimize.minimize_population`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from numerics.device import resolve_device, resolve_dtype
from numerics.optimize import OptResult, minimize_population, train_sampled
from numerics import arguments as targ
from theory.arguments import ArgumentError, flag, instance, positive_float, positive_int
from theory.sander.augmented import RestrictedTensors, restricted_loss_torch

Params = dict[str, torch.Tensor]

#: slot indices (0-based) of the augmented token: 0 = prediction slot, 1 = s_t, 2 = s_{t-1}.
PRED, CUR, PREV = 0, 1, 2


def _slot(k: int, d: int) -> slice:
    return slice(k * d, (k + 1) * d)


def augment(states: torch.Tensor) -> torch.Tensor:
    """Tokens ``e_t = (0, s_t, s_{t-1})`` for ``states`` ``(n, L, d)``; returns ``(n, L, 3d)``."""
    if targ.tensor("states", states).ndim != 3:
        raise ArgumentError(f"states must have shape (n, L, d), got {tuple(states.shape)}")
    prev = torch.zeros_like(states)
    prev[:, 1:] = states[:, :-1]
    return torch.cat([torch.zeros_like(states), states, prev], dim=-1)


def forward(params: Params, tokens: torch.Tensor) -> torch.Tensor:
    """``f(e_{0:t})`` at every position ``t`` (causal), shape ``(n, L, 3d)``."""
    w_kq, w_v = (targ.params("params", params, ("W_KQ", "W_V"), real=False)[k] for k in ("W_KQ", "W_V"))
    if targ.tensor("tokens", tokens).ndim != 3 or tokens.shape[-1] != w_kq.shape[0]:
        raise ArgumentError(f"tokens must have shape (n, L, {w_kq.shape[0]}), got {tuple(tokens.shape)}")
    queries = tokens @ w_kq.transpose(-1, -2)  # W_KQ e_t
    scores = queries @ tokens.conj().transpose(-1, -2)  # [t, i] = e_i^* W_KQ e_t
    length = tokens.shape[1]
    mask = torch.tril(torch.ones(length, length, dtype=torch.bool, device=tokens.device))
    scores = torch.where(mask, scores, torch.zeros((), dtype=scores.dtype, device=scores.device))
    values = tokens @ w_v.transpose(-1, -2)  # W_V e_i
    return tokens + scores @ values


def predict(params: Params, states: torch.Tensor) -> torch.Tensor:
    """Predictions ``ŝ_1..ŝ_T`` from ``states`` ``s_0..s_T`` ``(n, T+1, d)``; returns ``(n, T, d)``."""
    if targ.tensor("states", states).ndim != 3:
        raise ArgumentError(f"states must have shape (n, T+1, d), got {tuple(states.shape)}")
    d = states.shape[-1]
    out = forward(params, augment(states[:, :-1]))
    return out[..., _slot(PRED, d)]


def sequence_loss(params: Params, states: torch.Tensor) -> torch.Tensor:
    """``mean_n Σ_{t=0}^{T-1} ‖ŝ_{t+1} − s_{t+1}‖²``."""
    err = predict(params, states) - states[:, 1:]
    return (err.abs() ** 2).sum(dim=(-2, -1)).mean()


def init_full(d: int, *, scale: float, generator: torch.Generator, complex_valued: bool = False,
              dtype: str = "float64", device: str | None = "cpu") -> Params:
    """Full ``W_KQ``, ``W_V`` with iid ``N(0, scale²)`` entries (complex: ``CN(0, scale²)``)."""
    d = positive_int("d", d)
    scale = positive_float("scale", scale)
    targ.generator("generator", generator)
    flag("complex_valued", complex_valued)
    real = resolve_dtype(dtype)
    dev = resolve_device(device)

    def draw() -> torch.Tensor:
        x = torch.randn(3 * d, 3 * d, generator=generator, dtype=real)
        if complex_valued:
            y = torch.randn(3 * d, 3 * d, generator=generator, dtype=real)
            x = torch.complex(x, y) / np.sqrt(2.0)
        return (scale * x).to(dev)

    return {"W_KQ": draw(), "W_V": draw()}


def embed_blocks(v: torch.Tensor, m: torch.Tensor) -> Params:
    """Full parameters of the block family: ``W_V[slot1, slot2] = V``, ``W_KQ[key slot3, query slot2] = M``."""
    d = targ.tensor("v", v, ndim=2).shape[0]
    if v.shape != (d, d) or targ.tensor("m", m, ndim=2).shape != v.shape:
        raise ArgumentError(f"v and m must be one (d, d) shape, got {tuple(v.shape)} and {tuple(m.shape)}")
    w_v = torch.zeros(3 * d, 3 * d, dtype=v.dtype, device=v.device)
    w_kq = torch.zeros_like(w_v)
    w_v[_slot(PRED, d), _slot(CUR, d)] = v
    w_kq[_slot(PREV, d), _slot(CUR, d)] = m
    return {"W_KQ": w_kq, "W_V": w_v}


@dataclass(frozen=True)
class BlockProducts:
    """The parameter combinations the prediction depends on, invariant under ``(W_V, W_KQ) → (cW_V, W_KQ/c)``.

    ``vm`` is ``V M`` (value block slot 2 → 1 times the key-slot-3 × query-slot-2 block): ``η I`` for one GD step.
    ``off_ratio`` is ``‖all other products V_a ⊗ M_bc‖ / ‖V ⊗ M‖`` over the value slots ``a ∈ {2, 3}`` and
    key/query slots ``b, c ∈ {2, 3}`` that reach the prediction slot (0 for the GD structure).
    """

    vm: np.ndarray
    off_ratio: float


def block_products(params: Params) -> BlockProducts:
    """Read :class:`BlockProducts` off full parameters."""
    targ.params("params", params, ("W_KQ", "W_V"), real=False)
    w_v = params["W_V"].detach().cpu().numpy()
    w_kq = params["W_KQ"].detach().cpu().numpy()
    d = w_v.shape[0] // 3
    vals = {a: w_v[_slot(PRED, d), _slot(a, d)] for a in (CUR, PREV)}
    kqs = {(b, c): w_kq[_slot(b, d), _slot(c, d)] for b in (CUR, PREV) for c in (CUR, PREV)}
    main = np.linalg.norm(vals[CUR]) * np.linalg.norm(kqs[(PREV, CUR)])
    other = sum((np.linalg.norm(vals[a]) * np.linalg.norm(kqs[bc])) ** 2
                for a in vals for bc in kqs if (a, bc) != (CUR, (PREV, CUR)))
    return BlockProducts(vm=vals[CUR] @ kqs[(PREV, CUR)], off_ratio=float(np.sqrt(other) / main))


def train_restricted_population(tensors: RestrictedTensors, *, generator: torch.Generator, target: float | None,
                                init_scale: float = 0.3, device: str | None = "cpu") -> tuple[np.ndarray, np.ndarray, OptResult]:
    """Minimise the exact case-U loss of ``ŝ = V S_t M s_t`` over complex ``V, M`` (float64 L-BFGS).

    ``V, M`` are optimised through their real and imaginary parts; returns ``(V, M, result)``.
    """
    instance("tensors", tensors, RestrictedTensors)
    targ.generator("generator", generator)
    init_scale = positive_float("init_scale", init_scale)
    dev = resolve_device(device)
    d = tensors.d
    quad = torch.as_tensor(tensors.quad, dtype=torch.complex128, device=dev)
    lin = torch.as_tensor(tensors.lin, dtype=torch.complex128, device=dev)
    init = {k: (init_scale * torch.randn(d, d, generator=generator, dtype=torch.float64)).to(dev)
            for k in ("V_re", "V_im", "M_re", "M_im")}

    def loss_fn(p: Params) -> torch.Tensor:
        v = torch.complex(p["V_re"], p["V_im"])
        m = torch.complex(p["M_re"], p["M_im"])
        return restricted_loss_torch(v, m, quad, lin, tensors.const)

    res = minimize_population(loss_fn, init, target=target, generator=generator)
    p = res.params
    v = torch.complex(p["V_re"], p["V_im"]).cpu().numpy()
    m = torch.complex(p["M_re"], p["M_im"]).cpu().numpy()
    return v, m, res


def train_full_sampled(d: int, sample_states: Callable[[int], torch.Tensor], *, steps: int, lr: float,
                       generator: torch.Generator, complex_valued: bool = False, init_scale: float = 0.05,
                       device: str | None = "cpu", init: Params | None = None) -> OptResult:
    """Adam (cosine decay) on :func:`sequence_loss` with fresh sequences ``sample_states(step)`` (float64).

    Starts from ``init`` when given, else from :func:`init_full` with ``init_scale``.
    """
    if not callable(sample_states):
        raise ArgumentError(f"sample_states must be callable (step -> states), got {type(sample_states).__name__}")
    if init is None:
        init = init_full(d, scale=init_scale, generator=generator, complex_valued=complex_valued, device=device)
    return train_sampled(lambda p, s: sequence_loss(p, s), init, sample_states, steps=steps, lr=lr)


def product_norms(params: Params) -> dict[str, float]:
    """``‖V_a‖_F ‖M_bc‖_F`` for every value slot a and key/query slots b, c reaching the prediction (scale-invariant
    up to the common factor), keyed ``"v{a}k{b}q{c}"`` with 1-based slots (2 = s_i or s_t, 3 = s_{i-1} or s_{t-1})."""
    targ.params("params", params, ("W_KQ", "W_V"), real=False)
    w_v = params["W_V"].detach().cpu().numpy()
    w_kq = params["W_KQ"].detach().cpu().numpy()
    d = w_v.shape[0] // 3
    return {f"v{a + 1}k{b + 1}q{c + 1}": float(np.linalg.norm(w_v[_slot(PRED, d), _slot(a, d)])
                                               * np.linalg.norm(w_kq[_slot(b, d), _slot(c, d)]))
            for a in (CUR, PREV) for b in (CUR, PREV) for c in (CUR, PREV)}


# ---------------------------------------------------------------------------------------------------------
# Exact population expectations by a product quadrature grid (no closed form used)
# ---------------------------------------------------------------------------------------------------------


def _roots_of_unity_grid(count: int, size: int) -> np.ndarray:
    """All ``size**count`` points of ``count`` independent equispaced angles ``2πj/size``, shape ``(n, count)``."""
    grid = 2 * np.pi * np.arange(size) / size
    return np.stack(np.meshgrid(*([grid] * count), indexing="ij"), -1).reshape(-1, count)


def quadrature_states(case: str, d: int, horizon: int, radial_nodes: Sequence[float],
                      radial_weights: Sequence[float], *, phase_invariant: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """States ``s_0..s_{horizon}`` on a weighted product grid whose weighted mean is the *exact* expectation of
    every one-layer squared error ``‖V S_t M s_t − s_{t+1}‖²``, ``t < horizon`` (augmented tokens).

    Laws (those of :mod:`theory.sander.augmented`): case U, ``s_{t,k} = √x_k ω_k λ_k^t`` with ``λ_k = e^{iθ_k}``,
    ``ω_k = e^{iφ_k}`` (``ω = 1`` unless ``phase_invariant``), ``θ, φ`` iid uniform; case O (``d`` even), block ``m``
    is ``√x_m (cos(φ_m + tθ_m), sin(φ_m + tθ_m))``.  ``x`` (``|s_{0k}|²``, resp. the squared block radius) is iid
    with the discrete law ``radial_nodes`` / ``radial_weights``.

    Why the grid is exact.  The squared error at position ``t`` is a sum of products of at most three states and
    three conjugate states (``(S_t s_t)_a = Σ_{i=1}^t s_{i,a} (s_{i−1}^* s_t)``); an equispaced ``N``-point rule
    integrates ``e^{ikθ}`` exactly for ``|k| < N``.  Case U: the exponent of ``λ_k`` in ``(S_t s_t)_a`` lies in
    ``[−(t−1), 2t]``, so it stays within ``±(3t−1)`` in ``‖S_t s_t‖²`` and within ``±2t`` in
    ``conj(s_{t+1})(S_t s_t)`` (``‖s_{t+1}‖²`` has exponent 0); ``ω_k`` appears with exponent at most 3 in modulus.
    Case O: every real entry carries ``e^{±i(φ + tθ)}``, so a block's ``θ``-exponent is at most ``3t − 1`` in
    ``(S_t s_t)_a``, ``6t − 2`` in its square, ``4t`` in ``s_{t+1}ᵀ S_t s_t`` and ``2t + 2`` in ``‖s_{t+1}‖²``;
    products of six entries reach ``|k_φ| ≤ 6``.  With ``t ≤ T − 1``: ``N_θ = max(3T − 4, 2T − 2) + 1`` and
    ``N_φ = 4`` (case U), ``N_θ = max(6T − 8, 4T − 4, 2T) + 1`` and ``N_φ = 7`` (case O).  The error is a
    polynomial of degree at most 3 in each ``x``, so a radial rule exact to degree 3 (two Gauss nodes, or the law
    itself when discrete) is exact.

    Parameters
    ----------
    case : {"U", "O"}
    d : int
        Dimension (even in case O).
    horizon : int
        ``T``: states ``s_0..s_T`` (positions ``t < T`` are exact).
    radial_nodes, radial_weights : sequence of float
        A discrete law of ``x`` (weights positive, summing to 1), exact for the moments of degree ≤ 3.
    phase_invariant : bool
        Case U only: uniform phases ``ω`` (else ``s_0`` has the radii with phase 0).

    Returns
    -------
    states : ndarray, shape (n, horizon + 1, d)
        Complex (case U) or real (case O).
    weights : ndarray, shape (n,)
        Summing to 1.
    """
    one_of_case = ("U", "O")
    if case not in one_of_case:
        raise ArgumentError(f"case must be one of {one_of_case}, got {case!r}")
    d, horizon = positive_int("d", d), positive_int("horizon", horizon)
    flag("phase_invariant", phase_invariant)
    x = np.asarray(radial_nodes, dtype=float)
    w = np.asarray(radial_weights, dtype=float)
    if x.ndim != 1 or x.shape != w.shape or np.any(x <= 0) or np.any(w <= 0) or abs(w.sum() - 1) > 1e-12:
        raise ArgumentError("radial_nodes and radial_weights must be one positive law (weights summing to 1)")
    if case == "O" and d % 2:
        raise ArgumentError(f"d must be even in case O, got {d}")
    k = d if case == "U" else d // 2
    last = horizon - 1  # the last exact position
    n_theta = (max(3 * last - 1, 2 * last) if case == "U" else max(6 * last - 2, 4 * last, 2 * last + 2)) + 1
    n_phi = (4 if phase_invariant else 1) if case == "U" else 7
    n_points = (n_theta * n_phi * x.size) ** k
    if n_points > 3_000_000:
        raise ArgumentError(f"quadrature grid of {n_points} points is too large; lower d or horizon")
    theta = _roots_of_unity_grid(k, n_theta)
    phi = _roots_of_unity_grid(k, n_phi)
    radial = np.stack(np.meshgrid(*([np.arange(x.size)] * k), indexing="ij"), -1).reshape(-1, k)
    i_t, i_p, i_r = (g.ravel() for g in np.meshgrid(np.arange(len(theta)), np.arange(len(phi)),
                                                    np.arange(len(radial)), indexing="ij"))
    th, ph, rad = theta[i_t], phi[i_p], np.sqrt(x[radial[i_r]])
    weights = np.prod(w[radial[i_r]], axis=1)
    times = np.arange(horizon + 1)[None, :, None]
    angle = ph[:, None, :] + times * th[:, None, :]  # (n, T+1, k)
    if case == "U":
        states = rad[:, None, :] * np.exp(1j * angle)
    else:
        states = np.empty((len(th), horizon + 1, d))
        states[..., 0::2] = rad[:, None, :] * np.cos(angle)
        states[..., 1::2] = rad[:, None, :] * np.sin(angle)
    return states, weights / weights.sum()


def position_losses(params: Params, states: torch.Tensor, weights: torch.Tensor, *, chunk: int = 65_536) -> torch.Tensor:
    """Weighted mean over sequences of ``‖ŝ_{t+1} − s_{t+1}‖²`` at every position ``t = 0..T−1`` (shape ``(T,)``),
    through the forward pass (:func:`predict`), in chunks of ``chunk`` sequences."""
    if targ.tensor("states", states).ndim != 3 or targ.tensor("weights", weights).shape != states.shape[:1]:
        raise ArgumentError(f"states must be (n, T+1, d) and weights (n,), got {tuple(states.shape)}, "
                            f"{tuple(weights.shape)}")
    total = torch.zeros(states.shape[1] - 1, dtype=torch.float64, device=states.device)
    with torch.no_grad():
        for start in range(0, states.shape[0], positive_int("chunk", chunk)):
            part = states[start:start + chunk]
            err = (predict(params, part) - part[:, 1:]).abs() ** 2  # (n, T, d)
            total += (weights[start:start + chunk, None] * err.sum(dim=-1).to(torch.float64)).sum(dim=0)
    return total
