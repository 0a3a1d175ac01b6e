"""Case O with a softmax positional encoding: rows of ``P`` in the probability simplex (shared notes, S-P3).

The non-augmented model of :mod:`theory.sander.non_augmented` with its positional matrix replaced by a masked
row softmax, ``P[r, :] = softmax(Z[r, j ≤ r+1])``: every used row is non-negative and sums to 1.  The closure of
the softmax images is the product of simplices, so the infimum of the loss over softmax models is the minimum
over ``C`` and simplex rows.

Why a softmax cannot reach zero (derivation, case O, blocks of squared radius ``ρ``)
----------------------------------------------------------------------------------
The zero-loss point needs ``αρ P[r, r+1] = 2`` and ``αρ P[r, r] = −1`` (``ŝ_{r+2} = 2cos θ s_{r+1} − s_r``):
opposite signs in one row, which non-negative rows cannot give.  What a non-negative row can do: with
``C = α blockdiag(𝟙𝟙ᵀ)`` and ``P[r, :] = e_{r+1}`` (all weight on the last key) the prediction is
``αρ cos θ_b s_{r+1}`` per block ``b``, and per block and row

    E‖s_{r+2} − c cos θ s_{r+1}‖² = ρ − 2c ρ E[cos² θ] + c² ρ E[cos² θ] = ρ − cρ + c²ρ/2,

minimal at ``c = αρ = 1`` with value ``ρ/2`` (``E cos² θ = 1/2`` for uniform ``θ``): half of the zero predictor's
``ρ``.  The opposite choice (weight on the query key, ``ŝ = −c s_r``) gains nothing, since
``E[s_{r+2}·s_r] = ρ E[cos 2θ] = 0``.  Hence the candidate infimum

    L_softmax = (T − 1) · (d/2) · ρ/2        (``H ≥ d/2`` heads, so that ``C`` can be ``α blockdiag(𝟙𝟙ᵀ)``),

half of the zero-predictor loss ``(T−1) d ρ/2``, approached (not attained: a softmax row is never exactly
one-hot) as ``Z[r, r+1] → ∞``.  That no other ``C`` or simplex row does better is **established numerically, not
proved here**: for a fixed ``C`` the loss is a convex quadratic in each row, minimised exactly over the simplex by
:func:`simplex_quadratic_minimum`, and the claim ``sander.non-aug.softmax-pe.trained`` searches ``C`` (and trains
softmax models directly).  The statement in the shared notes (S-P3) is UNCONFIRMED in the paper.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from theory.arguments import ArgumentError, even_int, finite_array, positive_float, positive_int, real_array, real_float
from theory.sander.non_augmented import loss_o_row_gram


__all__ = [
    "simplex_quadratic_minimum", "loss_o_simplex_minimum", "loss_o_softmax_infimum", "softmax_minimiser",
]


def simplex_quadratic_minimum(G: Any, b: Any, const: float = 0.0) -> tuple[float, np.ndarray]:
    """``min pᵀGp − 2bᵀp + const`` over the probability simplex (``p ≥ 0``, ``Σp = 1``), exactly; ``G`` PSD.

    Every support ``S`` is tried: the minimiser on the face of ``S`` solves the KKT system
    ``[2G_SS 𝟙; 𝟙ᵀ 0][p_S; λ] = [2b_S; 1]``; among the solutions that are feasible (``p_S ≥ 0``) the smallest
    objective is the minimum (the true minimiser is the solution on its own support, and every candidate is a
    feasible point).  ``2^n − 1`` small solves: meant for ``n ≤ 12``.  Returns ``(value, p)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import simplex_quadratic_minimum
    >>> simplex_quadratic_minimum(np.eye(2), np.array([1.0, 0.0]))  # min pᵀp − 2p₀ on the simplex: p = e₀
    (-1.0, array([1., 0.]))
    """
    const = real_float("const", const)
    G = real_array("G", G, ndim=2)
    b = real_array("b", b, ndim=1)
    n = b.shape[0]
    if G.shape != (n, n):
        raise ArgumentError(f"G must be ({n}, {n}) to match b, got {G.shape}")
    if n > 12:
        raise ArgumentError(f"b has {n} entries: support enumeration is meant for at most 12")
    best_val, best_p = np.inf, np.full(n, np.nan)
    for k in range(1, n + 1):
        for support in itertools.combinations(range(n), k):
            S = list(support)
            K = np.zeros((k + 1, k + 1))
            K[:k, :k] = 2 * G[np.ix_(S, S)]
            K[:k, k] = K[k, :k] = 1.0
            rhs = np.append(2 * b[S], 1.0)
            sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
            if not np.allclose(K @ sol, rhs, atol=1e-9) or np.any(sol[:k] < -1e-12):
                continue
            p = np.zeros(n)
            p[S] = np.clip(sol[:k], 0.0, None)
            value = float(p @ G @ p - 2 * b @ p + const)
            if value < best_val:
                best_val, best_p = value, p
    return best_val, best_p


def loss_o_simplex_minimum(C: Any, T: int, *, radius_sq: float = 2.0) -> tuple[float, np.ndarray]:
    """For a fixed ``C``: the minimum of the case-O loss over positional matrices whose used rows lie in the
    simplex (the closure of the softmax images), and that ``P``.  Rows are independent (row ``r``: query
    ``s_r``, keys ``s_0..s_{r+1}``; :func:`theory.sander.non_augmented.loss_o_row_gram`).

    Examples
    --------
    With ``C = 0`` the prediction is 0 whatever ``P``: the loss is ``(T − 1) d ρ/2 = 2·4·2/2 = 8``:

    >>> import numpy as np
    >>> from theory.sander import loss_o_simplex_minimum
    >>> loss, P = loss_o_simplex_minimum(np.zeros((4, 4)), 3)
    >>> loss, bool(np.allclose(P.sum(1)[:2], 1.0))  # used rows on the simplex
    (8.0, True)
    """
    C = real_array("C", C, ndim=2)
    T = positive_int("T", T)
    if T < 2:
        raise ArgumentError(f"T must be at least 2 (one row predicting s_2), got {T}")
    P = np.zeros((T, T))
    total = 0.0
    for r in range(T - 1):
        value, p = simplex_quadratic_minimum(*loss_o_row_gram(C, r + 2, r, radius_sq=radius_sq))
        P[r, : r + 2] = p
        total += value
    return total, P


def loss_o_softmax_infimum(d: int, H: int, T: int, *, radius_sq: float = 2.0) -> float:
    """The candidate infimum ``(T−1)·(d/2)·ρ/2`` over softmax-PE models with ``H ≥ d/2`` heads (module doc).

    Examples
    --------
    >>> from theory.sander import loss_o_softmax_infimum, loss_o
    >>> import numpy as np
    >>> zero = float(loss_o(np.zeros((4, 4)), np.zeros((3, 3))))
    >>> loss_o_softmax_infimum(4, 2, 3) == zero / 2  # half the zero predictor's loss
    True
    """
    d, H, T = even_int("d", d), positive_int("H", H), positive_int("T", T)
    if 2 * H < d:
        raise ArgumentError(f"H must be at least d/2 = {d // 2} (C = α blockdiag(11ᵀ) needs rank d/2), got {H}")
    return (T - 1) * (d / 2) * positive_float("radius_sq", radius_sq) / 2


def softmax_minimiser(d: int, T: int, *, radius_sq: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """The limit point ``(C, P)`` of the derivation: ``C = blockdiag(𝟙𝟙ᵀ)/ρ`` and one-hot rows on the last key.

    Examples
    --------
    Its loss is the simplex minimum of :func:`loss_o_simplex_minimum` for that ``C`` (4 here, not 0: simplex rows
    cannot carry the negative query weight ``−1/ρ`` of the unconstrained minimiser):

    >>> import numpy as np
    >>> from theory.sander import loss_o, loss_o_simplex_minimum, softmax_minimiser
    >>> C, P = softmax_minimiser(4, 3)
    >>> C[0, :2].tolist(), P[:2].tolist()
    ([0.5, 0.5], [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> best, P_best = loss_o_simplex_minimum(C, 3)
    >>> round(best, 12), bool(np.isclose(float(loss_o(C, P)), best)) and bool(np.allclose(P_best, P))
    (4.0, True)
    """
    d, T = even_int("d", d), positive_int("T", T)
    C = np.kron(np.eye(d // 2), np.ones((2, 2))) / positive_float("radius_sq", radius_sq)
    P = np.zeros((T, T))
    rows = np.arange(T - 1)
    P[rows, rows + 1] = 1.0
    return C, P
