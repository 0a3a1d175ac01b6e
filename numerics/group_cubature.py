"""Exact cubature over laws of orthogonal ``W`` from explicit parametrisations of the group, and over ``N(0, I_d)``.

An integration route *independent of the Weyl integration formula* (which :mod:`theory.sander.haar` uses): here
``W`` itself is a node, built from angles or unit quaternions, so a quantity computed from ``W`` by the model
(``s_t = W^t s_0`` and the forward pass) is integrated without reducing it to eigen-angles.  Derivation:
``docs/sander-haar.md`` §2 ("Independent exact route").

* ``O(2)``: ``R(θ)`` and ``R(θ) diag(1, −1)``, ``θ`` on ``M`` equispaced nodes.
* ``O(3)``: the double cover ``S³ → SO(3)``, ``q ↦ R(q)`` (entries quadratic in ``q``), pushes the uniform law of
  ``S³`` to Haar ``SO(3)``; ``O⁻(3) = −SO(3)``.
* ``O(4)``: ``(q_L, q_R) ↦ (x ↦ q_L x q_R)`` (quaternion products; entries bilinear) pushes the uniform law of
  ``S³ × S³`` to Haar ``SO(4)``; ``O⁻(4) = SO(4)·diag(1, 1, 1, −1)``.
* Uniform ``S³``: Hopf coordinates ``q = (cos η e^{iξ₁}, sin η e^{iξ₂})``; the uniform measure is
  ``dξ₁ dξ₂ d(cos²η)/(4π²)``.  A polynomial of degree ``D`` in ``q`` is a trigonometric polynomial of degree ``≤ D``
  in each ``ξ`` (``D + 1`` equispaced nodes: exact), and after the ``ξ`` integrals only even powers of ``cos η``,
  ``sin η`` survive, i.e. a polynomial of degree ``≤ D/2`` in ``u = cos²η`` (Gauss–Legendre on ``[0, 1]``: exact).
* Block rotations ``diag(R(θ_j))``, ``θ_j = U_j/μ`` iid: ``μ = 1`` equispaced (exact); ``μ ≠ 1`` Gauss–Legendre
  on ``[0, 2π/μ)`` with ``n ≥ e·h·D/2 + 30`` nodes (``h = π/μ`` the half-length): for ``e^{ikθ}``, ``k ≤ D``, the
  Chebyshev tail gives an error ``≤ 4(e k h/(4n))^{2n} ≤ 4·2^{−2n} < 1e−18``.
* ``N(0, I_d)``: the probabilists' Gauss–Hermite product rule, ``k`` nodes per axis, exact to degree ``2k − 1``.

Only ``numpy``; the callers run the model on the nodes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from theory.arguments import ArgumentError, even_int, flag, nonnegative_int, positive_float, positive_int

__all__ = ["MatrixRule", "sphere3_rule", "haar_orthogonal_rule", "block_rotation_rule", "gaussian_rule"]


@dataclass(frozen=True)
class MatrixRule:
    """``E f(W) = Σ_g weights[g] f(matrices[g])``, exact for polynomials of degree ``≤ degree`` in the entries."""

    matrices: np.ndarray
    weights: np.ndarray
    degree: int


def _equispaced(m: int) -> tuple[np.ndarray, np.ndarray]:
    return 2 * np.pi * np.arange(m) / m, np.full(m, 1.0 / m)


def sphere3_rule(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``(G, 4)`` on the unit sphere ``S³`` and weights ``(G,)`` exact for polynomials of degree ``≤ degree``.

    Examples
    --------
    ``E q₁² = 1/4`` and ``E q₁⁴ = 1/8`` for ``q`` uniform on ``S³``:

    >>> import numpy as np
    >>> from numerics.group_cubature import sphere3_rule
    >>> q, w = sphere3_rule(4)
    >>> round(float(w @ q[:, 0] ** 2), 14), round(float(w @ q[:, 0] ** 4), 14)
    (0.25, 0.125)
    """
    degree = nonnegative_int("degree", degree)
    xi, w_xi = _equispaced(degree + 1)
    n_u = degree // 4 + 1  # Gauss–Legendre with n nodes is exact to degree 2n − 1 ≥ degree/2
    x, w = np.polynomial.legendre.leggauss(n_u)
    u, w_u = (x + 1) / 2, w / 2
    c, s = np.sqrt(u), np.sqrt(1 - u)
    U, X1, X2 = np.meshgrid(np.arange(n_u), np.arange(xi.size), np.arange(xi.size), indexing="ij")
    U, X1, X2 = U.ravel(), X1.ravel(), X2.ravel()
    q = np.stack([c[U] * np.cos(xi[X1]), c[U] * np.sin(xi[X1]), s[U] * np.cos(xi[X2]), s[U] * np.sin(xi[X2])], axis=1)
    return q, w_u[U] * w_xi[X1] * w_xi[X2]


def _so3(q: np.ndarray) -> np.ndarray:
    """The rotation of a unit quaternion ``q = (a, b, c, d)`` (entries quadratic in ``q``)."""
    a, b, c, d = q.T
    return np.stack([
        np.stack([a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)], -1),
        np.stack([2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)], -1),
        np.stack([2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d], -1)], -2)


