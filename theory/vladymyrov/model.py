"""Multi-layer linear self-attention on regression tokens (Vladymyrov et al. 2024, arXiv:2402.14180, Sec. 3-5).

Tokens (Sec. 3): ``e_i = (x_i, y_i) ∈ R^{d+1}`` for the ``n`` context points and the query ``e_{n+1} = (x_t, 0)``.
One layer with heads ``k`` (eq. (3); the number is UNCONFIRMED, the text copy lost its displays)::

    e_i^{l+1} = e_i^l + Σ_k P_k^l E^l Q_k^l e_i^l,      E^l = Σ_{j ≤ n} e_j^l e_j^{lT},

applied to all ``n + 1`` tokens; the query's own key/value is masked out of ``E`` (it never enters the sum),
every context token sees all ``n`` context tokens (non-causal), attention is *not* normalised by ``1/n``.
The read-out is ``ŷ = −y_{n+1}^L`` (minus the label slot of the query after the last layer).

Parameterisations (Sec. 5, eqs. (10)-(11), numbers UNCONFIRMED):

* FULL: ``P_k, Q_k`` unconstrained ``(d+1)×(d+1)``.
* DIAG: ``P_k = diag(p_{x,k} I_d, p_{y,k})``, ``Q_k = diag(q_{x,k} I_d, q_{y,k})`` (four numbers per head),
  re-parametrised by ``ω_xx = Σ_k p_{x,k} q_{x,k}``, ``ω_xy = Σ_k p_{x,k} q_{y,k}``, ``ω_yx = Σ_k p_{y,k} q_{x,k}``,
  ``ω_yy = Σ_k p_{y,k} q_{y,k}``; the layer then reads::

      x_i^{l+1} = x_i^l + ω_xx Σ^l x_i^l + ω_xy y_i^l α^l,     y_i^{l+1} = y_i^l + ω_yx ⟨α^l, x_i^l⟩ + ω_yy λ^l y_i^l

  with ``Σ^l = Σ_{i≤n} x_i^l x_i^{lT}``, ``α^l = Σ_{i≤n} y_i^l x_i^l``, ``λ^l = Σ_{i≤n} (y_i^l)²``.
* GD++ (von Oswald et al. 2023a): DIAG with ``q_{y,k} = 0`` in every head (so ``ω_xy = ω_yy = 0``).

Array conventions: ``x`` is ``(..., n, d)``, ``y`` is ``(..., n)``, ``x_query`` is ``(..., d)``; weights ``P, Q`` are
``(L, H, d+1, d+1)``.  The matrix forward only uses ``@``, ``+``, ``*`` and slicing, so it also runs on numpy
object arrays of sympy polynomials (used for the exact symbolic check of Theorem 4.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.arguments import ArgumentError, finite_array, flag, positive_int, real_array

__all__ = [
    "OMEGA_NAMES", "check_regression_inputs", "check_weights", "tokens", "context_gram", "head_sum", "ForwardPass",
    "forward", "diag_matrices", "gdpp_matrices", "omega", "omega_forward",
]


OMEGA_NAMES: tuple[str, ...] = ("xx", "xy", "yx", "yy")


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def check_regression_inputs(x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> tuple[int, int]:
    """Validate shapes ``(..., n, d)``, ``(..., n)``, ``(..., d)`` and return ``(n, d)``; ``ValueError`` otherwise.

    The regression prompt of Vladymyrov et al. (2024), Sec. 3: context ``(x_i, y_i)_{i≤n}`` and query ``x_t``.
    The error is an ``ArgumentError`` (a ``ValueError``) naming the argument.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.arguments import ArgumentError
    >>> from theory.vladymyrov import check_regression_inputs
    >>> check_regression_inputs(np.zeros((4, 3, 2)), np.zeros((4, 3)), np.zeros((4, 2)))  # batch of 4
    (3, 2)
    >>> try:
    ...     check_regression_inputs(np.zeros((3, 2)), np.zeros(2), np.zeros(2))
    ... except ArgumentError as err:
    ...     print(str(err).startswith("y must have shape (3,)"))
    True
    """
    for name, arr in (("x", x), ("y", y), ("x_query", x_query)):
        if not isinstance(arr, np.ndarray):
            raise ArgumentError(f"{name} must be a numpy array, got {type(arr).__name__}")
        if arr.dtype != object:
            finite_array(name, arr)
            if arr.dtype.kind == "c":
                raise ArgumentError(f"{name} must be real (regression data), got dtype {arr.dtype}")
    if x.ndim < 2:
        raise ArgumentError(f"x must have shape (..., n, d), got {x.shape}")
    n, d = x.shape[-2:]
    if n < 1 or d < 1:
        raise ArgumentError(f"x must have n >= 1 context points and d >= 1 features, got shape {x.shape}")
    if y.shape != x.shape[:-1]:
        raise ArgumentError(f"y must have shape {x.shape[:-1]} (one label per context point), got {y.shape}")
    if x_query.shape != x.shape[:-2] + (d,):
        raise ArgumentError(f"x_query must have shape {x.shape[:-2] + (d,)}, got {x_query.shape}")
    return n, d


def check_weights(P: np.ndarray, Q: np.ndarray, d: int) -> tuple[int, int]:
    """Validate ``P, Q`` of shape ``(L, H, d+1, d+1)``; return ``(L, H)``.

    ``P_k^l``, ``Q_k^l`` are the value/key-query matrices of head ``k`` in layer ``l`` (eq. (3)).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import check_weights
    >>> check_weights(np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 4)), 3)  # L = 2 layers, H = 3 heads, d = 3
    (2, 3)
    """
    d = positive_int("d", d)
    for name, arr in (("P", P), ("Q", Q)):
        if not isinstance(arr, np.ndarray):
            raise ArgumentError(f"{name} must be a numpy array, got {type(arr).__name__}")
        if arr.dtype != object:
            finite_array(name, arr)
            if arr.dtype.kind == "c":
                raise ArgumentError(f"{name} must be real, got dtype {arr.dtype}")
        if arr.ndim != 4 or arr.shape[-2:] != (d + 1, d + 1) or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ArgumentError(f"{name} must have shape (L, H, {d + 1}, {d + 1}) with L, H >= 1, got {arr.shape}")
    if P.shape != Q.shape:
        raise ArgumentError(f"P and Q must have the same shape, got {P.shape} and {Q.shape}")
    return P.shape[0], P.shape[1]


def tokens(x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> np.ndarray:
    """The token matrix ``Z`` of shape ``(..., n+1, d+1)``: rows ``(x_i, y_i)`` then the query ``(x_t, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import tokens
    >>> tokens(np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0]))  # rows (x_i, y_i), then (x_t, 0)
    array([[1., 0., 1.],
           [0., 1., 2.],
           [1., 1., 0.]])
    """
    check_regression_inputs(x, y, x_query)
    context = np.concatenate([x, y[..., None]], axis=-1)
    zero = np.zeros(x_query.shape[:-1] + (1,), dtype=x_query.dtype)
    query = np.concatenate([x_query, zero], axis=-1)[..., None, :]
    return np.concatenate([context, query], axis=-2)


def context_gram(Z: np.ndarray, include_query: bool = False) -> np.ndarray:
    """``E = Σ_{j ≤ n} e_j e_j^T`` over the context rows of ``Z`` (the query row, the last one, is masked out).

    ``include_query=True`` sums over all ``n + 1`` rows instead (the query attends to and is attended by itself,
    von Oswald et al.'s ``include_query`` option) — not the model of the paper; used as a negative control.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import context_gram, tokens
    >>> context_gram(tokens(np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0])))  # [[Σ, α], [αᵀ, λ]]
    array([[1., 0., 1.],
           [0., 1., 2.],
           [1., 2., 5.]])
    """
    flag("include_query", include_query)
    if not isinstance(Z, np.ndarray) or Z.ndim < 2:
        raise ArgumentError(f"Z must be a numpy array of tokens (..., n+1, d+1), got {type(Z).__name__}")
    if Z.dtype != object:
        real_array("Z", Z)
    C = Z if include_query else Z[..., :-1, :]
    return _swap(C) @ C


def head_sum(P_layer: np.ndarray, E: np.ndarray, Q_layer: np.ndarray) -> np.ndarray:
    """``Σ_k P_k E Q_k`` for one layer's heads ``P_layer, Q_layer`` of shape ``(H, d+1, d+1)``.

    With ``E = Σ_i e_i e_iᵀ`` this is the matrix ``B^l`` of the layer update ``e_i ← e_i + B^l e_i`` (eq. (3)).

    Examples
    --------
    Agreement with one ``einsum`` over heads:

    >>> import numpy as np
    >>> from theory.vladymyrov import head_sum
    >>> rng = np.random.default_rng(0)
    >>> P, E, Q = rng.standard_normal((3, 4, 4)), rng.standard_normal((4, 4)), rng.standard_normal((3, 4, 4))
    >>> bool(np.allclose(head_sum(P, E, Q), np.einsum("hij,jk,hkl->il", P, E, Q)))
    True
    """
    for name, arr in (("P_layer", P_layer), ("E", E), ("Q_layer", Q_layer)):
        if not isinstance(arr, np.ndarray):
            raise ArgumentError(f"{name} must be a numpy array, got {type(arr).__name__}")
        if arr.dtype != object:
            real_array(name, arr)
    if P_layer.ndim != 3 or Q_layer.shape != P_layer.shape or E.shape[-2:] != P_layer.shape[-2:]:
        raise ArgumentError(f"P_layer, Q_layer must be (H, d+1, d+1) and E (..., d+1, d+1), got "
                            f"{P_layer.shape}, {Q_layer.shape} and {E.shape}")
    total = P_layer[0] @ E @ Q_layer[0]
    for k in range(1, P_layer.shape[0]):
        total = total + P_layer[k] @ E @ Q_layer[k]
    return total


@dataclass(frozen=True)
class ForwardPass:
    """Tokens after every layer (``tokens[0]`` is the input) and the read-outs ``−y_t^K`` for ``K = 1..L``.

    Vladymyrov et al. (2024), Sec. 3: the prediction is minus the query's label slot after the last layer.

    Examples
    --------
    One GD step (``P`` picks the label, ``Q = −I`` on the features) predicts ``⟨α, x_t⟩ = ⟨Xᵀy, x_t⟩ = 3``:

    >>> import numpy as np
    >>> from theory.vladymyrov import forward
    >>> P, Q = np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3))
    >>> P[0, 0, 2, 2], Q[0, 0, :2, :2] = 1.0, -np.eye(2)
    >>> run = forward(np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0]), P, Q)
    >>> len(run.tokens), float(run.readouts[-1]), float(run.prediction)
    (2, 3.0, 3.0)
    """

    tokens: list[np.ndarray]

    @property
    def readouts(self) -> list[np.ndarray]:
        return [-Z[..., -1, -1] for Z in self.tokens[1:]]

    @property
    def prediction(self) -> np.ndarray:
        """``ŷ = −y_{n+1}^L``."""
        return -self.tokens[-1][..., -1, -1]


def forward(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, P: np.ndarray, Q: np.ndarray, *,
            include_query: bool = False) -> ForwardPass:
    """Run the L-layer, H-head linear self-attention (eq. (3)) on one or a batch of regression prompts.

    ``include_query``: see :func:`context_gram`.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import forward
    >>> x, y, xq = np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> P = np.zeros((1, 1, 3, 3)); Q = np.zeros((1, 1, 3, 3))
    >>> P[0, 0, 2, 2] = 1.0; Q[0, 0, :2, :2] = -np.eye(2)  # one GD step: ŷ = ⟨α, x_t⟩ with α = Xᵀy
    >>> float(forward(x, y, xq, P, Q).prediction)
    3.0
    """
    flag("include_query", include_query)
    _, d = check_regression_inputs(x, y, x_query)
    L, _ = check_weights(P, Q, d)
    Z = tokens(x, y, x_query)
    out = [Z]
    for layer in range(L):
        B = head_sum(P[layer], context_gram(Z, include_query), Q[layer])
        Z = Z + Z @ _swap(B)
        out.append(Z)
    return ForwardPass(out)


def _diag_params(name: str, value: np.ndarray) -> np.ndarray:
    arr = real_array(name, value, ndim=2)
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ArgumentError(f"{name} must have shape (L, H) with L, H >= 1, got {arr.shape}")
    return arr.astype(float)


def diag_matrices(p_x: np.ndarray, p_y: np.ndarray, q_x: np.ndarray, q_y: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """DIAG weights ``P_k = diag(p_x I_d, p_y)``, ``Q_k = diag(q_x I_d, q_y)``; inputs ``(L, H)``, outputs ``(L, H, d+1, d+1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import diag_matrices
    >>> P, Q = diag_matrices(np.array([[1.0]]), np.array([[2.0]]), np.array([[3.0]]), np.array([[4.0]]), 1)
    >>> P[0, 0], Q[0, 0]  # diag(p_x I, p_y), diag(q_x I, q_y)
    (array([[1., 0.],
           [0., 2.]]), array([[3., 0.],
           [0., 4.]]))
    """
    d = positive_int("d", d)
    arrs = [_diag_params(n, v) for n, v in (("p_x", p_x), ("p_y", p_y), ("q_x", q_x), ("q_y", q_y))]
    if len({a.shape for a in arrs}) != 1:
        raise ArgumentError(f"p_x, p_y, q_x, q_y must share one shape (L, H), got {[a.shape for a in arrs]}")
    px, py, qx, qy = arrs
    eye = np.eye(d + 1)
    mask_y = np.zeros(d + 1)
    mask_y[-1] = 1.0
    mask_x = 1.0 - mask_y

    def build(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a[..., None] * mask_x + b[..., None] * mask_y)[..., None, :] * eye

    return build(px, py), build(qx, qy)


def gdpp_matrices(p_x: np.ndarray, p_y: np.ndarray, q_x: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """GD++ weights: DIAG with ``q_y = 0`` in every head (Sec. 5.1).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import gdpp_matrices
    >>> P, Q = gdpp_matrices(np.array([[1.0]]), np.array([[2.0]]), np.array([[3.0]]), 1)
    >>> Q[0, 0]  # q_y = 0: the labels never enter the keys
    array([[3., 0.],
           [0., 0.]])
    """
    q_x = _diag_params("q_x", q_x)
    return diag_matrices(p_x, p_y, q_x, np.zeros_like(q_x), d)


def omega(p_x: np.ndarray, p_y: np.ndarray, q_x: np.ndarray, q_y: np.ndarray) -> np.ndarray:
    """The DIAG re-parametrisation ``(ω_xx, ω_xy, ω_yx, ω_yy)`` per layer, shape ``(L, 4)`` (sum over heads).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import omega
    >>> px, py, qx, qy = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]]), np.zeros((1, 2))
    >>> omega(px, py, qx, qy)  # one layer, two heads: (ω_xx, ω_xy, ω_yx, ω_yy) = (Σ p_x q_x, Σ p_x q_y, ...)
    array([[3., 0., 1., 0.]])
    """
    px, py, qx, qy = (_diag_params(n, v) for n, v in (("p_x", p_x), ("p_y", p_y), ("q_x", q_x), ("q_y", q_y)))
    return np.stack([(px * qx).sum(-1), (px * qy).sum(-1), (py * qx).sum(-1), (py * qy).sum(-1)], axis=-1)


def omega_forward(x: np.ndarray, y: np.ndarray, x_query: np.ndarray, omegas: np.ndarray) -> ForwardPass:
    """DIAG forward written with the four ``ω`` update equations of Sec. 5 instead of matrices.

    The query follows the same equations with its label slot (initially 0).  ``omegas`` is ``(L, 4)`` in the order
    ``(ω_xx, ω_xy, ω_yx, ω_yy)``.  Vladymyrov et al. (2024), Sec. 5 (DIAG): ``x_i ← x_i + ω_xx Σ x_i + ω_xy y_i α``,
    ``y_i ← y_i + ω_yx ⟨α, x_i⟩ + ω_yy λ y_i`` with ``Σ = Σ_j x_j x_jᵀ``, ``α = Σ_j y_j x_j``, ``λ = Σ_j y_j²``.

    Examples
    --------
    Agreement with the matrix forward pass :func:`forward` on the DIAG weights (claim V-T3):

    >>> import numpy as np
    >>> from theory.vladymyrov import diag_matrices, forward, omega, omega_forward
    >>> rng = np.random.default_rng(0)
    >>> x, y, x_q = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2)
    >>> p_x, p_y, q_x, q_y = [np.array(v) for v in ([[0.5], [1.0]], [[1.0], [-0.5]], [[-0.1], [-0.05]], [[0.02], [0.03]])]
    >>> P, Q = diag_matrices(p_x, p_y, q_x, q_y, 2)  # two DIAG layers, one head each
    >>> run = omega_forward(x, y, x_q, omega(p_x, p_y, q_x, q_y))
    >>> bool(np.allclose(run.tokens[-1], forward(x, y, x_q, P, Q).tokens[-1]))
    True
    """
    check_regression_inputs(x, y, x_query)
    om = real_array("omegas", omegas, ndim=2)
    if om.shape[1] != 4:
        raise ArgumentError(f"omegas must have shape (L, 4), got {om.shape}")
    xs = np.concatenate([x, x_query[..., None, :]], axis=-2)
    ys = np.concatenate([y, np.zeros(y.shape[:-1] + (1,))], axis=-1)
    out = [np.concatenate([xs, ys[..., None]], axis=-1)]
    for w_xx, w_xy, w_yx, w_yy in om:
        xc, yc = xs[..., :-1, :], ys[..., :-1]
        sigma = _swap(xc) @ xc
        alpha = (yc[..., None] * xc).sum(-2)
        lam = (yc * yc).sum(-1)
        new_x = xs + w_xx * xs @ sigma + w_xy * ys[..., None] * alpha[..., None, :]
        new_y = ys + w_yx * (xs @ alpha[..., None])[..., 0] + w_yy * lam[..., None] * ys
        xs, ys = new_x, new_y
        out.append(np.concatenate([xs, ys[..., None]], axis=-1))
    return ForwardPass(out)
