"""Theorem 4.2 and the noise-adaptivity statements of Section 5 (Vladymyrov et al. 2024, arXiv:2402.14180).

Conventions are those of :mod:`theory.vladymyrov.model`: sums without ``1/n``, ``Σ^l = Σ_{i≤n} x_i^l x_i^{lT}``,
``α^l = Σ_{i≤n} y_i^l x_i^l``, ``λ^l = Σ_{i≤n} (y_i^l)²`` over the ``n`` context tokens only (the query is masked
out of ``E^l``), the DIAG layer::

    x_i^{l+1} = x_i^l + ω_xx Σ^l x_i^l + ω_xy y_i^l α^l,      y_i^{l+1} = y_i^l + ω_yx ⟨α^l, x_i^l⟩ + ω_yy λ^l y_i^l

applied to all ``n + 1`` tokens, and the read-out ``ŷ = −y_t^L`` so that ``ŷ = ⟨w^L, x_t⟩`` with Theorem 4.1's
``y_i^l = a^l y_i − ⟨w^l, x_i⟩``.  ``ω_ab`` carries ``b`` into ``a`` (``ω_yx``: x → y).

Theorem 4.2 (noiseless ``y_i = w^T x_i``, ``x_i ~ N(0, I_d)``).  Every layer's labels ``y^l = (y_i^l)_i`` lie in the
column space of ``X`` (Theorem 4.1 with ``y = Xw``: ``y^l = X(a^l w − w^l)``), so for *every* model
``|cos(y^l, y*)| ≤ sup_v cos(Xv, y*) = ||Proj_col(X) y*|| / ||y*||`` with ``y* = (x_i(1)²)_i``.  Our approximation
(:func:`thm42_cos2_approximation`): ``X^T y* = Σ_i x_i x_i(1)²`` has mean 0 (odd moments) and covariance
``n diag(E g⁶, E g⁴ E g², …) = n diag(15, 3, …, 3)``; with ``X^T X ≈ n I``,
``E||Proj y*||² ≈ E||X^T y*||²/n = 15 + 3(d − 1) = 3d + 12`` while ``||y*||² ≈ n E g⁴ = 3n``, so
``cos² ≈ (d + 4)/n``.  The mean ``E y*_i = 1`` is included; splitting ``y* = 1 + (y* − 1)`` gives ``d`` (constant
part: ``Proj`` of a fixed vector onto a uniformly random d-plane) + ``2d + 8`` (centred part) + ``4`` (cross
term), the same ``3d + 12``.  A vector in general position would give ``d/n`` (:func:`thm42_generic_cos2`).

Section 5.2 (ω_yy, adaptive rescaling).  A layer with only ``ω_yy ≠ 0`` multiplies every label, the query's
included, by ``1 + ω_yy λ^l`` (λ^l over the context only) and leaves ``x`` alone; so ``a`` and ``w`` of Theorem 4.1
scale by the same factor (``M, u`` unchanged).

Section 5.3 (ω_xy, step size).  Layer 1 with only ``ω_xy ≠ 0`` sends ``x_i → x_i + ω_xy y_i α`` and leaves the query
(``y_t = 0``) alone, so ``α^1 = Σ_i y_i x_i^1 = (1 + ω_xy λ) α`` *exactly*; layer 2 with only ``ω_yx ≠ 0`` then gives
``ŷ = −ω_yx (1 + ω_xy λ) ⟨α, x_t⟩``.  The paper writes the factor as ``1 + ω_xy ρ`` (``ρ`` = OLS residual energy)
after dropping the multiplicative part ``(I + ω_xy Σ w* w*^T)`` of the layer-1 map; since ``λ = ρ + w*^T Σ w*`` that
is exact only when ``ω_xy w*^T Σ w*`` is negligible.

Theorem 5.2 (``x_i ~ N(0, I/n)``, ``σ ∈ {σ_1, σ_2}``, ``n → ∞``).  Layer 1 with only ``ω_yx``: ``y_i^1 = y_i +
ω_yx ⟨α, x_i⟩``, ``y_t^1 = ω_yx ⟨α, x_t⟩`` (so ``w^1 = −ω_yx α``); layer 2 with only ``ω_yy``: ``y^2 = (1 + ω_yy λ^1) y^1``,
hence exactly ``w^2 = −ω_yx (1 + ω_yy λ^1) α`` (:func:`thm52_two_layer_weights`).  ``λ^1/n → σ²`` and ``Σ → I`` give
``ŷ → −ω_yx (1 + σ² nω_yy) ⟨α, x_q⟩`` against the ridge limit ``⟨α, x_q⟩/(1 + σ²)``.  With ``z = nω_yx ω_yy`` the
conditions ``ω_yx + σ_k² z = −1/(1 + σ_k²)`` (k = 1, 2) give (:func:`thm52_constants`)::

    z = 1/((1+σ_1²)(1+σ_2²)),   ω_yx = −(1 + σ_1² + σ_2²)/((1+σ_1²)(1+σ_2²)),   nω_yy = −1/(1 + σ_1² + σ_2²).

First-order error (:func:`thm52_relative_error_scale`): with ``Σ = I + Δ`` and ``δ = λ^1/n − σ²``,
``w^2 − w_ridge ≈ [−z δ I + Δ/(1+σ²)²] α``; ``δ ≈ (Σ_i ξ_i² − nσ²)/n`` has variance ``2σ⁴/n`` and
``E||Δ v||² = (d + 1)/n`` for a unit ``v``, so the relative error ``||w^2 − w_ridge||/||w_ridge||`` has RMS
``√([2 z² (1+σ²)² σ⁴ + (d+1)/(1+σ²)²]/n)``.

Only numpy, sympy and scipy here (no torch, numerics or proofs_check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import sympy as sp

from theory.arguments import ArgumentError, finite_array, flag, nonnegative_float, one_of, positive_int, real_array
from theory.vladymyrov.baselines import ridge_weights
from theory.vladymyrov.model import OMEGA_NAMES, ForwardPass, check_regression_inputs, diag_matrices, omega_forward
from theory.vladymyrov.recursion import ols_data

__all__ = [
    "omega_layers", "omega_layer_weights", "label_energy", "inner", "thm42_target", "sup_cosine", "label_cosine",
    "thm42_cos2_approximation", "thm42_cosine_approximation", "thm42_generic_cos2", "thm42_leading_moments",
    "sec52_rescaling_factor", "sec52_ridge_shrinkage", "sec53_step_exact", "sec53_step_paper", "sec53_prediction",
    "TwoNoiseConstants", "thm52_constants", "thm52_constants_as_printed", "thm52_constants_symbolic",
    "thm52_two_layer_weights", "thm52_two_layer_prediction", "two_layer_forward", "thm52_ridge_weights",
    "thm52_relative_error_scale", "one_layer_limit_relative_error", "symbolic_sec52_residuals",
    "symbolic_sec53_residuals", "symbolic_thm52_residuals",
]


# ------------------------------------------------------------------------------------------------ helpers


def _is_symbolic(value: Any) -> bool:
    """sympy expressions, polynomial-ring / fraction-field elements (``sp.ring``, ``sp.field``), object arrays."""
    if isinstance(value, np.ndarray):
        return value.dtype == object
    return isinstance(value, sp.Basic) or hasattr(value, "ring") or hasattr(value, "field")


def _value(name: str, value: Any) -> Any:
    """A finite float (or float array), or a symbolic value passed through unchanged."""
    if _is_symbolic(value):
        return value
    if isinstance(value, bool | np.bool_):
        raise ArgumentError(f"{name} must be a number, got {value!r}")
    arr = finite_array(name, value)
    if arr.dtype.kind == "c":
        raise ArgumentError(f"{name} must be real, got dtype {arr.dtype}")
    return float(arr) if arr.ndim == 0 else arr.astype(float)


def omega_layers(layers: Sequence[tuple[str, Any]]) -> np.ndarray:
    """``(L, 4)`` array of ``(ω_xx, ω_xy, ω_yx, ω_yy)`` for DIAG layers each with one nonzero ``ω``.

    ``layers`` is a sequence of ``(name, value)`` with ``name`` in ``("xx", "xy", "yx", "yy")``, e.g.
    ``[("xy", ω_xy), ("yx", ω_yx)]`` for Section 5.3.  Symbolic values give an object array (Vladymyrov et al. (2024),
    Sec. 5).

    Examples
    --------
    >>> from theory.vladymyrov import omega_layers
    >>> omega_layers([("xy", 0.5), ("yx", -2.0)]).tolist()  # columns (ω_xx, ω_xy, ω_yx, ω_yy)
    [[0.0, 0.5, 0.0, 0.0], [0.0, 0.0, -2.0, 0.0]]
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ArgumentError(f"layers must be a non-empty sequence of (name, value) pairs, got {layers!r}")
    for i, item in enumerate(layers):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ArgumentError(f"layers[{i}] must be a (name, value) pair, got {item!r}")
    symbolic = any(_is_symbolic(v) for _, v in layers)
    out = np.zeros((len(layers), 4), dtype=object if symbolic else float)
    for i, (name, value) in enumerate(layers):
        one_of(f"layers[{i}] name", name, OMEGA_NAMES)
        v = _value(f"layers[{i}] value", value)
        if isinstance(v, np.ndarray):
            raise ArgumentError(f"layers[{i}] value must be a scalar, got shape {v.shape}")
        out[i, OMEGA_NAMES.index(name)] = v
    return out


