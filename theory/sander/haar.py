"""Sander et al. (2024, arXiv:2402.05787), augmented tokens: the optimal one-step size for real laws of ``W``
with an isotropic start ``s_0`` — Haar ``W`` on ``O(d)`` (non-commuting), commuting rotations, their Haar
conjugates and mixtures.  Derivation: ``docs/sander-haar.md``.

Setting as in :mod:`theory.sander.augmented`: ``s_{t+1} = W s_t``, prediction ``η S_t s_t`` with
``S_t = Σ_{i=1}^t s_i s_{i-1}ᵀ``; ``a_t = E‖S_t s_t‖²``, ``b_t = E⟨s_{t+1}, S_t s_t⟩``, ``c = E‖s_{t+1}‖²``,
``η_t* = b_t/a_t``.

**Reduction to the spectrum** (``s_0 = r u``, ``u`` uniform on the sphere and independent of ``W`` and ``r``;
``m_{2n} = E‖s_0‖^{2n}``).  With ``g_k = s_0ᵀ W^k s_0 = s_0ᵀ B_k s_0``, ``B_k = (W^k + W^{-k})/2``::

    b_t = Σ_{k=1}^t E g_k²,        a_t = Σ_{k,l=1}^t E[g_k g_l g_{|k−l|}],        c = m2.

The ``B_k`` commute; the Gaussian moments of quadratic forms (``x ~ N(0, I_d)``, ``E|x|^{2n} = d(d+2)…``) give,
with ``p_n = tr W^n = Σ_j cos(n φ_j)`` over the eigen-angles ``φ_j`` of ``W``::

    b_t = m4/(d(d+2)) Σ_k E[p_k² + p_{2k} + d]
    a_t = m6/(d(d+2)(d+4)) Σ_{k,l} E[p_k p_l p_m + 2(p_k τ_{lm} + p_l τ_{km} + p_m τ_{kl}) + 8 τ_{klm}],  m = |k−l|,

``τ_{kl} = tr B_k B_l = (p_{k+l} + p_{|k−l|})/2`` and ``τ_{klm} = tr B_k B_l B_m`` (a mean of four ``p``).  So
``η_t*`` depends on the law of ``W`` only through the law of its eigen-angles, computed here by a quadrature
rule (:class:`SpectralRule`) that is exact for the trigonometric polynomials involved:

* Haar ``O(d)``: Weyl's integration formula on each coset (``det = ±1``, mass ½ each), equispaced grid;
* commuting 2×2 rotations, angles ``θ = U/μ`` iid (``U`` uniform on ``[0, 2π)``): equispaced grid for ``μ = 1``
  (exact), Gauss–Legendre on ``[0, 2π/μ)`` otherwise (exact to round-off: the integrand is entire in θ);
  the same rule serves the *Haar conjugates* ``Q R(θ) Qᵀ`` (fresh ``Q`` per sequence), which share the spectrum;
* mixtures: the weighted union of rules (``a_t``, ``b_t`` are linear in the law).

The sympy twin :func:`moments_sym` computes the same expectations as exact rationals by constant-term
extraction of the Weyl density times the integrand (small ``d``).  Torch is not used here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Sequence

import numpy as np
import sympy as sp

from theory.arguments import ArgumentError, even_int, instance, nonnegative_int, one_of, positive_float, positive_int
from theory.laurent import expectation_of_product
from theory.sander.augmented import RadialMoments

__all__ = [
    "SpectralRule", "haar_rule", "rotation_rule", "mixture_rule", "power_sums", "gaussian_start", "SPHERE",
    "moments", "optimal_step", "optimal_loss", "shared_optimum", "moments_sym", "trace_moment",
]

# ---------------------------------------------------------------------------------------------------------
# Laws of s_0 (isotropic) through the moments of ‖s_0‖²
# ---------------------------------------------------------------------------------------------------------

#: ``s_0`` uniform on the unit sphere: ``‖s_0‖ = 1``.
SPHERE = RadialMoments(1.0, 1.0, 1.0)


def gaussian_start(d: int) -> RadialMoments:
    """The radial moments of ``s_0 ~ N(0, I_d)``: ``‖s_0‖² ~ χ²_d``, so ``E‖s_0‖^{2n} = d(d+2)⋯(d+2n−2)``.

    ``m2 = d``, ``m4 = d(d+2)``, ``m6 = d(d+2)(d+4)`` (the start law of ``docs/sander-haar.md`` §2).

    Parameters
    ----------
    d : int
        Dimension of the state ``s_t`` (``d ≥ 1``).

    Returns
    -------
    RadialMoments
        ``(m2, m4, m6)``.

    Examples
    --------
    A seeded Monte Carlo of ``‖x‖⁴`` for ``x ~ N(0, I_3)`` agrees with ``m4 = 15`` to a few standard errors:

    >>> import numpy as np
    >>> from theory.sander import gaussian_start
    >>> gaussian_start(3)
    RadialMoments(m2=3.0, m4=15.0, m6=105.0)
    >>> r2 = (np.random.default_rng(0).standard_normal((200_000, 3)) ** 2).sum(1)
    >>> bool(abs((r2**2).mean() - 15.0) < 4 * (r2**2).std() / np.sqrt(r2.size))
    True
    """
    d = positive_int("d", d)
    return RadialMoments(float(d), float(d * (d + 2)), float(d * (d + 2) * (d + 4)))


# ---------------------------------------------------------------------------------------------------------
# Quadrature rules for the law of the eigen-angles
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpectralRule:
    """A finite rule ``E f(spectrum) = Σ_g w_g f(φ_g)`` for the eigen-angles of ``W``.

    ``angles`` is ``(G, d)``: all ``d`` eigen-angles of node ``g`` (real eigenvalue 1 → 0, −1 → π);
    ``weights`` is ``(G,)`` and sums to 1.  ``max_frequency`` is the largest frequency per angle of a
    trigonometric polynomial the rule integrates exactly (to round-off).  Built by :func:`haar_rule`,
    :func:`rotation_rule` and :func:`mixture_rule`; consumed by :func:`moments` (``a_t``, ``b_t`` depend on ``W``
    only through its eigen-angles, ``docs/sander-haar.md`` §2).

    Examples
    --------
    The uniform rotation of the plane (``d = 2``) with three equispaced nodes ``θ = 0, 2π/3, 4π/3``:

    >>> import numpy as np
    >>> from theory.sander import rotation_rule
    >>> rule = rotation_rule(2, 2)
    >>> rule.d, rule.max_frequency, float(rule.weights.sum())
    (2, 2, 1.0)
    >>> bool(np.allclose(rule.angles[:, 0], 2 * np.pi * np.arange(3) / 3) and np.allclose(rule.angles[:, 1], -rule.angles[:, 0]))
    True
    """

    angles: np.ndarray
    weights: np.ndarray
    max_frequency: int

    @property
    def d(self) -> int:
        return int(self.angles.shape[1])


def _grid(n_angles: int, nodes: np.ndarray) -> np.ndarray:
    """All ``nodes.size ** n_angles`` tuples of nodes, shape ``(G, n_angles)`` (one empty tuple if ``n_angles = 0``)."""
    tuples = list(itertools.product(nodes, repeat=n_angles))
    return np.array(tuples, dtype=float).reshape(nodes.size**n_angles, n_angles)


def _weyl_factor(th: np.ndarray) -> np.ndarray:
    """``∏_{i<j} (cos θ_i − cos θ_j)²`` over the columns of ``th``."""
    c = np.cos(th)
    out = np.ones(th.shape[0])
    for i, j in itertools.combinations(range(th.shape[1]), 2):
        out = out * (c[:, i] - c[:, j]) ** 2
    return out


def _haar_cosets(d: int, nodes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(angles, density)`` of the cosets ``det = +1`` and ``det = −1`` of ``O(d)`` on a grid of ``nodes``."""
    half = d // 2
    th = _grid(half, nodes)
    if d % 2:  # SO(2n+1): {1, e^{±iθ_j}}; O^-(2n+1) = −SO(2n+1): {π, π ± θ_j}
        dens = _weyl_factor(th) * np.prod(1.0 - np.cos(th), axis=1)
        plus = np.concatenate([np.zeros((th.shape[0], 1)), th, -th], axis=1)
        return [(plus, dens), (plus + np.pi, dens)]
    # SO(2n): {e^{±iθ_j}}, n angles; O^-(2n): {1, −1, e^{±iθ_j}}, n−1 angles, density ∏(cos−cos)² ∏ sin²
    plus = (np.concatenate([th, -th], axis=1), _weyl_factor(th))
    th_m = _grid(half - 1, nodes)
    minus = (np.concatenate([np.zeros((th_m.shape[0], 1)), np.full((th_m.shape[0], 1), np.pi), th_m, -th_m], axis=1),
             _weyl_factor(th_m) * np.prod(np.sin(th_m) ** 2, axis=1))
    return [plus, minus]


