"""Accuracy of the two ridge routes of :mod:`theory.vladymyrov.baselines` as a function of the condition number.

Reference: the exact ridge solution of the given float64 data, computed in 50-digit arithmetic (mpmath), so
the measured error is the route's own round-off.  Both routes solve the least-squares problem
``min ||A w − b||`` with ``A = [X; √λ I]`` and ``b = (y, 0)`` by a backward-stable factorisation of ``A``
(SVD in :func:`ridge_spectrum`, Householder QR in :func:`ridge_weights`).  The least-squares perturbation bound
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Thm 20.1) then gives, with
``κ = κ₂(A) = cond(Σ + λI)^{1/2}``, ``tan θ = ||r|| / (||A|| ||w||)`` and a backward error ``ε = c u``,
``c = m·d`` (``m = n + d`` rows; the usual ``γ_{md}`` constant of Householder QR and the SVD)::

    ||ŵ − w|| / ||w||  <=  κ ε / (1 − κ ε) · (2 + (κ + 1) tan θ),

and the prediction error ``|⟨ŵ − w, x_t⟩| <= ||ŵ − w|| ||x_t||``.  The tolerance is this bound (origin:
round-off).  Negative control: the route this replaced (eigendecomposition of the formed ``Σ = XᵀX``), whose
error grows like ``u cond(Σ)`` — it fails the bound at ``cond(Σ) = 1e8``.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from theory.vladymyrov import baselines as bl

U = np.finfo(float).eps / 2


def _problem(seed: int, n: int, d: int, cond_sigma: float, noise: float):
    """``X = U_n diag(s) Vᵀ`` with singular values from 1 down to ``cond_sigma^{-1/2}``; ``y = X w₀ + noise``."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = (u * np.logspace(0.0, -0.5 * np.log10(cond_sigma), d)) @ v.T
    y = x @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return x, y, rng.standard_normal(d)


def _exact(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, lam: float) -> tuple[float, float, float, float]:
    """Exact ``⟨w_λ, x_t⟩``, ``||w_λ||``, ``κ₂(A)`` and ``tan θ`` of the float64 data (50 digits)."""
    with mp.workdps(50):
        X, Y, q = mp.matrix(x.tolist()), mp.matrix(y.tolist()), mp.matrix(x_query.tolist())
        w = mp.lu_solve(X.T * X + mp.mpf(lam) * mp.eye(x.shape[1]), X.T * Y)
        r = mp.sqrt(mp.norm(Y - X * w) ** 2 + lam * mp.norm(w) ** 2)
        pred, w_norm = float((w.T * q)[0]), float(mp.norm(w))
    s = np.linalg.svd(np.vstack([x, np.sqrt(lam) * np.eye(x.shape[1])]), compute_uv=False)
    return pred, w_norm, float(s[0] / s[-1]), float(r) / (float(s[0]) * w_norm)


def _bound(n: int, d: int, kappa: float, tan_theta: float) -> float:
    eps = (n + d) * d * U
    return kappa * eps / (1 - kappa * eps) * (2 + (kappa + 1) * tan_theta)


def _eigh_route(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, lam: float) -> float:
    """The replaced route: eigendecomposition of the formed ``Σ = XᵀX`` (the negative control)."""
    s, v = np.linalg.eigh(x.T @ x)
    return float(((v.T @ (x.T @ y)) * (v.T @ x_query) / (s + lam)).sum())


CASES = [(n, d, c, noise, lam) for c in (1e4, 1e8, 1e12) for (n, d, noise) in ((4, 4, 0.0), (12, 4, 0.1))
         for lam in (0.0, 1e-9)]


@pytest.mark.parametrize("n, d, cond_sigma, noise, lam", CASES)
def test_ridge_routes_meet_the_least_squares_bound(n: int, d: int, cond_sigma: float, noise: float, lam: float) -> None:
    for seed in range(3):
        x, y, q = _problem(seed, n, d, cond_sigma, noise)
        exact, w_norm, kappa, tan_theta = _exact(x, y, q, lam)
        bound = _bound(n, d, kappa, tan_theta)
        scale = w_norm * np.linalg.norm(q)
        spectral = bl.ridge_spectrum(x[None], y[None], q[None]).predict(lam)[0]
        direct = float(bl.ridge_weights(x, y, lam) @ q)
        assert abs(spectral - exact) / scale <= bound, (seed, abs(spectral - exact) / scale, bound)
        assert abs(direct - exact) / scale <= bound, (seed, abs(direct - exact) / scale, bound)


@pytest.mark.parametrize("cond_sigma", [1e8, 1e12])
def test_forming_sigma_misses_the_bound(cond_sigma: float) -> None:
    """Control: the eigendecomposition of ``XᵀX`` (the route before this fix) misses the bound by >= 3x."""
    worst = 0.0
    for seed in range(3):
        x, y, q = _problem(seed, 4, 4, cond_sigma, 0.0)
        exact, w_norm, kappa, tan_theta = _exact(x, y, q, 0.0)
        err = abs(_eigh_route(x, y, q, 0.0) - exact) / (w_norm * np.linalg.norm(q))
        worst = max(worst, err / _bound(4, 4, kappa, tan_theta))
    assert worst >= 3.0, worst
