"""Samplers for the ``W`` families of Sander et al. (2024) and the sequences ``s_{t+1} = W s_t``.

Families
--------
* **Commuting orthogonal** (case O): ``W = Q diag(R(θ_1), …, R(θ_k)) Qᵀ`` with one shared ``Q`` per family
  (identity or Haar) and 2x2 rotations ``R(θ)``; ``d = 2k``.  Odd ``d`` is refused with a ``ValueError``
  (documented choice: an extra ±1 block would add a non-rotating coordinate that none of the closed forms
  covers).
* **Unitary diagonal** (case U): ``W = diag(e^{iθ_1}, …, e^{iθ_d})`` (complex).
* **Non-commuting** (case H): Haar on ``O(d)`` (QR of a Gaussian matrix with the sign of ``diag(R)`` folded
  into ``Q``; ``det = ±1`` both occur).

Angle law: ``θ = U / μ`` with ``U`` uniform on ``[0, 2π)``; ``μ = 1`` is the uniform law the theorems use,
``μ > 1`` the concentrated laws of the positional-encoding-only experiment.

Every function takes a ``numpy.random.Generator`` (keyword ``rng``); data are drawn on the CPU in float64
and cast/moved afterwards, so one seed gives the same data in float32/float64 and on CPU/CUDA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from numerics.device import resolve_device, resolve_dtype
from theory.arguments import (
    ArgumentError,
    even_int,
    finite_array,
    nonnegative_float,
    nonnegative_int,
    one_of,
    orthogonal,
    positive_float,
    positive_int,
    real_array,
    real_orthogonal,
)
from theory.arguments import rng as check_rng

InitLaw = Literal["ones", "ones_normalized", "torus", "gaussian", "sphere"]
INIT_LAWS: tuple[str, ...] = ("ones", "ones_normalized", "torus", "gaussian", "sphere")


def haar_orthogonal(d: int, n: int | None = None, *, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed orthogonal matrices: shape ``(d, d)`` or ``(n, d, d)`` if ``n`` is given."""
    d = positive_int("d", d)
    check_rng("rng", rng)
    count = 1 if n is None else positive_int("n", n)
    g = rng.standard_normal((count, d, d))
    q, r = np.linalg.qr(g)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    signs[signs == 0] = 1.0
    q = q * signs[:, None, :]
    return q[0] if n is None else q


def sample_angles(n: int, k: int, *, rng: np.random.Generator, mu: float = 1.0) -> np.ndarray:
    """``(n, k)`` angles ``θ = U/μ``, ``U ~ Uniform[0, 2π)`` iid."""
    n, k = positive_int("n", n), positive_int("k", k)
    mu = positive_float("mu", mu)
    return check_rng("rng", rng).uniform(0.0, 2.0 * np.pi, size=(n, k)) / mu


def rotation_blocks(thetas: np.ndarray) -> np.ndarray:
    """Block-diagonal ``diag(R(θ_1), …, R(θ_k))`` for angles of shape ``(..., k)``; result ``(..., 2k, 2k)``."""
    th = real_array("thetas", thetas)
    if th.ndim < 1 or th.shape[-1] == 0:
        raise ArgumentError(f"thetas must have a last axis of block angles, got shape {th.shape}")
    k = th.shape[-1]
    out = np.zeros(th.shape[:-1] + (2 * k, 2 * k))
    c, s = np.cos(th), np.sin(th)
    idx = np.arange(k)
    out[..., 2 * idx, 2 * idx] = c
    out[..., 2 * idx, 2 * idx + 1] = -s
    out[..., 2 * idx + 1, 2 * idx] = s
    out[..., 2 * idx + 1, 2 * idx + 1] = c
    return out