def haar_rule(d: int, max_frequency: int) -> SpectralRule:
    """Haar measure on ``O(d)``: Weyl's density on each coset (mass ½ each), equispaced nodes.

    A grid of ``M`` equispaced nodes per angle integrates a trigonometric polynomial of frequency ``< M``
    exactly.  The density has frequency ``d − 2`` in each angle: ``SO(2n)``, each angle in ``n − 1`` squared
    factors ``(cos θ_i − cos θ_j)²``; ``O⁻(2n)``, ``n − 2`` of them and ``sin²θ``; ``SO(2n+1)`` and ``O⁻(2n+1)``,
    ``n − 1`` and ``1 − cos θ``.  So ``M = max_frequency + d − 1``, the fewest nodes that are exact
    (Sander et al. (2024), augmented tokens; ``docs/sander-haar.md`` §2).

    Examples
    --------
    Haar ``O(3)``: ``E tr W = 0`` and ``E (tr W)² = 1`` (Diaconis–Shahshahani); each coset has mass ½, so
    ``E det W = E cos(Σ_j φ_j) = 0``:

    >>> import numpy as np
    >>> from theory.sander import haar_rule, trace_moment
    >>> rule = haar_rule(3, 2)
    >>> round(trace_moment(rule, [1]), 12) + 0.0, round(trace_moment(rule, [1, 1]), 12)
    (0.0, 1.0)
    >>> round(float(rule.weights @ np.cos(rule.angles.sum(axis=1))), 12) + 0.0
    0.0
    """
    return _haar_rule(positive_int("d", d), nonnegative_int("max_frequency", max_frequency))


