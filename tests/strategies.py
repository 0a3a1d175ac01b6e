"""Hypothesis strategies: sizes, angles and integer seeds rather than raw float matrices.

Matrices are built from what is drawn, so a failure shrinks to a small readable case: ``skew_orthogonal``
builds ``Q = expm(S)`` from a drawn skew-symmetric ``S`` (shrinks towards ``Q = I``), while Haar draws come
from an integer seed (the true distribution, no shrinking).  Both are used.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from scipy.linalg import expm

from numerics.laws import Law
from numerics.samplers import CommutingFamily, haar_orthogonal


def seeds() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**32 - 1)


def dims(min_d: int = 1, max_d: int = 8) -> st.SearchStrategy[int]:
    return st.integers(min_value=min_d, max_value=max_d)


def even_dims(min_d: int = 2, max_d: int = 8) -> st.SearchStrategy[int]:
    return st.integers(min_value=(min_d + 1) // 2, max_value=max_d // 2).map(lambda k: 2 * k)


def angle_scales() -> st.SearchStrategy[float]:
    """``μ`` of the angle law ``θ = U/μ`` (1 = uniform on the circle)."""
    return st.sampled_from([1.0, 2.0, 5.0, 50.0])


@st.composite
def skew_orthogonal(draw: st.DrawFn, d: int) -> np.ndarray:
    """``expm(S)`` for a skew-symmetric ``S`` with drawn entries in [-π, π]; shrinks to the identity."""
    n = d * (d - 1) // 2
    vals = draw(st.lists(st.floats(-np.pi, np.pi, allow_nan=False, allow_infinity=False), min_size=n, max_size=n))
    s = np.zeros((d, d))
    s[np.triu_indices(d, 1)] = vals
    return expm(s - s.T)


@st.composite
def haar_matrices(draw: st.DrawFn, min_d: int = 2, max_d: int = 8) -> np.ndarray:
    d = draw(dims(min_d, max_d))
    return haar_orthogonal(d, rng=np.random.default_rng(draw(seeds())))


@st.composite
def commuting_families(draw: st.DrawFn, min_d: int = 2, max_d: int = 8) -> CommutingFamily:
    """A commuting family: dimension, shared basis (identity, drawn expm(skew), or Haar from a seed), ``μ``."""
    d = draw(even_dims(min_d, max_d))
    kind = draw(st.sampled_from(["identity", "skew", "haar"]))
    if kind == "identity":
        q = np.eye(d)
    elif kind == "skew":
        q = draw(skew_orthogonal(d))
    else:
        q = haar_orthogonal(d, rng=np.random.default_rng(draw(seeds())))
    return CommutingFamily(basis=q, mu=draw(angle_scales()))


# ---------------------------------------------------------------------------------------------------------
# Laws of W (issue #15): the law is drawn as well as the matrix
# ---------------------------------------------------------------------------------------------------------

#: The real laws of :mod:`numerics.laws`.
REAL_LAW_KINDS = ("commuting", "haar", "conjugated", "mixture")


@st.composite
def laws_of_w(draw: st.DrawFn, min_d: int = 2, max_d: int = 4, kinds: tuple[str, ...] = REAL_LAW_KINDS,
              mus: tuple[float, ...] = (1.0, 2.0, 5.0)) -> Law:
    """A :class:`numerics.laws.Law`: kind, ``d`` (even where rotation blocks need it), ``μ``, the shared basis of a
    commuting law (``expm(S)``, shrinking to the identity) and, for a mixture, two real components and weights.

    Shrinks towards small ``d``, ``μ = 1`` and the identity basis (and, among kinds, towards the one with the
    fewest draws: Haar).
    """
    kind = draw(st.sampled_from(kinds))
    needs_even = kind in ("commuting", "conjugated", "mixture")
    d = draw(even_dims(max(2, min_d), max_d) if needs_even else dims(min_d, max_d))
    if kind == "mixture":
        parts = draw(st.lists(st.sampled_from(("haar", "conjugated", "commuting")), min_size=2, max_size=2))
        basis = draw(skew_orthogonal(d))
        comps = tuple(Law(k, d, draw(st.sampled_from(mus)) if k != "haar" else 1.0,
                          basis=basis if k == "commuting" else None) for k in parts)
        weights = tuple(float(w) for w in draw(st.lists(st.integers(1, 3), min_size=2, max_size=2)))
        return Law("mixture", d, components=comps, weights=weights)
    mu = draw(st.sampled_from(mus)) if kind != "haar" else 1.0
    basis = draw(skew_orthogonal(d)) if kind == "commuting" else None
    return Law(kind, d, mu, basis=basis)
