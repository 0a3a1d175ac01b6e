"""GD++ is a second-order method: Theorem 5.1 and Lemmas A.2, A.3 of Vladymyrov et al. (NeurIPS 2024, arXiv:2402.14180).

Setting (Sec. 5.1, App. A.4).  GD++ is DIAG attention with ``q_y = 0``, so only ``ω_xx^l`` and ``ω_yx^l`` act::

    x_i^{l+1} = (I + ω_xx^l Σ^l) x_i^l        (every token, the query included: preconditioning)
    y_i^{l+1} = y_i^l + ω_yx^l ⟨α^l, x_i^l⟩    (one gradient step on the labels)

with the unnormalised sums ``Σ^l = Σ_{i≤n} x_i^l x_i^{lT}``, ``α^l = Σ_{i≤n} y_i^l x_i^l`` and the read-out
``ŷ = −y_t^L``.  With ``ω_yx = 0`` the labels do not move and ``x_i^l = M^l x_i`` with ``M^{l+1} = (I + ω_xx^l Σ^l) M^l``,
so ``Σ^{l+1} = (I + ω_xx^l Σ^l) Σ^l (I + ω_xx^l Σ^l)``: writing ``γ_l = −ω_xx^l``, an eigenvalue ``λ`` of ``Σ^l`` becomes
``f(λ) = λ (1 − γ_l λ)²`` (same eigenvector; ``M^l`` is a polynomial in ``Σ``).

Theorem 5.1 (per-instance construction, App. A.4).  Let the eigenvalues of ``Σ`` lie in ``[µ, ν]`` and ``κ = ν/µ``
(the statement prints "[ν, µ], κ = ν/µ"; the proof uses ``ν`` as the *largest* eigenvalue — we read it so).  Choose
``ω_xx^l = −1/(3 ν_l)`` (``ν_l`` the top eigenvalue of ``Σ^l``) and ``ω_yx^l = 0`` for ``l < K``, then one GD layer with
``ω_xx = 0``, ``ω_yx = −1/µ'`` (``µ'`` the smallest eigenvalue of ``Σ' = Σ^K``).  Then
``|ŷ − ⟨x_t, w*⟩| ≤ ε ‖x_t‖ ‖w*‖`` (``w* = Σ^{-1} α``) with ``K + 1 = O(log κ + log log 1/ε)`` layers.  The parameters
depend on the instance (through ``ν_l`` and ``µ'``).

Our error identity (derivation).  ``ŷ = ⟨M α, M x_t⟩ / µ' = x_t^T (M² Σ / µ') w* = x_t^T (Σ'/µ') w*`` because ``M`` is
symmetric and commutes with ``Σ``, so ``Σ' = M Σ M = M² Σ``.  Hence::

    ŷ − ⟨x_t, w*⟩ = x_t^T (Σ'/µ' − I) w*,     0 ⪯ Σ'/µ' − I ⪯ (κ' − 1) I,     |ŷ − ⟨x_t, w*⟩| ≤ (κ' − 1) ‖x_t‖ ‖w*‖,

sharp when ``x_t`` and ``w*`` lie on the top eigenvector.  (The paper's proof bounds the error by
``(κ' − 1) √κ √κ' ‖x_t‖ ‖w*‖`` and therefore drives ``κ'`` to ``1 + ε/(2κ)``; valid, but looser.)

Lemma A.2.  If ``spec(Σ) ⊂ [1, 1 + ε]`` then ``ŵ = α`` satisfies ``‖ŵ − w*‖ ≤ ε ‖w*‖``: ``α = Σ w*`` (the OLS residuals are
orthogonal to the ``x_i``), so ``α − w* = (Σ − I) w*``.

Lemma A.3.  With ``γν = 1/3``, ``f'(λ) = (1 − γλ)(1 − 3γλ) ≥ 0`` on ``[0, ν]``, so the extreme eigenvalues map to the extreme
ones and ``κ' = f(ν)/f(µ) = κ (4/9)/(1 − 1/(3κ))² = 4κ³/(3κ − 1)²``; equivalently (cancellation-free)
``κ' − 1 = (κ − 1)² (4κ − 1)/(3κ − 1)²``.  For ``κ ≥ 1.1``: ``κ'/κ = 4κ²/(3κ − 1)²`` decreases in ``κ``, so
``κ' ≤ (22/23)² κ ≈ 0.914934 κ``.  For ``κ = 1 + ε``: ``κ' − 1 = ε² (3 + 4ε)/(2 + 3ε)² = ¾ε² − (5/4)ε³ + O(ε⁴)``, and
``(κ' − 1)/ε²`` decreases strictly from its supremum ``3/4`` (not attained) — well inside the paper's ``2ε²`` for ``ε ≤ 0.1``.

Plain GD (comparison).  ``ω_xx = 0`` and a fixed ``ω_yx = −η``: ``w^L = (I − (I − ηΣ)^L) w*``, so the error is
``x_t^T (I − ηΣ)^L w*``.  The step ``η = 2/(µ + ν)`` minimises ``max_{λ∈[µ,ν]} |1 − ηλ| = (κ − 1)/(κ + 1)`` (the best fixed
step for the worst case); the worst-case relative error after ``L`` layers is ``((κ − 1)/(κ + 1))^L`` (sharp), i.e.
``≈ (κ/2) ln(1/ε)`` layers.

Everything here is numpy/sympy only (no torch); the instance runs go through the GD++ forward pass of
:mod:`theory.vladymyrov.model`.  In float64 the instance errors have a round-off floor of about machine epsilon × κ(Σ)
(measured ≤ 3e-12 relative for ``n = 20, d = 10`` prompts with ``κ ≤ 2e4``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory.arguments import (
    ArgumentError,
    finite_array,
    flag,
    nonnegative_int,
    positive_float,
    positive_int,
    real_array,
)
from theory.vladymyrov.model import check_regression_inputs, forward, gdpp_matrices

__all__ = [
    "GAMMA_NU", "CONTRACTION", "PHASE_SWITCH", "eigenvalue_map", "kappa_map", "kappa_map_delta",
    "mapped_condition_number", "kappa_map_sympy", "LemmaA3Exact", "lemma_a3_exact", "gdpp_kappa_trajectory",
    "gdpp_layers_needed", "theorem51_layer_bound", "plain_gd_rate", "plain_gd_layers_needed", "GDPPRun", "gdpp_run",
    "theorem51_construction", "plain_gd_construction",
]


#: Lemma A.3's step ``γν``.
GAMMA_NU = 1.0 / 3.0
#: ``sup_{κ ≥ 1.1} κ'/κ = (4/9)/(1 − 1/3.3)² = (22/23)²`` (Lemma A.3, first claim; exact).
CONTRACTION = (22.0 / 23.0) ** 2
#: Lemma A.3's hand-over point between the two phases (``κ ≥ 1.1``: contraction; ``κ = 1 + ε, ε ≤ 0.1``: ``κ' ≤ 1 + 2ε²``).
PHASE_SWITCH = 1.1


def _gamma_nu(value: Any) -> float:
    c = positive_float("gamma_nu", value)
    if c >= 1.0:
        raise ArgumentError(f"gamma_nu must lie in (0, 1) (gamma*nu >= 1 sends an eigenvalue to 0), got {value!r}")
    return c


def _kappa(value: Any) -> float:
    k = positive_float("kappa", value)
    if k < 1.0:
        raise ArgumentError(f"kappa must be a condition number >= 1, got {value!r}")
    return k


def _eps(value: Any) -> float:
    e = positive_float("eps", value)
    if e >= 1.0:
        raise ArgumentError(f"eps must lie in (0, 1), got {value!r}")
    return e


# ------------------------------------------------------------------------------------------------ Lemma A.3


def eigenvalue_map(lam: np.ndarray, gamma: float) -> np.ndarray:
    """``f(λ) = λ (1 − γλ)²``: an eigenvalue of ``Σ^l`` after one GD++ preconditioning layer with ``ω_xx = −γ`` (Lemma A.3).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import eigenvalue_map
    >>> eigenvalue_map(np.array([1.0, 3.0]), 1 / 3)  # f(λ) = λ (1 − γλ)²
    array([0.44444444, 0.        ])
    """
    lam = real_array("lam", lam)
    g = positive_float("gamma", gamma)
    return lam * (1.0 - g * lam) ** 2


def kappa_map(kappa: float, gamma_nu: float = GAMMA_NU) -> float:
    """Lemma A.3's end-point ratio ``f(ν)/f(µ) = κ (1 − c)²/(1 − c/κ)²`` with ``c = γν`` (``4κ³/(3κ − 1)²`` at ``c = 1/3``).

    It is the new condition number of ``Σ^{l+1}`` whenever ``f`` is nondecreasing on ``[µ, ν]`` — always for
    ``c ≤ 1/3`` (``f'(λ) = (1 − γλ)(1 − 3γλ)``).  For ``c > 1/3`` eigenvalues in ``(ν/(3c), ν)`` are folded back and the
    ratio is no longer the condition number (see :func:`mapped_condition_number`).

    Examples
    --------
    >>> from theory.vladymyrov import kappa_map
    >>> kappa_map(2.0)  # 4·8/25
    1.28
    """
    k, c = _kappa(kappa), _gamma_nu(gamma_nu)
    return k * (1.0 - c) ** 2 / (1.0 - c / k) ** 2


def kappa_map_delta(delta: float) -> float:
    """``κ' − 1 = δ² (4δ + 3)/(3δ + 2)²`` for ``κ = 1 + δ`` and ``γν = 1/3`` (Lemma A.3 without cancellation; ``δ ≥ 0``).

    Examples
    --------
    >>> from theory.vladymyrov import kappa_map, kappa_map_delta
    >>> round(kappa_map_delta(0.1), 12) == round(kappa_map(1.1) - 1, 12)  # δ² (4δ + 3)/(3δ + 2)²
    True
    """
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating, np.integer)) or not math.isfinite(delta) or delta < 0:
        raise ArgumentError(f"delta must be a non-negative finite number (kappa - 1), got {delta!r}")
    d = float(delta)
    return d * d * (4.0 * d + 3.0) / (3.0 * d + 2.0) ** 2


def mapped_condition_number(eigenvalues: np.ndarray, gamma_nu: float = GAMMA_NU) -> float:
    """Condition number of ``{f(λ_i)}`` with ``γ = c/ν``, ``ν = max λ_i`` — the true ``κ`` of ``Σ^{l+1}`` for any ``c``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import kappa_map, mapped_condition_number
    >>> bool(np.isclose(mapped_condition_number(np.array([1.0, 2.0, 4.0])), kappa_map(4.0)))  # γν = 1/3: end points
    True
    """
    lam = real_array("eigenvalues", eigenvalues, ndim=1)
    if lam.size < 1 or np.any(lam <= 0):
        raise ArgumentError("eigenvalues must be a non-empty 1-D array of positive numbers")
    c = _gamma_nu(gamma_nu)
    mapped = eigenvalue_map(lam, c / float(lam.max()))
    return float(mapped.max() / mapped.min())


def kappa_map_sympy(gamma_nu: Any = None) -> tuple[Any, Any]:
    """``(κ, κ')`` as sympy objects: ``κ' = κ (1 − c)²/(1 − c/κ)²`` with exact ``c = γν`` (default ``1/3``).

    Examples
    --------
    >>> from theory.vladymyrov import kappa_map_sympy
    >>> kappa_map_sympy()
    (kappa, 4*kappa**3/(3*kappa - 1)**2)
    """
    import sympy as sp

    c = sp.Rational(1, 3) if gamma_nu is None else sp.nsimplify(gamma_nu)
    if not (0 < c < 1):
        raise ArgumentError(f"gamma_nu must lie in (0, 1), got {gamma_nu!r}")
    kappa = sp.Symbol("kappa", positive=True)
    return kappa, sp.factor(kappa * (1 - c) ** 2 / (1 - c / kappa) ** 2)


@dataclass(frozen=True)
class LemmaA3Exact:
    """Exact (sympy) facts of Lemma A.3 for one step ``c = γν``; see :func:`lemma_a3_exact`.

    Vladymyrov et al. (2024), App. A, Lemma A.3: the GD++ eigenvalue map ``f(λ) = λ(1 − γλ)²`` maps ``κ`` to ``κ'``.

    Examples
    --------
    Negative control ``γν = 1/2`` (the paper's step is ``1/3``): ``f`` is no longer monotone on ``[0, ν]``
    (``min f' = −1/4``) and ``κ'(1 + ε)`` keeps a linear term, so the quadratic (Newton-like) rate is lost:

    >>> import sympy as sp
    >>> from theory.vladymyrov import lemma_a3_exact
    >>> exact = lemma_a3_exact(sp.Rational(1, 2))
    >>> exact.min_derivative, exact.series[:2], exact.quadratic_sup
    (-1/4, (1, -1), oo)
    """

    gamma_nu: Any
    kappa_prime: Any                 # κ' as a function of κ (end-point ratio)
    derivative_residual: Any         # f'(λ) − (1 − γλ)(1 − 3γλ), simplified (0 for every γ)
    min_derivative: Any              # min over γλ ∈ [0, c] of (1 − γλ)(1 − 3γλ)   (≥ 0 iff f is monotone on [0, ν])
    contraction_sup: Any             # sup_{κ ≥ 11/10} κ'/κ
    contraction_sup_from_one: Any    # sup_{κ ≥ 1} κ'/κ
    series: tuple[Any, ...]          # coefficients of 1, ε, ε², ε³ in κ'(1 + ε)
    quadratic_sup: Any               # sup_{ε ∈ (0, 1/10]} (κ' − 1)/ε² (oo when the linear term survives)


def lemma_a3_exact(gamma_nu: Any = None) -> LemmaA3Exact:
    """Lemma A.3 in exact arithmetic (sympy) for the step ``γν = c`` (default ``1/3``; pass e.g. ``Rational(1, 2)``).

    For ``c = 1/3`` (our derivation): residual 0, ``min f' = 0``, ``sup_{κ≥1.1} κ'/κ = 484/529 = (22/23)²``,
    ``sup_{κ≥1} κ'/κ = 1``, series ``(1, 0, 3/4, −5/4)`` and ``sup (κ' − 1)/ε² = 3/4``.

    Examples
    --------
    >>> from theory.vladymyrov import lemma_a3_exact
    >>> exact = lemma_a3_exact()
    >>> exact.kappa_prime, exact.contraction_sup, exact.quadratic_sup
    (4*kappa**3/(3*kappa - 1)**2, 484/529, 3/4)
    """
    import sympy as sp

    kappa, kp = kappa_map_sympy(gamma_nu)
    c = sp.Rational(1, 3) if gamma_nu is None else sp.nsimplify(gamma_nu)
    lam, gam, t = sp.Symbol("lambda", nonnegative=True), sp.Symbol("gamma", positive=True), sp.Symbol("t", real=True)
    f = lam * (1 - gam * lam) ** 2
    residual = sp.simplify(sp.diff(f, lam) - (1 - gam * lam) * (1 - 3 * gam * lam))
    min_deriv = sp.minimum((1 - t) * (1 - 3 * t), t, sp.Interval(0, c))
    ratio = sp.cancel(kp / kappa)
    sup_11 = sp.maximum(ratio, kappa, sp.Interval(sp.Rational(11, 10), sp.oo))
    sup_1 = sp.maximum(ratio, kappa, sp.Interval(1, sp.oo))
    eps = sp.Symbol("epsilon", positive=True)
    ke = sp.cancel(kp.subs(kappa, 1 + eps))
    ser = sp.series(ke, eps, 0, 4).removeO()
    coeffs = tuple(sp.nsimplify(ser.coeff(eps, i)) for i in range(4))
    if coeffs[1] == 0:
        quad = sp.maximum(sp.cancel((ke - 1) / eps**2), eps, sp.Interval.Lopen(0, sp.Rational(1, 10)))
    else:  # (κ' − 1)/ε² ~ c₁/ε is unbounded near 0
        quad = sp.oo
    return LemmaA3Exact(gamma_nu=c, kappa_prime=kp, derivative_residual=residual, min_derivative=min_deriv,
                        contraction_sup=sup_11, contraction_sup_from_one=sup_1, series=coeffs, quadratic_sup=quad)


# ------------------------------------------------------------------------------------------------ layer counts


def gdpp_kappa_trajectory(kappa: float, layers: int) -> np.ndarray:
    """``κ_0 = κ, κ_{l+1} = κ'(κ_l)`` (γν = 1/3) for ``l < layers``, as ``κ_l − 1`` (cancellation-free), shape ``(layers + 1,)``.

    Examples
    --------
    >>> from theory.vladymyrov import gdpp_kappa_trajectory
    >>> gdpp_kappa_trajectory(4.0, 3).round(6)  # κ_k − 1 after k = 0..3 GD++ layers
    array([3.      , 1.115702, 0.324909, 0.051293])
    """
    k = _kappa(kappa)
    n = nonnegative_int("layers", layers)
    out = [k - 1.0]
    for _ in range(n):
        out.append(kappa_map_delta(out[-1]))
    return np.array(out)


def gdpp_layers_needed(kappa: float, eps: float) -> int:
    """Layers of the Theorem 5.1 construction that guarantee ``|ŷ − ⟨x_t, w*⟩| ≤ ε ‖x_t‖ ‖w*‖`` for every instance with
    condition number ``κ``: the least ``K`` with ``κ_K − 1 ≤ ε`` (κ-map iterates, Lemma A.3), plus the final GD layer.

    Uses our sharp error identity ``|error| ≤ (κ_K − 1) ‖x_t‖ ‖w*‖``; it is attained (``x_t, w*`` on the top
    eigenvector), so no construction of this form guarantees ``ε`` with fewer layers.

    Examples
    --------
    >>> from theory.vladymyrov import gdpp_layers_needed, theorem51_layer_bound
    >>> gdpp_layers_needed(100.0, 1e-6), theorem51_layer_bound(100.0, 1e-6)
    (11, 56)
    """
    delta, e = _kappa(kappa) - 1.0, _eps(eps)
    k = 0
    while delta > e:
        delta = kappa_map_delta(delta)
        k += 1
    return k + 1


def theorem51_layer_bound(kappa: float, eps: float, *, paper_target: bool = False) -> int:
    """The explicit ``O(log κ + log log 1/ε)`` count that the proof of Theorem 5.1 gives (Lemma A.3's two phases), plus 1.

    Phase 1 (``κ > 1.1``, factor ``(22/23)²`` per layer): ``k₁ = ⌈ln(κ/1.1)/ln(529/484)⌉``, after which ``δ = κ − 1 ≤ 0.1``.
    Phase 2 (from ``δ₀ = min(κ − 1, 0.1)``; ``δ' ≤ 2δ²`` so ``2δ_j ≤ (2δ₀)^{2^j}``): ``k₂ = ⌈log₂(ln(1/(2τ))/ln(1/(2δ₀)))⌉``
    layers to reach ``δ ≤ τ`` (0 if ``δ₀ ≤ τ``).  ``τ = ε`` (our sharp error identity) or, with ``paper_target=True``, the
    proof's ``τ = ε/(2κ)``.

    Examples
    --------
    >>> from theory.vladymyrov import theorem51_layer_bound, plain_gd_layers_needed
    >>> theorem51_layer_bound(100.0, 1e-6), plain_gd_layers_needed(100.0, 1e-6)
    (56, 691)
    """
    flag("paper_target", paper_target)
    k, e = _kappa(kappa), _eps(eps)
    k1 = math.ceil(math.log(k / PHASE_SWITCH) / -math.log(CONTRACTION)) if k > PHASE_SWITCH else 0  # >= 1 when taken
    delta0 = k - 1.0 if k <= PHASE_SWITCH else PHASE_SWITCH - 1.0
    tau = e / (2.0 * k) if paper_target else e
    k2 = 0 if delta0 <= tau else math.ceil(math.log2(math.log(1.0 / (2.0 * tau)) / math.log(1.0 / (2.0 * delta0))))
    return k1 + k2 + 1


def plain_gd_rate(kappa: float) -> float:
    """``(κ − 1)/(κ + 1)``: worst-case error contraction per layer of GD with the best fixed step ``2/(µ + ν)``.

    Examples
    --------
    >>> from theory.vladymyrov import plain_gd_rate
    >>> plain_gd_rate(3.0)  # (κ − 1)/(κ + 1)
    0.5
    """
    k = _kappa(kappa)
    return (k - 1.0) / (k + 1.0)


def plain_gd_layers_needed(kappa: float, eps: float) -> int:
    """Least ``L ≥ 1`` with ``((κ − 1)/(κ + 1))^L ≤ ε``: plain GD (``ω_xx = 0``, step ``2/(µ + ν)``) layers for the same
    worst-case guarantee ``|ŷ − ⟨x_t, w*⟩| ≤ ε ‖x_t‖ ‖w*‖`` (sharp; ``≈ (κ/2) ln(1/ε)`` for large ``κ``).

    Examples
    --------
    >>> from theory.vladymyrov import plain_gd_layers_needed
    >>> plain_gd_layers_needed(3.0, 1e-3)  # ⌈ln ε / ln((κ−1)/(κ+1))⌉ = ⌈9.97⌉
    10
    """
    k, e = _kappa(kappa), _eps(eps)
    if k == 1.0:
        return 1
    rho = plain_gd_rate(k)
    L = max(1, math.ceil(math.log(e) / math.log(rho)))
    while L > 1 and rho ** (L - 1) <= e:  # guard the ceil against round-off
        L -= 1
    while rho**L > e:
        L += 1
    return L


# ------------------------------------------------------------------------------------------------ instance runs


@dataclass(frozen=True)
class GDPPRun:
    """One prompt run through the GD++ forward pass with given per-layer ``(ω_xx, ω_yx)``.

    ``kappa, nu, mu``: condition number, top and bottom eigenvalues of ``Σ^l`` entering layer ``l`` (``l = 0..L−1``),
    measured from the forward pass's tokens.  ``readout_errors[K−1] = |−y_t^K − ⟨x_t, w*⟩| / (‖x_t‖ ‖w*‖)``.
    ``stopped_errors[k]`` (construction only): the relative error had the GD layer been placed after ``k``
    preconditioning layers (``k = 0..K``), each also through the forward pass.  Built by :func:`gdpp_run`,
    :func:`theorem51_construction` and :func:`plain_gd_construction` (Vladymyrov et al. (2024), Theorem 5.1).

    Examples
    --------
    Plain GD layers leave ``Σ`` alone, so ``κ`` is the same entering every layer:

    >>> import numpy as np
    >>> from theory.vladymyrov import plain_gd_construction
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((12, 3)), rng.standard_normal(12), rng.standard_normal(3)
    >>> run = plain_gd_construction(x, y, x_q, 3)
    >>> run.layers, bool(np.allclose(run.kappa, run.kappa[0])), run.readout_errors.shape
    (3, True, (3,))
    """

    omega_xx: np.ndarray
    omega_yx: np.ndarray
    kappa: np.ndarray
    nu: np.ndarray
    mu: np.ndarray
    prediction: float
    target: float
    scale: float
    readout_errors: np.ndarray
    stopped_errors: np.ndarray | None = None

    @property
    def layers(self) -> int:
        return int(self.omega_xx.size)

    @property
    def relative_error(self) -> float:
        """``|ŷ − ⟨x_t, w*⟩| / (‖x_t‖ ‖w*‖)`` after the last layer."""
        return float(self.readout_errors[-1])


def _single_prompt(x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if np.ndim(x) != 2:
        raise ArgumentError(f"x must be one prompt of shape (n, d) (the construction is per instance), got {np.shape(x)}")
    n, d = check_regression_inputs(x, y, x_query)
    if n < d:
        raise ArgumentError(f"x must have n >= d rows so that Sigma is invertible, got n={n}, d={d}")
    x, y, x_query = (np.asarray(a, dtype=float) for a in (x, y, x_query))
    ev = np.linalg.eigvalsh(x.T @ x)
    if not ev[0] > 1e-12 * ev[-1]:
        raise ArgumentError(f"x must have full column rank (Sigma = x^T x is singular: eigenvalues {ev[0]:.3g} .. {ev[-1]:.3g})")
    return x, y, x_query


def _gdpp_weights(omega_xx: np.ndarray, omega_yx: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """One-head GD++ matrices with ``p_x = ω_xx``, ``p_y = ω_yx``, ``q_x = 1`` (so ``ω_xx = p_x q_x``, ``ω_yx = p_y q_x``)."""
    oxx, oyx = omega_xx[:, None], omega_yx[:, None]
    return gdpp_matrices(oxx, oyx, np.ones_like(oxx), d)


def _spectrum(xc: np.ndarray) -> tuple[float, float]:
    """Top and bottom eigenvalue of ``Σ = xc^T xc`` for context features ``xc`` of shape ``(n, d)``."""
    ev = np.linalg.eigvalsh(xc.T @ xc)
    return float(ev[-1]), float(ev[0])


def _ols_target(x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> tuple[float, float]:
    w_star = np.linalg.solve(x.T @ x, x.T @ y)
    return float(x_query @ w_star), float(np.linalg.norm(x_query) * np.linalg.norm(w_star))


def _split(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens ``(n+1, d+1)`` → context ``x``, context ``y``, query ``x_t``."""
    return Z[:-1, :-1], Z[:-1, -1], Z[-1, :-1]


def _run(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, oxx: np.ndarray, oyx: np.ndarray) -> tuple[list[np.ndarray], GDPPRun]:
    P, Q = _gdpp_weights(oxx, oyx, x.shape[1])
    fp = forward(x, y, x_query, P, Q)
    spec = np.array([_spectrum(Z[:-1, :-1]) for Z in fp.tokens[:-1]])
    target, scale = _ols_target(x, y, x_query)
    errs = np.array([abs(float(r) - target) / scale for r in fp.readouts])
    return fp.tokens, GDPPRun(omega_xx=oxx, omega_yx=oyx, kappa=spec[:, 0] / spec[:, 1], nu=spec[:, 0], mu=spec[:, 1],
                              prediction=float(fp.prediction), target=target, scale=scale, readout_errors=errs)


def gdpp_run(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, omega_xx: np.ndarray, omega_yx: np.ndarray) -> GDPPRun:
    """Run one prompt ``(n, d)`` through the GD++ forward pass (:func:`theory.vladymyrov.model.forward`, one head,
    ``p_x = ω_xx``, ``p_y = ω_yx``, ``q_x = 1``, ``q_y = 0``) with per-layer ``(ω_xx^l, ω_yx^l)`` (Vladymyrov et al.
    (2024), Sec. 5.1).

    Examples
    --------
    One layer with ``ω_xx = 0``, ``ω_yx = −η`` is one GD step from 0: ``ŷ = η ⟨α, x_t⟩``; the target is the OLS
    prediction ``⟨w*, x_t⟩``:

    >>> import numpy as np
    >>> from theory.vladymyrov import gdpp_run
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((12, 3)), rng.standard_normal(12), rng.standard_normal(3)
    >>> run = gdpp_run(x, y, x_q, np.array([0.0]), np.array([-0.05]))
    >>> bool(np.isclose(run.prediction, 0.05 * (x.T @ y) @ x_q)), bool(np.isclose(run.target, np.linalg.lstsq(x, y, rcond=None)[0] @ x_q))
    (True, True)
    """
    x, y, x_query = _single_prompt(x, y, x_query)
    oxx = real_array("omega_xx", omega_xx, ndim=1)
    oyx = real_array("omega_yx", omega_yx, ndim=1)
    if oxx.shape != oyx.shape or oxx.size < 1:
        raise ArgumentError(f"omega_xx and omega_yx must be non-empty and of one length, got {oxx.shape} and {oyx.shape}")
    return _run(x, y, x_query, oxx, oyx)[1]


def theorem51_construction(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, *, eps: float | None = None,
                           preconditioning_layers: int | None = None, gamma_nu: float = GAMMA_NU) -> GDPPRun:
    """Theorem 5.1's per-instance GD++ (App. A.4): ``K`` layers ``ω_xx^l = −γν/ν_l``, ``ω_yx^l = 0``, then ``ω_xx = 0``,
    ``ω_yx = −1/µ'`` with ``ν_l`` / ``µ'`` the top / bottom eigenvalue of ``Σ^l`` / ``Σ' = Σ^K``, run through the forward pass.

    Give exactly one of ``eps`` (then ``K + 1 = gdpp_layers_needed(κ(Σ), eps)``) or ``preconditioning_layers = K``.
    ``gamma_nu`` is ``γν`` (``1/3`` in the paper; other values for negative controls).  ``x`` is one prompt ``(n, d)``
    with ``n ≥ d`` and ``Σ`` invertible.  Each ``ν_l`` is read off the tokens that the layers built so far produce.
    Vladymyrov et al. (2024), Theorem 5.1: ``O(log κ + log log 1/ε)`` layers reach relative error ``ε``.

    Examples
    --------
    ``κ ≈ 9.8``: the theorem's layer count reaches ``ε = 10⁻⁶``, the preconditioning drives ``κ`` to 1, and plain GD
    with as many layers (error factor ``(κ−1)/(κ+1)`` per layer) is far from it:

    >>> import numpy as np
    >>> from theory.vladymyrov import gdpp_layers_needed, plain_gd_construction, theorem51_construction
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((12, 3)), rng.standard_normal(12), rng.standard_normal(3)
    >>> run = theorem51_construction(x, y, x_q, eps=1e-6)
    >>> ev = np.linalg.eigvalsh(x.T @ x)
    >>> run.layers == gdpp_layers_needed(ev[-1] / ev[0], 1e-6), run.relative_error <= 1e-6, round(float(run.kappa[-1]), 6)
    (True, True, 1.0)
    >>> plain_gd_construction(x, y, x_q, run.layers).relative_error > 0.1
    True
    """
    x, y, x_query = _single_prompt(x, y, x_query)
    c = _gamma_nu(gamma_nu)
    if (eps is None) == (preconditioning_layers is None):
        raise ArgumentError("give exactly one of eps or preconditioning_layers")
    d = x.shape[1]
    nu0, mu0 = _spectrum(x)
    K = gdpp_layers_needed(nu0 / mu0, eps) - 1 if eps is not None else nonnegative_int("preconditioning_layers", preconditioning_layers)
    oxx: list[float] = []
    xs, ys, xq = x, y, x_query
    for _ in range(K):  # layer by layer: ν_l from the tokens of the GD++ forward pass so far
        oxx.append(-c / _spectrum(xs)[0])
        P, Q = _gdpp_weights(np.array(oxx[-1:]), np.zeros(1), d)
        xs, ys, xq = _split(forward(xs, ys, xq, P, Q).tokens[-1])
    mu_K = _spectrum(xs)[1]
    toks, run = _run(x, y, x_query, np.array(oxx + [0.0]), np.array([0.0] * K + [-1.0 / mu_K]))
    stopped = []
    for k in range(K + 1):  # the GD layer placed after k preconditioning layers, through the forward pass
        xk, yk, qk = _split(toks[k])
        P1, Q1 = _gdpp_weights(np.zeros(1), np.array([-1.0 / float(run.mu[k])]), d)
        stopped.append(abs(float(forward(xk, yk, qk, P1, Q1).prediction) - run.target) / run.scale)
    return GDPPRun(omega_xx=run.omega_xx, omega_yx=run.omega_yx, kappa=run.kappa, nu=run.nu, mu=run.mu,
                   prediction=run.prediction, target=run.target, scale=run.scale, readout_errors=run.readout_errors,
                   stopped_errors=np.array(stopped))


def plain_gd_construction(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, layers: int, *, step: float | None = None) -> GDPPRun:
    """Plain GD in GD++ form: ``ω_xx = 0`` and ``ω_yx = −η`` in every layer, ``η = 2/(µ + ν)`` by default (the best fixed
    step for the worst case, error factor ``(κ − 1)/(κ + 1)`` per layer), run through the forward pass.

    The baseline of Vladymyrov et al. (2024), Theorem 5.1 (claim V-E6's control).

    Examples
    --------
    The textbook bound ``‖w_L − w*‖ ≤ ((κ−1)/(κ+1))^L ‖w*‖`` bounds the relative read-out error:

    >>> import numpy as np
    >>> from theory.vladymyrov import plain_gd_construction
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((12, 3)), rng.standard_normal(12), rng.standard_normal(3)
    >>> ev = np.linalg.eigvalsh(x.T @ x)
    >>> kappa = ev[-1] / ev[0]
    >>> bool(plain_gd_construction(x, y, x_q, 5).relative_error <= ((kappa - 1) / (kappa + 1)) ** 5)
    True
    """
    x, y, x_query = _single_prompt(x, y, x_query)
    L = positive_int("layers", layers)
    if step is None:
        ev = np.linalg.eigvalsh(x.T @ x)
        eta = 2.0 / (float(ev[0]) + float(ev[-1]))
    else:
        eta = positive_float("step", step)
    return gdpp_run(x, y, x_query, np.zeros(L), np.full(L, -eta))
