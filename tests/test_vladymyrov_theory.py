"""Tests of theory.vladymyrov: the forward pass, Theorem 4.1 / Lemma 4.3, Lemma 4.4, the ω form and GD++."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.vladymyrov.model import (context_gram, diag_matrices, forward, gdpp_matrices, omega, omega_forward, tokens)
from theory.vladymyrov.recursion import (gdpp_preconditioned_gd, implicit_states, lemma44_alpha, lemma44_step,
                                         lemma44_step_printed, ols_data, symbolic_theorem41_residual,
                                         theorem41_relative_error)

seeds = st.integers(0, 2**32 - 1)


def _data(rng: np.random.Generator, batch: int, n: int, d: int):
    w = rng.standard_normal((batch, d))
    x = rng.standard_normal((batch, n, d))
    y = (x @ w[..., None])[..., 0] + 0.5 * rng.standard_normal((batch, n))
    return x, y, rng.standard_normal((batch, d))


def test_forward_one_layer_by_hand():
    """One head, one layer: the query's label slot is (P E Q e_t)_{d+1} with E over the context only."""
    rng = np.random.default_rng(0)
    n, d = 4, 3
    x, y, xq = _data(rng, 1, n, d)
    P, Q = rng.standard_normal((1, 1, d + 1, d + 1)), rng.standard_normal((1, 1, d + 1, d + 1))
    E = sum(np.outer(np.append(x[0, i], y[0, i]), np.append(x[0, i], y[0, i])) for i in range(n))
    e_t = np.append(xq[0], 0.0)
    expected = -(P[0, 0] @ E @ Q[0, 0] @ e_t)[-1]
    assert forward(x, y, xq, P, Q).prediction[0] == pytest.approx(expected, rel=1e-12)


def test_query_does_not_enter_context_gram():
    rng = np.random.default_rng(1)
    x, y, xq = _data(rng, 2, 5, 3)
    Z = tokens(x, y, xq)
    Z2 = tokens(x, y, xq + 100.0)
    np.testing.assert_array_equal(context_gram(Z), context_gram(Z2))
    assert not np.allclose(context_gram(Z, include_query=True), context_gram(Z2, include_query=True))


@settings(deadline=None)
@given(seed=seeds, n=st.integers(1, 12), d=st.integers(1, 6), L=st.integers(1, 4), H=st.integers(1, 3))
def test_theorem41_float64_property(seed, n, d, L, H):
    rng = np.random.default_rng(seed)
    x, y, xq = _data(rng, 3, n, d)
    P = 0.1 / n * rng.standard_normal((L, H, d + 1, d + 1))
    Q = 0.1 / n * rng.standard_normal((L, H, d + 1, d + 1))
    err = theorem41_relative_error(x, y, xq, P, Q)
    assert err["tokens"] < 1e-10 and err["prediction"] < 1e-10


def test_theorem41_fails_for_causal_mask_like_query_inclusion():
    """Negative control: with the query inside E the per-token map is no longer shared."""
    rng = np.random.default_rng(2)
    x, y, xq = _data(rng, 4, 10, 4)
    P, Q = 0.02 * rng.standard_normal((2, 1, 5, 5)), 0.02 * rng.standard_normal((2, 1, 5, 5))
    assert theorem41_relative_error(x, y, xq, P, Q, include_query=True)["prediction"] > 1e-6


def test_theorem41_symbolic_exact():
    rng = np.random.default_rng(3)
    L, H, d = 2, 1, 1
    P = np.array([[[[Fraction(int(v), 3) for v in row] for row in rng.integers(-2, 3, (d + 1, d + 1))]
                   for _ in range(H)] for _ in range(L)], dtype=object)
    res = symbolic_theorem41_residual(2, d, P, P.copy())
    assert res and all(r == 0 for r in res)
    assert any(r != 0 for r in symbolic_theorem41_residual(2, d, P, P.copy(), include_query=True))


