"""The implicit weight-vector recursion of Theorem 4.1 / Lemma 4.3 and its diagonal form, Lemma 4.4 (A.1).

Theorem 4.1 (Vladymyrov et al. 2024).  After ``l`` layers there are ``M^l ∈ R^{d×d}``, ``u^l, w^l ∈ R^d`` and
``a^l ∈ R`` (data-dependent) such that, for every context token and for the query (with ``y = 0``)::

    x_i^l = M^l x_i + y_i u^l,       y_i^l = a^l y_i − ⟨w^l, x_i⟩,        hence   ŷ = −y_t^L = ⟨w^L, x_t⟩.

Proof (our derivation).  Every token, the query included, is multiplied by the *same* matrix
``I + B^l`` with ``B^l = Σ_k P_k E^l Q_k``, because the query is masked out of ``E^l``.  So
``e_i^l = T^l e_i`` with ``T^l = [[M^l, u^l], [−w^{lT}, a^l]]``, ``T^0 = I`` and ``T^{l+1} = (I + B^l) T^l``.
Writing ``B^l = [[A^l, b^l], [c^{lT}, d^l]]`` (blocks d×d, d×1, 1×d, 1×1) and reading off the blocks gives
Lemma 4.3::

    M^{l+1} = (I + A^l) M^l − b^l w^{lT}          u^{l+1} = (I + A^l) u^l + a^l b^l
    a^{l+1} = (1 + d^l) a^l + ⟨c^l, u^l⟩           w^{l+1} = (1 + d^l) w^l − M^{lT} c^l

with ``M^0 = I, u^0 = 0, a^0 = 1, w^0 = 0``.  ``E^l`` itself is a function of the layer-0 data only:
``E^l = T^l E^0 T^{lT}`` — this is how :func:`implicit_states` computes it, without running the forward pass.

Lemma 4.4 / A.1 (DIAG, one head, ``n ≥ d``).  With ``w* = Σ^{-1} α`` (OLS), residuals ``r_i = y_i − ⟨w*, x_i⟩``
and ``ρ = Σ_i r_i²`` (so ``Σ_i r_i x_i = 0`` and ``λ = w*^T Σ w* + ρ``)::

    α^l     = (M^l + u^l w*^T) Σ (a^l w* − w^l) + a^l ρ u^l
    u^{l+1} = (I − Λ^l) u^l + Γ^l Σ (a^l w* − w^l)
    w^{l+1} = (1 + s^l) w^l − Π^l Σ (a^l w* − w^l) − Φ^l u^l

with ``Λ = −ω_xy a² ρ I − ω_xx Σ^l``, ``Γ = a ω_xy (M + u w*^T)``, ``s = ω_yy λ^l``,
``Π = ω_yx M^T (M + u w*^T)``, ``Φ = a ρ ω_yx M^T`` (all at layer ``l``).  Derivation: substitute the α^l formula
(itself from ``x_i^l = M x_i + y_i u``, ``y_i^l = a y_i − ⟨w, x_i⟩`` and ``y_i = ⟨w*, x_i⟩ + r_i``) into
Lemma 4.3 with ``A = ω_xx Σ^l``, ``b = ω_xy α^l``, ``c = ω_yx α^l``, ``d = ω_yy λ^l``.

**Typo (finding).**  The text copy of the paper prints ``a^l u^l w*^T`` inside ``Γ`` and ``Π``; that version is
:func:`lemma44_step_printed` and is wrong whenever ``a^l ≠ 1``.

The functions below use only ``@``, ``+``, ``*`` and slicing in :func:`implicit_states`, so they accept numpy
object arrays of sympy polynomials (exact symbolic check, :func:`symbolic_theorem41_residual`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from theory.arguments import ArgumentError, finite_array, flag, positive_int, real_array
from theory.vladymyrov.model import check_regression_inputs, check_weights, context_gram, forward, tokens

if TYPE_CHECKING:  # pragma: no cover
    import torch


__all__ = [
    "ImplicitState", "initial_state", "blocks", "lemma43_step", "implicit_states", "implicit_states_torch",
    "theorem41_relative_error", "symbolic_theorem41_residual", "OLSData", "ols_data", "lemma44_alpha",
    "lemma44_step", "lemma44_step_printed", "gdpp_preconditioned_gd",
]


def _swap(a: Any) -> Any:
    """Transpose the last two axes of a numpy array (numeric or object) or a torch tensor."""
    return a.swapaxes(-1, -2)


def _concat(parts: Sequence[Any], axis: int) -> Any:
    """``np.concatenate`` for numpy arrays, ``torch.cat`` for tensors (so the recursion runs on both)."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts, axis=axis)
    import torch

    return torch.cat(list(parts), dim=axis)


