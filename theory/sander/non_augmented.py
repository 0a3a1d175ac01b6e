"""Population loss of the non-augmented diagonal multi-head linear Transformer with positional matrix.

Sander, Giryes, Suzuki, Blondel, Peyré, ICML 2024 (arXiv:2402.05787), non-augmented tokens (Section 4 of the
arXiv version [UNCONFIRMED: section and theorem numbers; the paper body was not available]).

Model (see ``numerics.models.sander_non_augmented`` for the torch version)
--------------------------------------------------------------------------
Tokens are ``e_t = s_t``.  Head ``h`` has a diagonal key-query matrix ``diag(a_h)`` and a diagonal value matrix
``diag(b_h)``; one positional matrix ``P`` (``T×T``) multiplies the attention entries.  Row ``r = 0..T-2``
predicts ``s_{r+2}`` from the keys ``s_0..s_{r+1}`` with the query ``s_r``::

    ŝ_{r+2} = Σ_{j=0}^{r+1} P[r, j] Σ_h (s_r^* diag(a_h) s_j) diag(b_h) s_j
    ŝ_{r+2, k} = Σ_j P[r, j] Σ_l C[k, l] conj(s_{r,l}) s_{j,l} s_{j,k},      C := Bᵀ A  (d×d, real).

Only ``C`` and ``P`` enter.  We write ``q = r`` (query index) and ``c = r + 1`` (last key).  The loss is the
squared error summed over rows and coordinates, in expectation over ``W`` (and ``s_0``), no ``1/T``
(the convention of the reference scripts ``unitary.py`` / ``orthogonal.py``).

Case U — ``W = diag(e^{iθ_k})``, ``θ_k`` iid uniform on ``[0, 2π)``, ``|s_{0,k}| = 1`` (ones or uniform phases)::

    ℓ_r(C, p) = ‖C‖_F² Σ_{j≠q} p_j² + ‖C𝟙‖² p_q² − 2 tr(C) p_c + d,          p = P[r, 0..r+1].

Case O — ``W = blockdiag(R(θ_1), …, R(θ_{d/2}))``, ``θ_m`` iid uniform, ``s_0`` blocks of squared radius ``ρ``
(``ρ = 2`` matches ``s_0 = 𝟙``) with iid uniform phases.  With ``m(k)`` the block of coordinate ``k`` and
``k'`` its partner in the block, put (for every row ``k`` of ``C``)::

    S_k = C[k,k] + C[k,k'],  D̃_k = C[k,k] − C[k,k'],            (own block)
    O_k = (C𝟙)_k − S_k,  Q_k = Σ_{m≠m(k)} (C[k,2m] + C[k,2m+1])²,  R_k = Σ_{m≠m(k)} (C[k,2m] − C[k,2m+1])²
    g_J = Σ_k (S_k + D̃_k)²/8,   g_X = Σ_k [(S_k² + S_k D̃_k)/8 + O_k (S_k + D̃_k)/4],
    g_I = Σ_k [(S_k² + D̃_k²)/8 + (Q_k + R_k)/4],   g_Q = Σ_k [(O_k S_k + O_k² − Q_k)/2 + Q_k/4],
    ℓ_r(C, p) = (ρ³/4) [g_J (Σp)² + 2 g_X p_q Σp + g_I ‖p‖² + g_Q p_q²] − (ρ²/4) p_c Σ_k S_k + d ρ/2.

Both closed forms are derived here from the model definition by sympy (:func:`loss_u_derivation`,
:func:`loss_o_derivation`): the squared error is a Laurent polynomial in ``λ = e^{iθ}`` (and the phases
``u = e^{iφ}`` of ``s_0``) with ``conj(λ) = 1/λ``; its constant term is the expectation.

Also here: global minima and minimisers, the Cayley–Hamilton identity behind the PE ratio ``−2``, and the
reference code's loss formulas (``unitary.py`` over-counts ``p_q² ‖C‖_F²``; ``orthogonal.py`` is exact only
at its minimiser) so that the findings can be measured.

Numpy functions accept a leading batch shape: ``C`` is ``(..., d, d)`` and ``P`` is ``(..., T, T)``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable

import numpy as np
import sympy as sp

from theory.arguments import (
    ArgumentError,
    even_int,
    finite_array,
    flag,
    instance,
    nonnegative_int,
    one_of,
    positive_float,
    positive_int,
    real_array,
    real_float,
    tensor,
)
from theory.laurent import constant_term, expectation_of_product, laurent_coefficients

__all__ = [
    "used_mask", "row_statistics",
    "loss_u", "loss_u_torch", "loss_u_reference", "loss_u_reference_torch", "loss_u_minimum", "loss_u_minimiser",
    "loss_u_row_optimum", "loss_o", "loss_o_torch", "loss_o_reference", "loss_o_reference_torch",
    "loss_o_coefficients", "loss_o_minimum", "loss_o_minimiser", "loss_o_row_gram",
    "loss_u_closed_sympy", "loss_o_closed_sympy", "loss_u_reference_sympy", "loss_o_reference_sympy",
    "loss_u_derivation", "loss_o_derivation", "symbolic_C", "symbolic_P", "heads_factorisation_sympy",
    "cayley_hamilton_rotation", "pe_ratio_from_cayley_hamilton", "constant_term", "laurent_coefficients",
    "expectation_of_product", "best_p_row_o", "structure_u", "structure_o", "block_pattern", "max_deviation",
    "lambdified_loss",
]

# --------------------------------------------------------------------------------------------------------------
# Indexing
# --------------------------------------------------------------------------------------------------------------


def used_mask(T: int) -> np.ndarray:
    """Boolean ``(T, T)`` mask of the ``P`` entries the loss uses: rows ``r ≤ T-2``, columns ``j ≤ r+1``.

    Examples
    --------
    >>> from theory.sander import used_mask
    >>> used_mask(3)  # row r uses keys j ≤ r + 1; the last row predicts nothing
    array([[ True,  True, False],
           [ True,  True,  True],
           [False, False, False]])
    """
    T = positive_int("T", T)
    if T < 2:
        raise ArgumentError(f"T must be at least 2 (one row predicting s_2), got {T}")
    r = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    return (r <= T - 2) & (j <= r + 1)


def _check_CP(C: Any, P: Any) -> tuple[np.ndarray, np.ndarray]:
    C = finite_array("C", C)
    P = finite_array("P", P)
    _check_square_pair(C, P)
    if np.iscomplexobj(C) or np.iscomplexobj(P):
        raise ArgumentError("C and P must be real (the model's A, B, P are real)")
    return C.astype(float), P.astype(float)


def _check_square_pair(C: Any, P: Any) -> None:
    """``C`` is ``(..., d, d)`` and ``P`` is ``(..., T, T)`` with ``T ≥ 2`` (numpy arrays, torch tensors, sympy matrices)."""
    if len(C.shape) < 2 or C.shape[-1] != C.shape[-2]:
        raise ArgumentError(f"C must be (..., d, d), got shape {tuple(C.shape)}")
    if len(P.shape) < 2 or P.shape[-1] != P.shape[-2] or P.shape[-1] < 2:
        raise ArgumentError(f"P must be (..., T, T) with T >= 2, got shape {tuple(P.shape)}")


def _row_stats(P: Any) -> dict[str, Any]:
    """Row statistics for a numpy array or a torch tensor ``P`` (the formulas below serve both)."""
    T = P.shape[-1]
    m: Any = used_mask(T)[: T - 1]
    r: Any = np.arange(T - 1)
    if not isinstance(P, np.ndarray):
        import torch

        m, r = torch.as_tensor(m, device=P.device), torch.as_tensor(r, device=P.device)
    rows = P[..., : T - 1, :] * m
    return {"sq": (rows ** 2).sum(-1), "sum": rows.sum(-1), "q": P[..., r, r], "c": P[..., r, r + 1]}


def row_statistics(P: Any) -> dict[str, np.ndarray]:
    """Per-row statistics of ``p = P[r, 0..r+1]`` for ``r = 0..T-2``: each ``(..., T-1)``.

    ``sq`` = ‖p‖², ``sum`` = Σ_j p_j, ``q`` = p_q = P[r, r], ``c`` = p_c = P[r, r+1].

    Examples
    --------
    Row 0 uses ``(1, 2)`` (query ``P[0,0] = 1``, next key ``P[0,1] = 2``); row 1 uses ``(3, 4, 5)``:

    >>> import numpy as np
    >>> from theory.sander import row_statistics
    >>> st = row_statistics(np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0], [0.0, 0.0, 0.0]]))
    >>> {k: v.tolist() for k, v in st.items()}
    {'sq': [5.0, 50.0], 'sum': [3.0, 12.0], 'q': [1.0, 4.0], 'c': [2.0, 5.0]}
    """
    P = real_array("P", P)
    if P.ndim < 2 or P.shape[-1] != P.shape[-2]:
        raise ArgumentError(f"P must be a (..., d, d) matrix, got shape {P.shape}")
    return _row_stats(finite_array("P", P).astype(float))


def _total(rows: Any, per_row: bool) -> Any:
    return rows if per_row else rows.sum(-1)


# --------------------------------------------------------------------------------------------------------------
# Case U (unitary diagonal W, θ uniform)
# --------------------------------------------------------------------------------------------------------------


def _u_rows(C: Any, P: Any, *, reference: bool) -> Any:
    """Case-U row losses for numpy or torch inputs; ``reference`` uses ``unitary.py``'s ``‖C‖_F²‖p‖²``."""
    st = _row_stats(P)
    fro = (C ** 2).sum((-1, -2))[..., None]
    col = (C.sum(-1) ** 2).sum(-1)[..., None]             # ‖C𝟙‖²
    tr = C.diagonal(0, -2, -1).sum(-1)[..., None]
    sq = st["sq"] if reference else st["sq"] - st["q"] ** 2
    return fro * sq + col * st["q"] ** 2 - 2 * tr * st["c"] + C.shape[-1]