def omega_layer_weights(layers: Sequence[tuple[str, Any]], d: int) -> tuple[np.ndarray, np.ndarray]:
    """One-head DIAG weights ``P = diag(p_x I_d, p_y)``, ``Q = diag(q_x I_d, q_y)`` realising :func:`omega_layers`.

    ``ω_ab`` alone is ``p_a = ω``, ``q_b = 1`` and the other two numbers 0 (``ω_ab = p_a q_b``, Sec. 5).  Float values
    go through :func:`theory.vladymyrov.model.diag_matrices`; symbolic values (sympy expressions or polynomial-ring
    elements) give object arrays of shape ``(L, 1, d+1, d+1)`` for the exact forward pass.

    Examples
    --------
    The matrix forward pass on these weights equals the ω update equations (:func:`two_layer_forward`):

    >>> import numpy as np
    >>> from theory.vladymyrov import forward, omega_layer_weights, two_layer_forward
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> layers = [("xy", 0.05), ("yx", -0.1)]
    >>> P, Q = omega_layer_weights(layers, 2)
    >>> bool(np.allclose(forward(x, y, x_q, P, Q).tokens[-1], two_layer_forward(x, y, x_q, layers).tokens[-1]))
    True
    """
    d = positive_int("d", d)
    om = omega_layers(layers)
    L = om.shape[0]
    p = {k: np.zeros((L, 1), dtype=om.dtype) for k in ("x", "y")}
    q = {k: np.zeros((L, 1), dtype=om.dtype) for k in ("x", "y")}
    for i, (name, _) in enumerate(layers):
        p[name[0]][i, 0] = om[i, OMEGA_NAMES.index(name)]
        q[name[1]][i, 0] = 1
    if om.dtype != object:
        return diag_matrices(p["x"], p["y"], q["x"], q["y"], d)

    def build(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        m = np.zeros((L, 1, d + 1, d + 1), dtype=object)
        for i in range(L):
            for j in range(d):
                m[i, 0, j, j] = a[i, 0]
            m[i, 0, d, d] = b[i, 0]
        return m

    return build(p["x"], p["y"]), build(q["x"], q["y"])


def label_energy(y_context: np.ndarray) -> Any:
    """``λ = Σ_{i≤n} y_i²`` over the context labels (last axis); the query's label never enters (Sec. 3 masking).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import label_energy
    >>> float(label_energy(np.array([1.0, 2.0, 2.5])))  # λ = Σ_i y_i²
    11.25
    """
    y = _value("y_context", y_context)
    if not isinstance(y, np.ndarray) or y.ndim < 1 or y.shape[-1] < 1:
        raise ArgumentError(f"y_context must be an array (..., n) with n >= 1, got {y_context!r}")
    return (y * y).sum(-1)


def inner(a: np.ndarray, b: np.ndarray) -> Any:
    """``⟨a, b⟩`` over the last axis (works on object arrays).

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from theory.vladymyrov import inner
    >>> float(inner(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    >>> inner(np.array(sp.symbols("a b"), dtype=object), np.array([1, 2], dtype=object))
    a + 2*b
    """
    _value("a", a), _value("b", b)
    return (a * b).sum(-1)


# ------------------------------------------------------------------------------------------------ Theorem 4.2


def thm42_target(x: np.ndarray) -> np.ndarray:
    """``y* = (x_i(1)²)_i`` (the first coordinate squared), shape ``(..., n)`` for ``x`` of shape ``(..., n, d)``.

    The non-linear target of Vladymyrov et al. (2024), Theorem 4.2 (a linear read-out cannot fit it).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import thm42_target
    >>> thm42_target(np.array([[2.0, 5.0], [-3.0, 1.0]])).tolist()
    [4.0, 9.0]
    """
    real_array("x", x)
    x = finite_array("x", x)
    if x.ndim < 2 or x.shape[-1] < 1:
        raise ArgumentError(f"x must have shape (..., n, d) with d >= 1, got {x.shape}")
    return x[..., 0] ** 2


def sup_cosine(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``sup_v cos(X v, t) = ||Proj_col(X) t|| / ||t||`` per sequence (Theorem 4.2's uniform-over-models statistic).

    ``x`` is ``(..., n, d)`` and ``target`` ``(..., n)``; the projection uses a reduced QR of ``X`` (for ``n ≤ d`` and
    full rank the column space is all of ``R^n`` and the value is 1).

    Examples
    --------
    ``X = e_1`` in ``R^3`` and ``t = (1, 1, 0)``: the projection is ``e_1``, so the cosine is ``1/√2``; with ``n ≤ d``
    it is 1:

    >>> import numpy as np
    >>> from theory.vladymyrov import sup_cosine
    >>> round(float(sup_cosine(np.array([[1.0], [0.0], [0.0]]), np.array([1.0, 1.0, 0.0]))), 12)
    0.707106781187
    >>> round(float(sup_cosine(np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([3.0, 7.0]))), 12)
    1.0
    """
    real_array("x", x), real_array("target", target)
    x, t = finite_array("x", x), finite_array("target", target)
    if x.ndim < 2 or x.shape[-2] < 1 or x.shape[-1] < 1:
        raise ArgumentError(f"x must have shape (..., n, d) with n, d >= 1, got {x.shape}")
    if t.shape != x.shape[:-1]:
        raise ArgumentError(f"target must have shape {x.shape[:-1]}, got {t.shape}")
    norm = np.sqrt((t * t).sum(-1))
    if np.any(norm == 0):
        raise ArgumentError("target must be nonzero in every sequence (the cosine is undefined for a zero vector)")
    q, _ = np.linalg.qr(x)
    proj = np.einsum("...nk,...n->...k", q, t)
    return np.minimum(np.sqrt((proj * proj).sum(-1)) / norm, 1.0)


def label_cosine(labels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``cos(y^l, y*)`` per sequence over the last axis (NaN-free: a zero ``y^l`` gives cosine 0; Vladymyrov et al.
    (2024), Theorem 4.2).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import label_cosine
    >>> label_cosine(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]])).round(12).tolist()
    [0.707106781187, 0.0]
    """
    real_array("labels", labels), real_array("target", target)
    a, b = finite_array("labels", labels), finite_array("target", target)
    if a.shape != b.shape or a.ndim < 1:
        raise ArgumentError(f"labels and target must have the same shape (..., n), got {a.shape} and {b.shape}")
    na, nb = np.sqrt((a * a).sum(-1)), np.sqrt((b * b).sum(-1))
    if np.any(nb == 0):
        raise ArgumentError("target must be nonzero in every sequence")
    return np.where(na > 0, (a * b).sum(-1) / np.where(na > 0, na, 1.0) / nb, 0.0)


def thm42_cos2_approximation(n: int, d: int) -> float:
    """``E cos²(Proj y*, y*) ≈ (d + 4)/n`` (our leading-order derivation, module docstring).

    Examples
    --------
    >>> from theory.vladymyrov import thm42_cos2_approximation, thm42_generic_cos2
    >>> thm42_cos2_approximation(100, 4), thm42_generic_cos2(100, 4)
    (0.08, 0.04)
    """
    return (positive_int("d", d) + 4) / positive_int("n", n)


def thm42_cosine_approximation(n: int, d: int) -> float:
    """``sup_v cos(Xv, y*) ≈ √((d + 4)/n)`` (root of :func:`thm42_cos2_approximation`).

    Examples
    --------
    >>> import math
    >>> from theory.vladymyrov import thm42_cosine_approximation
    >>> math.isclose(thm42_cosine_approximation(100, 4), math.sqrt(8 / 100))  # √((d + 4)/n)
    True
    """
    return math.sqrt(thm42_cos2_approximation(n, d))


def thm42_generic_cos2(n: int, d: int) -> float:
    """``d/n``: ``E cos²`` for a vector in general position (a wrong approximation, the negative control).

    Examples
    --------
    >>> from theory.vladymyrov import thm42_generic_cos2
    >>> thm42_generic_cos2(100, 4)  # d/n for a vector in general position
    0.04
    """
    return positive_int("d", d) / positive_int("n", n)


def thm42_leading_moments(d: int | sp.Symbol | None = None) -> dict[str, sp.Expr]:
    """The Gaussian moments behind :func:`thm42_cos2_approximation`, exactly (sympy integrals).

    Returns ``{"projection": E||X^T y*||²/n, "norm": E||y*||²/n, "cos2_times_n": their ratio}`` as sympy
    expressions in ``d`` (a symbol by default): ``3d + 12``, ``3`` and ``(d + 4)``.

    Examples
    --------
    >>> from theory.vladymyrov import thm42_leading_moments
    >>> thm42_leading_moments()["cos2_times_n"]
    d + 4
    """
    if d is None:
        dd = sp.Symbol("d", positive=True, integer=True)
    else:
        dd = d if isinstance(d, sp.Basic) else sp.Integer(positive_int("d", d))
    g = sp.Symbol("g", real=True)
    density = sp.exp(-g**2 / 2) / sp.sqrt(2 * sp.pi)

    def moment(k: int) -> sp.Expr:
        return sp.integrate(g**k * density, (g, -sp.oo, sp.oo))

    projection = moment(6) + (dd - 1) * moment(4) * moment(2)  # Σ_j E[x(j)² x(1)⁴]
    norm = moment(4)
    return {"projection": sp.expand(projection), "norm": norm, "cos2_times_n": sp.simplify(projection / norm)}


# ------------------------------------------------------------------------------------------------ Section 5.2


def sec52_rescaling_factor(y_context: np.ndarray, omega_yy: Any) -> Any:
    """``1 + ω_yy λ^l`` with ``λ^l = Σ_{i≤n} (y_i^l)²`` (context labels only): the factor by which an ``ω_yy``-only
    DIAG layer multiplies every label, the query's included (Sec. 5.2).

    Examples
    --------
    ``y = (1, 2)``, ``ω_yy = 1/2``: ``1 + 5/2 = 7/2``; the forward pass of an ``ω_yy``-only layer scales the labels by
    it:

    >>> import numpy as np
    >>> from theory.vladymyrov import sec52_rescaling_factor, two_layer_forward
    >>> float(sec52_rescaling_factor(np.array([1.0, 2.0]), 0.5))
    3.5
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> labels = two_layer_forward(x, y, x_q, [("yy", 0.5)]).tokens[1][:-1, -1]
    >>> bool(np.allclose(labels, sec52_rescaling_factor(y, 0.5) * y))
    True
    """
    return 1 + _value("omega_yy", omega_yy) * label_energy(y_context)


def sec52_ridge_shrinkage(n: int, sigma: float) -> float:
    """``n/(n + σ²)``: ridge at noise ``σ`` shrinks OLS by this factor when ``Σ ≈ E Σ = n I`` (Sec. 5.2).

    Examples
    --------
    >>> from theory.vladymyrov import sec52_ridge_shrinkage
    >>> sec52_ridge_shrinkage(20, 1.0)  # n/(n + σ²)
    0.9523809523809523
    """
    n = positive_int("n", n)
    return n / (n + nonnegative_float("sigma", sigma) ** 2)


# ------------------------------------------------------------------------------------------------ Section 5.3


def sec53_step_exact(lam: Any, omega_xy: Any, omega_yx: Any) -> Any:
    """The exact effective step ``−ω_yx (1 + ω_xy λ)`` of the ω_xy-then-ω_yx pair (Sec. 5.3), ``λ = Σ_i y_i²``.

    Examples
    --------
    >>> from theory.vladymyrov import sec53_step_exact
    >>> round(sec53_step_exact(2.0, 0.1, -0.5), 12)  # −ω_yx (1 + ω_xy λ)
    0.6
    """
    return -_value("omega_yx", omega_yx) * (1 + _value("omega_xy", omega_xy) * _value("lam", lam))


def sec53_step_paper(rho: Any, omega_xy: Any, omega_yx: Any) -> Any:
    """The paper's step ``−ω_yx (1 + ω_xy ρ)``, ``ρ = Σ_i r_i²`` the OLS residual energy (Sec. 5.3, an approximation).

    Examples
    --------
    >>> from theory.vladymyrov import sec53_step_paper
    >>> round(sec53_step_paper(1.5, 0.1, -0.5), 12)  # −ω_yx (1 + ω_xy ρ): ρ in place of λ
    0.575
    """
    return -_value("omega_yx", omega_yx) * (1 + _value("omega_xy", omega_xy) * _value("rho", rho))


def sec53_prediction(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, omega_xy: float, omega_yx: float,
                     form: Literal["exact", "paper"] = "exact") -> np.ndarray:
    """``step · ⟨α, x_t⟩`` with the exact (``λ``) or the paper's (``ρ``, needs ``n ≥ d``) step of Sec. 5.3 (Vladymyrov
    et al. (2024)).

    Examples
    --------
    The exact form agrees with the forward pass of the two layers ``ω_xy``, ``ω_yx``:

    >>> import numpy as np
    >>> from theory.vladymyrov import sec53_prediction, two_layer_forward
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> run = two_layer_forward(x, y, x_q, [("xy", 0.05), ("yx", -0.1)])
    >>> bool(np.isclose(sec53_prediction(x, y, x_q, 0.05, -0.1), run.prediction))
    True
    """
    check_regression_inputs(x, y, x_query)
    form = one_of("form", form, ("exact", "paper"))
    alpha = (y[..., None] * x).sum(-2)
    if form == "exact":
        step = sec53_step_exact(label_energy(y), omega_xy, omega_yx)
    else:
        step = sec53_step_paper(ols_data(x, y).rho, omega_xy, omega_yx)
    return step * inner(alpha, x_query)


# ------------------------------------------------------------------------------------------------ Theorem 5.2


@dataclass(frozen=True)
class TwoNoiseConstants:
    """Theorem 5.2's parameters: layer 1 only ``ω_yx``, layer 2 only ``ω_yy = (nω_yy)/n`` (Vladymyrov et al. (2024),
    Theorem 5.2).

    Examples
    --------
    The constants of :func:`thm52_constants` make the ``n → ∞`` factor equal the ridge limit ``1/(1 + σ_k²)``
    (``x_i ~ N(0, I/n)``, module docstring) at both noise levels:

    >>> from theory.vladymyrov import thm52_constants
    >>> c = thm52_constants(1.0, 3.0)
    >>> round(c.limit_factor(1.0), 12), round(c.limit_factor(3.0), 12)
    (0.5, 0.1)
    >>> c.layers(10)[0][0], round(c.layers(10)[1][1] * 10 - c.n_omega_yy, 12)
    ('yx', 0.0)
    """

    omega_yx: float
    n_omega_yy: float

    def layers(self, n: int) -> list[tuple[str, float]]:
        """``[("yx", ω_yx), ("yy", nω_yy / n)]`` for :func:`omega_layers` / :func:`omega_layer_weights`."""
        return [("yx", self.omega_yx), ("yy", self.n_omega_yy / positive_int("n", n))]

    def limit_factor(self, sigma: float) -> float:
        """``−ω_yx (1 + σ² nω_yy)``: the n → ∞ limit of ``ŷ/⟨α, x_q⟩`` at noise ``σ``."""
        return -self.omega_yx * (1 + nonnegative_float("sigma", sigma) ** 2 * self.n_omega_yy)


def _two_variances(sigma1: float, sigma2: float) -> tuple[float, float]:
    s1, s2 = nonnegative_float("sigma1", sigma1) ** 2, nonnegative_float("sigma2", sigma2) ** 2
    if s1 == s2:
        raise ArgumentError(f"sigma2 must differ from sigma1 (two noise levels), got sigma1={sigma1!r}, sigma2={sigma2!r}")
    return s1, s2


def thm52_constants(sigma1: float, sigma2: float) -> TwoNoiseConstants:
    """Solve ``ω_yx + σ_k² z = −1/(1 + σ_k²)``, ``z = nω_yx ω_yy``, k = 1, 2 (Theorem 5.2 with ``ŷ = −y_t``).

    Closed form: ``ω_yx = −(1 + σ_1² + σ_2²)/((1+σ_1²)(1+σ_2²))`` and ``nω_yy = −1/(1 + σ_1² + σ_2²)``;
    σ = (0.5, 2) gives ``ω_yx = −0.84``, ``nω_yy = −4/21 ≈ −0.1905``.

    Examples
    --------
    >>> from theory.vladymyrov import thm52_constants
    >>> c = thm52_constants(0.5, 2.0)
    >>> round(c.omega_yx, 12), round(c.n_omega_yy, 12)
    (-0.84, -0.190476190476)
    """
    s1, s2 = _two_variances(sigma1, sigma2)
    return TwoNoiseConstants(omega_yx=-(1 + s1 + s2) / ((1 + s1) * (1 + s2)), n_omega_yy=-1.0 / (1 + s1 + s2))


def thm52_constants_as_printed(sigma1: float, sigma2: float) -> TwoNoiseConstants:
    """The proof's equations as printed, ``(1 + nσ_k² ω_yy) ω_yx = +1/(1 + σ_k²)`` (from ``w^1 = +ω_yx α``).

    Same ``nω_yy``, opposite ``ω_yx``: with the read-out ``ŷ = −y_t`` these parameters output minus the ridge
    prediction (negative control of the sign slip).

    Examples
    --------
    >>> from theory.vladymyrov import thm52_constants, thm52_constants_as_printed
    >>> thm52_constants_as_printed(0.5, 2.0).omega_yx == -thm52_constants(0.5, 2.0).omega_yx  # the sign slip
    True
    """
    ours = thm52_constants(sigma1, sigma2)
    return TwoNoiseConstants(omega_yx=-ours.omega_yx, n_omega_yy=ours.n_omega_yy)


def thm52_constants_symbolic() -> dict[str, sp.Expr]:
    """sympy solution of the linear system in ``(ω_yx, z)`` with variances ``s1 = σ_1², s2 = σ_2²`` (symbols).

    Returns ``{"omega_yx", "z", "n_omega_yy", "closed_omega_yx", "closed_n_omega_yy"}``: the solved expressions
    and the closed forms of :func:`thm52_constants` (their differences simplify to 0).

    Examples
    --------
    >>> from theory.vladymyrov import thm52_constants_symbolic
    >>> thm52_constants_symbolic()["closed_n_omega_yy"]
    -1/(s1 + s2 + 1)
    """
    s1, s2, oyx, z = sp.symbols("s1 s2 omega_yx z", real=True)
    sol = sp.solve([oyx + s1 * z + 1 / (1 + s1), oyx + s2 * z + 1 / (1 + s2)], [oyx, z], dict=True)[0]
    return {"omega_yx": sp.simplify(sol[oyx]), "z": sp.simplify(sol[z]), "n_omega_yy": sp.simplify(sol[z] / sol[oyx]),
            "closed_omega_yx": -(1 + s1 + s2) / ((1 + s1) * (1 + s2)), "closed_n_omega_yy": -1 / (1 + s1 + s2)}


def thm52_two_layer_weights(x: np.ndarray, y: np.ndarray, omega_yx: float, omega_yy: float) -> np.ndarray:
    """The exact implicit ``w^2 = −ω_yx (1 + ω_yy λ^1) α`` (``ŷ = ⟨w^2, x_q⟩``) of the two-layer model of Theorem 5.2,
    with ``λ^1 = Σ_i (y_i + ω_yx ⟨α, x_i⟩)²``; ``x`` is ``(..., n, d)``, ``y`` ``(..., n)`` (Vladymyrov et al. (2024),
    Theorem 5.2).

    Examples
    --------
    ``⟨w², x_q⟩`` agrees with the forward pass (:func:`thm52_two_layer_prediction`):

    >>> import numpy as np
    >>> from theory.vladymyrov import thm52_two_layer_prediction, thm52_two_layer_weights
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> bool(np.isclose(thm52_two_layer_weights(x, y, -0.1, 0.02) @ x_q, thm52_two_layer_prediction(x, y, x_q, -0.1, 0.02)))
    True
    """
    x, y = finite_array("x", x), finite_array("y", y)
    check_regression_inputs(x, y, np.zeros(x.shape[:-2] + (x.shape[-1],)))
    oyx, oyy = _value("omega_yx", omega_yx), _value("omega_yy", omega_yy)
    alpha = (y[..., None] * x).sum(-2)
    y1 = y + oyx * (x @ alpha[..., None])[..., 0]
    return (-oyx * (1 + oyy * label_energy(y1)))[..., None] * alpha


def thm52_two_layer_prediction(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, omega_yx: float, omega_yy: float) -> np.ndarray:
    """``ŷ = −y_q^2`` of the two-layer DIAG model (layer 1 only ``ω_yx``, layer 2 only ``ω_yy``), by the forward pass.

    Vladymyrov et al. (2024), Theorem 5.2.  With ``ω_yy = 0`` it is one GD step, ``−ω_yx ⟨α, x_q⟩``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import thm52_two_layer_prediction
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> bool(np.isclose(thm52_two_layer_prediction(x, y, x_q, -0.1, 0.0), 0.1 * (x.T @ y) @ x_q))
    True
    """
    _value("omega_yx", omega_yx), _value("omega_yy", omega_yy)
    return two_layer_forward(x, y, x_query, [("yx", omega_yx), ("yy", omega_yy)]).prediction


def two_layer_forward(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, layers: Sequence[tuple[str, float]]) -> ForwardPass:
    """DIAG forward pass (the ω update equations of :func:`theory.vladymyrov.model.omega_forward`) for single-ω layers.

    Vladymyrov et al. (2024), Sec. 5.  ``layers`` as in :func:`omega_layers`.

    Examples
    --------
    One ``ω_yx`` layer is one GD step from 0: the query's label becomes ``ω_yx ⟨α, x_q⟩``:

    >>> import numpy as np
    >>> from theory.vladymyrov import two_layer_forward
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> run = two_layer_forward(x, y, x_q, [("yx", -0.1)])
    >>> bool(np.isclose(run.tokens[1][-1, -1], -0.1 * (x.T @ y) @ x_q))
    True
    """
    return omega_forward(x, y, x_query, omega_layers(layers).astype(float))


def thm52_ridge_weights(x: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
    """The ridge target ``(Σ + σ² I)^{-1} α`` of Theorem 5.2 (posterior mean for ``w ~ N(0, I)``; Vladymyrov et al.
    (2024)).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import thm52_ridge_weights
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> bool(np.allclose(thm52_ridge_weights(x, y, 0.5), np.linalg.solve(x.T @ x + 0.25 * np.eye(2), x.T @ y)))
    True
    """
    return ridge_weights(x, y, nonnegative_float("sigma", sigma) ** 2)


def thm52_relative_error_scale(sigma1: float, sigma2: float, sigma: float, n: int, d: int) -> float:
    """First-order RMS of ``||w^2 − w_ridge|| / ||w_ridge||`` at noise ``σ`` for the constants tuned to ``(σ_1, σ_2)``:
    ``√([2 z² (1+σ²)² σ⁴ + (d+1)/(1+σ²)²]/n)`` with ``z = 1/((1+σ_1²)(1+σ_2²))`` (module docstring).

    Valid for ``σ ∈ {σ_1, σ_2}`` (where the limit is exact); ``n`` large.

    Examples
    --------
    By hand, ``(σ_1, σ_2) = (0, 1)``, ``n = 100``, ``d = 3``: at ``σ = 0`` only ``(d+1)/n`` remains, ``√0.04 = 0.2``;
    at ``σ = 1``, ``z = 1/2`` and ``2·¼·4 + 4/4 = 3``, so ``√0.03``:

    >>> import math
    >>> from theory.vladymyrov import thm52_relative_error_scale
    >>> round(thm52_relative_error_scale(0.0, 1.0, 0.0, 100, 3), 12), math.isclose(thm52_relative_error_scale(0.0, 1.0, 1.0, 100, 3), math.sqrt(0.03))
    (0.2, True)
    """
    s1, s2 = _two_variances(sigma1, sigma2)
    s = nonnegative_float("sigma", sigma) ** 2
    n, d = positive_int("n", n), positive_int("d", d)
    z = 1.0 / ((1 + s1) * (1 + s2))
    return math.sqrt((2 * z**2 * (1 + s) ** 2 * s**2 + (d + 1) / (1 + s) ** 2) / n)


def one_layer_limit_relative_error(sigma_tuned: float, sigma: float) -> float:
    """``|(1 + σ²)/(1 + σ_t²) − 1|``: the n → ∞ relative error vs ridge at ``σ`` of the one-layer model
    ``ŷ = ⟨α, x_q⟩/(1 + σ_t²)`` (only ``ω_yx = −1/(1 + σ_t²)``) tuned for ``σ_t``.

    Examples
    --------
    >>> from theory.vladymyrov import one_layer_limit_relative_error
    >>> one_layer_limit_relative_error(1.0, 2.0)  # tuned for σ_t = 1, used at σ = 2: |5/2 − 1|
    1.5
    """
    st2 = nonnegative_float("sigma_tuned", sigma_tuned) ** 2
    return abs((1 + nonnegative_float("sigma", sigma) ** 2) / (1 + st2) - 1)


# ------------------------------------------------------------------------------------------------ exact (sympy) forms


def _symbolic_prompt(n: int, d: int, omega_names: Sequence[str]) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    """Generators of the rational-function field ``QQ(x_i(j), y_i, t_j, ω…)``: data ``(x, y, x_t)`` and the ``ω``."""
    n, d = positive_int("n", n), positive_int("d", d)
    names = [f"x{i}_{j}" for i in range(n) for j in range(d)] + [f"y{i}" for i in range(n)] + [f"t{j}" for j in range(d)]
    field, *gens = sp.field(names + list(omega_names), sp.QQ)
    x = np.array(gens[: n * d], dtype=object).reshape(n, d)
    y = np.array(gens[n * d: n * d + n], dtype=object)
    t = np.array(gens[n * d + n: n * d + n + d], dtype=object)
    return field, x, y, t, list(gens[n * d + n + d:])


def _symbolic_forward(x: np.ndarray, y: np.ndarray, t: np.ndarray, layers: Sequence[tuple[str, Any]]) -> ForwardPass:
    from theory.vladymyrov.model import forward

    P, Q = omega_layer_weights(layers, x.shape[-1])
    return forward(x, y, t, P, Q)


def _field_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A v = b`` by Gaussian elimination over field elements (small ``d``; generic symbolic pivots)."""
    m = [list(row) + [rhs] for row, rhs in zip(A, b)]
    size = len(m)
    for k in range(size):
        piv = next(i for i in range(k, size) if m[i][k] != 0)
        m[k], m[piv] = m[piv], m[k]
        for i in range(k + 1, size):
            f = m[i][k] / m[k][k]
            m[i] = [u - f * v for u, v in zip(m[i], m[k])]
    v = [0] * size
    for k in reversed(range(size)):
        v[k] = (m[k][size] - sum(m[k][j] * v[j] for j in range(k + 1, size))) / m[k][k]
    return np.array(v, dtype=object)


def _nonzero(residuals: Sequence[Any]) -> list[Any]:
    return [r for r in residuals if r != 0]


def symbolic_sec52_residuals(n: int = 2, d: int = 2, *, include_query: bool = False) -> list[Any]:
    """Sec. 5.2 exactly: after layers ``ω_yx``, ``ω_xy`` (so the query label and ``x`` have moved) an ``ω_yy``-only layer
    maps every token ``(x, y) → (x, (1 + ω_yy λ^l) y)`` with ``λ^l = Σ_{i≤n}(y_i^l)²``.

    Symbolic data and ``ω`` (rational-function field over QQ); returns the nonzero entries of
    (forward tokens − predicted tokens) — empty iff the identity holds.  ``include_query=True`` puts the query's
    ``(y_t^l)²`` into ``λ^l`` (negative control).

    Examples
    --------
    >>> from theory.vladymyrov import symbolic_sec52_residuals
    >>> symbolic_sec52_residuals(), len(symbolic_sec52_residuals(include_query=True)) > 0
    ([], True)
    """
    flag("include_query", include_query)
    _, x, y, t, (a, b, c) = _symbolic_prompt(n, d, ("w_yx", "w_xy", "w_yy"))
    fp = _symbolic_forward(x, y, t, [("yx", a), ("xy", b), ("yy", c)])
    before, after = fp.tokens[2], fp.tokens[3]
    labels = before[:, -1] if include_query else before[:-1, -1]
    factor = 1 + c * label_energy(labels)
    pred = before.copy()
    pred[:, -1] = before[:, -1] * factor  # array first: field elements do not broadcast
    return _nonzero(list((after - pred).ravel()))


def symbolic_sec53_residuals(n: int = 3, d: int = 2, *, form: Literal["exact", "paper"] = "exact") -> list[Any]:
    """Sec. 5.3 exactly: layers ``ω_xy`` then ``ω_yx`` give ``α^1 = (1 + ω_xy λ) α``, ``x_t^1 = x_t`` and
    ``ŷ = −ω_yx (1 + ω_xy λ) ⟨α, x_t⟩``.  ``form="paper"`` uses ``ρ = λ − α^T Σ^{-1} α`` instead of ``λ`` in the
    prediction (needs ``n ≥ d``).  Returns the nonzero residuals (empty iff exact).

    Examples
    --------
    >>> from theory.vladymyrov import symbolic_sec53_residuals
    >>> symbolic_sec53_residuals()  # the exact step (1 + ω_xy λ): no residual
    []
    >>> len(symbolic_sec53_residuals(form="paper")) > 0  # the printed (1 + ω_xy ρ) leaves one
    True
    """
    form = one_of("form", form, ("exact", "paper"))
    _, x, y, t, (b, a) = _symbolic_prompt(n, d, ("w_xy", "w_yx"))
    if form == "paper" and n < d:
        raise ArgumentError(f"form='paper' needs n >= d (rho needs Sigma^-1), got n={n}, d={d}")
    fp = _symbolic_forward(x, y, t, [("xy", b), ("yx", a)])
    alpha = (y[:, None] * x).sum(0)
    lam = label_energy(y)
    x1, y1 = fp.tokens[1][:-1, :-1], fp.tokens[1][:-1, -1]
    alpha1 = (y1[:, None] * x1).sum(0)
    res = list(alpha1 - alpha * (1 + b * lam)) + list(fp.tokens[1][-1, :-1] - t)
    energy = lam
    if form == "paper":
        w_star = _field_solve(x.T @ x, alpha)  # OLS w* = Σ^{-1} α in the rational-function field
        energy = lam - inner(alpha, w_star)  # ρ = λ − α^T Σ^{-1} α
    res.append(fp.prediction - sec53_step_exact(energy, b, a) * inner(alpha, t))
    return _nonzero(res)


def symbolic_thm52_residuals(n: int = 3, d: int = 2, *, printed_sign: bool = False) -> list[Any]:
    """Theorem 5.2 exactly: layers ``ω_yx`` then ``ω_yy`` output ``ŷ = −ω_yx (1 + ω_yy λ^1) ⟨α, x_q⟩`` with
    ``λ^1 = Σ_i (y_i + ω_yx ⟨α, x_i⟩)²``; the solved constants equal the closed forms (sympy ``solve``), and at
    ``σ = (1/2, 2)`` they are ``ω_yx = −21/25``, ``nω_yy = −4/21`` with limit factors exactly ``1/(1 + σ_k²)``.

    ``printed_sign=True`` is the proof as printed: ``w^1 = +ω_yx α`` (so ``ŷ = +ω_yx(1 + ω_yy λ^1)⟨α, x_q⟩``) and
    constants solving ``(1 + nσ² ω_yy) ω_yx = +1/(1 + σ²)``.  Returns the nonzero residuals (empty iff exact).

    Examples
    --------
    >>> from theory.vladymyrov import symbolic_thm52_residuals
    >>> symbolic_thm52_residuals()  # the two-layer weights equal the exact formula: no non-zero residual
    []
    """
    flag("printed_sign", printed_sign)
    _, x, y, t, (a, c) = _symbolic_prompt(n, d, ("w_yx", "w_yy"))
    fp = _symbolic_forward(x, y, t, [("yx", a), ("yy", c)])
    alpha = (y[:, None] * x).sum(0)
    lam1 = label_energy(y + (x @ alpha) * a)
    sign = 1 if printed_sign else -1
    res: list[Any] = [fp.prediction - sign * a * (1 + c * lam1) * inner(alpha, t)]
    sym = thm52_constants_symbolic()
    res += [sp.simplify(sym["omega_yx"] - sym["closed_omega_yx"]), sp.simplify(sym["n_omega_yy"] - sym["closed_n_omega_yy"])]
    s1, s2 = sp.Rational(1, 4), sp.Integer(4)
    oyx, noyy = -(1 + s1 + s2) / ((1 + s1) * (1 + s2)), -1 / (1 + s1 + s2)
    res += [oyx + sp.Rational(21, 25), noyy + sp.Rational(4, 21)]
    if printed_sign:
        oyx = -oyx
    res += [-oyx * (1 + s * noyy) - 1 / (1 + s) for s in (s1, s2)]
    return _nonzero(res)