@dataclass(frozen=True)
class ImplicitState:
    """``(M^l, u^l, a^l, w^l)`` of Theorem 4.1 (batched: ``(..., d, d)``, ``(..., d)``, ``(...)``, ``(..., d)``).

    Vladymyrov et al. (2024), Theorem 4.1: after ``l`` layers every token is ``(x_i^l, y_i^l) = (M x_i + u y_i,
    a y_i − ⟨w, x_i⟩)``, so the prediction is ``⟨w^l, x_t⟩``.

    Examples
    --------
    The state from the Lemma 4.3 recursion reproduces the tokens and prediction of the forward pass:

    >>> import numpy as np
    >>> from theory.vladymyrov import diag_matrices, forward, implicit_states
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> p_x, p_y, q_x, q_y = [np.array(v) for v in ([[0.5], [1.0]], [[1.0], [-0.5]], [[-0.1], [-0.05]], [[0.02], [0.03]])]
    >>> P, Q = diag_matrices(p_x, p_y, q_x, q_y, 2)  # two DIAG layers, one head each
    >>> state, run = implicit_states(x, y, P, Q)[-1], forward(x, y, x_q, P, Q)
    >>> bool(np.allclose(state.apply(x, y, x_q), run.tokens[-1]) and np.isclose(state.predict(x_q), run.prediction))
    True
    """

    M: np.ndarray
    u: np.ndarray
    a: np.ndarray
    w: np.ndarray

    def token_map(self) -> np.ndarray:
        """``T^l = [[M, u], [−w^T, a]]`` with ``e_i^l = T^l e_i``; shape ``(..., d+1, d+1)``."""
        top = _concat([self.M, self.u[..., :, None]], axis=-1)
        bottom = _concat([-self.w[..., None, :], self.a[..., None, None]], axis=-1)
        return _concat([top, bottom], axis=-2)

    def apply(self, x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> np.ndarray:
        """Tokens ``(x_i^l, y_i^l)`` predicted by Theorem 4.1, shape ``(..., n+1, d+1)`` (query last)."""
        return tokens(x, y, x_query) @ _swap(self.token_map())

    def predict(self, x_query: np.ndarray) -> np.ndarray:
        """``ŷ = ⟨w^l, x_t⟩``."""
        return (self.w * x_query).sum(-1)


def initial_state(batch_shape: tuple[int, ...], d: int, dtype: type | np.dtype = float) -> ImplicitState:
    """``M^0 = I, u^0 = 0, a^0 = 1, w^0 = 0``.

    Examples
    --------
    >>> from theory.vladymyrov import initial_state
    >>> initial_state((), 2)
    ImplicitState(M=array([[1., 0.],
           [0., 1.]]), u=array([0., 0.]), a=array(1.), w=array([0., 0.]))
    """
    d = positive_int("d", d)
    M = np.broadcast_to(np.eye(d, dtype=dtype), batch_shape + (d, d)).copy()
    return ImplicitState(M=M, u=np.zeros(batch_shape + (d,), dtype=dtype), a=np.ones(batch_shape, dtype=dtype),
                         w=np.zeros(batch_shape + (d,), dtype=dtype))


def blocks(B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``B = [[A, b], [c^T, d]]`` → ``(A, b, c, d)``: the blocks of a layer matrix in Lemma 4.3 (Vladymyrov et al.
    2024).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import blocks
    >>> A, b, c, d = blocks(np.arange(9.0).reshape(3, 3))
    >>> A.tolist(), b.tolist(), c.tolist(), float(d)
    ([[0.0, 1.0], [3.0, 4.0]], [2.0, 5.0], [6.0, 7.0], 8.0)
    """
    B = real_array("B", B)
    if B.ndim < 2 or B.shape[-1] != B.shape[-2] or B.shape[-1] < 2:
        raise ArgumentError(f"B must be (..., d+1, d+1) with d >= 1, got shape {B.shape}")
    return _split(B)


def _split(B: Any) -> tuple[Any, Any, Any, Any]:
    """:func:`blocks` without the checks, for numpy (numeric or object) arrays and torch tensors."""
    return B[..., :-1, :-1], B[..., :-1, -1], B[..., -1, :-1], B[..., -1, -1]


def lemma43_step(state: ImplicitState, B: np.ndarray) -> ImplicitState:
    """One step of the Lemma 4.3 recursion given the layer's middle matrix ``B^l = Σ_k P_k E^l Q_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import initial_state, lemma43_step
    >>> B = np.zeros((3, 3)); B[2, :2] = [1.0, 2.0]  # only c = (1, 2): w¹ = w⁰ − M⁰ᵀ c
    >>> lemma43_step(initial_state((), 2), B).w
    array([-1., -2.])
    """
    return _update(state, blocks(B))


def _update(state: ImplicitState, parts: tuple[Any, Any, Any, Any]) -> ImplicitState:
    """The Lemma 4.3 arithmetic on the blocks ``(A, b, c, d)`` of ``B^l`` (numpy, object or torch operands)."""
    A, b, c, dd = parts
    M, u, a, w = state.M, state.u, state.a, state.w
    M_new = M + A @ M - b[..., :, None] * w[..., None, :]
    u_new = u + (A @ u[..., None])[..., 0] + a[..., None] * b
    a_new = a + dd * a + (c * u).sum(-1)
    if isinstance(a, np.ndarray):
        a_new = np.asarray(a_new, dtype=a.dtype)  # stays an array for 0-d object inputs
    w_new = w + dd[..., None] * w - (_swap(M) @ c[..., None])[..., 0]
    return ImplicitState(M_new, u_new, a_new, w_new)


def implicit_states(x: np.ndarray, y: np.ndarray, P: np.ndarray, Q: np.ndarray) -> list[ImplicitState]:
    """``[(M^l, u^l, a^l, w^l)]_{l=0..L}`` by Lemma 4.3, with ``E^l = T^l E^0 T^{lT}`` from the input data only.

    Theorem 4.1 / Lemma 4.3 of Vladymyrov et al. (2024); torch twin :func:`implicit_states_torch`, exact
    symbolic check :func:`symbolic_theorem41_residual`.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import forward, implicit_states
    >>> rng = np.random.default_rng(0)
    >>> x, y, xq = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> P, Q = 0.1 * rng.standard_normal((2, 2, 1, 3, 3))
    >>> states = implicit_states(x, y, P, Q)
    >>> bool(np.isclose(states[-1].predict(xq), forward(x, y, xq, P, Q).prediction, rtol=1e-12))
    True
    """
    for name, arr in (("x", x), ("y", y)):
        if not isinstance(arr, np.ndarray):
            raise ArgumentError(f"{name} must be a numpy array, got {type(arr).__name__}")
    d = x.shape[-1]
    check_weights(P, Q, d)
    E0 = context_gram(tokens(x, y, np.zeros(x.shape[:-2] + (d,), dtype=x.dtype)))
    return _recursion(initial_state(x.shape[:-2], d, dtype=x.dtype), E0, P, Q)


def _recursion(state: ImplicitState, E0: Any, P: Any, Q: Any) -> list[ImplicitState]:
    """Lemma 4.3 from ``state`` (layer 0) with ``E^l = T^l E^0 T^{lT}``; numpy, object or torch operands
    (validated by the callers, so no per-layer checks and no conversion that would cut the autograd graph)."""
    out = [state]
    for layer in range(P.shape[0]):
        T = state.token_map()
        E = T @ E0 @ _swap(T)
        B = (P[layer] @ E[..., None, :, :] @ Q[layer]).sum(-3)  # Σ_k P_k E^l Q_k over the heads k
        state = _update(state, _split(B))
        out.append(state)
    return out


def implicit_states_torch(x: "torch.Tensor", y: "torch.Tensor", P: "torch.Tensor",
                          Q: "torch.Tensor") -> list[ImplicitState]:
    r"""Torch twin of :func:`implicit_states`: the Lemma 4.3 recursion, differentiable in ``x, y, P, Q``.

    Theorem 4.1 / Lemma 4.3 (Vladymyrov et al. 2024): with ``T^l = [[M^l, u^l], [−w^{lT}, a^l]]``,
    ``E^l = T^l E^0 T^{lT}`` and ``B^l = Σ_k P_k^l E^l Q_k^l = [[A, b], [c^T, d]]``::

        M^{l+1} = (I + A) M − b w^T,   u^{l+1} = (I + A) u + a b,
        a^{l+1} = (1 + d) a + ⟨c, u⟩,  w^{l+1} = (1 + d) w − M^T c.

    Same arithmetic as the numpy version (one shared implementation); every field of the returned
    :class:`ImplicitState` objects is a tensor in the autograd graph, so ``states[-1].predict(x_query)``
    (``ŷ = ⟨w^L, x_t⟩``) can be differentiated with respect to the weights or the data.

    Parameters
    ----------
    x : torch.Tensor
        Context inputs, shape ``(..., n, d)``, floating point.
    y : torch.Tensor
        Context labels, shape ``(..., n)``, same dtype and device as ``x``.
    P, Q : torch.Tensor
        Layer weights, shape ``(L, H, d+1, d+1)``.

    Returns
    -------
    list of ImplicitState
        ``L + 1`` states ``(M^l, u^l, a^l, w^l)`` for ``l = 0..L`` (tensors).

    Raises
    ------
    theory.arguments.ArgumentError
        If an argument is not a floating tensor, has the wrong shape, or holds NaN/inf.

    Examples
    --------
    >>> import torch
    >>> from theory.vladymyrov import implicit_states, implicit_states_torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(5, 2, generator=g, dtype=torch.float64)
    >>> y = torch.randn(5, generator=g, dtype=torch.float64)
    >>> P = 0.1 * torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
    >>> Q = (0.1 * torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)).requires_grad_()
    >>> states = implicit_states_torch(x, y, P, Q)
    >>> ref = implicit_states(x.numpy(), y.numpy(), P.numpy(), Q.detach().numpy())
    >>> bool(torch.allclose(states[-1].w, torch.from_numpy(ref[-1].w)))
    True
    >>> states[-1].predict(torch.ones(2, dtype=torch.float64)).backward()
    >>> Q.grad.shape
    torch.Size([2, 1, 3, 3])
    """
    import torch

    for name, t in (("x", x), ("y", y), ("P", P), ("Q", Q)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise ArgumentError(f"{name} must be a floating-point torch.Tensor, got {type(t).__name__}"
                                + (f" of dtype {t.dtype}" if isinstance(t, torch.Tensor) else ""))
        if not bool(torch.isfinite(t).all()):
            raise ArgumentError(f"{name} contains NaN or infinite entries")
    if x.ndim < 2:
        raise ArgumentError(f"x must have shape (..., n, d), got {tuple(x.shape)}")
    d = x.shape[-1]
    if tuple(y.shape) != tuple(x.shape[:-1]):
        raise ArgumentError(f"y must have shape {tuple(x.shape[:-1])} (one label per context point), got {tuple(y.shape)}")
    for name, t in (("P", P), ("Q", Q)):
        if t.ndim != 4 or tuple(t.shape[-2:]) != (d + 1, d + 1) or t.shape[0] < 1 or t.shape[1] < 1:
            raise ArgumentError(f"{name} must have shape (L, H, {d + 1}, {d + 1}) with L, H >= 1, got {tuple(t.shape)}")
    if P.shape != Q.shape:
        raise ArgumentError(f"P and Q must have the same shape, got {tuple(P.shape)} and {tuple(Q.shape)}")
    context = torch.cat([x, y[..., None]], dim=-1)
    E0 = _swap(context) @ context
    batch = tuple(x.shape[:-2])
    kw = dict(dtype=x.dtype, device=x.device)
    state = ImplicitState(M=torch.eye(d, **kw).expand(batch + (d, d)), u=torch.zeros(batch + (d,), **kw),
                          a=torch.ones(batch, **kw), w=torch.zeros(batch + (d,), **kw))
    return _recursion(state, E0, P, Q)


def theorem41_relative_error(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, P: np.ndarray, Q: np.ndarray,
                             states: list[ImplicitState] | None = None, *, include_query: bool = False) -> dict[str, float]:
    """Max relative error (all layers, all tokens) between the forward pass and Theorem 4.1's tokens, float64.

    ``states`` defaults to :func:`implicit_states`; pass others (e.g. a wrong recursion) to measure them.
    Returns ``{"tokens": max_l ||Z^l − T^l Z||_max / ||Z^l||_max, "prediction": max|ŷ − ⟨w^L, x_t⟩| / max|ŷ|}``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import theorem41_relative_error
    >>> rng = np.random.default_rng(0)
    >>> x, y, xq = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> P, Q = 0.1 * rng.standard_normal((2, 2, 1, 3, 3))
    >>> err = theorem41_relative_error(x, y, xq, P, Q)
    >>> err["prediction"] < 1e-13
    True
    """
    fwd = forward(x, y, x_query, P, Q, include_query=include_query)
    states = implicit_states(x, y, P, Q) if states is None else states
    if len(states) != len(fwd.tokens):
        raise ArgumentError(f"states must hold L + 1 = {len(fwd.tokens)} states, got {len(states)}")
    tok = max(float(np.max(np.abs(Z - st.apply(x, y, x_query))) / np.max(np.abs(Z)))
              for Z, st in zip(fwd.tokens, states))
    pred = fwd.prediction
    pred_err = float(np.max(np.abs(pred - states[-1].predict(x_query))) / np.max(np.abs(pred)))
    return {"tokens": tok, "prediction": pred_err}


def symbolic_theorem41_residual(n: int, d: int, P: np.ndarray, Q: np.ndarray, *, include_query: bool = False) -> list:
    """Exact check of Theorem 4.1 with symbolic data and rational weights.

    ``x_i, y_i, x_t`` are the generators of a sympy polynomial ring over ``QQ`` (sparse polynomials, canonical
    by construction, much faster than ``expand`` on expression trees); ``P, Q`` are ``(L, H, d+1, d+1)`` arrays
    of ``Fraction``/int rationals.  Returns the entries of ``Z^l − T^l Z`` over all layers as sympy expressions;
    Theorem 4.1 holds exactly iff every entry is the zero polynomial.  ``include_query=True`` runs the forward
    pass with the query inside ``E`` (negative control: the recursion then no longer describes it).

    Examples
    --------
    One DIAG-shaped layer with rational weights, ``n = 2``, ``d = 1``: every residual is the zero polynomial;
    with the query inside ``E`` (the negative control) they are not:

    >>> from fractions import Fraction
    >>> import numpy as np
    >>> from theory.vladymyrov import symbolic_theorem41_residual
    >>> P, Q = np.zeros((1, 1, 2, 2), dtype=object), np.zeros((1, 1, 2, 2), dtype=object)
    >>> P[0, 0] = [[1, 0], [0, Fraction(1, 2)]]
    >>> Q[0, 0] = [[Fraction(-1, 3), 0], [0, Fraction(1, 5)]]
    >>> all(e == 0 for e in symbolic_theorem41_residual(2, 1, P, Q))
    True
    >>> all(e == 0 for e in symbolic_theorem41_residual(2, 1, P, Q, include_query=True))
    False
    """
    import sympy as sp

    n, d = positive_int("n", n), positive_int("d", d)
    names = [f"x{i}_{j}" for i in range(n) for j in range(d)] + [f"y{i}" for i in range(n)] + [f"t{j}" for j in range(d)]
    ring, *gens = sp.ring(names, sp.QQ)
    to_ring = np.vectorize(lambda v: ring(sp.Rational(Fraction(v).numerator, Fraction(v).denominator)), otypes=[object])
    P_r, Q_r = to_ring(np.asarray(P, dtype=object)), to_ring(np.asarray(Q, dtype=object))
    check_weights(P_r, Q_r, d)
    x = np.array(gens[: n * d], dtype=object).reshape(n, d)
    y = np.array(gens[n * d: n * d + n], dtype=object)
    xq = np.array(gens[n * d + n:], dtype=object)
    fwd = forward(x, y, xq, P_r, Q_r, include_query=include_query)
    states = implicit_states(x, y, P_r, Q_r)
    residual = []
    for Z_l, st in zip(fwd.tokens, states):
        residual.extend(v.as_expr() if hasattr(v, "as_expr") else sp.sympify(v) for v in (Z_l - st.apply(x, y, xq)).ravel())
    return residual


# ---------------------------------------------------------------- Lemma 4.4 / A.1 (DIAG, one head)


@dataclass(frozen=True)
class OLSData:
    """Layer-0 quantities of Lemma 4.4: ``Σ``, ``w* = Σ^{-1} α`` and ``ρ = Σ_i (y_i − ⟨w*, x_i⟩)²`` (needs ``n ≥ d``).

    Built by :func:`ols_data`.

    Examples
    --------
    Noiseless labels ``y = X w``: OLS recovers ``w`` and the residual is 0:

    >>> import numpy as np
    >>> from theory.vladymyrov import ols_data
    >>> x = np.random.default_rng(0).standard_normal((5, 2))
    >>> data = ols_data(x, x @ np.array([1.0, -2.0]))
    >>> bool(np.allclose(data.w_star, [1.0, -2.0])), bool(data.rho < 1e-20)
    (True, True)
    """

    sigma: np.ndarray
    w_star: np.ndarray
    rho: np.ndarray


def ols_data(x: np.ndarray, y: np.ndarray) -> OLSData:
    """Layer-0 quantities of Lemma 4.4: ``Σ = XᵀX``, ``w* = Σ^{-1} α`` (``α = Xᵀy``) and ``ρ = Σ_i (y_i − ⟨w*, x_i⟩)²``.

    Parameters
    ----------
    x : numpy.ndarray, shape (..., n, d)
        Context inputs with ``n ≥ d`` (``Σ`` invertible).
    y : numpy.ndarray, shape (..., n)

    Returns
    -------
    OLSData

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import ols_data
    >>> data = ols_data(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 3.0]))
    >>> bool(np.allclose(data.w_star, [4 / 3, 4 / 3])), bool(np.isclose(data.rho, 1 / 3))  # residuals ±1/3
    (True, True)
    """
    x, y = real_array("x", x), real_array("y", y)
    n, d = x.shape[-2:]
    if n < d:
        raise ArgumentError(f"x must have n >= d (w* = Σ^-1 α must exist), got n={n}, d={d}")
    x = finite_array("x", x)
    y = finite_array("y", y)
    sigma = _swap(x) @ x
    alpha = (y[..., None] * x).sum(-2)
    w_star = np.linalg.solve(sigma, alpha[..., None])[..., 0]
    resid = y - (x @ w_star[..., None])[..., 0]
    return OLSData(sigma=sigma, w_star=w_star, rho=(resid**2).sum(-1))


def _layer_stats(state: ImplicitState, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Σ^l, λ^l`` from Theorem 4.1's tokens (they enter ``Λ^l`` and ``s^l`` of Lemma 4.4)."""
    E = context_gram(state.apply(x, y, np.zeros(x.shape[:-2] + (x.shape[-1],))))
    return E[..., :-1, :-1], E[..., -1, -1]


