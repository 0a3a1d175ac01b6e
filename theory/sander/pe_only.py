"""Positional-encoding-only model of Sander et al. (2024) (reference script ``pe_only.py``; Fig. 6 of the code README).

Data: ``d = 1``, ``s_t = λ^t`` with ``λ = e^{iθ/μ}``, ``θ ~ U[0, 2π)``, ``s_0 = 1``.  Model: the non-augmented model with
``H = 1``, ``a = b = 1`` fixed, only ``P`` learned: row ``i = 0..T-2`` predicts ``s_{i+2}`` as
``ŝ_{i+2} = conj(s_i) Σ_{j ≤ i+1} P[i, j] s_j² = Σ_j P[i, j] λ^{2j − i}``.

Exact expectation.  Every term is a power of ``λ``, and for ``θ = U/μ``::

    E[λ^m] = (e^{2πi m/μ} − 1) / (2πi m/μ)        (m ≠ 0),   E[λ^0] = 1,

so the row loss is ``ℓ_i(p) = pᵀ G p − 2 bᵀ p + 1`` with ``G[j, j'] = Re E[λ^{2(j−j')}]`` and
``b[j] = Re E[λ^{2(j−i−1)}]`` (``p = P[i, 0..i+1]``).  The reference script reports the mean over rows (and the
batch): :func:`loss` does the same.

Exact minimiser: ``P[i, i+1] = 1``, all else 0 gives ``conj(s_i) s_{i+1}² = s_{i+2}``: zero loss for *every* angle
law.  The reference figure instead shows gradient descent from ``P = 0`` stopped at loss ``< 10⁻³``
(:func:`gd_from_zero`); its saved ``P`` is masked to ``j ≤ i`` and so drops that superdiagonal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from theory.arguments import (
    ArgumentError,
    finite_array,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    real_array,
)

__all__ = ["moment", "moment_sympy", "row_gram", "loss", "loss_rows", "exact_minimiser",
           "gd_from_zero", "row_features"]


def moment(m: Any, mu: float) -> np.ndarray:
    """``E[λ^m]`` for ``λ = e^{iθ/μ}``, ``θ ~ U[0, 2π)``; ``m`` may be an integer array.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import pe_only_moment
    >>> np.round(pe_only_moment(np.array([0, 1, 2]), 1.0).real, 12)  # μ = 1: E[λ^m] = [m = 0]
    array([ 1., -0., -0.])
    """
    real_array("m", m)
    mu = positive_float("mu", mu)
    m = np.asarray(m, dtype=float)
    x = 2j * np.pi * m / mu
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(m == 0, 1.0 + 0j, np.expm1(x) / np.where(m == 0, 1.0, x))
    return out


def moment_sympy(m: sp.Expr, mu: sp.Expr) -> sp.Expr:
    """``E[e^{i m U/μ}] = (1/2π) ∫_0^{2π} e^{i m u/μ} du`` computed by sympy (for a symbolic or integer ``m ≠ 0``).

    Examples
    --------
    For ``μ = 1`` a whole period averages to 0; for ``μ = 2``, ``(1/2π)∫_0^{2π} e^{iu/2} du = (e^{iπ} − 1)/(iπ) =
    2i/π``:

    >>> from theory.sander import pe_only_moment_sympy
    >>> pe_only_moment_sympy(1, 1), pe_only_moment_sympy(1, 2)
    (0, 2*I/pi)
    """
    u = sp.Symbol("u", real=True)
    return sp.simplify(sp.integrate(sp.exp(sp.I * m * u / mu), (u, 0, 2 * sp.pi)) / (2 * sp.pi))


def row_gram(i: int, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """``(G, b)`` of row ``i`` (``i + 2`` keys): ``ℓ_i(p) = pᵀGp − 2bᵀp + 1``.

    Examples
    --------
    For ``μ = 1`` the moments ``E e^{imU}`` vanish for ``m ≠ 0``, so ``G = I`` and ``b`` picks the next key: the
    row optimum is that one-hot with loss ``1 − ‖b‖² = 0``:

    >>> import numpy as np
    >>> from theory.sander import pe_only_row_gram
    >>> G, b = pe_only_row_gram(1, 1.0)
    >>> bool(np.allclose(G, np.eye(3))), bool(np.allclose(b, [0.0, 0.0, 1.0]))
    (True, True)
    """
    i = nonnegative_int("i", i)
    j = np.arange(i + 2)
    G = moment(2 * (j[:, None] - j[None, :]), mu).real
    b = moment(2 * (j - i - 1), mu).real
    return G, b


def _check_P(P: Any) -> np.ndarray:
    P = real_array("P", P, ndim=2)
    if P.shape[0] != P.shape[1] or P.shape[0] < 2:
        raise ArgumentError(f"P must be (T, T) with T >= 2, got shape {P.shape}")
    return P.astype(float)


def loss_rows(P: Any, mu: float) -> np.ndarray:
    """Exact expected squared error of every row ``i = 0..T-2`` (shape ``(T-1,)``).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import pe_only_loss_rows
    >>> pe_only_loss_rows(np.zeros((3, 3)), 2.0)  # zero predictor: E|s|² = 1 per row
    array([1., 1.])
    """
    P = _check_P(P)
    T = P.shape[0]
    out = np.empty(T - 1)
    for i in range(T - 1):
        G, b = row_gram(i, mu)
        p = P[i, : i + 2]
        out[i] = p @ G @ p - 2 * b @ p + 1.0
    return out


def loss(P: Any, mu: float) -> float:
    """Exact population version of the reference loss: the mean over rows of :func:`loss_rows`.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import pe_only_loss, pe_only_exact_minimiser
    >>> pe_only_loss(pe_only_exact_minimiser(4), 3.0), pe_only_loss(np.zeros((4, 4)), 3.0)
    (0.0, 1.0)
    """
    return float(loss_rows(P, mu).mean())


def exact_minimiser(T: int) -> np.ndarray:
    """``P[i, i+1] = 1``, everything else 0: zero loss for every ``μ``.

    Examples
    --------
    >>> from theory.sander import pe_only_exact_minimiser
    >>> pe_only_exact_minimiser(3)
    array([[0., 1., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    T = positive_int("T", T)
    P = np.zeros((T, T))
    i = np.arange(T - 1)
    P[i, i + 1] = 1.0
    return P


def gd_from_zero(T: int, mu: float, *, lr: float = 0.5, stop_below: float = 1e-3, max_steps: int = 100_000) -> dict[str, Any]:
    """Gradient descent from ``P = 0`` on the exact loss, with the reference script's loop order.

    The script evaluates the loss of the current iterate, stops if the *previous* iterate's loss was below
    ``stop_below``, and otherwise takes a step; the returned ``P`` is therefore one step past the first iterate
    below the threshold.  Returns ``{"P", "steps", "loss"}``.  Deterministic (the script's batch of 1000 draws
    is replaced by the exact expectation).

    Examples
    --------
    ``μ = 1``, ``T = 3``: the loss is the mean over the two rows of ``‖p_r − e_{r+1}‖²`` (``G = I``), so a step of
    ``lr = 1/2`` halves the residual and the loss is ``4^{-k}``; ``4^{-5} < 10^{-3}`` stops one step later, at
    ``k = 6``:

    >>> from theory.sander import pe_only_gd_from_zero
    >>> run = pe_only_gd_from_zero(3, 1.0)
    >>> run["steps"], bool(run["loss"] == 4.0**-6)
    (6, True)
    """
    if positive_int("T", T) < 2:
        raise ArgumentError(f"T must be at least 2 (one row predicting s_2), got {T}")
    positive_float("stop_below", stop_below)
    positive_int("max_steps", max_steps)
    T = positive_int("T", T)
    lr = positive_float("lr", lr)
    nonnegative_float("stop_below", stop_below)
    grams = [row_gram(i, mu) for i in range(T - 1)]
    P = np.zeros((T, T))
    prev = None
    for step in range(max_steps):
        cur = 0.0
        grad = np.zeros_like(P)
        for i, (G, b) in enumerate(grams):
            p = P[i, : i + 2]
            cur += p @ G @ p - 2 * b @ p + 1.0
            grad[i, : i + 2] = 2 * (G @ p - b)
        cur /= T - 1
        if prev is not None and prev < stop_below:
            return {"P": P, "steps": step, "loss": cur}
        prev = cur
        P = P - lr * grad / (T - 1)
    raise RuntimeError(f"gd_from_zero did not reach loss < {stop_below} in {max_steps} steps (mu={mu})")


def row_features(row: Any) -> dict[str, float]:
    """Shape features of a PE row (as plotted in the reference figure): max, argmax, min, zero crossings, sum.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import pe_only_row_features
    >>> f = pe_only_row_features(np.array([0.5, -0.2, 1.0, 0.1]))
    >>> f["argmax"], f["min"], f["zero_crossings"], round(f["sum"], 12)  # sign changes + → − → +
    (2, -0.2, 2, 1.4)
    """
    real_array("row", row)
    x = finite_array("row", row, ndim=1).astype(float)
    s = np.sign(x[np.abs(x) > 1e-12])  # round-off (e.g. the ~1e-17 moments of μ = 1) carries no sign
    return {"max": float(x.max()), "argmax": int(x.argmax()), "min": float(x.min()),
            "zero_crossings": int((s[1:] != s[:-1]).sum()), "sum": float(x.sum())}