def test_initial_state_and_prediction_identity():
    rng = np.random.default_rng(4)
    x, y, xq = _data(rng, 2, 6, 3)
    P, Q = 0.05 * rng.standard_normal((3, 2, 4, 4)), 0.05 * rng.standard_normal((3, 2, 4, 4))
    states = implicit_states(x, y, P, Q)
    np.testing.assert_array_equal(states[0].M, np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert np.all(states[0].a == 1) and not states[0].u.any() and not states[0].w.any()
    np.testing.assert_allclose(forward(x, y, xq, P, Q).prediction, states[-1].predict(xq), rtol=1e-12)


@settings(deadline=None)
@given(seed=seeds, L=st.integers(1, 4), H=st.integers(1, 3))
def test_omega_form_matches_matrices(seed, L, H):
    rng = np.random.default_rng(seed)
    n, d = 8, 4
    x, y, xq = _data(rng, 2, n, d)
    px, py, qx, qy = (rng.uniform(-0.3, 0.3, (L, H)) / np.sqrt(n) for _ in range(4))
    P, Q = diag_matrices(px, py, qx, qy, d)
    a, b = forward(x, y, xq, P, Q), omega_forward(x, y, xq, omega(px, py, qx, qy))
    for za, zb in zip(a.tokens, b.tokens):
        np.testing.assert_allclose(za, zb, rtol=1e-10, atol=1e-12 * np.abs(za).max())


@settings(deadline=None)
@given(seed=seeds, L=st.integers(1, 3))
def test_one_head_omega_constraint(seed, L):
    """One head: ω_xx ω_yy = ω_xy ω_yx always."""
    rng = np.random.default_rng(seed)
    om = omega(*(rng.standard_normal((L, 1)) for _ in range(4)))
    np.testing.assert_allclose(om[:, 0] * om[:, 3], om[:, 1] * om[:, 2], rtol=1e-12, atol=1e-14)


def test_two_heads_break_omega_constraint():
    om = omega(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert om[0, 0] * om[0, 3] == 1.0 and om[0, 1] * om[0, 2] == 0.0


def test_lemma44_corrected_vs_printed():
    rng = np.random.default_rng(5)
    n, d, L = 20, 10, 3
    x, y, xq = _data(rng, 8, n, d)
    px, py, qx, qy = (rng.uniform(-0.3, 0.3, (L, 1)) for _ in range(4))
    P, Q = diag_matrices(*(v / np.sqrt(n) for v in (px, py, qx, qy)), d)
    om = omega(px, py, qx, qy) / n
    states, data = implicit_states(x, y, P, Q), ols_data(x, y)
    printed_err = 0.0
    for l in range(L):
        u, w = lemma44_step(states[l], data, om[l], x, y)
        np.testing.assert_allclose(u, states[l + 1].u, atol=1e-12 * max(1.0, np.abs(states[l + 1].u).max()))
        np.testing.assert_allclose(w, states[l + 1].w, rtol=1e-10, atol=1e-12 * np.abs(states[l + 1].w).max())
        alpha = context_gram(states[l].apply(x, y, xq))[..., :-1, -1]
        np.testing.assert_allclose(lemma44_alpha(states[l], data), alpha, rtol=1e-10, atol=1e-10 * np.abs(alpha).max())
        _, wp = lemma44_step_printed(states[l], data, om[l], x, y)
        printed_err = max(printed_err, np.abs(wp - states[l + 1].w).max() / np.abs(states[l + 1].w).max())
    assert printed_err > 1e-4  # a^l != 1 from layer 1 on


def test_lemma44_printed_agrees_when_a_is_one():
    """The printed and corrected forms coincide at layer 0 (a^0 = 1, u^0 = 0)."""
    rng = np.random.default_rng(6)
    x, y, xq = _data(rng, 4, 12, 3)
    P, Q = diag_matrices(*(rng.uniform(-0.1, 0.1, (1, 1)) for _ in range(4)), 3)
    states, data = implicit_states(x, y, P, Q), ols_data(x, y)
    om = np.array([0.01, -0.02, 0.03, -0.01])
    a = lemma44_step(states[0], data, om, x, y)
    b = lemma44_step_printed(states[0], data, om, x, y)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14)


@settings(deadline=None)
@given(seed=seeds, L=st.integers(1, 5))
def test_gdpp_is_preconditioned_gd(seed, L):
    rng = np.random.default_rng(seed)
    n, d = 20, 6
    x, y, xq = _data(rng, 4, n, d)
    oxx, oyx = -rng.uniform(0.001, 0.02, L), -rng.uniform(0.01, 0.05, L)
    P, Q = gdpp_matrices(np.ones((L, 1)), (oyx / oxx)[:, None], oxx[:, None], d)
    model = np.stack(forward(x, y, xq, P, Q).readouts)
    np.testing.assert_allclose(model, gdpp_preconditioned_gd(x, y, xq, oxx, oyx), rtol=1e-9, atol=1e-12 * np.abs(model).max())
    if L >= 2:
        plain = gdpp_preconditioned_gd(x, y, xq, oxx, oyx, precondition=False)
        assert np.abs(plain - model).max() > 1e-6 * np.abs(model).max()


@pytest.mark.parametrize("bad", [
    dict(x=np.zeros((3, 2)), y=np.zeros(4), x_query=np.zeros(2)),
    dict(x=np.zeros((3, 2)), y=np.zeros(3), x_query=np.zeros(3)),
    dict(x=np.full((3, 2), np.nan), y=np.zeros(3), x_query=np.zeros(2)),
])
def test_bad_inputs_raise(bad):
    P = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError):
        forward(bad["x"], bad["y"], bad["x_query"], P, P)


def test_bad_weights_raise():
    x, y, xq = np.zeros((3, 2)), np.zeros(3), np.zeros(2)
    with pytest.raises(ValueError, match="P"):
        forward(x, y, xq, np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="d"):
        diag_matrices(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), 0)
    with pytest.raises(ValueError, match="n >= d"):
        ols_data(np.zeros((2, 3)), np.zeros(2))