@dataclass(frozen=True)
class CommutingFamily:
    """A family of commuting orthogonal matrices ``Q diag(R(θ_m)) Qᵀ`` sharing the basis ``Q``."""

    basis: np.ndarray
    mu: float = 1.0

    def __post_init__(self) -> None:
        basis = real_orthogonal("basis", self.basis, atol=1e-10)
        if basis.ndim != 2:
            raise ArgumentError(f"basis must be one (d, d) matrix, got shape {basis.shape}")
        if basis.shape[0] % 2:
            raise ArgumentError(f"basis must be d x d with d even (2x2 rotation blocks), got d = {basis.shape[0]}")
        object.__setattr__(self, "basis", basis)  # a list or an int array becomes the float64 array it stands for
        object.__setattr__(self, "mu", positive_float("mu", self.mu))

    @property
    def d(self) -> int:
        return int(self.basis.shape[0])

    @property
    def is_canonical(self) -> bool:
        """Whether the shared basis ``Q`` is the identity (the rotation blocks act on coordinate pairs)."""
        return bool(np.array_equal(self.basis, np.eye(self.d)))

    def from_angles(self, thetas: np.ndarray) -> np.ndarray:
        """Members for given angles ``(..., d/2)``."""
        th = real_array("thetas", thetas)
        if th.ndim < 1 or th.shape[-1] != self.d // 2:
            raise ArgumentError(f"thetas must have last axis d/2 = {self.d // 2}, got shape {th.shape}")
        return self.basis @ rotation_blocks(th) @ self.basis.T

    def sample(self, n: int, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` members ``(n, d, d)`` and their angles ``(n, d/2)``."""
        th = self.sample_angles(n, rng=rng)
        return self.from_angles(th), th

    def sample_angles(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """The ``(n, d/2)`` angles :meth:`sample` draws (the same draws from ``rng``), without building ``W``."""
        return sample_angles(n, self.d // 2, rng=rng, mu=self.mu)

    def trajectories(self, thetas: np.ndarray, s0: np.ndarray, t_max: int) -> np.ndarray:
        """``s_0, …, s_T`` of ``s_{t+1} = W s_t`` for the members with angles ``thetas`` (``(n, d/2)``), without
        forming ``W``: ``W^t = Q diag(R(tθ_m)) Qᵀ``, so block ``m`` of ``Qᵀ s_t`` is block ``m`` of ``Qᵀ s_0``
        rotated by ``tθ_m`` (one complex multiplication per block and step instead of a ``d×d`` product).  Equal to
        :func:`sequences` with :meth:`from_angles` up to round-off; returns ``(n, T+1, d)``."""
        th = real_array("thetas", thetas, ndim=2)
        y0 = real_array("s0", s0, ndim=2)
        t_max = nonnegative_int("t_max", t_max)
        if th.shape[1] != self.d // 2 or y0.shape != (th.shape[0], self.d):
            raise ArgumentError(f"thetas {th.shape} and s0 {y0.shape} do not match: need (n, {self.d // 2}) and (n, {self.d})")
        y0 = y0 @ self.basis                                        # rows are (Qᵀ s_0)ᵀ
        # Block m of Qᵀ s_t as the complex number u_{t,m} = x + iy: u_{t+1} = e^{iθ_m} u_t (time-major, contiguous).
        step = np.exp(1j * th)
        u = np.empty((t_max + 1,) + step.shape, dtype=np.complex128)
        u[0] = y0[:, 0::2] + 1j * y0[:, 1::2]
        for t in range(t_max):
            np.multiply(u[t], step, out=u[t + 1])
        # complex128 viewed as float64 pairs is the block layout (x_m, y_m); back to sequence-major order.
        out = np.ascontiguousarray(u.view(np.float64).transpose(1, 0, 2))
        return out if self.is_canonical else out @ self.basis.T


def commuting_family(d: int, *, basis: Literal["identity", "haar"] = "identity", mu: float = 1.0,
                     rng: np.random.Generator | None = None) -> CommutingFamily:
    """A commuting orthogonal family in ``R^d`` (``d`` even); ``basis="haar"`` draws ``Q`` with ``rng``."""
    d = even_int("d", d)
    one_of("basis", basis, ("identity", "haar"))
    if basis == "identity":
        q = np.eye(d)
    else:
        if rng is None:
            raise ArgumentError("rng is required when basis='haar'")
        q = haar_orthogonal(d, rng=rng)
    return CommutingFamily(basis=q, mu=mu)


def unitary_diagonal(n: int, d: int, *, rng: np.random.Generator, mu: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Case U: eigenvalues ``λ = e^{iθ}`` of shape ``(n, d)`` and ``W = diag(λ)`` of shape ``(n, d, d)`` (complex128)."""
    d = positive_int("d", d)
    th = sample_angles(n, d, rng=rng, mu=mu)
    lam = np.exp(1j * th)
    w = np.zeros((lam.shape[0], d, d), dtype=np.complex128)
    idx = np.arange(d)
    w[:, idx, idx] = lam
    return lam, w


def diagonal_trajectories(lam: np.ndarray, s0: np.ndarray, t_max: int) -> np.ndarray:
    """Case U in closed form: ``s_t = λ^t ⊙ s_0`` for ``W = diag(λ)`` (``λ``: ``(n, d)`` on the unit circle);
    equal to :func:`sequences` up to round-off; returns ``(n, T+1, d)`` complex128."""
    lam_arr = finite_array("lam", lam, ndim=2)
    y0 = finite_array("s0", s0, ndim=2)
    t_max = nonnegative_int("t_max", t_max)
    if y0.shape != lam_arr.shape:
        raise ArgumentError(f"lam {lam_arr.shape} and s0 {y0.shape} do not match: need the same (n, d)")
    if not np.allclose(np.abs(lam_arr), 1.0, atol=1e-10):
        raise ArgumentError("lam must lie on the unit circle (W = diag(lam) unitary)")
    return lam_arr[:, None, :] ** np.arange(t_max + 1)[None, :, None] * y0[:, None, :]


def initial_states(n: int, d: int, law: InitLaw, *, rng: np.random.Generator | None = None,
                   complex_valued: bool = False, block_radius: float = np.sqrt(2.0)) -> np.ndarray:
    """``n`` initial states ``s_0`` of dimension ``d`` drawn from ``law``.

    * ``"ones"``: ``s_0 = 1_d`` (deterministic; the population-loss scripts of Sander et al.).
    * ``"ones_normalized"``: ``1_d/√d`` (deterministic; their torch scripts).
    * ``"torus"``: complex: ``e^{iφ_k}`` iid uniform phases; real (``d`` even): each 2-D block is
      ``r (cos φ_m, sin φ_m)`` with ``r = block_radius`` (``√2`` matches ``1_d``).
    * ``"gaussian"``: ``N(0, I)`` (real) or ``CN(0, I)`` (complex, ``E|s|² = 1`` per coordinate).
    * ``"sphere"``: uniform on the unit sphere of ``R^d`` (isotropic; real only).
    """
    n, d = positive_int("n", n), positive_int("d", d)
    one_of("law", law, INIT_LAWS)
    one_of("complex_valued", complex_valued, (False, True))
    if law == "ones":
        out = np.ones((n, d))
    elif law == "ones_normalized":
        out = np.ones((n, d)) / np.sqrt(d)
    else:
        if rng is None:
            raise ArgumentError(f"rng is required for the random initial-state law {law!r}")
        check_rng("rng", rng)
        if law == "torus":
            if complex_valued:
                return np.exp(1j * rng.uniform(0, 2 * np.pi, size=(n, d)))
            even_int("d", d)
            r = positive_float("block_radius", block_radius)
            phi = rng.uniform(0, 2 * np.pi, size=(n, d // 2))
            out = np.empty((n, d))
            out[:, 0::2] = r * np.cos(phi)
            out[:, 1::2] = r * np.sin(phi)
        elif law == "gaussian":
            if complex_valued:
                return (rng.standard_normal((n, d)) + 1j * rng.standard_normal((n, d))) / np.sqrt(2.0)
            out = rng.standard_normal((n, d))
        else:  # sphere
            if complex_valued:
                raise ArgumentError("law='sphere' is real only; use complex_valued=False")
            g = rng.standard_normal((n, d))
            out = g / np.linalg.norm(g, axis=1, keepdims=True)
    return out.astype(np.complex128) if complex_valued else out


def sequences(w: np.ndarray, s0: np.ndarray, t_max: int, *, noise_std: float = 0.0,
              rng: np.random.Generator | None = None, check_orthogonal: bool = True) -> np.ndarray:
    """Trajectories ``s_0, …, s_T`` of ``s_{t+1} = W s_t + σ ε_t`` for a batch; returns ``(n, T+1, d)``.

    ``w`` is ``(n, d, d)`` (or ``(d, d)``, shared), ``s0`` is ``(n, d)``; ``ε_t ~ N(0, I)`` (``CN(0, I)`` if
    complex).  ``W`` must be orthogonal/unitary unless ``check_orthogonal=False``.
    """
    one_of("check_orthogonal", check_orthogonal, (False, True))
    w_arr = orthogonal("w", w) if check_orthogonal else finite_array("w", w, ndim=(2, 3))
    s = finite_array("s0", s0, ndim=2)
    t_max = nonnegative_int("t_max", t_max)
    sigma = nonnegative_float("noise_std", noise_std)
    if w_arr.ndim == 2:
        w_arr = np.broadcast_to(w_arr, (s.shape[0],) + w_arr.shape)
    if w_arr.ndim != 3 or w_arr.shape[0] != s.shape[0] or w_arr.shape[-1] != s.shape[1]:
        raise ArgumentError(f"w of shape {np.shape(w)} and s0 of shape {s.shape} do not match: need (n, d, d) and (n, d)")
    if sigma > 0 and rng is None:
        raise ArgumentError("rng is required when noise_std > 0")
    if sigma > 0:
        check_rng("rng", rng)
    is_complex = np.iscomplexobj(w_arr) or np.iscomplexobj(s)
    out = np.empty((s.shape[0], t_max + 1, s.shape[1]), dtype=np.complex128 if is_complex else np.float64)
    out[:, 0] = s
    for t in range(t_max):
        nxt = np.einsum("nij,nj->ni", w_arr, out[:, t])
        if sigma > 0:
            eps = rng.standard_normal(nxt.shape)
            if is_complex:
                eps = (eps + 1j * rng.standard_normal(nxt.shape)) / np.sqrt(2.0)
            nxt = nxt + sigma * eps
        out[:, t + 1] = nxt
    return out


def to_torch(x: np.ndarray, *, dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu") -> torch.Tensor:
    """Cast a float64/complex128 array to ``dtype`` (complex arrays to the matching complex dtype) on ``device``."""
    x = finite_array("x", x)
    real = resolve_dtype(dtype)
    target = real
    if np.iscomplexobj(x):
        target = torch.complex128 if real == torch.float64 else torch.complex64
    return torch.as_tensor(np.ascontiguousarray(x)).to(dtype=target, device=resolve_device(device))
