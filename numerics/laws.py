"""Laws of ``W`` for Sander et al. (2024): a description of the law (not only a matrix) and a seeded sampler.

A :class:`Law` says how each sequence's ``W`` is drawn (``s_{t+1} = W s_t``):

* ``"unitary"`` — case U: ``W = diag(e^{iθ_k})`` (complex, commuting);
* ``"commuting"`` — case O: ``Q diag(R(θ_m)) Qᵀ`` with one shared basis ``Q`` (``None`` = identity), ``d`` even;
* ``"haar"`` — Haar on ``O(d)``, drawn per sequence (non-commuting);
* ``"conjugated"`` — ``Q diag(R(θ_m)) Qᵀ`` with a fresh Haar ``Q`` per sequence (non-commuting, ``d`` even);
* ``"mixture"`` — each sequence draws a component (real laws of one ``d``) with the given weights.

Angles are ``θ = U/μ``, ``U ~ Uniform[0, 2π)`` (:func:`numerics.samplers.sample_angles`).  The law also carries
its predictions for the augmented-token block family ``ŝ_{t+1} = V S_t M s_t``:

* :meth:`Law.commutant` — the commutant of the law's symmetry group.  A law
  invariant under ``W → G W Gᵀ`` for every ``G`` of a group (with ``s_0`` isotropic) has a loss invariant under
  ``(V, M) → (GᵀVG, GᵀMG)``; where the optimum is unique up to the gauge ``(cV, M/c)``, ``VM`` commutes with
  the group (``docs/sander-haar.md``).  ``O(d)`` (Haar, conjugated) and, for ``μ = 1``, block rotations +
  in-block reflections + block permutations (commuting) give ``span{I}``; ``μ ≠ 1`` drops the reflections and
  leaves ``span{I, Q J Qᵀ}`` (``J`` = the 90° rotation in each block); case U (diagonal unitaries and
  permutations) gives ``span{I}``.  The ``J`` part is real for ``μ ≠ 1`` (measured: d = 4, μ = 5, T = 4 gives
  ``VM_{01} ≈ −VM_{10} ≈ −0.008`` next to a diagonal of 0.071, stable in N).
* :meth:`Law.predicted_step` — ``η* = Σ_t b_t / Σ_t a_t`` where ``VM = η* I`` is predicted (closed forms of
  :mod:`theory.sander.haar` for real laws, :mod:`theory.sander.augmented` case U).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from numerics import samplers
from theory import arguments as args
from theory.sander import augmented as th_aug
from theory.sander import haar as th_haar

Kind = Literal["unitary", "commuting", "haar", "conjugated", "mixture"]
KINDS: tuple[str, ...] = ("unitary", "commuting", "haar", "conjugated", "mixture")
Start = Literal["gaussian", "sphere", "torus"]
#: Laws of ``s_0`` per kind: isotropic for real laws, phase-invariant for case U.
STARTS = {"real": ("gaussian", "sphere"), "unitary": ("torus", "gaussian")}


@dataclass(frozen=True, eq=False)
class Law:
    """A law of ``W`` (see the module docstring); ``basis`` only for ``"commuting"``, ``components``/``weights``
    only for ``"mixture"``."""

    kind: str
    d: int
    mu: float = 1.0
    basis: np.ndarray | None = field(default=None, repr=False)
    components: tuple["Law", ...] = ()
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        args.one_of("kind", self.kind, KINDS)
        args.positive_int("d", self.d)
        args.positive_float("mu", self.mu)
        if self.kind in ("commuting", "conjugated"):
            args.even_int("d", self.d)
        if self.basis is not None:
            if self.kind != "commuting":
                raise args.ArgumentError(f"basis is only for kind='commuting', got kind={self.kind!r}")
            q = args.real_orthogonal("basis", self.basis, atol=1e-10)
            if q.shape != (self.d, self.d):
                raise args.ArgumentError(f"basis must be {self.d}x{self.d}, got shape {q.shape}")
        if self.kind == "mixture":
            self._check_mixture()
        elif self.components or self.weights:
            raise args.ArgumentError(f"components and weights are only for kind='mixture', got kind={self.kind!r}")

    def _check_mixture(self) -> None:
        if len(self.components) < 1 or len(self.components) != len(self.weights):
            raise args.ArgumentError("a mixture needs components and one weight per component, got "
                                     f"{len(self.components)} components and {len(self.weights)} weights")
        for i, (c, w) in enumerate(zip(self.components, self.weights)):
            args.positive_float(f"weights[{i}]", w)
            if not isinstance(c, Law) or c.kind in ("unitary", "mixture"):
                raise args.ArgumentError(f"components[{i}] must be a real, non-mixture Law, got {c!r}")
            if c.d != self.d:
                raise args.ArgumentError(f"components[{i}] has d={c.d}, the mixture has d={self.d}")
        bases = [c.basis_matrix() for c in self.components if c.kind == "commuting"]
        if any(not np.allclose(b, bases[0], atol=1e-12) for b in bases):
            raise args.ArgumentError("the commuting components of a mixture must share one basis")

    # -- description ------------------------------------------------------------------------------------

    @property
    def complex_valued(self) -> bool:
        return self.kind == "unitary"

    def basis_matrix(self) -> np.ndarray:
        """The shared basis ``Q`` of a commuting law (identity when ``basis`` is ``None``)."""
        return np.eye(self.d) if self.basis is None else np.asarray(self.basis, dtype=float)

    def parts(self) -> tuple[tuple["Law", float], ...]:
        """``((component, probability), …)``: the law itself with probability 1 unless it is a mixture."""
        if self.kind != "mixture":
            return ((self, 1.0),)
        total = float(sum(self.weights))
        return tuple((c, w / total) for c, w in zip(self.components, self.weights))

    def describe(self) -> str:
        """A short readable description (for counterexamples and reports)."""
        if self.kind == "mixture":
            return "mixture(" + ", ".join(f"{w:.2f}·{c.describe()}" for c, w in self.parts()) + ")"
        extra = f", μ={self.mu:g}" if self.kind in ("unitary", "commuting", "conjugated") else ""
        if self.kind == "commuting":
            q = self.basis_matrix()
            extra += ", basis=I" if np.allclose(q, np.eye(self.d)) else f", basis‖Q−I‖={np.linalg.norm(q - np.eye(self.d)):.3g}"
        return f"{self.kind}(d={self.d}{extra})"

    # -- sampling --------------------------------------------------------------------------------------

    def sample_w(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` matrices ``W`` of shape ``(n, d, d)`` (complex128 for ``"unitary"``)."""
        n = args.positive_int("n", n)
        rng = args.rng("rng", rng)
        d = self.d
        if self.kind == "unitary":
            return samplers.unitary_diagonal(n, d, rng=rng, mu=self.mu)[1]
        if self.kind == "haar":
            return samplers.haar_orthogonal(d, n, rng=rng)
        if self.kind == "commuting":
            return samplers.CommutingFamily(basis=self.basis_matrix(), mu=self.mu).sample(n, rng=rng)[0]
        if self.kind == "conjugated":
            blocks = samplers.rotation_blocks(samplers.sample_angles(n, d // 2, rng=rng, mu=self.mu))
            q = samplers.haar_orthogonal(d, n, rng=rng)
            return q @ blocks @ np.swapaxes(q, -1, -2)
        parts = self.parts()
        which = rng.choice(len(parts), size=n, p=[w for _, w in parts])
        out = np.empty((n, d, d))
        for i, (comp, _) in enumerate(parts):
            idx = np.flatnonzero(which == i)
            if idx.size:
                out[idx] = comp.sample_w(idx.size, rng=rng)
        return out

    def sample_states(self, n: int, T: int, *, rng: np.random.Generator, start: str = "gaussian") -> np.ndarray:
        """``n`` sequences ``s_0..s_T`` (``(n, T+1, d)``); ``start`` is the law of ``s_0`` (:data:`STARTS`)."""
        T = args.positive_int("T", T)
        args.one_of("start", start, STARTS["unitary" if self.complex_valued else "real"])
        w = self.sample_w(n, rng=rng)
        s0 = samplers.initial_states(n, self.d, start, rng=rng, complex_valued=self.complex_valued)  # type: ignore[arg-type]
        return samplers.sequences(w, s0, T, check_orthogonal=False)

    # -- predictions -----------------------------------------------------------------------------------

    def commutant(self) -> list[np.ndarray]:
        """An orthonormal (Frobenius) basis of the commutant of the law's symmetry group: where the optimum is
        unique up to the gauge, the optimal ``VM`` lies in it (Schur; ``docs/sander-haar.md``)."""
        eye = np.eye(self.d) / np.sqrt(self.d)
        commuting = [c for c, _ in self.parts() if c.kind == "commuting"]
        if self.kind == "unitary" or all(c.mu == 1.0 for c in commuting):
            return [eye]
        q = commuting[0].basis_matrix()
        j = q @ np.kron(np.eye(self.d // 2), np.array([[0.0, -1.0], [1.0, 0.0]])) @ q.T
        return [eye, j / np.sqrt(self.d)]

    def spectral_rule(self, max_frequency: int) -> th_haar.SpectralRule:
        """The quadrature rule for the law of ``W``'s eigen-angles (real laws)."""
        if self.complex_valued:
            raise args.ArgumentError("spectral_rule is for real laws; case U uses theory.sander.augmented")
        rules, weights = [], []
        for comp, w in self.parts():
            rules.append(th_haar.haar_rule(self.d, max_frequency) if comp.kind == "haar"
                         else th_haar.rotation_rule(self.d, max_frequency, comp.mu))
            weights.append(w)
        return rules[0] if len(rules) == 1 else th_haar.mixture_rule(rules, weights)

    def predicted_step(self, positions: Sequence[int], start: str = "gaussian") -> float | None:
        """``η*`` with ``VM = η* I`` optimal for one step shared by ``positions`` (closed forms of
        :mod:`theory.sander.haar` for real laws, case U of :mod:`theory.sander.augmented`); ``None`` where the
        predicted structure is not ``span{I}`` (commuting ``μ ≠ 1``) or no closed form exists (case U, ``μ ≠ 1``)."""
        if len(self.commutant()) != 1:
            return None
        pos = list(positions)
        if self.complex_valued:
            args.one_of("start", start, STARTS["unitary"])
            if self.mu != 1.0:
                return None
            law = th_aug.TORUS if start == "torus" else th_aug.COMPLEX_GAUSSIAN
            return th_aug.shared_optimum("U", self.d, pos, law)[0]
        args.one_of("start", start, STARTS["real"])
        moments = th_haar.gaussian_start(self.d) if start == "gaussian" else th_haar.SPHERE
        return th_haar.shared_optimum(self.spectral_rule(2 * max(pos)), pos, moments)[0]


def commuting(d: int, *, mu: float = 1.0, basis: Literal["identity", "haar"] | np.ndarray = "identity",
              rng: np.random.Generator | None = None) -> Law:
    """A commuting law with shared basis: the identity, a Haar draw from ``rng``, or a given orthogonal matrix."""
    if isinstance(basis, str):
        args.one_of("basis", basis, ("identity", "haar"))
        if basis == "identity":
            return Law("commuting", d, mu)
        if rng is None:
            raise args.ArgumentError("rng is required when basis='haar'")
        return Law("commuting", d, mu, basis=samplers.haar_orthogonal(args.even_int("d", d), rng=rng))
    return Law("commuting", d, mu, basis=np.asarray(basis, dtype=float))