@lru_cache(maxsize=64)
def _haar_rule(d: int, max_frequency: int) -> SpectralRule:
    """:func:`haar_rule` on checked arguments (cached after the checks: ``True == 1`` would hit the cache)."""
    m = max_frequency + d - 1
    nodes = 2 * np.pi * np.arange(m) / m
    angles, weights = [], []
    for ang, dens in _haar_cosets(d, nodes):
        angles.append(ang)
        weights.append(0.5 * dens / dens.sum())
    return SpectralRule(np.concatenate(angles), np.concatenate(weights), max_frequency)


def rotation_rule(d: int, max_frequency: int, mu: float = 1.0) -> SpectralRule:
    """Commuting 2×2 rotations (``d/2`` blocks, angles ``θ = U/μ`` iid, ``U ~ Uniform[0, 2π)``).

    ``μ = 1``: ``max_frequency + 1`` equispaced nodes (exact).  ``μ ≠ 1``: Gauss–Legendre on ``[0, 2π/μ)`` with
    ``max_frequency·π/μ + 20`` nodes (a polynomial-exact rule applied to an entire function: error below
    round-off for these node counts) (Sander et al. (2024), augmented tokens; ``docs/sander-haar.md`` §2).

    Examples
    --------
    ``μ = 4``: ``θ`` uniform on ``[0, π/2)``, so ``E tr W = E 2 cos θ = 4/π`` and ``E (tr W)² = 2``:

    >>> import numpy as np
    >>> from theory.sander import rotation_rule, trace_moment
    >>> rule = rotation_rule(2, 2, mu=4.0)
    >>> bool(np.isclose(trace_moment(rule, [1]), 4 / np.pi, atol=1e-13)), round(trace_moment(rule, [1, 1]), 12)
    (True, 2.0)
    """
    return _rotation_rule(even_int("d", d), nonnegative_int("max_frequency", max_frequency), positive_float("mu", mu))