def lemma44_alpha(state: ImplicitState, data: OLSData) -> np.ndarray:
    """``α^l = (M + u w*^T) Σ (a w* − w) + a ρ u`` (Vladymyrov et al. 2024, Lemma 4.4).

    ``α^l = Σ_i y_i^l x_i^l`` written through the implicit state and the OLS data.

    Examples
    --------
    Agreement with ``Σ_i y_i^l x_i^l`` read off the context tokens of the forward pass after every layer:

    >>> import numpy as np
    >>> from theory.vladymyrov import diag_matrices, forward, implicit_states, lemma44_alpha, ols_data
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> p_x, p_y, q_x, q_y = [np.array(v) for v in ([[0.5], [1.0]], [[1.0], [-0.5]], [[-0.1], [-0.05]], [[0.02], [0.03]])]
    >>> P, Q = diag_matrices(p_x, p_y, q_x, q_y, 2)  # two DIAG layers, one head each
    >>> states, run, data = implicit_states(x, y, P, Q), forward(x, y, x_q, P, Q), ols_data(x, y)
    >>> all(np.allclose(lemma44_alpha(s, data), z[:-1, :2].T @ z[:-1, 2]) for s, z in zip(states, run.tokens))
    True
    """
    M, u, a, w = state.M, state.u, state.a, state.w
    K = M + u[..., :, None] * data.w_star[..., None, :]
    g = (data.sigma @ (a[..., None] * data.w_star - w)[..., None])[..., 0]
    return (K @ g[..., None])[..., 0] + (a * data.rho)[..., None] * u


