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
from typing import Callable

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