@lru_cache(maxsize=64)
def _rotation_rule(d: int, max_frequency: int, mu: float) -> SpectralRule:
    """:func:`rotation_rule` on checked arguments (cached after the checks: ``mu=True`` hit the ``mu=1.0`` entry)."""
    if mu == 1.0:
        m = max_frequency + 1
        nodes, w1 = 2 * np.pi * np.arange(m) / m, np.full(m, 1.0 / m)
    else:
        m = int(np.ceil(max_frequency * np.pi / mu)) + 20
        x, w = np.polynomial.legendre.leggauss(m)
        nodes, w1 = (x + 1) * np.pi / mu, w / 2
    th = _grid(d // 2, nodes)
    wt = np.prod(_grid(d // 2, w1), axis=1)
    return SpectralRule(np.concatenate([th, -th], axis=1), wt, max_frequency)


def mixture_rule(rules: Sequence[SpectralRule], weights: Sequence[float]) -> SpectralRule:
    """The law that draws from ``rules[i]`` with probability ``weights[i]`` (normalised).

    ``a_t`` and ``b_t`` are linear in the law of ``W``, so a mixture's rule is the weighted union of the nodes
    (``docs/sander-haar.md`` §2); it is exact up to the smallest ``max_frequency`` of its parts.

    Parameters
    ----------
    rules : sequence of SpectralRule
        Component laws, all of one dimension ``d``.
    weights : sequence of float
        Positive mixing weights, one per rule (normalised to sum 1).

    Returns
    -------
    SpectralRule

    Examples
    --------
    ``E (tr W)² = 1`` under Haar ``O(2)`` (Diaconis–Shahshahani) and ``E (2 cos θ)² = 2`` under a uniform rotation,
    so the 1:3 mixture gives ``(1 + 3·2)/4 = 7/4``:

    >>> from theory.sander import haar_rule, mixture_rule, rotation_rule, trace_moment
    >>> mix = mixture_rule([haar_rule(2, 2), rotation_rule(2, 2)], [1, 3])
    >>> round(float(mix.weights.sum()), 12), round(trace_moment(mix, [1, 1]), 12)
    (1.0, 1.75)
    """
    rules = [instance(f"rules[{i}]", r, SpectralRule) for i, r in enumerate(rules)]
    if not rules or len(rules) != len(weights):
        raise ArgumentError(f"rules and weights must be non-empty and of one length, got {len(rules)} and {len(weights)}")
    w = np.array([positive_float(f"weights[{i}]", x) for i, x in enumerate(weights)])
    if len({r.d for r in rules}) != 1:
        raise ArgumentError(f"rules must share d, got {[r.d for r in rules]}")
    w = w / w.sum()
    return SpectralRule(np.concatenate([r.angles for r in rules]),
                        np.concatenate([wi * r.weights for wi, r in zip(w, rules)]),
                        min(r.max_frequency for r in rules))


def power_sums(rule: SpectralRule, n_max: int) -> np.ndarray:
    """``p_n = tr W^n = Σ_j cos(n φ_j)`` at every node, ``n = 0..n_max``; shape ``(G, n_max + 1)``.

    The power sums through which ``a_t`` and ``b_t`` depend on ``W`` (``docs/sander-haar.md`` §2).

    Examples
    --------
    At the nodes ``θ = 0, 2π/3, 4π/3`` of a plane rotation: ``p_0 = d = 2``, ``p_1 = 2 cos θ = 2, −1, −1``, and
    ``p_n`` equals the trace of the matrix power:

    >>> import numpy as np
    >>> from theory.sander import power_sums, rotation_rule
    >>> p = power_sums(rotation_rule(2, 2), 2)
    >>> p[:, :2].round(12).tolist()
    [[2.0, 2.0], [2.0, -1.0], [2.0, -1.0]]
    >>> c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    >>> bool(np.isclose(p[1, 2], np.trace(np.linalg.matrix_power(np.array([[c, -s], [s, c]]), 2))))
    True
    """
    instance("rule", rule, SpectralRule)
    n = np.arange(nonnegative_int("n_max", n_max) + 1)
    return np.cos(rule.angles[:, :, None] * n).sum(axis=1)


def trace_moment(rule: SpectralRule, exponents: Sequence[int]) -> float:
    """``E ∏_i tr W^{n_i}`` under ``rule`` (exact when ``Σ n_i ≤ max_frequency``).

    Parameters
    ----------
    rule : SpectralRule
        Law of the eigen-angles of ``W``.
    exponents : sequence of int
        The powers ``n_i ≥ 0``.

    Returns
    -------
    float

    Examples
    --------
    For Haar ``W`` on ``O(4)`` the traces' joint moments of low order are those of independent Gaussians
    (Diaconis–Shahshahani 1994): ``E tr W = 0``, ``E (tr W)² = 1``, ``E (tr W)⁴ = 3``, ``E tr W² = 1``:

    >>> from theory.sander import haar_rule, trace_moment
    >>> rule = haar_rule(4, 4)
    >>> [round(trace_moment(rule, e), 10) + 0.0 for e in ([1], [1, 1], [1, 1, 1, 1], [2])]
    [0.0, 1.0, 3.0, 1.0]
    """
    instance("rule", rule, SpectralRule)
    ex = [nonnegative_int(f"exponents[{i}]", e) for i, e in enumerate(exponents)]
    if sum(ex) > rule.max_frequency:
        raise ArgumentError(f"exponents sum to {sum(ex)} > the rule's max_frequency {rule.max_frequency}")
    p = power_sums(rule, max(ex, default=0))
    return float(rule.weights @ np.prod(p[:, ex], axis=1))


# ---------------------------------------------------------------------------------------------------------
# Moments a_t, b_t, c and the optimal step
# ---------------------------------------------------------------------------------------------------------


def _integrands(p: Sequence, d: int, t: int) -> tuple:
    """The Gaussian-start integrands of ``a_t`` and ``b_t`` (before the ``m6``, ``m4`` factors) from ``p[n] = p_n``.

    ``p[n]`` is a numpy array of ``p_n`` over the nodes (:func:`moments`) or a sympy Laurent polynomial
    (:func:`moments_sym`): one implementation of the integrands of ``docs/sander-haar.md`` §2 for both.
    """
    def tau2(k: int, l: int):
        return (p[k + l] + p[abs(k - l)]) / 2

    def tau3(k: int, l: int, m: int):
        return (p[k + l + m] + p[abs(k + l - m)] + p[abs(k - l + m)] + p[abs(-k + l + m)]) / 4

    b = sum(p[k] ** 2 + p[2 * k] + d for k in range(1, t + 1))
    a = 0
    for k in range(1, t + 1):
        for l in range(1, t + 1):
            m = abs(k - l)
            a = a + (p[k] * p[l] * p[m] + 2 * (p[k] * tau2(l, m) + p[l] * tau2(k, m) + p[m] * tau2(k, l))
                     + 8 * tau3(k, l, m))
    return a, b


def moments(rule: SpectralRule, t: int, start: RadialMoments) -> tuple[float, float, float]:
    """``(a_t, b_t, c)`` for position ``t ≥ 1``, ``W`` from ``rule`` and isotropic ``s_0`` with ``E‖s_0‖^{2n}`` in
    ``start``.

    ``a_t = E‖S_t s_t‖²``, ``b_t = E⟨s_{t+1}, S_t s_t⟩``, ``c = E‖s_{t+1}‖² = m2``, reduced to the power sums
    ``p_n = tr W^n`` (Sander et al. (2024), augmented tokens (section/equation numbers UNCONFIRMED); derivation
    ``docs/sander-haar.md`` §2)::

        b_t = m4/(d(d+2)) Σ_k E[p_k² + p_{2k} + d]
        a_t = m6/(d(d+2)(d+4)) Σ_{k,l} E[p_k p_l p_m + 2(p_k τ_{lm} + p_l τ_{km} + p_m τ_{kl}) + 8 τ_{klm}]

    Parameters
    ----------
    rule : SpectralRule
        Law of the eigen-angles of ``W``, exact to frequency ``≥ 2t``.
    t : int
        Position ``t ≥ 1``.
    start : RadialMoments
        ``E‖s_0‖², E‖s_0‖⁴, E‖s_0‖⁶`` (e.g. :func:`gaussian_start`, ``SPHERE``).

    Returns
    -------
    tuple of float
        ``(a_t, b_t, c)``.

    Examples
    --------
    By hand, ``d = 2``, uniform rotation by ``θ``, ``t = 1``: ``S_1 s_1 = s_1 (s_0ᵀ s_1)`` and ``s_0ᵀ W s_0 =
    ‖s_0‖² cos θ``, so ``b_1 = E‖s_0‖⁴ cos²θ = m4/2 = 4`` and ``a_1 = E‖s_0‖⁶ cos²θ = m6/2 = 24`` for Gaussian
    ``s_0``.  For Haar ``O(3)``, ``t = 2`` the exact sympy route (:func:`moments_sym`) gives ``(126, 12)``:

    >>> from theory.sander import gaussian_start, haar_moments, haar_rule, rotation_rule
    >>> [round(v, 10) for v in haar_moments(rotation_rule(2, 2), 1, gaussian_start(2))]
    [24.0, 4.0, 2.0]
    >>> [round(v, 10) for v in haar_moments(haar_rule(3, 4), 2, gaussian_start(3))]
    [126.0, 12.0, 3.0]
    """
    t = positive_int("t", t)
    instance("rule", rule, SpectralRule)
    instance("start", start, RadialMoments)
    if 2 * t > rule.max_frequency:
        raise ArgumentError(f"t = {t} needs a rule exact to frequency 2t = {2 * t}, got {rule.max_frequency}")
    d = rule.d
    a, b = _integrands(power_sums(rule, 2 * t).T, d, t)
    return (float(start.m6 * (rule.weights @ a) / (d * (d + 2) * (d + 4))),
            float(start.m4 * (rule.weights @ b) / (d * (d + 2))), float(start.m2))


def optimal_step(rule: SpectralRule, t: int, start: RadialMoments) -> float:
    """The optimal one-step size ``η_t* = b_t/a_t`` at position ``t`` (Sander et al. (2024), augmented tokens
    (section/equation numbers UNCONFIRMED); derivation ``docs/sander-haar.md`` §2).

    Minimises ``E‖s_{t+1} − η S_t s_t‖² = c − 2η b_t + η² a_t``; ``(a_t, b_t)`` from :func:`moments`.

    Returns
    -------
    float

    Examples
    --------
    ``d = 2``, uniform rotation, Gaussian ``s_0``, ``t = 1``: ``b_1/a_1 = 4/24 = 1/6`` (hand derivation in
    :func:`moments`); a seeded Monte Carlo of ``b_1/a_1`` through the recursion agrees:

    >>> import numpy as np
    >>> from theory.sander import gaussian_start, haar_optimal_step, rotation_rule
    >>> round(haar_optimal_step(rotation_rule(2, 2), 1, gaussian_start(2)), 12)
    0.166666666667
    >>> rng = np.random.default_rng(1)
    >>> th, s0 = rng.uniform(0, 2 * np.pi, 100_000), rng.standard_normal((100_000, 2))
    >>> rot = lambda v: np.stack([np.cos(th) * v[:, 0] - np.sin(th) * v[:, 1], np.sin(th) * v[:, 0] + np.cos(th) * v[:, 1]], 1)
    >>> s1, s2 = rot(s0), rot(rot(s0))
    >>> pred = s1 * (s0 * s1).sum(1, keepdims=True)  # S_1 s_1 = s_1 s_0ᵀ s_1
    >>> round(float((s2 * pred).sum(1).mean() / (pred**2).sum(1).mean()), 2)
    0.17
    """
    a, b, _ = moments(rule, t, start)
    return b / a


def optimal_loss(rule: SpectralRule, t: int, start: RadialMoments) -> float:
    """``c − b_t²/a_t``: the loss of the best scalar one-step predictor at position ``t`` (Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED); derivation ``docs/sander-haar.md`` §2).

    Returns
    -------
    float
        ``min_η E‖s_{t+1} − η S_t s_t‖²``.

    Examples
    --------
    ``d = 2``, uniform rotation, Gaussian ``s_0``, ``t = 1``: ``2 − 4²/24 = 4/3``; it is below ``c = 2``, the
    loss of the zero predictor:

    >>> from theory.sander import gaussian_start, haar_optimal_loss, rotation_rule
    >>> round(haar_optimal_loss(rotation_rule(2, 2), 1, gaussian_start(2)), 12)
    1.333333333333
    """
    a, b, c = moments(rule, t, start)
    return c - b**2 / a


def shared_optimum(rule: SpectralRule, positions: Sequence[int], start: RadialMoments) -> tuple[float, float]:
    """One step shared by ``positions`` (``t = 0`` adds ``c``): ``(η* = Σb_t/Σa_t, Σc − (Σb_t)²/Σa_t)``.

    The summed loss ``Σ_t (c − 2η b_t + η² a_t)`` is one quadratic in ``η`` (Sander et al. (2024), augmented tokens
    (section/equation numbers UNCONFIRMED); derivation ``docs/sander-haar.md`` §2).  ``positions`` must include some
    ``t ≥ 1``: at ``t = 0`` the prediction is 0 for every ``η``, so no step would be singled out.

    Returns
    -------
    tuple of float
        ``(η*, loss at η*)``.

    Examples
    --------
    Position 0 only adds ``c = m2`` (the prediction there is 0): positions ``{0, 1}`` keep ``η_1* = 1/6`` and add
    2 to the loss ``4/3`` of :func:`optimal_loss`:

    >>> from theory.sander import gaussian_start, haar_optimal_loss, haar_shared_optimum, rotation_rule
    >>> rule, start = rotation_rule(2, 2), gaussian_start(2)
    >>> eta, loss = haar_shared_optimum(rule, [0, 1], start)
    >>> round(eta, 12), round(loss - haar_optimal_loss(rule, 1, start), 12)
    (0.166666666667, 2.0)
    """
    instance("rule", rule, SpectralRule)
    instance("start", start, RadialMoments)
    pos = [nonnegative_int(f"positions[{i}]", p) for i, p in enumerate(positions)]
    if not any(pos):
        raise ArgumentError(f"positions must include a position t >= 1 (at t = 0 every step predicts 0), got {pos}")
    sa = sb = sc = 0.0
    for t in pos:
        if t == 0:
            sc += start.m2
            continue
        a, b, c = moments(rule, t, start)
        sa, sb, sc = sa + a, sb + b, sc + c
    return sb / sa, sc - sb**2 / sa


# ---------------------------------------------------------------------------------------------------------
# Sympy twin: exact rationals by constant terms (Weyl density as a Laurent polynomial)
# ---------------------------------------------------------------------------------------------------------


def _laurent_law(kind: str, d: int) -> list[tuple[sp.Rational, list[sp.Expr], sp.Expr, tuple[sp.Symbol, ...]]]:
    """``[(mass, eigenvalues, density, gens)]`` per coset: eigenvalues as Laurent monomials in ``gens``."""
    if kind == "rotations":
        z = sp.symbols(f"z0:{even_int('d', d) // 2}")
        return [(sp.Integer(1), [x for zi in z for x in (zi, 1 / zi)], sp.Integer(1), z)]
    n = d // 2

    def cos(z: sp.Symbol) -> sp.Expr:
        return (z + 1 / z) / 2

    def weyl(z: Sequence[sp.Symbol]) -> sp.Expr:
        return sp.Mul(*[(cos(z[i]) - cos(z[j])) ** 2 for i, j in itertools.combinations(range(len(z)), 2)])

    out = []
    z = sp.symbols(f"z0:{n}")
    pairs = [x for zi in z for x in (zi, 1 / zi)]
    if d % 2:
        dens = weyl(z) * sp.Mul(*[1 - cos(zi) for zi in z])
        out += [(sp.Rational(1, 2), [sp.Integer(1)] + pairs, dens, z),
                (sp.Rational(1, 2), [sp.Integer(-1)] + [-x for x in pairs], dens, z)]
    else:
        out.append((sp.Rational(1, 2), pairs, weyl(z), z))
        zm = z[: n - 1]
        dens_m = weyl(zm) * sp.Mul(*[-((zi - 1 / zi) / 2) ** 2 for zi in zm])  # sin²θ = −((z − 1/z)/2)²
        out.append((sp.Rational(1, 2), [sp.Integer(1), sp.Integer(-1)] + [x for zi in zm for x in (zi, 1 / zi)],
                    dens_m, zm))
    return out


def moments_sym(kind: Literal["haar", "rotations"], d: int, t: int) -> tuple[sp.Rational, sp.Rational]:
    """Exact ``(a_t, b_t)`` for ``s_0 ~ N(0, I_d)`` (the integrands of :func:`moments` with ``m = `` Gaussian).

    Each coset's mean is ``CT(density · integrand) / CT(density)`` (``CT`` = constant term of the Laurent
    polynomial in ``z_j = e^{iθ_j}``), with ``p_n = Σ_j λ_j^n`` (real by the ``λ ↔ 1/λ`` symmetry).
    Affordable for ``d ≤ 5``.

    Examples
    --------
    The hand values of :func:`moments` (``d = 2``, rotation, ``t = 1``: ``a_1 = 24``, ``b_1 = 4``) come out exact,
    and the Haar case agrees with the quadrature route:

    >>> from theory.sander import gaussian_start, haar_moments, haar_moments_sym, haar_rule
    >>> haar_moments_sym("rotations", 2, 1)
    (24, 4)
    >>> a, b = haar_moments_sym("haar", 3, 2)
    >>> a_num, b_num, _ = haar_moments(haar_rule(3, 4), 2, gaussian_start(3))
    >>> abs(float(a) - a_num) < 1e-9 and abs(float(b) - b_num) < 1e-9
    True
    """
    one_of("kind", kind, ("haar", "rotations"))
    d, t = positive_int("d", d), positive_int("t", t)
    a_tot, b_tot = sp.Integer(0), sp.Integer(0)
    for mass, eig, dens, gens in _laurent_law(kind, d):
        p = [sp.expand(sum(lam**n for lam in eig)) for n in range(2 * t + 1)]
        a_int, b_int = _integrands(p, d, t)
        norm = expectation_of_product(sp.expand(dens), sp.Integer(1), gens) if gens else dens
        for integrand, acc in ((a_int, "a"), (b_int, "b")):
            val = (expectation_of_product(sp.expand(dens), sp.expand(integrand), gens) if gens
                   else dens * integrand) / norm
            if acc == "a":
                a_tot += mass * val
            else:
                b_tot += mass * val
    return sp.nsimplify(sp.expand(a_tot)), sp.nsimplify(sp.expand(b_tot))