def _lemma44_update(state: ImplicitState, data: OLSData, om: np.ndarray, x: np.ndarray, y: np.ndarray,
                    a_in_gamma_pi: bool) -> tuple[np.ndarray, np.ndarray]:
    w_xx, w_xy, w_yx, w_yy = (float(v) for v in om)
    M, u, a, w = state.M, state.u, state.a, state.w
    sigma_l, lam_l = _layer_stats(state, x, y)
    d = M.shape[-1]
    eye = np.eye(d)
    coef = a[..., None, None] if a_in_gamma_pi else 1.0
    K = M + coef * u[..., :, None] * data.w_star[..., None, :]
    g = (data.sigma @ (a[..., None] * data.w_star - w)[..., None])[..., 0]
    Lam = -w_xy * (a**2 * data.rho)[..., None, None] * eye - w_xx * sigma_l
    Gam = w_xy * a[..., None, None] * K
    s = w_yy * lam_l
    Pi = w_yx * _swap(M) @ K
    Phi = w_yx * (a * data.rho)[..., None, None] * _swap(M)
    u_new = ((eye - Lam) @ u[..., None])[..., 0] + (Gam @ g[..., None])[..., 0]
    w_new = (1 + s)[..., None] * w - (Pi @ g[..., None])[..., 0] - (Phi @ u[..., None])[..., 0]
    return u_new, w_new


