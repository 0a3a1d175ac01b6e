"""Property tests of the W samplers and sequence generator (numerics.samplers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import numerics
from numerics import samplers as S
from tests.strategies import angle_scales, commuting_families, dims, even_dims, haar_matrices, seeds

# Statistical tests below use a fixed false-alarm rate per call; with Hypothesis drawing up to
# `max_examples` seeds the family-wise false-alarm rate is at most max_examples * ALPHA.
ALPHA = 1e-6


def test_numerics_is_this_checkout() -> None:
    """A different project named `numerics` exists on the package index: make sure we import ours."""
    assert Path(numerics.__file__).resolve().parent == Path(__file__).resolve().parents[1] / "numerics"


@given(commuting_families(), seeds())
def test_commuting_family_members_are_orthogonal_and_commute(family: S.CommutingFamily, seed: int) -> None:
    w, th = family.sample(3, rng=np.random.default_rng(seed))
    eye = np.eye(family.d)
    for m in w:
        np.testing.assert_allclose(m.T @ m, eye, atol=1e-10)
    np.testing.assert_allclose(w[0] @ w[1], w[1] @ w[0], atol=1e-10)
    np.testing.assert_allclose(w[0] @ w[2], w[2] @ w[0], atol=1e-10)
    # eigenvalues are e^{±iθ_m}
    ev = np.sort_complex(np.linalg.eigvals(w[0]))
    expected = np.sort_complex(np.concatenate([np.exp(1j * th[0]), np.exp(-1j * th[0])]))
    np.testing.assert_allclose(ev, expected, atol=1e-8)


@given(dims(3, 8), seeds())
def test_haar_draws_are_orthogonal_and_do_not_commute(d: int, seed: int) -> None:
    a, b = S.haar_orthogonal(d, 2, rng=np.random.default_rng(seed))
    np.testing.assert_allclose(a.T @ a, np.eye(d), atol=1e-10)
    # Two independent Haar matrices in d >= 3 commute with probability 0.
    assert np.linalg.norm(a @ b - b @ a) > 1e-6


@given(haar_matrices(min_d=2, max_d=8))
def test_haar_matrices_strategy_is_orthogonal(a: np.ndarray) -> None:
    np.testing.assert_allclose(a.T @ a, np.eye(len(a)), atol=1e-10)


def test_haar_moments_match_the_haar_measure() -> None:
    """For Haar on O(d): E[tr W] = 0 and E[(tr W)^2] = 1 (d >= 2). z-scores of 5 SE: false alarm ~6e-7 each."""
    n, d = 20000, 5
    w = S.haar_orthogonal(d, n, rng=np.random.default_rng(11))
    tr = np.trace(w, axis1=1, axis2=2)
    for values, expected in ((tr, 0.0), (tr**2, 1.0)):
        z = abs(values.mean() - expected) / (values.std(ddof=1) / np.sqrt(n))
        assert z < 5.0
    # Negative control: a biased sampler (QR without the sign correction) has E[tr W] far from 0.
    q, _ = np.linalg.qr(np.random.default_rng(12).standard_normal((n, d, d)))
    tq = np.trace(q, axis1=1, axis2=2)
    assert abs(tq.mean()) / (tq.std(ddof=1) / np.sqrt(n)) > 5.0
    # Both determinants occur.
    dets = np.linalg.det(w)
    assert 0.45 < np.mean(dets > 0) < 0.55


@given(seeds(), angle_scales())
def test_angle_law_is_uniform_over_2pi_over_mu(seed: int, mu: float) -> None:
    th = S.sample_angles(2000, 1, rng=np.random.default_rng(seed), mu=mu)[:, 0]
    assert stats.kstest(th * mu / (2 * np.pi), "uniform").pvalue > ALPHA


def test_angle_law_test_has_power() -> None:
    """Negative control for the KS test above: angles of μ = 2 are not uniform on [0, 2π)."""
    th = S.sample_angles(2000, 1, rng=np.random.default_rng(3), mu=2.0)[:, 0]
    assert stats.kstest(th / (2 * np.pi), "uniform").pvalue < ALPHA


@given(seeds(), even_dims(2, 6))
def test_seeds_reproduce(seed: int, d: int) -> None:
    fam = S.commuting_family(d, basis="haar", rng=np.random.default_rng(seed))
    fam2 = S.commuting_family(d, basis="haar", rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(fam.basis, fam2.basis)
    a = S.initial_states(4, d, "gaussian", rng=np.random.default_rng(seed))
    b = S.initial_states(4, d, "gaussian", rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(a, b)


@given(seeds(), dims(1, 6), st.integers(1, 12))
def test_unitary_diagonal_sequences(seed: int, d: int, t_max: int) -> None:
    rng = np.random.default_rng(seed)
    lam, w = S.unitary_diagonal(5, d, rng=rng)
    np.testing.assert_allclose(np.abs(lam), 1.0, atol=1e-12)
    s0 = S.initial_states(5, d, "torus", rng=rng, complex_valued=True)
    s = S.sequences(w, s0, t_max)
    # s_t = λ^t ⊙ s_0 exactly
    t = np.arange(t_max + 1)
    np.testing.assert_allclose(s, lam[:, None, :] ** t[None, :, None] * s0[:, None, :], atol=1e-10)


@given(commuting_families(2, 6), seeds(), st.integers(1, 10))
def test_sequences_follow_w_and_preserve_norm(family: S.CommutingFamily, seed: int, t_max: int) -> None:
    rng = np.random.default_rng(seed)
    w, _ = family.sample(4, rng=rng)
    s0 = S.initial_states(4, family.d, "torus", rng=rng)
    s = S.sequences(w, s0, t_max)
    np.testing.assert_allclose(np.linalg.norm(s, axis=-1), np.sqrt(family.d), rtol=1e-10)
    np.testing.assert_allclose(s[:, 1:], np.einsum("nij,ntj->nti", w, s[:, :-1]), atol=1e-10)


@given(commuting_families(2, 8), seeds(), st.integers(0, 40))
def test_closed_form_trajectories_equal_the_recursion(family: S.CommutingFamily, seed: int, t_max: int) -> None:
    """``CommutingFamily.trajectories`` (no W formed) equals ``sequences`` with the members, any shared basis."""
    rng = np.random.default_rng(seed)
    w, th = family.sample(6, rng=rng)
    s0 = rng.standard_normal((6, family.d))
    np.testing.assert_allclose(family.trajectories(th, s0, t_max), S.sequences(w, s0, t_max), atol=1e-11, rtol=0)
    # the comparison can fail: other angles give other trajectories
    if t_max > 0:
        assert not np.allclose(family.trajectories(th + 0.1, s0, t_max), S.sequences(w, s0, t_max), atol=1e-6)


@given(seeds(), dims(1, 6), st.integers(0, 40))
def test_closed_form_diagonal_trajectories_equal_the_recursion(seed: int, d: int, t_max: int) -> None:
    rng = np.random.default_rng(seed)
    lam, w = S.unitary_diagonal(4, d, rng=rng)
    s0 = S.initial_states(4, d, "gaussian", rng=rng, complex_valued=True)
    np.testing.assert_allclose(S.diagonal_trajectories(lam, s0, t_max), S.sequences(w, s0, t_max), atol=1e-11, rtol=0)


def test_noise_is_added_with_the_stated_scale() -> None:
    rng = np.random.default_rng(5)
    w = S.haar_orthogonal(4, 2000, rng=rng)
    s0 = S.initial_states(2000, 4, "sphere", rng=rng)
    s = S.sequences(w, s0, 1, noise_std=0.3, rng=rng)
    resid = s[:, 1] - np.einsum("nij,nj->ni", w, s0)
    assert abs(resid.std() - 0.3) < 0.01  # SE of a std over 8000 normals ~ 0.3/sqrt(16000) = 0.0024


def test_initial_state_moments() -> None:
    """Complex Gaussian: E|s|^2 = 1, E|s|^4 = 2 (κ); torus: |s| = 1; sphere: unit norm."""
    rng = np.random.default_rng(8)
    g = S.initial_states(200000, 1, "gaussian", rng=rng, complex_valued=True)[:, 0]
    assert abs(np.mean(np.abs(g) ** 2) - 1) < 0.02 and abs(np.mean(np.abs(g) ** 4) - 2) < 0.05
    np.testing.assert_allclose(np.abs(S.initial_states(10, 3, "torus", rng=rng, complex_valued=True)), 1.0)
    np.testing.assert_allclose(np.linalg.norm(S.initial_states(10, 3, "sphere", rng=rng), axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(S.initial_states(10, 4, "torus", rng=rng), axis=1), 2.0)


def test_to_torch_dtypes_and_same_data_in_float32() -> None:
    rng = np.random.default_rng(1)
    lam, w = S.unitary_diagonal(2, 3, rng=rng)
    x64 = S.to_torch(w, dtype="float64")
    x32 = S.to_torch(w, dtype="float32")
    assert x64.dtype == torch.complex128 and x32.dtype == torch.complex64
    np.testing.assert_allclose(x32.numpy(), x64.numpy(), atol=1e-6)
    assert S.to_torch(np.eye(2), dtype=torch.float32).dtype == torch.float32


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.haar_orthogonal(0, rng=np.random.default_rng(0)), "d must be a positive integer"),
        (lambda: S.haar_orthogonal(3, -2, rng=np.random.default_rng(0)), "n must be a positive integer"),
        (lambda: S.haar_orthogonal(3, rng=0), "rng must be a numpy.random.Generator"),
        (lambda: S.commuting_family(5), "d must be even"),
        (lambda: S.sample_angles(3, 2, rng=np.random.default_rng(0), mu=0.0), "mu must be a positive"),
        (lambda: S.sample_angles(3, 2, rng=np.random.default_rng(0), mu=float("nan")), "mu must be a positive"),
        (lambda: S.sequences(np.ones((2, 2)), np.ones((1, 2)), 3), "w must be orthogonal"),
        (lambda: S.sequences(np.eye(2), np.array([[np.nan, 1.0]]), 3), "s0 contains NaN"),
        (lambda: S.sequences(np.eye(3), np.ones((1, 2)), 3), "do not match"),
        (lambda: S.sequences(np.eye(2), np.ones((1, 2)), -1), "t_max must be a non-negative integer"),
        (lambda: S.sequences(np.eye(2), np.ones((1, 2)), 2, noise_std=0.1), "rng is required"),
        (lambda: S.initial_states(2, 3, "cube"), "law must be one of"),
        (lambda: S.initial_states(2, 3, "torus", rng=np.random.default_rng(0)), "d must be even"),
        (lambda: S.to_torch(np.eye(2), dtype="float16"), "dtype must be one of"),
        (lambda: S.to_torch(np.eye(2), device="cuda:0") if not torch.cuda.is_available() else (_ for _ in ()).throw(ValueError("device skip")), "device"),
        (lambda: S.CommutingFamily(basis=np.ones((2, 2))), "basis must be orthogonal"),
        (lambda: S.commuting_family(4).trajectories(np.zeros((2, 3)), np.ones((2, 4)), 3), "do not match"),
        (lambda: S.commuting_family(4).trajectories(np.zeros((2, 2)), np.ones((2, 4)) + 0j, 3), "s0 must be real"),
        (lambda: S.commuting_family(4).trajectories(np.zeros((2, 2)), np.ones((2, 4)), -1), "t_max must be"),
        (lambda: S.commuting_family(2).trajectories(np.array([[np.nan]]), np.ones((1, 2)), 1), "thetas contains NaN"),
        (lambda: S.diagonal_trajectories(2 * np.ones((1, 2)), np.ones((1, 2)), 3), "lam must lie on the unit circle"),
        (lambda: S.diagonal_trajectories(np.ones((1, 2)), np.ones((1, 3)), 3), "do not match"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