def _left(q: np.ndarray) -> np.ndarray:
    """``x ↦ q x`` (quaternion product) as a 4×4 matrix."""
    a, b, c, d = q.T
    return np.stack([np.stack([a, -b, -c, -d], -1), np.stack([b, a, -d, c], -1),
                     np.stack([c, d, a, -b], -1), np.stack([d, -c, b, a], -1)], -2)


def _right(q: np.ndarray) -> np.ndarray:
    """``x ↦ x q`` (quaternion product) as a 4×4 matrix."""
    a, b, c, d = q.T
    return np.stack([np.stack([a, -b, -c, -d], -1), np.stack([b, a, d, -c], -1),
                     np.stack([c, -d, a, b], -1), np.stack([d, c, -b, a], -1)], -2)


def haar_orthogonal_rule(d: int, degree: int, *, special: bool = False) -> MatrixRule:
    """Haar measure on ``O(d)`` (``special=True``: on ``SO(d)``), ``d ≤ 4``, exact to ``degree`` in the entries.

    Examples
    --------
    ``E W = 0`` and ``E (tr W)² = 1`` (Haar ``O(4)``); on ``SO(3)``, ``E tr W = 0`` and ``E (tr W)² = 1`` too, but
    ``E tr W² = 1`` on ``O(d)`` while ``E det W = 1`` on ``SO(d)``:

    >>> import numpy as np
    >>> from numerics.group_cubature import haar_orthogonal_rule
    >>> rule = haar_orthogonal_rule(4, 2)
    >>> bool(np.allclose(np.einsum("g,gij->ij", rule.weights, rule.matrices), 0, atol=1e-14))
    True
    >>> tr = np.trace(rule.matrices, axis1=1, axis2=2)
    >>> round(float(rule.weights @ tr**2), 12)
    1.0
    """
    d, degree, special = positive_int("d", d), nonnegative_int("degree", degree), flag("special", special)
    if d > 4:
        raise ArgumentError(f"d must be at most 4 (explicit parametrisations of SO(2), SO(3), SO(4)), got {d}")
    if d == 1:
        mats, w = np.ones((1, 1, 1)), np.ones(1)
    elif d == 2:
        th, w = _equispaced(degree + 1)
        c, s = np.cos(th), np.sin(th)
        mats = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    elif d == 3:
        q, w = sphere3_rule(2 * degree)
        mats = _so3(q)
    else:
        q, wq = sphere3_rule(degree)
        i, j = np.meshgrid(np.arange(wq.size), np.arange(wq.size), indexing="ij")
        mats, w = _left(q)[i.ravel()] @ _right(q)[j.ravel()], wq[i.ravel()] * wq[j.ravel()]
    if special:
        return MatrixRule(mats, w, degree)
    flip = np.eye(d)
    flip[-1, -1] = -1.0
    return MatrixRule(np.concatenate([mats, mats @ flip]), np.concatenate([w, w]) / 2, degree)


def block_rotation_rule(d: int, degree: int, mu: float = 1.0) -> MatrixRule:
    """``diag(R(θ_1), …, R(θ_{d/2}))`` with ``θ_j = U_j/μ`` iid, ``U_j ~ Uniform[0, 2π)``, ``d`` even.

    Examples
    --------
    ``μ = 2``: ``θ`` uniform on ``[0, π)``, so ``E cos θ = 0`` and ``E sin θ = 2/π``:

    >>> import numpy as np
    >>> from numerics.group_cubature import block_rotation_rule
    >>> rule = block_rotation_rule(2, 2, mu=2.0)
    >>> bool(np.isclose(rule.weights @ rule.matrices[:, 1, 0], 2 / np.pi, rtol=1e-14))
    True
    """
    d, degree, mu = even_int("d", d), nonnegative_int("degree", degree), positive_float("mu", mu)
    if mu == 1.0:
        th, w1 = _equispaced(degree + 1)
    else:
        half = np.pi / mu
        n = math.ceil(math.e * half * degree / 2) + 30
        x, w = np.polynomial.legendre.leggauss(n)
        th, w1 = (x + 1) * half, w / 2
    k = d // 2
    idx = np.array(list(itertools.product(range(th.size), repeat=k)))
    angles, weights = th[idx], np.prod(w1[idx], axis=1)
    mats = np.zeros((angles.shape[0], d, d))
    c, s = np.cos(angles), np.sin(angles)
    for j in range(k):
        mats[:, 2 * j, 2 * j], mats[:, 2 * j, 2 * j + 1] = c[:, j], -s[:, j]
        mats[:, 2 * j + 1, 2 * j], mats[:, 2 * j + 1, 2 * j + 1] = s[:, j], c[:, j]
    return MatrixRule(mats, weights, degree)


def gaussian_rule(d: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``(G, d)`` and weights of ``N(0, I_d)``, exact for polynomials of degree ``≤ degree`` in each coordinate.

    Examples
    --------
    ``E‖x‖⁴ = d(d + 2)``:

    >>> from numerics.group_cubature import gaussian_rule
    >>> x, w = gaussian_rule(3, 4)
    >>> round(float(w @ ((x**2).sum(1) ** 2)), 12)
    15.0
    """
    d, degree = positive_int("d", d), nonnegative_int("degree", degree)
    x, w = np.polynomial.hermite_e.hermegauss(degree // 2 + 1)
    w = w / w.sum()
    idx = np.array(list(itertools.product(range(x.size), repeat=d)))
    return x[idx], np.prod(w[idx], axis=1)