def lemma44_step(state: ImplicitState, data: OLSData, omega_l: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(u^{l+1}, w^{l+1})`` by Lemma 4.4 with the corrected ``Γ = a ω_xy (M + u w*^T)``, ``Π = ω_yx M^T (M + u w*^T)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import diag_matrices, implicit_states, lemma44_step, ols_data, omega
    >>> rng = np.random.default_rng(1)
    >>> x, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    >>> p_x, p_y, q_x, q_y = np.array([[1.0]]), np.array([[2.0]]), np.array([[-0.05]]), np.array([[0.01]])
    >>> om = omega(p_x, p_y, q_x, q_y)  # one layer, one head: (ω_xx, ω_xy, ω_yx, ω_yy)
    >>> P, Q = diag_matrices(p_x, p_y, q_x, q_y, 2)
    >>> states = implicit_states(x, y, P, Q)  # Lemma 4.3 on the DIAG weights
    >>> u1, w1 = lemma44_step(states[0], ols_data(x, y), om[0], x, y)
    >>> bool(np.allclose(u1, states[1].u) and np.allclose(w1, states[1].w))
    True
    """
    return _lemma44_update(state, data, np.asarray(omega_l, dtype=float), x, y, a_in_gamma_pi=False)


def lemma44_step_printed(state: ImplicitState, data: OLSData, omega_l: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's printed Lemma 4.4 (text copy): ``a^l u^l w*^T`` inside ``Γ`` and ``Π`` — wrong when ``a^l ≠ 1``.

    Kept as the negative control of :func:`lemma44_step` (``../shared/vladymyrov.md``).

    Examples
    --------
    At layer 0 (``a = 1``) it agrees with the recursion; at layer 1 (``a ≠ 1`` since ``ω_yy ≠ 0``) it misses it
    by far more than round-off, while the corrected :func:`lemma44_step` does not:

    >>> import numpy as np
    >>> from theory.vladymyrov import (diag_matrices, implicit_states, lemma44_step, lemma44_step_printed,
    ...                                ols_data, omega)
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> p_x, p_y, q_x, q_y = [np.array(v) for v in ([[0.5], [1.0]], [[1.0], [-0.5]], [[-0.1], [-0.05]], [[0.02], [0.03]])]
    >>> P, Q = diag_matrices(p_x, p_y, q_x, q_y, 2)  # two DIAG layers, one head each
    >>> states, data, om = implicit_states(x, y, P, Q), ols_data(x, y), omega(p_x, p_y, q_x, q_y)
    >>> def matches(step, layer):
    ...     u, w = step(states[layer], data, om[layer], x, y)
    ...     return bool(np.allclose(u, states[layer + 1].u, rtol=1e-10, atol=0) and np.allclose(w, states[layer + 1].w, rtol=1e-10, atol=0))
    >>> matches(lemma44_step_printed, 0), matches(lemma44_step_printed, 1), matches(lemma44_step, 1)
    (True, False, True)
    """
    return _lemma44_update(state, data, np.asarray(omega_l, dtype=float), x, y, a_in_gamma_pi=True)


# ---------------------------------------------------------------- GD++ as preconditioned gradient descent (Sec. 5.1)


def gdpp_preconditioned_gd(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, omega_xx: np.ndarray, omega_yx: np.ndarray,
                           *, precondition: bool = True) -> np.ndarray:
    """Predictions ``⟨w^l, x_t⟩`` for ``l = 1..L`` of GD++ written as preconditioned GD (Sec. 5.1, our derivation).

    With ``u = 0, a = 1``: ``w^{l+1} = w^l − ω_yx^l (M^l)^2 (α − Σ w^l)`` and ``M^{l+1} = (I + ω_xx^l Σ^l) M^l`` where
    ``Σ^l = M^l Σ M^l`` (``M^l`` is a polynomial in ``Σ``: symmetric and commuting with it).  ``precondition=False``
    drops the ``(M^l)^2`` factor (plain GD with the same steps) — the negative control.
    Returns ``(L, ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import gdpp_preconditioned_gd
    >>> x, y = np.eye(2), np.array([1.0, 2.0])
    >>> gdpp_preconditioned_gd(x, y, np.array([1.0, 1.0]), np.zeros(1), np.array([-1.0]))  # one GD step, η = 1
    array([3.])
    """
    flag("precondition", precondition)
    check_regression_inputs(x, y, x_query)
    oxx = real_array("omega_xx", omega_xx, ndim=1)
    oyx = real_array("omega_yx", omega_yx, ndim=1)
    if oxx.shape != oyx.shape:
        raise ArgumentError(f"omega_xx and omega_yx must have the same length, got {oxx.shape} and {oyx.shape}")
    d = x.shape[-1]
    sigma = _swap(x) @ x
    alpha = (y[..., None] * x).sum(-2)
    M = np.broadcast_to(np.eye(d), sigma.shape).copy()
    w = np.zeros_like(alpha)
    preds = []
    for wxx, wyx in zip(oxx, oyx):
        grad = alpha - (sigma @ w[..., None])[..., 0]
        pre = M @ M if precondition else np.broadcast_to(np.eye(d), M.shape)
        w = w - wyx * (pre @ grad[..., None])[..., 0]
        M = M + wxx * (M @ sigma @ M) @ M
        preds.append((w * x_query).sum(-1))
    return np.stack(preds)
