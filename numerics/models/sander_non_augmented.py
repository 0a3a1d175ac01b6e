"""The non-augmented model of Sander et al. (2024): diagonal multi-head linear attention times a positional matrix.

Parameters (functional, ``dict[str, Tensor]``)::

    {"A": (H, d), "B": (H, d), "P": (T, T)}      real, float64 or float32

Head ``h`` scores a key ``s_j`` against the query ``s_q`` with ``s_q^* diag(a_h) s_j`` (Hermitian: conj on the
query; for real data the conj is a no-op), the positional matrix multiplies the score entry-wise, and the value
is ``diag(b_h) s_j``.  Row ``r = 0..T-2`` predicts ``s_{r+2}`` with **query ``s_r``** and keys ``s_0..s_{r+1}``::

    ŝ_{r+2} = Σ_{j ≤ r+1} P[r, j] Σ_h (s_r^* diag(a_h) s_j) · (b_h ⊙ s_j)

A sequence therefore has ``T + 1`` tokens ``s_0..s_T`` and the model makes ``T − 1`` predictions.

Why the query is the second-to-last visible token (``s_r``, not ``s_{r+1}``): this is the indexing of the
reference scripts (``unitary.py``/``orthogonal.py``: row ``t`` uses ``P[t, :t+2]`` and the ``p[-2]``, ``p[-1]``
entries carry the query and the last key).  With the query at the last token ``s_c`` instead, every case-U
output coordinate is a sum of monomials ``λ^{2j−c}``/``λ_k^j λ_l^{j−c}`` whose exponents never equal the
target's ``c + 1`` (parity), so no parameter value predicts anything and the best predictor is 0
(see ``docs/sander-non-augmented.md``).  The paper's own indexing is UNCONFIRMED.

Loss: the squared error summed over rows and coordinates, averaged over sequences (the exact population
version is :mod:`theory.sander.non_augmented`).

The positional-encoding-only variant (``pe_only_*``) fixes ``H = 1``, ``a = b = 𝟙`` and learns ``P`` alone.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Sequence

import numpy as np
import torch

from numerics.device import resolve_device, resolve_dtype
from numerics.optimize import OptResult, chunked_model_sum, minimize_population, train_sampled
from numerics.samplers import (
    commuting_family,
    diagonal_trajectories,
    haar_orthogonal,
    initial_states,
    sequences,
    to_torch,
    unitary_diagonal,
)
from numerics import arguments as targ
from numerics.samplers import INIT_LAWS
from theory.arguments import (
    ArgumentError,
    even_int,
    flag,
    nonnegative_int,
    one_of,
    positive_float,
    positive_int,
    seed as check_seed,
    square_matrix,
)
from theory.sander import non_augmented as theory

Params = dict[str, torch.Tensor]
#: Working-set budget of one batched chunk of models in :func:`fit_sampled` (measured best at 2-4 MiB on the
#: benchmark CPU for both the reference size and the property-test size; see ``benchmarks/bench_speed.py``).
CHUNK_BYTES = 4 * 2**20
#: Relative ridge on the 3×3 row systems of :func:`position_solver` (see there).
RIDGE = 1e-13
Case = Literal["unitary", "orthogonal", "haar"]
CASES: tuple[str, ...] = ("unitary", "orthogonal", "haar")


# --------------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------------


def init_params(H: int, d: int, T: int, *, scale: float = 0.1, generator: torch.Generator | None = None,
                dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu") -> Params:
    """``A, B, P`` drawn as ``scale · N(0, 1)`` (the reference scripts use ``scale = 0.1``) on the CPU, then moved."""
    H, d, T = positive_int("H", H), positive_int("d", d), positive_int("T", T)
    scale = positive_float("scale", scale)
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    g = targ.generator("generator", generator) if generator is not None else torch.Generator().manual_seed(0)
    draw = lambda *shape: (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).to(dtype=dt, device=dev)  # noqa: E731
    return {"A": draw(H, d), "B": draw(H, d), "P": draw(T, T)}


def pad_heads(params: Params, H: int) -> Params:
    """The same model with ``H`` heads: zero rows appended to ``A`` and ``B``.

    A zero head ``(a_h, b_h) = (0, 0)`` adds nothing to the output, and it stays zero under gradient training:
    ``∂L/∂a_h`` carries the factor ``b_h`` and ``∂L/∂b_h`` the factor ``a_h`` (through ``C = BᵀA``), so both
    gradients are exactly 0, and Adam moves a parameter only where its gradient history is non-zero.  Models of
    different head counts therefore train in one batch, each exactly the model of its own ``H``.
    """
    have = targ.params("params", params, ("A", "B"))["A"].shape[-2]
    if positive_int("H", H) < have:
        raise ArgumentError(f"H must be at least the model's {have} heads to pad, got {H}")
    pad = lambda x: torch.cat([x, x.new_zeros(x.shape[:-2] + (H - have, x.shape[-1]))], dim=-2)  # noqa: E731
    return {**params, "A": pad(params["A"]), "B": pad(params["B"])}


def attention_product(params: Params) -> torch.Tensor:
    """``C = Bᵀ A`` (``d×d``): the only combination of ``A, B`` the output depends on."""
    targ.params("params", params, ("A", "B"))
    return params["B"].transpose(-1, -2) @ params["A"]


def factor_params(C: np.ndarray, P: np.ndarray, *, dtype: str | torch.dtype = "float64",
                  device: str | torch.device | None = "cpu") -> Params:
    """Parameters with ``BᵀA = C`` and ``H = rank(C)`` heads (balanced SVD factors), and the given ``P``."""
    C, P = square_matrix("C", C, real=True), square_matrix("P", P, real=True)
    u, s, vt = np.linalg.svd(C)
    k = max(1, int((s > 1e-12 * max(s[0], 1e-300)).sum()))
    root = np.sqrt(s[:k])[:, None]
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    as_t = lambda x: torch.as_tensor(np.ascontiguousarray(x)).to(dtype=dt, device=dev)  # noqa: E731
    return {"A": as_t(root * vt[:k]), "B": as_t(root * u[:, :k].T), "P": as_t(P)}


def _mask(T: int, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(theory.used_mask(T)[: T - 1], device=device)


# --------------------------------------------------------------------------------------------------------------
# Forward pass and losses
# --------------------------------------------------------------------------------------------------------------


def _check_shapes(params: Params, seqs: torch.Tensor) -> int:
    A, B, P = (targ.params("params", params, ("A", "B", "P"))[k] for k in ("A", "B", "P"))
    targ.tensor("seqs", seqs)
    if seqs.ndim < 3:
        raise ArgumentError(f"seqs must have shape (..., n, T+1, d), got {tuple(seqs.shape)}")
    *lead, n, T1, d = seqs.shape
    T = T1 - 1
    models = tuple(A.shape[:-2])
    if (P.shape[-2:] != (T, T) or A.shape[-1] != d or B.shape != A.shape or tuple(P.shape[:-2]) != models
            or tuple(lead) != models):
        raise ArgumentError(f"shapes do not match: seqs {tuple(seqs.shape)} needs P (..., {T}, {T}) and A, B (..., H, {d}) "
                         f"with the same leading model axes as seqs before its (n, T+1, d); "
                         f"got A {tuple(A.shape)}, B {tuple(B.shape)}, P {tuple(P.shape)}")
    return T


def predict(params: Params, seqs: torch.Tensor) -> torch.Tensor:
    """Predictions ``ŝ_2..ŝ_T`` of shape ``(n, T-1, d)`` for sequences ``(n, T+1, d)`` (real or complex).

    Computed head by head, exactly as parameterised (not through ``C``): the reference forward pass that the
    Monte-Carlo and quadrature checks of the closed forms go through.
    """
    T = _check_shapes(params, seqs)
    if seqs.dim() != 3:
        raise ArgumentError(f"seqs must be (n, T+1, d) for the head-by-head pass, got shape {tuple(seqs.shape)}")
    A, B, P = params["A"], params["B"], params["P"]
    if seqs.is_complex():
        A, B, P = A.to(seqs.dtype), B.to(seqs.dtype), P.to(seqs.dtype)
    q = seqs[:, : T - 1]                                    # queries s_0..s_{T-2}   (n, T-1, d)
    keys = seqs[:, :T]                                      # keys s_0..s_{T-1}      (n, T, d)
    scores = torch.einsum("nrl,hl,njl->nhrj", q.conj(), A, keys)        # per-head s_r^* diag(a_h) s_j
    weights = scores * (P[: T - 1] * _mask(T, seqs.device))            # positional matrix, causal (j ≤ r+1)
    return torch.einsum("nhrj,hk,njk->nrk", weights, B, keys)


def predict_fast(params: Params, seqs: torch.Tensor) -> torch.Tensor:
    """The same predictions as :func:`predict`, regrouped for speed (used for sampled training).

    ``ŝ_{r+2,k} = Σ_l C_{kl} conj(s_{r,l}) M_r[l, k]`` with ``C = BᵀA`` and
    ``M_r = Σ_{j≤r+1} P[r, j] s_j s_jᵀ``: one ``(T−1)×T`` matmul over the key outer products instead of per-head
    ``(n, H, T−1, T)`` score tensors (about 1.8x faster forward+backward at d=10, H=8, T=20; equal to
    :func:`predict` to round-off, see ``tests/test_sander_non_augmented.py``).

    Batched models: parameters with leading model axes ``(..., H, d)``, ``(..., T, T)`` and sequences
    ``(..., n, T+1, d)`` with the same leading axes give ``(..., n, T−1, d)``; model ``m`` sees only its data.
    """
    T = _check_shapes(params, seqs)
    C = attention_product(params).to(seqs.dtype)
    pm = (params["P"][..., : T - 1, :] * _mask(T, seqs.device)).to(seqs.dtype)
    keys = seqs[..., :T, :]
    moments = torch.einsum("...rj,...njlk->...nrlk", pm, keys.unsqueeze(-1) * keys.unsqueeze(-2))
    return torch.einsum("...kl,...nrl,...nrlk->...nrk", C, seqs[..., : T - 1, :].conj(), moments)


def _squared_error(pred: torch.Tensor, seqs: torch.Tensor) -> torch.Tensor:
    err = pred - seqs[..., 2:, :]
    return (err.abs() ** 2).sum((-1, -2)) if err.is_complex() else (err ** 2).sum((-1, -2))


def sequence_losses(params: Params, seqs: torch.Tensor) -> torch.Tensor:
    """Per-sequence squared error ``Σ_r ‖ŝ_{r+2} − s_{r+2}‖²`` (shape ``(n,)``, real), head-by-head forward."""
    return _squared_error(predict(params, seqs), seqs)


def sampled_loss(params: Params, seqs: torch.Tensor) -> torch.Tensor:
    """Mean over sequences of the squared error (the sampled population loss), via :func:`predict_fast`;
    shape ``(...)``: one loss per model for batched models (see :func:`predict_fast`)."""
    return _squared_error(predict_fast(params, seqs), seqs).mean(-1)


def exact_loss(params: Params, case: Literal["unitary", "orthogonal"], *, radius_sq: float = 2.0) -> torch.Tensor:
    """Exact population loss (closed form of :mod:`theory.sander.non_augmented`) at ``params``."""
    one_of("case", case, ("unitary", "orthogonal"))
    targ.params("params", params, ("A", "B", "P"))
    radius_sq = positive_float("radius_sq", radius_sq)
    C = attention_product(params)
    if case == "unitary":
        return theory.loss_u_torch(C, params["P"])
    return theory.loss_o_torch(C, params["P"], radius_sq=radius_sq)


# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


def sample_sequences(case: Case, n: int, d: int, T: int, *, rng: np.random.Generator, mu: float = 1.0,
                     dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu",
                     s0_law: str | None = None) -> torch.Tensor:
    """``n`` sequences ``s_0..s_T`` (``(n, T+1, d)``) of case ``"unitary"`` (complex, torus ``s_0``),
    ``"orthogonal"`` (rotation blocks in the canonical basis, random-phase ``s_0`` blocks of radius √2) or
    ``"haar"`` (Haar ``W`` on O(d), ``s_0`` from ``s0_law``, default uniform on the sphere)."""
    one_of("case", case, CASES)
    one_of("s0_law", s0_law, (None,) + INIT_LAWS)
    n, d, T = positive_int("n", n), positive_int("d", d), positive_int("T", T)
    if case == "unitary":
        lam, _ = unitary_diagonal(n, d, rng=rng, mu=mu)
        s0 = initial_states(n, d, s0_law or "torus", rng=rng, complex_valued=True)
        seqs = diagonal_trajectories(lam, s0, T)
    elif case == "orthogonal":
        family = commuting_family(even_int("d", d), mu=mu)
        th = family.sample_angles(n, rng=rng)
        seqs = family.trajectories(th, initial_states(n, d, s0_law or "torus", rng=rng), T)
    else:
        w = haar_orthogonal(d, n, rng=rng)
        seqs = sequences(w, initial_states(n, d, s0_law or "sphere", rng=rng), T)
    return to_torch(seqs, dtype=dtype, device=device)


def quadrature_sequences(case: Literal["unitary", "orthogonal"], d: int, T: int, *, dtype: str | torch.dtype = "float64",
                         device: str | torch.device | None = "cpu", radius_sq: float = 2.0) -> torch.Tensor:
    """Sequences on an equispaced product grid whose plain mean is the *exact* population expectation.

    The squared error is a trigonometric polynomial of degree at most ``6T`` in every angle ``θ`` and at most
    6 in every ``s_0`` phase ``φ``; an ``M``-point equispaced rule integrates ``e^{ikθ}`` exactly for ``|k| < M``,
    so ``M_θ = 6T + 1`` and ``M_φ = 7`` make the mean exact.  Case U uses ``s_0 = 𝟙`` (its loss is the same as
    for uniform phases, see ``theory.sander.non_augmented.loss_u_derivation``): ``M_θ^d`` sequences.  Case O
    uses random-phase blocks of squared radius ``radius_sq``: ``(M_θ M_φ)^{d/2}`` sequences.
    """
    one_of("case", case, ("unitary", "orthogonal"))
    d, T = positive_int("d", d), positive_int("T", T)
    m_theta = 6 * T + 1
    grid = 2 * np.pi * np.arange(m_theta) / m_theta
    if case == "unitary":
        if m_theta ** d > 2_000_000:
            raise ArgumentError(f"quadrature grid of {m_theta}^{d} points is too large; lower d or T")
        th = np.stack(np.meshgrid(*([grid] * d), indexing="ij"), -1).reshape(-1, d)
        w = np.zeros((th.shape[0], d, d), dtype=np.complex128)
        w[:, np.arange(d), np.arange(d)] = np.exp(1j * th)
        s0 = np.ones((th.shape[0], d), dtype=np.complex128)
    else:
        even_int("d", d)
        m_phi = 7
        phis = 2 * np.pi * np.arange(m_phi) / m_phi
        k = d // 2
        if (m_theta * m_phi) ** k > 2_000_000:
            raise ArgumentError(f"quadrature grid of ({m_theta}·{m_phi})^{k} points is too large; lower d or T")
        axes = [grid] * k + [phis] * k
        pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2 * k)
        th, ph = pts[:, :k], pts[:, k:]
        w = commuting_family(d).from_angles(th)
        r = np.sqrt(positive_float("radius_sq", radius_sq))
        s0 = np.empty((pts.shape[0], d))
        s0[:, 0::2] = r * np.cos(ph)
        s0[:, 1::2] = r * np.sin(ph)
    return to_torch(sequences(w, s0, T), dtype=dtype, device=device)


def quadrature_loss(params: Params, case: Literal["unitary", "orthogonal"], *, radius_sq: float = 2.0) -> float:
    """The exact population loss of the torch model by :func:`quadrature_sequences` (no closed form used)."""
    targ.params("params", params, ("A", "B", "P"))
    T = params["P"].shape[-1]
    d = params["A"].shape[-1]
    seqs = quadrature_sequences(case, d, T, dtype=params["A"].dtype, device=params["A"].device, radius_sq=radius_sq)
    with torch.no_grad():
        return float(sequence_losses(params, seqs).mean())


# --------------------------------------------------------------------------------------------------------------
# Training helpers
# --------------------------------------------------------------------------------------------------------------


def balance_heads(params: Params) -> Params:
    """Use the model's symmetries to equalise scales without changing the output: every head
    ``(a_h, b_h) → (g_h a_h, b_h/g_h)`` with ``‖a_h‖ = ‖b_h‖``, then ``(C, P) → (γC, P/γ)`` with ``‖C‖_F = ‖P‖_F``.
    L-BFGS can otherwise drift along these valleys (e.g. ``C → 0``, ``P → ∞``) and stall, badly conditioned."""
    targ.params("params", params, ("A", "B", "P"))
    one = lambda x: torch.ones_like(x)  # noqa: E731
    na = params["A"].norm(dim=-1, keepdim=True)
    nb = params["B"].norm(dim=-1, keepdim=True)
    ok = (na > 0) & (nb > 0)
    g = torch.where(ok, (nb / torch.where(ok, na, one(na))).sqrt(), one(na))
    A, B = params["A"] * g, params["B"] / g
    nc = (B.transpose(-1, -2) @ A).norm()
    npos = params["P"].norm()
    gamma = (npos / nc).sqrt() if nc > 0 and npos > 0 else torch.ones((), dtype=A.dtype, device=A.device)
    return {**params, "A": A * gamma, "B": B, "P": params["P"] / gamma}


def position_solver(case: Literal["unitary", "orthogonal"], T: int, *, radius_sq: float = 2.0,
                    dtype: str | torch.dtype = "float64",
                    device: str | torch.device | None = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """``C ↦ P*(C) = argmin_P L(C, P)``: the exact population loss minimised over the positional matrix in closed
    form (differentiable in ``C``; variable projection, Golub & Pereyra 1973).

    Derivation (``docs/sander-exact-fit.md``).  For fixed ``C`` the loss is a sum over rows ``r`` of convex
    quadratics in ``p = P[r, 0..r+1]`` (an expectation of squared errors, linear in ``p``), and in both cases each
    row loss depends on ``p`` only through ``Σ_j p_j``, ``‖p‖²``, the query entry ``p_q = P[r, r]`` and the next
    key's ``p_c = P[r, r+1]`` (:func:`theory.sander.non_augmented.row_statistics`).  These are invariant under
    permutations of the other ``r`` entries, so averaging a minimiser over those permutations gives a minimiser
    (convexity) of the form ``p = α·𝟙_other + β e_q + γ e_c``: three unknowns per row.  The row loss restricted
    to ``z = (α, β, γ)`` is a quadratic ``ℓ(z) = ℓ₀ + gᵀz + ½ zᵀMz``, read off exactly (to round-off) from the
    closed form itself at ten points (``0``, ``±e_i``, ``e_i + e_j``): ``g_i = (ℓ(e_i) − ℓ(−e_i))/2``,
    ``M_ii = ℓ(e_i) + ℓ(−e_i) − 2ℓ₀``, ``M_ij = ℓ(e_i + e_j) − ℓ(e_i) − ℓ(e_j) + ℓ₀``; then ``z* = −M⁻¹g``.
    Row 0 has no other entries (``α`` does not enter): its ``M_αα = 0`` is replaced by 1, giving ``α = 0``.  The
    unused entries of ``P`` (right of ``r + 1``, and the last row) are 0.  ``M`` is singular where a statistic
    does not enter the loss (``C = 0``; ``C𝟙 = 0`` in case U, which leaves ``P[r, r]`` free), so ``RIDGE·max M_ii``
    is added to its diagonal: the minimum-norm choice there, and elsewhere a relative change of ``P*`` of order
    ``RIDGE`` (a loss excess of order ``RIDGE²``).

    Parameters
    ----------
    case : {"unitary", "orthogonal"}
        Which closed form (:func:`theory.sander.non_augmented.loss_u_torch` or ``loss_o_torch``).
    T : int
        Positional matrix size (``T ≥ 2``).
    radius_sq : float
        ``ρ`` of case O (ignored in case U).
    dtype, device
        Of the returned solver's constants (and so of the ``C`` it accepts).

    Returns
    -------
    callable
        ``C (d, d) ↦ P* (T, T)``, differentiable (``torch.func``-composable).
    """
    one_of("case", case, ("unitary", "orthogonal"))
    T, radius_sq = positive_int("T", T), positive_float("radius_sq", radius_sq)
    if T < 2:
        raise ArgumentError(f"T must be at least 2 (one row predicting s_2), got {T}")
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    r = torch.arange(T - 1, device=dev)
    query, nxt = torch.zeros(T - 1, T, dtype=dt, device=dev), torch.zeros(T - 1, T, dtype=dt, device=dev)
    query[r, r], nxt[r, r + 1] = 1.0, 1.0
    basis = torch.stack([torch.as_tensor(theory.used_mask(T)[: T - 1], dtype=dt, device=dev) - query - nxt, query, nxt])
    eye = torch.eye(3, dtype=dt, device=dev)
    points = torch.stack([0 * eye[0]] + [s * eye[i] for i in range(3) for s in (1, -1)]
                         + [eye[i] + eye[j] for i, j in ((0, 1), (0, 2), (1, 2))])            # (10, 3)
    probes = torch.cat([torch.einsum("zk,krt->zrt", points, basis), torch.zeros(10, 1, T, dtype=dt, device=dev)], 1)
    no_other = torch.diag_embed(torch.stack([(basis[0].sum(-1) == 0).to(dt), 0 * r, 0 * r], -1).to(dt))

    def rows(C: torch.Tensor) -> torch.Tensor:
        if case == "unitary":
            return theory.loss_u_torch(C, probes, per_row=True)
        return theory.loss_o_torch(C, probes, per_row=True, radius_sq=radius_sq)

    def solve(C: torch.Tensor) -> torch.Tensor:
        ell = rows(C)                                          # (10, T-1): ℓ at the ten points, every row
        plus, minus = ell[1:7:2], ell[2:7:2]                   # (3, T-1)
        g = (plus - minus) / 2
        diag = plus + minus - 2 * ell[0]
        off = [ell[7 + k] - plus[i] - plus[j] + ell[0] for k, (i, j) in enumerate(((0, 1), (0, 2), (1, 2)))]
        M = torch.stack([torch.stack([diag[0], off[0], off[1]], -1), torch.stack([off[0], diag[1], off[2]], -1),
                         torch.stack([off[1], off[2], diag[2]], -1)], -2) + no_other        # (T-1, 3, 3)
        ridge = RIDGE * diag.abs().amax(0) + torch.finfo(C.dtype).tiny                     # (T-1,)
        M = M + ridge[:, None, None] * torch.eye(3, dtype=C.dtype, device=C.device)
        z = -torch.linalg.solve(M, g.T.unsqueeze(-1)).squeeze(-1)                           # (T-1, 3)
        return torch.cat([torch.einsum("rk,krt->rt", z, basis), torch.zeros(1, T, dtype=C.dtype, device=C.device)])

    return solve


def fit_exact(case: Literal["unitary", "orthogonal"], d: int, H: int, T: int, *, seed: int, scale: float = 0.1,
              gap: float = 1e-8, restarts: int = 3, starts: int = 4, max_iter: int = 3000, init: Params | None = None,
              device: str | torch.device | None = "cpu", stall_window: int | None = 20, rebalance: bool = False,
              eliminate_p: bool = True, newton_steps: int = 50) -> OptResult:
    """Float64 minimisation of the exact population loss; the target is the closed-form minimum.

    Default recipe (``docs/sander-exact-fit.md``; measured by ``benchmarks/bench_table1.py --sander``):

    1. ``eliminate_p``: ``P`` is not a free variable but the exact minimiser ``P*(C)`` of :func:`position_solver`
       (variable projection), so L-BFGS and Newton work on ``A, B`` alone and the ``(C, P) → (γC, P/γ)`` valley
       is gone.  The loss at every point is still :func:`exact_loss` of a full parameter set ``(A, B, P*(BᵀA))``.
       Its gradient is taken at fixed ``P = P*`` (exact: ``∂L/∂P = 0`` there, the envelope theorem; 40 % cheaper),
       its Hessian through ``P*(C)``.
    2. L-BFGS until ``stall_window`` iterations fail to halve the gap to the target
       (:func:`numerics.optimize.minimize_population`), then at most ``newton_steps`` trust-region Newton steps on
       the exact Hessian (negative-curvature steps leave saddles; Newton steps finish the degenerate minimum, which
       is quartic along the directions of the surplus heads when ``H`` exceeds the minimiser's rank).
    3. Still above the target: ``restarts`` perturbations of the best point, then fresh ``scale·N(0,1)`` starts
       (at most ``starts`` in all: for ``H < d/2`` in case O there are spurious local minima, e.g. d = 4, H = 1,
       T = 3 has minima at 5.28 and 5.93 above the global 4).

    ``eliminate_p=False, newton_steps=0, stall_window=None`` is the earlier plain-L-BFGS fit over ``A, B, P``
    (``rebalance`` then continues a missed attempt from :func:`balance_heads` first).  The first start is ``init``
    (its ``P`` is replaced by ``P*`` when eliminating) or ``scale·N(0,1)`` (seeded).  The result is rebalanced with
    :func:`balance_heads` (loss unchanged); every attempt is kept in ``attempts`` (with its ``start``).
    """
    one_of("case", case, ("unitary", "orthogonal"))
    flag("eliminate_p", eliminate_p)
    flag("rebalance", rebalance)
    d, H, T = positive_int("d", d), positive_int("H", H), positive_int("T", T)
    starts, restarts = positive_int("starts", starts), nonnegative_int("restarts", restarts)
    scale, gap, max_iter = positive_float("scale", scale), positive_float("gap", gap), positive_int("max_iter", max_iter)
    newton_steps = nonnegative_int("newton_steps", newton_steps)
    if init is not None:
        targ.params("init", init, ("A", "B", "P"))
    if rebalance and eliminate_p:
        raise ArgumentError("rebalance needs eliminate_p=False (it rescales P, which elimination fixes as P*(C))")
    target = theory.loss_u_minimum(d, H, T) if case == "unitary" else theory.loss_o_minimum(d, H, T)
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    start = init if init is not None else init_params(H, d, T, scale=scale, generator=g, device=device)
    hessian_of = None
    if eliminate_p:
        p_star = position_solver(case, T, dtype=start["A"].dtype, device=start["A"].device)
        complete = lambda p: {"A": p["A"], "B": p["B"], "P": p_star(attention_product(p))}  # noqa: E731
        hessian_of = lambda p: exact_loss(complete(p), case)  # noqa: E731

        def loss_fn(p: Params) -> torch.Tensor:           # ∂L/∂P = 0 at P*: the gradient needs no path through P*
            with torch.no_grad():
                P = p_star(attention_product(p))
            return exact_loss({"A": p["A"], "B": p["B"], "P": P}, case)
    else:
        complete = lambda p: p  # noqa: E731
        loss_fn = lambda p: exact_loss(p, case)  # noqa: E731
    free = ("A", "B") if eliminate_p else ("A", "B", "P")
    best: OptResult | None = None
    attempts: list[dict[str, Any]] = []
    iterations, seconds, hessians, history, clock = 0, 0.0, 0, [], []
    for k in range(starts):
        if k > 0:
            start = init_params(H, d, T, scale=scale, generator=g, device=device)
        res = minimize_population(loss_fn, {n: start[n] for n in free}, target=target, gap=gap, restarts=restarts,
                                  max_iter=max_iter, generator=g, stall_window=stall_window,
                                  rebalance=balance_heads if rebalance else None, newton_steps=newton_steps,
                                  hessian_of=hessian_of)
        attempts.extend({**a, "start": k} for a in res.attempts)
        iterations, seconds, hessians = iterations + res.iterations, seconds + res.seconds, hessians + res.hessians
        history.extend(res.history)
        clock.extend(res.history_clock)
        if best is None or res.loss < best.loss:
            best = res
        if best.loss - target <= gap * max(1.0, abs(target)):
            break
    assert best is not None
    with torch.no_grad():
        params = balance_heads(complete(best.params))
    return OptResult(params=params, loss=best.loss, iterations=iterations, seconds=seconds, history=history,
                     history_clock=clock, attempts=attempts, hessians=hessians)


def fit_sampled(case: Case, d: int, H: int | Sequence[int], T: int, *, seed: int, steps: int, batch: int, lr: float,
                models: int = 1, scale: float = 0.1, mu: float = 1.0, dtype: str = "float64",
                device: str | torch.device | None = "cpu", s0_law: str | None = None,
                compile_loss: bool = False) -> OptResult:
    """Adam + cosine decay on fresh sampled batches; ``models`` independent models trained at once.

    With ``models > 1`` the parameters carry a leading model axis (``A: (M, H, d)``, …); each model sees its
    own data and the summed loss keeps their gradients independent.  Models of different head counts train
    together when ``H`` is a sequence (one count per model): each is padded with zero heads (:func:`pad_heads`),
    which stay exactly zero.

    On a CPU the models are evaluated in batched chunks (:func:`numerics.optimize.chunked_model_sum`) whose
    largest intermediate, the key moments ``(chunk, batch, T−1, d, d)``, stays within ``CHUNK_BYTES``: one big
    batch spills out of cache and was 2.6x slower than a loop at d=10, H=8, T=20, 32 models x batch 128 (see
    ``benchmarks/bench_speed.py``).  On CUDA all models go in one chunk.

    ``compile_loss=True`` runs the loss through ``torch.compile`` (fused kernels; about 2-3x faster per step on a CPU,
    paid for once by a compilation of a few seconds per shape; needs a C++ compiler, or Triton on CUDA).  Complex
    data (case U) gets no fused kernels from inductor; past torch's recompile limit (8 shapes per process by
    default) torch falls back to the eager pass with a warning.
    """
    one_of("case", case, CASES)
    one_of("s0_law", s0_law, (None,) + INIT_LAWS)
    one_of("compile_loss", compile_loss, (False, True))
    models, d, T = positive_int("models", models), positive_int("d", d), positive_int("T", T)
    steps, batch, lr = positive_int("steps", steps), positive_int("batch", batch), positive_float("lr", lr)
    if isinstance(H, (int, np.integer)):
        heads = [positive_int("H", H)] * models
    elif isinstance(H, (list, tuple)):
        heads = [positive_int("H", h) for h in H]
    else:
        raise ArgumentError(f"H must be a head count or a list of them, got {H!r}")
    if len(heads) != models:
        raise ArgumentError(f"H must be one head count or one per model ({models} models), got {len(heads)}")
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    inits = [pad_heads(init_params(h, d, T, scale=scale, generator=g, dtype=dtype, device=device), max(heads))
             for h in heads]
    init = {k: torch.stack([p[k] for p in inits]) for k in inits[0]}
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))

    def sample(_: int) -> torch.Tensor:
        x = sample_sequences(case, models * batch, d, T, rng=rng, mu=mu, dtype=dtype, device=device, s0_law=s0_law)
        return x.reshape((models, batch) + tuple(x.shape[1:]))

    per_model = batch * (T - 1) * d * d * resolve_dtype(dtype).itemsize * (2 if case == "unitary" else 1)
    chunk = models if resolve_device(device).type == "cuda" else max(1, CHUNK_BYTES // per_model)
    loss_fn = torch.compile(sampled_loss, dynamic=False) if compile_loss else sampled_loss
    out = train_sampled(lambda p, b: chunked_model_sum(loss_fn, p, b, chunk), init, sample, steps=steps, lr=lr)
    out.loss = out.loss / models
    return out


def unstack(params: Params, i: int) -> Params:
    """Model ``i`` of a stacked parameter dict (from :func:`fit_sampled` with ``models > 1``)."""
    A = targ.params("params", params, ("A", "B", "P"))["A"]
    count = A.shape[0] if A.ndim == 3 else 0
    if nonnegative_int("i", i) >= count:
        raise ArgumentError(f"i must index one of the {count} stacked models, got {i!r}")
    return {k: v[i] for k, v in params.items()}


# --------------------------------------------------------------------------------------------------------------
# Positional-encoding-only variant
# --------------------------------------------------------------------------------------------------------------


def _pe_matrix(P: Any) -> torch.Tensor:
    if targ.tensor("P", P, ndim=2, real=True).shape[0] != P.shape[1]:
        raise ArgumentError(f"P must be a square (T, T) matrix, got shape {tuple(P.shape)}")
    return P


def pe_only_params(P: torch.Tensor, d: int = 1) -> Params:
    """The full-model parameters of the PE-only model: ``H = 1``, ``a = b = 𝟙``, the given ``P``."""
    _pe_matrix(P)
    one = torch.ones(1, positive_int("d", d), dtype=P.dtype, device=P.device)
    return {"A": one, "B": one.clone(), "P": P}


def pe_only_predict(P: torch.Tensor, seqs: torch.Tensor) -> torch.Tensor:
    """PE-only predictions ``ŝ_{r+2} = Σ_{j≤r+1} P[r, j] (s_r^* s_j) s_j`` (``(n, T-1, d)``).

    Equal to :func:`predict` with :func:`pe_only_params` (one head, ``a = b = 𝟙``), contracted in the order
    ``Σ_l conj(s_{r,l}) Σ_j P[r, j] s_{j,l} s_{j,k}`` (one matrix product over ``j``; cheap for the ``d = 1``,
    ``T = 30`` experiment).
    """
    _pe_matrix(P)
    if targ.tensor("seqs", seqs, ndim=3).shape[1] < 3:
        raise ArgumentError(f"seqs must have T + 1 >= 3 tokens (T - 1 >= 1 predictions), got shape {tuple(seqs.shape)}")
    T = seqs.shape[1] - 1
    if P.shape[-1] != T:
        raise ArgumentError(f"shapes do not match: seqs {tuple(seqs.shape)} needs P ({T}, {T}), got {tuple(P.shape)}")
    keys = seqs[:, :T]
    pairs = keys.unsqueeze(-1) * keys.unsqueeze(-2)                      # (n, T, d, d): s_{j,l} s_{j,k}
    weights = (P[: T - 1] * _mask(T, seqs.device)).to(seqs.dtype)       # (T-1, T)
    mixed = torch.einsum("rj,njlk->nrlk", weights, pairs)
    return torch.einsum("nrl,nrlk->nrk", seqs[:, : T - 1].conj(), mixed)


def pe_only_loss(P: torch.Tensor, seqs: torch.Tensor) -> torch.Tensor:
    """The reference ``pe_only.py`` loss: mean over sequences × rows (× ``d``) of ``|ŝ − s|²``."""
    err = pe_only_predict(P, seqs) - seqs[:, 2:]
    return (err.abs() ** 2).mean() * seqs.shape[-1]


def pe_only_sequences(n: int, T: int, mu: float, *, rng: np.random.Generator, d: int = 1,
                      dtype: str = "float64", device: str | torch.device | None = "cpu") -> torch.Tensor:
    """``s_t = λ^t`` with ``λ = e^{iθ/μ}``, ``θ ~ U[0, 2π)``, ``s_0 = 1`` (the reference script's data)."""
    nonnegative_int("T", T)
    _, w = unitary_diagonal(n, d, rng=rng, mu=mu)
    return to_torch(sequences(w, initial_states(n, d, "ones", complex_valued=True), T), dtype=dtype, device=device)


def pe_only_gd(seqs: torch.Tensor, *, lr: float = 0.5, stop_below: float = 1e-3, max_steps: int = 100_000,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = pe_only_loss) -> dict[str, Any]:
    """Full-batch gradient descent from ``P = 0`` as ``pe_only.py`` runs it (``lr = 0.5``): iterate while the
    loss of the previous iterate is ``≥ stop_below``; the returned ``P`` is one step past the first iterate whose
    loss is below (the script's loop order).  Returns ``{"P", "steps", "loss"}``."""
    if targ.tensor("seqs", seqs, ndim=3).shape[1] < 3:
        raise ArgumentError(f"seqs must have T + 1 >= 3 tokens (T - 1 >= 1 predictions), got shape {tuple(seqs.shape)}")
    lr, stop_below = positive_float("lr", lr), positive_float("stop_below", stop_below)
    max_steps = positive_int("max_steps", max_steps)
    if not callable(loss_fn):
        raise ArgumentError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    T = seqs.shape[1] - 1
    P = torch.zeros(T, T, dtype=seqs.real.dtype, device=seqs.device, requires_grad=True)
    prev = None
    for step in range(max_steps):
        loss = loss_fn(P, seqs)
        if prev is not None and prev < stop_below:
            return {"P": P.detach(), "steps": step, "loss": float(loss.detach())}
        prev = float(loss.detach())
        (grad,) = torch.autograd.grad(loss, P)
        with torch.no_grad():
            P -= lr * grad
    raise RuntimeError(f"pe_only_gd did not reach loss < {stop_below} in {max_steps} steps")