def loss_u(C: Any, P: Any, *, per_row: bool = False) -> np.ndarray:
    """Exact population loss, case U: ``Σ_r ℓ_r(C, P[r, :r+2])`` (or the ``(..., T-1)`` rows if ``per_row``).

    Paper: Sander et al. (2024), non-augmented tokens, case U (numbering UNCONFIRMED); derived by
    :func:`loss_u_derivation`.  Twins: :func:`loss_u_closed_sympy` (sympy), :func:`loss_u_torch` (torch).

    Parameters
    ----------
    C : array_like, shape (..., d, d)
        ``C = BᵀA``, real.
    P : array_like, shape (..., T, T)
        Positional matrix (entries right of ``r+1`` in row ``r`` are unused).
    per_row : bool
        Return the ``(..., T-1)`` row losses instead of their sum.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import loss_u, loss_u_minimiser
    >>> float(loss_u(np.eye(2), np.zeros((3, 3))))  # zero predictor: (T-1) d
    4.0
    >>> C, P = loss_u_minimiser(3, 4)
    >>> float(loss_u(C, P))
    0.0
    """
    flag("per_row", per_row)
    C, P = _check_CP(C, P)
    return _total(_u_rows(C, P, reference=False), per_row)


def loss_u_reference(C: Any, P: Any, *, per_row: bool = False) -> np.ndarray:
    """The loss formula of the reference script ``unitary.py`` (michaelsdr/ical): ``‖C‖_F² ‖p‖² + …``.

    It exceeds :func:`loss_u` by exactly ``Σ_r P[r, r]² ‖C‖_F²`` (the ``j = q`` term is counted twice).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import loss_u, loss_u_reference
    >>> float(loss_u_reference(np.eye(2), np.eye(3)) - loss_u(np.eye(2), np.eye(3)))  # Σ_r P[r,r]² ‖C‖_F² = 2·2
    4.0
    """
    flag("per_row", per_row)
    C, P = _check_CP(C, P)
    return _total(_u_rows(C, P, reference=True), per_row)


def loss_u_torch(C: Any, P: Any, *, per_row: bool = False) -> Any:
    """Torch twin of :func:`loss_u` (differentiable; ``C (..., d, d)``, ``P (..., T, T)``).

    Examples
    --------
    >>> import torch
    >>> from theory.sander import loss_u_torch
    >>> C = torch.eye(2, dtype=torch.float64, requires_grad=True)
    >>> loss = loss_u_torch(C, torch.eye(3, dtype=torch.float64))
    >>> loss.backward(); C.grad  # P = I: loss = 2‖C𝟙‖² + 2d, gradient 4 (C𝟙) 𝟙ᵀ
    tensor([[4., 4.],
            [4., 4.]], dtype=torch.float64)
    """
    tensor("C", C, real=True)
    tensor("P", P, real=True)
    flag("per_row", per_row)
    _check_square_pair(C, P)
    return _total(_u_rows(C, P, reference=False), per_row)


def loss_u_reference_torch(C: Any, P: Any, *, per_row: bool = False) -> Any:
    """Torch twin of :func:`loss_u_reference`.


    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> from theory.sander import loss_u_reference, loss_u_reference_torch, used_mask
    >>> C, P = rng.standard_normal((2, 2)), rng.standard_normal((3, 3)) * used_mask(3)
    >>> bool(np.isclose(loss_u_reference_torch(torch.tensor(C), torch.tensor(P)).item(), loss_u_reference(C, P)))
    True
    """
    tensor("C", C, real=True)
    tensor("P", P, real=True)
    flag("per_row", per_row)
    _check_square_pair(C, P)
    return _total(_u_rows(C, P, reference=True), per_row)


def loss_u_row_optimum(C: Any) -> np.ndarray:
    """``min_p ℓ_r(C, p) = d − tr(C)²/‖C‖_F²`` (``p_c = tr C/‖C‖_F²``, every other entry 0); ``d`` if ``C = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import loss_u_row_optimum
    >>> loss_u_row_optimum(np.eye(2)), loss_u_row_optimum(np.ones((2, 2)))  # d − tr(C)²/‖C‖_F²
    (array(0.), array(1.))
    """
    C = real_array("C", C)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ArgumentError(f"C must be a (..., d, d) matrix, got shape {C.shape}")
    C = finite_array("C", C)
    d = C.shape[-1]
    fro = (C ** 2).sum((-1, -2))
    tr = np.trace(C, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(fro > 0, d - tr ** 2 / np.where(fro > 0, fro, 1.0), float(d))


def loss_u_minimum(d: int, H: int, T: int) -> float:
    """Global minimum of the case-U loss over ``A, B ∈ R^{H×d}`` and ``P``: ``(T−1)·max(d − H, 0)``.

    Per row ``d − tr(C)²/‖C‖_F² ≥ d − rank(C)`` since ``tr(C)² ≤ rank(C) ‖C‖_F²`` and ``rank(BᵀA) ≤ H``.

    Examples
    --------
    >>> from theory.sander import loss_u_minimum
    >>> loss_u_minimum(3, 2, 4), loss_u_minimum(3, 3, 4)
    (3.0, 0.0)
    """
    d, H, T = positive_int("d", d), positive_int("H", H), positive_int("T", T)
    return float((T - 1) * max(d - H, 0))


def loss_u_minimiser(d: int, T: int, *, alpha: float = 1.0, H: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A global minimiser ``(C, P)``: ``C = α Π`` (``Π`` = projection on the first ``min(H, d)`` coordinates,
    ``Π = I`` when ``H ≥ d``), ``P[r, r+1] = 1/α``, all other entries 0.

    For ``H < d`` the minimisers are ``C = αΠ`` for any rank-``H`` orthogonal projection ``Π``; if ``Π𝟙 = 0`` the
    query weights ``P[r, r]`` are free (they enter only through ``‖C𝟙‖² P[r, r]²``).

    Examples
    --------
    >>> from theory.sander import loss_u, loss_u_minimiser, loss_u_minimum
    >>> C, P = loss_u_minimiser(3, 4, H=2)
    >>> float(loss_u(C, P)) == loss_u_minimum(3, 2, 4)
    True
    """
    real_float("alpha", alpha)
    d, T = positive_int("d", d), positive_int("T", T)
    if alpha == 0 or not np.isfinite(alpha):
        raise ArgumentError(f"alpha must be a non-zero finite number, got {alpha!r}")
    k = d if H is None else min(positive_int("H", H), d)
    C = np.zeros((d, d))
    C[np.arange(k), np.arange(k)] = alpha
    P = np.zeros((T, T))
    r = np.arange(T - 1)
    P[r, r + 1] = 1.0 / alpha
    return C, P


# --------------------------------------------------------------------------------------------------------------
# Case O (2x2 rotation blocks in the canonical basis, θ and the s_0 phases uniform)
# --------------------------------------------------------------------------------------------------------------


def _o_coefficients(C: Any) -> dict[str, Any]:
    """``g_J, g_X, g_I, g_Q`` and ``b = Σ_k S_k`` for a numpy array or a torch tensor ``C`` (``(..., d, d)``)."""
    d = even_int("d", C.shape[-1])
    k = np.arange(d)
    diag, off = C[..., k, k], C[..., k, k ^ 1]            # own entry and its block partner
    pairs = C.reshape(tuple(C.shape[:-1]) + (d // 2, 2))
    s_all = pairs.sum(-1)                                 # (…, d, d/2): C[k,2m] + C[k,2m+1]
    d_all = pairs[..., 0] - pairs[..., 1]
    S, Dt = diag + off, diag - off
    O = C.sum(-1) - S
    Q = (s_all ** 2).sum(-1) - S ** 2
    R = (d_all ** 2).sum(-1) - d_all[..., k, k // 2] ** 2
    return {
        "gJ": ((S + Dt) ** 2).sum(-1) / 8,
        "gX": ((S ** 2 + S * Dt) / 8 + O * (S + Dt) / 4).sum(-1),
        "gI": ((S ** 2 + Dt ** 2) / 8 + (Q + R) / 4).sum(-1),
        "gQ": ((O * S + O ** 2 - Q) / 2 + Q / 4).sum(-1),
        "b": S.sum(-1),
    }


def loss_o_coefficients(C: Any) -> dict[str, np.ndarray]:
    """The four quadratic coefficients ``g_J, g_X, g_I, g_Q`` and the linear ``b = Σ_k S_k`` of case O.


    Examples
    --------
    The ``g``'s are quadratic in ``C`` and ``b`` is linear: doubling ``C`` multiplies them by 4 and 2:

    >>> import numpy as np
    >>> from theory.sander import block_pattern, loss_o_coefficients
    >>> C = np.random.default_rng(0).standard_normal((4, 4))
    >>> g1, g2 = loss_o_coefficients(C), loss_o_coefficients(2 * C)
    >>> all(np.isclose(g2[k], 4 * g1[k]) for k in ("gJ", "gX", "gI", "gQ")), bool(np.isclose(g2["b"], 2 * g1["b"]))
    (True, True)
    """
    C = real_array("C", C)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ArgumentError(f"C must be (..., d, d), got shape {C.shape}")
    return _o_coefficients(C)


def _o_rows(C: Any, P: Any, rho: float) -> Any:
    g = {k: v[..., None] for k, v in _o_coefficients(C).items()}
    st = _row_stats(P)
    quad = g["gJ"] * st["sum"] ** 2 + 2 * g["gX"] * st["q"] * st["sum"] + g["gI"] * st["sq"] + g["gQ"] * st["q"] ** 2
    return rho ** 3 / 4 * quad - rho ** 2 / 4 * st["c"] * g["b"] + C.shape[-1] * rho / 2


def loss_o(C: Any, P: Any, *, radius_sq: float = 2.0, per_row: bool = False) -> np.ndarray:
    """Exact population loss, case O (random-phase ``s_0`` blocks of squared radius ``radius_sq``).

    Paper: Sander et al. (2024), non-augmented tokens, case O (numbering UNCONFIRMED); derived by
    :func:`loss_o_derivation`.  Twins: :func:`loss_o_closed_sympy` (sympy), :func:`loss_o_torch` (torch).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import loss_o, loss_o_minimiser
    >>> float(loss_o(np.zeros((4, 4)), np.zeros((3, 3))))  # zero predictor: (T-1) d ρ/2
    8.0
    >>> C, P = loss_o_minimiser(4, 3)
    >>> abs(float(loss_o(C, P))) < 1e-12
    True
    """
    flag("per_row", per_row)
    C, P = _check_CP(C, P)
    return _total(_o_rows(C, P, positive_float("radius_sq", radius_sq)), per_row)


def loss_o_torch(C: Any, P: Any, *, radius_sq: float = 2.0, per_row: bool = False) -> Any:
    """Torch twin of :func:`loss_o` (differentiable).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from theory.sander import loss_o, loss_o_torch
    >>> C, P = np.eye(4), 0.3 * np.ones((3, 3))
    >>> bool(np.isclose(loss_o_torch(torch.from_numpy(C), torch.from_numpy(P)).item(), loss_o(C, P)))
    True
    """
    tensor("C", C, real=True)
    tensor("P", P, real=True)
    flag("per_row", per_row)
    _check_square_pair(C, P)
    return _total(_o_rows(C, P, positive_float("radius_sq", radius_sq)), per_row)


def loss_o_row_gram(C: Any, n_keys: int, q: int, *, radius_sq: float = 2.0) -> tuple[np.ndarray, np.ndarray, float]:
    """``(G, b, const)`` with ``ℓ_r = pᵀ G p − 2 bᵀ p + const`` for one row with ``n_keys = r+2`` keys, query ``q``.

    Examples
    --------
    The quadratic form reproduces row 1 of the per-row loss of :func:`loss_o` at a random ``P``:

    >>> import numpy as np
    >>> from theory.sander import block_pattern, loss_o, loss_o_row_gram, used_mask
    >>> P = np.random.default_rng(0).standard_normal((4, 4)) * used_mask(4)
    >>> G, b, const = loss_o_row_gram(block_pattern(4), 3, 1)
    >>> p = P[1, :3]
    >>> bool(np.isclose(p @ G @ p - 2 * b @ p + const, loss_o(block_pattern(4), P, per_row=True)[1]))
    True
    """
    n = positive_int("n_keys", n_keys)
    q = nonnegative_int("q", q)
    if q >= n - 1:
        raise ArgumentError(f"q must be below n_keys - 1 = {n - 1}, got {q}")
    C = real_array("C", C, ndim=2)
    rho = positive_float("radius_sq", radius_sq)
    g = loss_o_coefficients(C)
    one = np.ones(n)
    e = np.zeros(n)
    e[q] = 1.0
    G = rho ** 3 / 4 * (g["gJ"] * np.outer(one, one) + g["gX"] * (np.outer(e, one) + np.outer(one, e))
                        + g["gI"] * np.eye(n) + g["gQ"] * np.outer(e, e))
    b = np.zeros(n)
    b[q + 1] = rho ** 2 / 8 * g["b"]
    return G, b, C.shape[0] * rho / 2


def best_p_row_o(C: Any, n_keys: int, q: int, *, radius_sq: float = 2.0) -> tuple[np.ndarray, float]:
    """The loss-minimising row ``p`` for a fixed ``C`` (case O) and the minimal row loss.

    Each row loss is the quadratic ``ℓ_r = pᵀ G p − 2 bᵀ p + const`` of :func:`loss_o_row_gram`; ``p* = G⁺ b`` and
    ``ℓ_r* = const − bᵀ p*`` (Sander et al. (2024), non-augmented tokens (numbering UNCONFIRMED), case O).

    Parameters
    ----------
    C : array_like, shape (d, d)
    n_keys : int
        Keys of the row (``r + 2``).
    q : int
        Index of the query key (``q < n_keys − 1``).
    radius_sq : float
        ``ρ = E r²`` of each ``s_0`` block.

    Returns
    -------
    tuple
        ``(p*, ℓ_r*)``.

    Examples
    --------
    With ``C = blockdiag(𝟙𝟙ᵀ)`` (``α = 1``, ``ρ = 2``) the predicted minimiser has ``α p_q = −1/ρ`` on the query and
    ``α p_{q+1} = 2/ρ`` on the next key, and the row loss is 0 (the rotation is recovered exactly):

    >>> import numpy as np
    >>> from theory.sander import best_p_row_o, block_pattern
    >>> p, loss = best_p_row_o(block_pattern(4), 3, 1)
    >>> bool(np.allclose(p, [0.0, -0.5, 1.0], atol=1e-12)), round(loss, 12)
    (True, 0.0)
    """
    G, b, const = loss_o_row_gram(C, n_keys, q, radius_sq=radius_sq)
    p = np.linalg.lstsq(G, b, rcond=None)[0]
    return p, float(p @ G @ p - 2 * b @ p + const)


def _reference_o_rows(C: Any, P: Any) -> Any:
    """``orthogonal.py``'s row losses for numpy or torch inputs (its terms t1..t5, transcribed)."""
    even_int("d", C.shape[-1])
    rs = C.sum(-1)
    t1 = (rs ** 2).sum(-1)[..., None]                                   # (CᵀC).sum() = 𝟙ᵀCᵀC𝟙
    t2 = (C ** 2).sum((-1, -2))[..., None]
    t3 = (rs[..., ::2] * C.diagonal(1, -2, -1)[..., ::2] + rs[..., 1::2] * C.diagonal(-1, -2, -1)[..., ::2]).sum(-1)[..., None]
    t4 = ((C ** 2).diagonal(1, -2, -1)[..., ::2].sum(-1) + (C ** 2).diagonal(-1, -2, -1)[..., ::2].sum(-1))[..., None]
    t5 = -2 * C.diagonal(0, -2, -1).sum(-1)[..., None]
    st = _row_stats(P)
    sum_nq = st["sum"] - st["q"]
    sq_nq = st["sq"] - st["q"] ** 2
    return (st["q"] ** 2 * t1 + sq_nq * t2 + 2 * t3 * (st["q"] * st["sum"] - st["q"] ** 2)
            + (sum_nq ** 2 - sq_nq) * t4 + t5 * st["c"] + C.shape[-1])


def loss_o_reference(C: Any, P: Any, *, per_row: bool = False) -> np.ndarray:
    """The loss formula of the reference script ``orthogonal.py`` (michaelsdr/ical), rows summed.

    ``ℓ = p_q² t1 + (‖p‖² − p_q²) t2 + 2 t3 (p_q Σp − p_q²) + [(Σp_{¬q})² − ‖p_{¬q}‖²] t4 + t5 p_c + d`` with
    ``t1 = 𝟙ᵀCᵀC𝟙``, ``t2 = ‖C‖_F²``, ``t3``/``t4`` from the block off-diagonals and ``t5 = −2 tr C``.
    Equal to :func:`loss_o` (``ρ = 2``) at the minimiser, not elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import loss_o, loss_o_minimiser, loss_o_reference
    >>> C, P = loss_o_minimiser(4, 3)
    >>> float(loss_o_reference(C, P)), float(loss_o(C, P))  # both 0 at the minimiser ...
    (0.0, 0.0)
    >>> P0 = np.array([[0.5, 1.0], [0.0, 0.0]])
    >>> float(loss_o_reference(np.eye(2), P0)), float(loss_o(np.eye(2), P0))  # ... but not elsewhere
    (0.5, 7.25)
    """
    flag("per_row", per_row)
    C, P = _check_CP(C, P)
    return _total(_reference_o_rows(C, P), per_row)


def loss_o_reference_torch(C: Any, P: Any, *, per_row: bool = False) -> Any:
    """Torch twin of :func:`loss_o_reference`.


    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> from theory.sander import loss_o_reference, loss_o_reference_torch, used_mask
    >>> C, P = rng.standard_normal((2, 2)), rng.standard_normal((3, 3)) * used_mask(3)
    >>> bool(np.isclose(loss_o_reference_torch(torch.tensor(C), torch.tensor(P)).item(), loss_o_reference(C, P)))
    True
    """
    tensor("C", C, real=True)
    tensor("P", P, real=True)
    flag("per_row", per_row)
    _check_square_pair(C, P)
    return _total(_reference_o_rows(C, P), per_row)


def loss_o_minimum(d: int, H: int, T: int) -> float:
    """Minimum of the case-O loss over ``A, B ∈ R^{H×d}`` and ``P``: ``(T−1)·max(d − 2H, 0)`` (``ρ = 2``).

    Zero needs ``H ≥ d/2``: the zero-loss ``C`` has rank ``d/2``.  The value for ``H < d/2`` (each uncovered
    2-D block costs its ``E‖s_block‖² = 2``) is established numerically, not proved here.

    Examples
    --------
    >>> from theory.sander import loss_o_minimum
    >>> loss_o_minimum(4, 1, 3), loss_o_minimum(4, 2, 3)
    (4.0, 0.0)
    """
    d, H, T = even_int("d", d), positive_int("H", H), positive_int("T", T)
    return float((T - 1) * max(d - 2 * H, 0))


def loss_o_minimiser(d: int, T: int, *, alpha: float = 1.0, radius_sq: float = 2.0,
                     blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The zero-loss point ``C = α blockdiag(𝟙𝟙ᵀ)``, ``α P[r, r+1] = 2/ρ``, ``α P[r, r] = −1/ρ``.

    ``blocks`` (default all ``d/2``) keeps only the first blocks in ``C`` (the ``H < d/2`` candidate).

    Examples
    --------
    >>> from theory.sander import loss_o_minimiser
    >>> C, P = loss_o_minimiser(2, 3)  # α P[r, r+1] = 2/ρ, α P[r, r] = −1/ρ with ρ = 2
    >>> P
    array([[-0.5,  1. ,  0. ],
           [ 0. , -0.5,  1. ],
           [ 0. ,  0. ,  0. ]])
    """
    real_float("alpha", alpha)
    if blocks is not None:
        positive_int("blocks", blocks)
    d, T = even_int("d", d), positive_int("T", T)
    rho = positive_float("radius_sq", radius_sq)
    if alpha == 0 or not np.isfinite(alpha):
        raise ArgumentError(f"alpha must be a non-zero finite number, got {alpha!r}")
    nb = d // 2 if blocks is None else min(nonnegative_int("blocks", blocks), d // 2)
    C = np.zeros((d, d))
    for m in range(nb):
        C[2 * m: 2 * m + 2, 2 * m: 2 * m + 2] = alpha
    P = np.zeros((T, T))
    r = np.arange(T - 1)
    P[r, r + 1] = 2.0 / (rho * alpha)
    P[r, r] = -1.0 / (rho * alpha)
    return C, P


# --------------------------------------------------------------------------------------------------------------
# Invariant structure of a point (compare these, never raw A, B, P)
# --------------------------------------------------------------------------------------------------------------


def _used_except(P: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
    """Used entries of ``P`` except the offsets ``j − r`` in ``keep`` (e.g. ``(1,)`` drops the superdiagonal)."""
    T = P.shape[-1]
    m = used_mask(T).copy()
    r = np.arange(T - 1)
    for off in keep:
        m[r, r + off] = False
    return P[m]


def structure_u(C: Any, P: Any, *, H: int, AB: Any | None = None) -> dict[str, float]:
    """Invariants of a case-U point against the predicted minimiser ``C = α Π_k``, ``α P[r, r+1] = 1``.

    ``k = min(H, d)``; ``Π_k`` is the projection on the top-``k`` left singular space of ``C`` (``I`` when
    ``k = d``).  Returned deviations are 0 at a minimiser:

    * ``shape_dev`` — ``‖C/‖C‖_F − sign(tr C) Π_k/√k‖_F``;
    * ``super_dev`` — ``max_r |α P[r, r+1] − 1|`` with ``α = tr(C)/k``;
    * ``other_dev`` — ``max |α P[r, j]|`` over the used entries with ``j ∉ {r, r+1}``;
    * ``query_dev`` — ``max_r |α P[r, r]| · ‖C𝟙‖/‖C‖_F``: the query weight enters the loss only through
      ``‖C𝟙‖² p_q²``, so it must vanish unless ``C𝟙 = 0`` (possible for ``H < d``, where ``Π`` may be
      orthogonal to ``𝟙`` and ``P[r, r]`` is then free);
    * ``spectrum_dev`` (only with ``AB = A Bᵀ`` and ``H = d``) — ``max |eig(ABᵀ)/α − 1|``.

    The predicted minimiser is that of Sander et al. (2024), non-augmented tokens (numbering UNCONFIRMED), case U, derived in
    ``docs/sander-non-augmented.md``.

    Parameters
    ----------
    C : array_like, shape (d, d)
    P : array_like, shape (T, T)
    H : int
        Number of heads.
    AB : array_like, optional
        ``A Bᵀ`` of the trained model.

    Returns
    -------
    dict
        ``alpha`` and the ``*_dev`` entries above.

    Examples
    --------
    At ``C = 2 I``, ``P[r, r+1] = 1/2`` every deviation is 0; at ``C = diag(2, 1)`` (``α = 3/2``) the shape
    deviation is ``‖diag(2, 1)/√5 − I/√2‖_F`` and ``super_dev = |3/4 − 1|``:

    >>> import numpy as np
    >>> from theory.sander import structure_u
    >>> P = np.zeros((4, 4)); P[np.arange(3), np.arange(1, 4)] = 0.5
    >>> structure_u(2 * np.eye(2), P, H=2)
    {'alpha': 2.0, 'shape_dev': 0.0, 'super_dev': 0.0, 'other_dev': 0.0, 'query_dev': 0.0}
    >>> s = structure_u(np.diag([2.0, 1.0]), P, H=2)
    >>> bool(np.isclose(s["shape_dev"], np.hypot(2 / np.sqrt(5) - 1 / np.sqrt(2), 1 / np.sqrt(5) - 1 / np.sqrt(2)))), s["super_dev"]
    (True, 0.25)
    """
    C, P = _check_CP(C, P)
    H = positive_int("H", H)
    C = finite_array("C", C, ndim=2).astype(float)
    P = finite_array("P", P, ndim=2).astype(float)
    d = C.shape[0]
    k = min(positive_int("H", H), d)
    fro = float(np.linalg.norm(C))
    if fro == 0:
        return {"alpha": 0.0, "shape_dev": float("inf"), "super_dev": float("inf"), "other_dev": float("inf")}
    tr = float(np.trace(C))
    U = np.linalg.svd(C)[0][:, :k]
    sign = 1.0 if tr >= 0 else -1.0
    alpha = tr / k
    r = np.arange(P.shape[0] - 1)
    out = {
        "alpha": alpha,
        "shape_dev": float(np.linalg.norm(C / fro - sign * (U @ U.T) / np.sqrt(k))),
        "super_dev": float(np.max(np.abs(alpha * P[r, r + 1] - 1.0))),
        "other_dev": float(np.max(np.abs(alpha * _used_except(P, (0, 1))), initial=0.0)),
        "query_dev": float(np.max(np.abs(alpha * P[r, r])) * np.linalg.norm(C.sum(-1)) / fro),
    }
    if AB is not None and H == d:
        ev = np.linalg.eigvals(finite_array("AB", AB, ndim=2))
        out["spectrum_dev"] = float(np.max(np.abs(ev / alpha - 1.0)))
    return out


def block_pattern(d: int) -> np.ndarray:
    """``blockdiag(𝟙𝟙ᵀ, …, 𝟙𝟙ᵀ)`` (2×2 all-ones blocks), ``d×d``.

    Examples
    --------
    >>> from theory.sander import block_pattern
    >>> block_pattern(4)
    array([[1., 1., 0., 0.],
           [1., 1., 0., 0.],
           [0., 0., 1., 1.],
           [0., 0., 1., 1.]])
    """
    d = even_int("d", d)
    return np.kron(np.eye(d // 2), np.ones((2, 2)))


def structure_o(C: Any, P: Any, *, H: int, AB: Any | None = None, radius_sq: float = 2.0) -> dict[str, float]:
    """Invariants of a case-O point against ``C = α blockdiag(𝟙𝟙ᵀ)``, ``α P[r,r+1] = 2/ρ``, ``α P[r,r] = −1/ρ``.

    ``α`` is the mean of the within-block entries of ``C``.  Deviations (0 at the minimiser):

    * ``shape_dev`` — ``‖C/‖C‖_F − sign(α) E/‖E‖_F‖_F`` with ``E = blockdiag(𝟙𝟙ᵀ)``;
    * ``super_dev``, ``diag_dev`` — ``max_r |α P[r,r+1] − 2/ρ|``, ``max_r |α P[r,r] + 1/ρ|``;
    * ``ratio_dev`` — ``max_r |P[r,r+1]/P[r,r] + 2|`` (the trigonometric PE ratio);
    * ``other_dev`` — ``max |α P[r, j]|`` over used ``j ∉ {r, r+1}``;
    * ``rank_dev`` — ``σ_{d/2+1}/σ_1`` and ``spread_dev`` — ``max_{i ≤ d/2} |σ_i/σ_1 − 1|`` (rank ``d/2``, equal);
    * ``spectrum_dev`` (only with ``AB = A Bᵀ`` and ``H = d/2``) — ``max |eig(ABᵀ)/(2α) − 1|``.

    The predicted minimiser is that of Sander et al. (2024), non-augmented tokens (numbering UNCONFIRMED), case O
    (``docs/sander-non-augmented.md``).

    Parameters
    ----------
    C : array_like, shape (d, d)
    P : array_like, shape (T, T)
    H : int
        Number of heads.
    AB : array_like, optional
        ``A Bᵀ`` of the trained model.
    radius_sq : float
        ``ρ = E r²`` of each ``s_0`` block.

    Returns
    -------
    dict
        ``alpha`` and the ``*_dev`` entries above.

    Examples
    --------
    The hand-built point ``C = blockdiag(𝟙𝟙ᵀ)``, ``P[r, r+1] = 1 = 2/ρ``, ``P[r, r] = −1/2`` has zero population
    loss (:func:`loss_o`) and every deviation 0; with ``P[r, r] = 0`` (no query weight) the PE ratio is off:

    >>> import numpy as np
    >>> from theory.sander import block_pattern, loss_o, max_deviation, structure_o
    >>> C, P, r = block_pattern(4), np.zeros((4, 4)), np.arange(3)
    >>> P[r, r + 1], P[r, r] = 1.0, -0.5
    >>> round(float(loss_o(C, P)), 12), max_deviation(structure_o(C, P, H=2)) < 1e-12
    (0.0, True)
    >>> P[r, r] = 0.0
    >>> structure_o(C, P, H=2)["diag_dev"]
    0.5
    """
    C, P = _check_CP(C, P)
    H = positive_int("H", H)
    C = finite_array("C", C, ndim=2).astype(float)
    P = finite_array("P", P, ndim=2).astype(float)
    rho = positive_float("radius_sq", radius_sq)
    d = even_int("d", C.shape[0])
    E = block_pattern(d)
    fro = float(np.linalg.norm(C))
    alpha = float((C * E).sum() / E.sum())
    if fro == 0 or alpha == 0:
        return {"alpha": alpha, "shape_dev": float("inf"), "super_dev": float("inf"), "diag_dev": float("inf"),
                "ratio_dev": float("inf"), "other_dev": float("inf"), "rank_dev": float("inf"), "spread_dev": float("inf")}
    sv = np.linalg.svd(C, compute_uv=False)
    r = np.arange(P.shape[0] - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = P[r, r + 1] / P[r, r]
    out = {
        "alpha": alpha,
        "shape_dev": float(np.linalg.norm(C / fro - np.sign(alpha) * E / np.linalg.norm(E))),
        "super_dev": float(np.max(np.abs(alpha * P[r, r + 1] - 2.0 / rho))),
        "diag_dev": float(np.max(np.abs(alpha * P[r, r] + 1.0 / rho))),
        "ratio_dev": float(np.max(np.abs(np.nan_to_num(ratio, nan=np.inf) + 2.0))),
        "other_dev": float(np.max(np.abs(alpha * _used_except(P, (0, 1))), initial=0.0)),
        "rank_dev": float(sv[d // 2] / sv[0]),
        "spread_dev": float(np.max(np.abs(sv[: d // 2] / sv[0] - 1.0))),
    }
    if AB is not None and 2 * H == d:
        ev = np.linalg.eigvals(finite_array("AB", AB, ndim=2))
        out["spectrum_dev"] = float(np.max(np.abs(ev / (2 * alpha) - 1.0)))
    return out


def max_deviation(structure: dict[str, float]) -> float:
    """The largest ``*_dev`` entry of a :func:`structure_u` / :func:`structure_o` summary.

    Examples
    --------
    ``alpha`` is not a deviation and is ignored:

    >>> from theory.sander import max_deviation
    >>> max_deviation({"alpha": 9.0, "shape_dev": 0.1, "super_dev": 0.25})
    0.25
    """
    instance("structure", structure, dict)
    return max(v for k, v in structure.items() if k.endswith("_dev"))


# --------------------------------------------------------------------------------------------------------------
# Symbolic: closed forms and their derivation from the model definition
# --------------------------------------------------------------------------------------------------------------


def symbolic_C(d: int, name: str = "c") -> sp.Matrix:
    """A ``d×d`` matrix of real symbols ``c_k_l`` (the ``C`` of :func:`loss_u_closed_sympy`).

    Examples
    --------
    >>> from theory.sander import symbolic_C
    >>> C = symbolic_C(2)
    >>> C
    Matrix([
    [c_0_0, c_0_1],
    [c_1_0, c_1_1]])
    >>> all(s.is_real for s in C.free_symbols)
    True
    """
    d = positive_int("d", d)
    return sp.Matrix(d, d, lambda k, l: sp.Symbol(f"{name}_{k}_{l}", real=True))


def symbolic_P(T: int, name: str = "p") -> sp.Matrix:
    """A ``T×T`` matrix whose used entries (``j ≤ r+1``, ``r ≤ T-2``) are real symbols ``p_r_j``, others 0.

    Examples
    --------
    The symbols sit exactly on :func:`used_mask`: ``2 + 3 = 5`` of them for ``T = 3``:

    >>> import numpy as np
    >>> from theory.sander import symbolic_P, used_mask
    >>> P = symbolic_P(3)
    >>> P
    Matrix([
    [p_0_0, p_0_1,     0],
    [p_1_0, p_1_1, p_1_2],
    [    0,     0,     0]])
    >>> bool((np.array([[e != 0 for e in row] for row in P.tolist()]) == used_mask(3)).all()), len(P.free_symbols)
    (True, 5)
    """
    m = used_mask(T)
    return sp.Matrix(T, T, lambda r, j: sp.Symbol(f"{name}_{r}_{j}", real=True) if m[r, j] else sp.Integer(0))


def _rows_sym(P: sp.Matrix) -> Iterable[tuple[int, list[sp.Expr]]]:
    T = P.shape[0]
    for r in range(T - 1):
        yield r, [P[r, j] for j in range(r + 2)]


def loss_u_closed_sympy(C: sp.Matrix, P: sp.Matrix) -> sp.Expr:
    """The case-U closed form as a sympy expression (rows summed).

    Examples
    --------
    >>> from theory.sander import loss_u_closed_sympy, symbolic_C, symbolic_P
    >>> loss_u_closed_sympy(symbolic_C(1), symbolic_P(2))
    c_0_0**2*p_0_0**2 + c_0_0**2*p_0_1**2 - 2*c_0_0*p_0_1 + 1
    """
    _check_square_pair(C, P)
    d = C.shape[0]
    fro = sum(C[k, l] ** 2 for k in range(d) for l in range(d))
    col = sum(sum(C[k, l] for l in range(d)) ** 2 for k in range(d))
    tr = sum(C[k, k] for k in range(d))
    out = sp.Integer(0)
    for r, p in _rows_sym(P):
        q, c = r, r + 1
        out += fro * sum(p[j] ** 2 for j in range(len(p)) if j != q) + col * p[q] ** 2 - 2 * tr * p[c] + d
    return out


def loss_u_reference_sympy(C: sp.Matrix, P: sp.Matrix) -> sp.Expr:
    """The ``unitary.py`` formula as a sympy expression (rows summed).

    Examples
    --------
    Against the closed form derived from the model (:func:`loss_u_closed_sympy`) the authors' formula differs by
    ``‖C‖_F² Σ_r P[r, r]²`` (a query-weight term); with zero query weights the two agree:

    >>> import sympy as sp
    >>> from theory.sander import loss_u_closed_sympy, loss_u_reference_sympy, symbolic_C, symbolic_P
    >>> C, P = symbolic_C(2), symbolic_P(3)
    >>> diff = loss_u_reference_sympy(C, P) - loss_u_closed_sympy(C, P)
    >>> sp.expand(diff - sum(c**2 for c in C) * (P[0, 0] ** 2 + P[1, 1] ** 2))
    0
    """
    _check_square_pair(C, P)
    d = C.shape[0]
    fro = sum(C[k, l] ** 2 for k in range(d) for l in range(d))
    return loss_u_closed_sympy(C, P) + fro * sum(P[r, r] ** 2 for r in range(P.shape[0] - 1))


def loss_o_closed_sympy(C: sp.Matrix, P: sp.Matrix, radius_sq: Any = 2) -> sp.Expr:
    """The case-O closed form as a sympy expression (rows summed), written with explicit loops.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from theory.sander import loss_o, loss_o_closed_sympy
    >>> C, P = np.eye(2), np.array([[0.5, 1.0], [0.0, 0.0]])
    >>> float(loss_o_closed_sympy(sp.Matrix(C), sp.Matrix(P))) == float(loss_o(C, P))
    True
    """
    _check_square_pair(C, P)
    d = C.shape[0]
    even_int("d", d)
    rho = sp.sympify(radius_sq)
    gJ = gX = gI = gQ = bS = sp.Integer(0)
    for k in range(d):
        kp = k ^ 1
        S = C[k, k] + C[k, kp]
        Dt = C[k, k] - C[k, kp]
        others = [m for m in range(d // 2) if m != k // 2]
        O = sum((C[k, 2 * m] + C[k, 2 * m + 1] for m in others), sp.Integer(0))
        Q = sum(((C[k, 2 * m] + C[k, 2 * m + 1]) ** 2 for m in others), sp.Integer(0))
        R = sum(((C[k, 2 * m] - C[k, 2 * m + 1]) ** 2 for m in others), sp.Integer(0))
        gJ += (S + Dt) ** 2 / 8
        gX += (S ** 2 + S * Dt) / 8 + O * (S + Dt) / 4
        gI += (S ** 2 + Dt ** 2) / 8 + (Q + R) / 4
        gQ += (O * S + O ** 2 - Q) / 2 + Q / 4
        bS += S
    out = sp.Integer(0)
    for r, p in _rows_sym(P):
        q, c = r, r + 1
        sm = sum(p)
        sq = sum(x ** 2 for x in p)
        out += rho ** 3 / 4 * (gJ * sm ** 2 + 2 * gX * p[q] * sm + gI * sq + gQ * p[q] ** 2) - rho ** 2 / 4 * p[c] * bS + d * rho / 2
    return out


def loss_o_reference_sympy(C: sp.Matrix, P: sp.Matrix) -> sp.Expr:
    """The ``orthogonal.py`` formula as a sympy expression (rows summed).


    Examples
    --------
    Agreement with the numpy twin :func:`loss_o_reference` at a rational point:

    >>> import numpy as np, sympy as sp
    >>> from theory.sander import loss_o_reference, loss_o_reference_sympy, symbolic_C, symbolic_P, used_mask
    >>> C, P = symbolic_C(2), symbolic_P(3)
    >>> c_val = np.array([[1.0, 0.5], [-0.25, 2.0]])
    >>> p_val = np.array([[0.5, 1.0, 0.0], [-1.0, 0.25, 2.0], [0.0, 0.0, 0.0]])
    >>> sub = {**{C[i, j]: sp.nsimplify(c_val[i, j]) for i in range(2) for j in range(2)},
    ...        **{P[r, j]: sp.nsimplify(p_val[r, j]) for r in range(3) for j in range(3) if used_mask(3)[r, j]}}
    >>> bool(np.isclose(float(loss_o_reference_sympy(C, P).subs(sub)), loss_o_reference(c_val, p_val)))
    True
    """
    _check_square_pair(C, P)
    d = C.shape[0]
    rs = [sum(C[k, l] for l in range(d)) for k in range(d)]
    t1 = sum(x ** 2 for x in rs)                      # 𝟙ᵀCᵀC𝟙 = ‖C𝟙‖²
    t2 = sum(C[k, l] ** 2 for k in range(d) for l in range(d))
    t3 = sum(rs[2 * m] * C[2 * m, 2 * m + 1] + rs[2 * m + 1] * C[2 * m + 1, 2 * m] for m in range(d // 2))
    t4 = sum(C[2 * m, 2 * m + 1] ** 2 + C[2 * m + 1, 2 * m] ** 2 for m in range(d // 2))
    t5 = -2 * sum(C[k, k] for k in range(d))
    out = sp.Integer(0)
    for r, p in _rows_sym(P):
        q, c = r, r + 1
        pn = [p[j] for j in range(len(p)) if j != q]
        out += (p[q] ** 2 * t1 + (sum(x ** 2 for x in p) - p[q] ** 2) * t2 + 2 * t3 * (p[q] * sum(p) - p[q] ** 2)
                + (sum(pn) ** 2 - sum(x ** 2 for x in pn)) * t4 + t5 * p[c] + d)
    return out


def _conj_laurent(expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Complex conjugate for unit-modulus ``gens`` (``conj(g) = 1/g``) and real other symbols."""
    return sp.conjugate(expr).subs({sp.conjugate(g): 1 / g for g in gens})


def loss_u_derivation(d: int, T: int, *, s0: str = "torus") -> tuple[sp.Expr, sp.Matrix, sp.Matrix]:
    """Case U population loss derived from the model definition; returns ``(loss, C, P)`` (sympy).

    ``s_{t,k} = u_k λ_k^t`` with ``λ_k = e^{iθ_k}`` and (``s0="torus"``) ``u_k = e^{iφ_k}`` or (``s0="ones"``)
    ``u_k = 1``.  The squared error of every row is a Laurent polynomial in the ``λ_k`` (and ``u_k``) whose
    constant term is its expectation (θ, φ uniform).

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import loss_u_closed_sympy, loss_u_derivation
    >>> loss, C, P = loss_u_derivation(1, 2)  # E‖ŝ − s‖² from the model, d = 1, T = 2
    >>> loss
    c_0_0**2*p_0_0**2 + c_0_0**2*p_0_1**2 - 2*c_0_0*p_0_1 + 1
    >>> sp.expand(loss - loss_u_closed_sympy(C, P))
    0
    """
    d, T = positive_int("d", d), positive_int("T", T)
    if s0 not in ("torus", "ones"):
        raise ArgumentError(f"s0 must be 'torus' or 'ones', got {s0!r}")
    lam = sp.symbols(f"lambda_0:{d}")
    u = sp.symbols(f"u_0:{d}") if s0 == "torus" else (sp.Integer(1),) * d
    gens = tuple(lam) + (tuple(u) if s0 == "torus" else ())
    C, P = symbolic_C(d), symbolic_P(T)
    s = [[u[k] * lam[k] ** t for k in range(d)] for t in range(T + 1)]
    sbar = [[(1 / u[k]) * lam[k] ** (-t) for k in range(d)] for t in range(T + 1)]
    total = sp.Integer(0)
    for r in range(T - 1):
        for k in range(d):
            pred = sum(P[r, j] * C[k, l] * sbar[r][l] * s[j][l] * s[j][k] for j in range(r + 2) for l in range(d))
            err = pred - s[r + 2][k]
            total += expectation_of_product(err, _conj_laurent(err, gens), gens)
    return sp.expand(total), C, P


def _real_block_state(t: int, m: int, lam: tuple, u: tuple, radius: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Block ``m`` of ``s_t``: ``radius·(cos(φ_m + tθ_m), sin(φ_m + tθ_m))`` in ``λ = e^{iθ}``, ``u = e^{iφ}``."""
    z = u[m] * lam[m] ** t
    zb = 1 / z
    return radius * (z + zb) / 2, radius * (z - zb) / (2 * sp.I)


def loss_o_derivation(d: int, T: int, *, radius_sq: Any = 2, random_phase: bool = True) -> tuple[sp.Expr, sp.Matrix, sp.Matrix]:
    """Case O population loss derived from the real model; returns ``(loss, C, P)`` (sympy).

    With ``random_phase`` the ``s_0`` block phases are uniform (generators ``u_m``); otherwise ``s_0 = 𝟙``
    (every block at phase π/4, radius √2, only valid with ``radius_sq = 2``).

    Examples
    --------
    The derivation from the real model reproduces the closed form :func:`loss_o_closed_sympy` (``d = 2``, ``T = 2``):

    >>> import sympy as sp
    >>> from theory.sander import loss_o_closed_sympy, loss_o_derivation
    >>> loss, C, P = loss_o_derivation(2, 2)
    >>> sp.expand(loss - loss_o_closed_sympy(C, P))
    0
    """
    d, T = even_int("d", d), positive_int("T", T)
    M = d // 2
    lam = sp.symbols(f"lambda_0:{M}")
    radius = sp.sqrt(sp.sympify(radius_sq))
    if random_phase:
        u = sp.symbols(f"u_0:{M}")
        gens = tuple(lam) + tuple(u)
    else:
        if sp.sympify(radius_sq) != 2:
            raise ArgumentError("random_phase=False means s_0 = 1_d, whose blocks have radius_sq = 2")
        u = (sp.exp(sp.I * sp.pi / 4),) * M
        gens = tuple(lam)
    C, P = symbolic_C(d), symbolic_P(T)
    s = []
    for t in range(T + 1):
        row = []
        for m in range(M):
            row.extend(_real_block_state(t, m, lam, u, radius))
        s.append(row)
    total = sp.Integer(0)
    for r in range(T - 1):
        for k in range(d):
            pred = sum(P[r, j] * C[k, l] * s[r][l] * s[j][l] * s[j][k] for j in range(r + 2) for l in range(d))
            err = sp.expand(pred - s[r + 2][k])
            total += expectation_of_product(err, err, gens)
    return sp.expand(total), C, P


def heads_factorisation_sympy(d: int, H: int) -> sp.Expr:
    """``Σ_h (s̄ᵀ diag(a_h) s') (b_h ⊙ s'') − C (s̄ ⊙ s') ⊙ s''`` with ``C = BᵀA`` (should expand to 0).

    Examples
    --------
    >>> from theory.sander import heads_factorisation_sympy
    >>> heads_factorisation_sympy(2, 1)  # the H heads act only through C = BᵀA
    0
    """
    d, H = positive_int("d", d), positive_int("H", H)
    A = sp.Matrix(H, d, lambda h, l: sp.Symbol(f"a_{h}_{l}", real=True))
    B = sp.Matrix(H, d, lambda h, l: sp.Symbol(f"b_{h}_{l}", real=True))
    x = sp.symbols(f"x_0:{d}")
    y = sp.symbols(f"y_0:{d}")
    z = sp.symbols(f"z_0:{d}")
    C = B.T * A
    diff = sp.Integer(0)
    for k in range(d):
        heads = sum(sum(x[l] * A[h, l] * y[l] for l in range(d)) * B[h, k] * z[k] for h in range(H))
        via_c = sum(C[k, l] * x[l] * y[l] for l in range(d)) * z[k]
        diff += (heads - via_c) ** 2
    return sp.expand(diff)


def cayley_hamilton_rotation() -> sp.Matrix:
    """``R(θ)² − 2 cos θ R(θ) + I`` written in ``e^{iθ}`` and expanded: the zero matrix (Cayley–Hamilton).

    Examples
    --------
    >>> from theory.sander import cayley_hamilton_rotation
    >>> cayley_hamilton_rotation()  # R² − 2cos θ R + I = 0
    Matrix([
    [0, 0],
    [0, 0]])
    """
    th = sp.Symbol("theta", real=True)
    R = sp.Matrix([[sp.cos(th), -sp.sin(th)], [sp.sin(th), sp.cos(th)]])
    M = R * R - 2 * sp.cos(th) * R + sp.eye(2)
    return M.applyfunc(lambda x: sp.expand(x.rewrite(sp.exp)))


def pe_ratio_from_cayley_hamilton(radius_sq: Any = 2) -> dict[str, Any]:
    """Solve for the row coefficients ``(p_q, p_c)`` (with ``α = 1``) that make the case-O prediction exact.

    With ``C = blockdiag(𝟙𝟙ᵀ)`` the attention of the query ``s_q`` on a key ``s_j`` is, per block,
    ``⟨s_q, s_j⟩ = ρ cos((j−q)θ)``, so ``ŝ = p_q ρ s_q + p_c ρ cos θ s_c``.  The error ``ŝ − s_{c+1}`` is a
    Laurent polynomial in ``λ = e^{iθ}`` and ``u = e^{iφ}`` (``φ`` the phase of ``s_q``); it vanishes for every
    ``θ, φ`` iff all its coefficients vanish.  The unique solution is ``p_c = 2/ρ``, ``p_q = −1/ρ`` (ratio −2),
    which is ``s_{c+1} = 2 cos θ s_c − s_q``, i.e. Cayley–Hamilton for ``R(θ)``.

    Examples
    --------
    >>> from theory.sander import pe_ratio_from_cayley_hamilton
    >>> sol = pe_ratio_from_cayley_hamilton()
    >>> sol["p_c"], sol["p_q"], sol["ratio"]  # the PE ratio −2 (ρ = 2)
    (1, -1/2, -2)
    """
    rho = sp.sympify(radius_sq)
    lam, u = sp.symbols("lambda u")
    pq, pc = sp.symbols("p_q p_c", real=True)
    gens = (lam, u)

    def state(t: int) -> sp.Matrix:
        z = u * lam ** t
        return sp.sqrt(rho) * sp.Matrix([(z + 1 / z) / 2, (z - 1 / z) / (2 * sp.I)])

    sq, sc, target = state(0), state(1), state(2)
    pred = pq * sp.expand((sq.T * sq)[0]) * sq + pc * sp.expand((sq.T * sc)[0]) * sc
    eqs = []
    for x in pred - target:
        eqs.extend(laurent_coefficients(x, gens).values())
    sol = sp.solve(eqs, [pq, pc], dict=True)
    if len(sol) != 1:
        raise ArithmeticError(f"expected one solution for (p_q, p_c), got {sol}")
    p = sol[0]
    return {"p_q": sp.simplify(p[pq]), "p_c": sp.simplify(p[pc]), "ratio": sp.simplify(p[pc] / p[pq]),
            "equations": len(eqs), "cayley_hamilton": cayley_hamilton_rotation()}


@lru_cache(maxsize=None)
def _lambdified(kind: str, d: int, T: int) -> Callable[..., float]:
    C, P = symbolic_C(d), symbolic_P(T)
    expr = {"u": loss_u_closed_sympy, "o": loss_o_closed_sympy}[kind](C, P)
    syms = list(C) + [x for x in P if isinstance(x, sp.Symbol)]
    return sp.lambdify(syms, expr, "numpy", cse=True)


def lambdified_loss(kind: str, C: Any, P: Any) -> float:
    """Evaluate the sympy closed form (``kind`` ``"u"`` or ``"o"``) numerically via a cached ``lambdify``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import lambdified_loss, loss_u
    >>> lambdified_loss("u", np.eye(2), np.eye(3)) == float(loss_u(np.eye(2), np.eye(3)))
    True
    """
    one_of("kind", kind, ("u", "o"))
    C, P = _check_CP(C, P)
    if C.ndim != 2 or P.ndim != 2:
        raise ArgumentError("lambdified_loss takes one (d, d) C and one (T, T) P")
    f = _lambdified(kind, C.shape[0], P.shape[0])
    m = used_mask(P.shape[0])
    return float(f(*C.ravel(), *P[m]))
