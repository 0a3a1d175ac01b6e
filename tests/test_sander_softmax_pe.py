"""Softmax positional encoding in case O (shared notes S-P3): the exact simplex QP, the derived infimum, the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from numerics.models import sander_non_augmented as product
from numerics.models import sander_softmax_pe as model
from theory.sander import non_augmented as na
from theory.sander import softmax_pe as S
from tests.strategies import seeds


@settings(deadline=None)
@given(n=st.integers(1, 6), rank=st.integers(1, 6), seed=seeds())
def test_simplex_minimum_agrees_with_a_generic_solver(n: int, rank: int, seed: int) -> None:
    """Support enumeration vs SLSQP on random convex quadratics (PSD, possibly singular G)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((min(rank, n), n))
    G, b, c = M.T @ M, rng.standard_normal(n), float(rng.standard_normal())
    value, p = S.simplex_quadratic_minimum(G, b, c)
    assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12 and abs(p @ G @ p - 2 * b @ p + c - value) < 1e-12
    f = lambda x: x @ G @ x - 2 * b @ x + c  # noqa: E731
    ref = minimize(f, np.full(n, 1 / n), jac=lambda x: 2 * G @ x - 2 * b, method="SLSQP", bounds=[(0, None)] * n,
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}], options={"ftol": 1e-14})
    assert value <= ref.fun + 1e-9                 # never worse than the solver (it is exact)
    assert value >= ref.fun - 1e-6                 # and the solver, on a convex problem, is not far behind


@pytest.mark.parametrize("d,T", [(2, 3), (2, 6), (4, 4), (6, 3)])
def test_derived_infimum_is_the_loss_of_the_limit_point(d: int, T: int) -> None:
    C, P = S.softmax_minimiser(d, T)
    target = S.loss_o_softmax_infimum(d, d // 2, T)
    assert target == pytest.approx((T - 1) * d / 2, rel=1e-15)      # half the zero predictor (T−1)·d at ρ = 2
    assert float(na.loss_o(C, P)) == pytest.approx(target, abs=1e-12)
    value, P_best = S.loss_o_simplex_minimum(C, T)
    assert value == pytest.approx(target, abs=1e-12)
    assert np.allclose(P_best, P)                                       # the one-hot rows on the last key


def test_derived_infimum_against_monte_carlo_through_the_torch_model() -> None:
    """The value at the limit point, measured on sampled sequences with the torch forward pass (5 SE); the
    zero-predictor value (the unconstrained model's 'no softmax penalty' would be 0) is many SE away."""
    d, T = 2, 5
    C, P = S.softmax_minimiser(d, T)
    params = product.factor_params(C, P)
    seqs = product.sample_sequences("orthogonal", 40_000, d, T, rng=np.random.default_rng(7))
    losses = product.sequence_losses(params, seqs).numpy()
    mean, se = losses.mean(), losses.std(ddof=1) / np.sqrt(losses.size)
    assert abs(mean - S.loss_o_softmax_infimum(d, 1, T)) < 5 * se
    assert abs(mean - (T - 1) * d) > 50 * se and abs(mean - 0.0) > 50 * se


def test_softmax_positional_rows_and_training() -> None:
    Z = torch.randn(5, 5, dtype=torch.float64, requires_grad=True)
    P = model.softmax_positional(Z)
    used = torch.as_tensor(na.used_mask(5))
    assert torch.allclose(P.sum(-1)[:4], torch.ones(4, dtype=torch.float64)) and torch.all(P[~used] == 0)
    assert torch.all(P[used] > 0)
    (g,) = torch.autograd.grad(P[:, :3].sum(), Z)
    assert torch.isfinite(g).all()
    res = model.fit_exact(2, 1, 3, seed=0, starts=2, max_iter=300)
    zero = 2 * 2
    assert abs(res.loss - S.loss_o_softmax_infimum(2, 1, 3)) < 1e-6 * zero


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.loss_o_softmax_infimum(4, 1, 5), "H must be at least d/2"),
        (lambda: S.loss_o_softmax_infimum(3, 2, 5), "d must be even"),
        (lambda: S.simplex_quadratic_minimum(np.eye(2), np.ones(3)), "G must be"),
        (lambda: S.simplex_quadratic_minimum(np.eye(13), np.ones(13)), "at most 12"),
        (lambda: S.loss_o_simplex_minimum(np.eye(2), 1), "T must be at least 2"),
        (lambda: S.simplex_quadratic_minimum(np.eye(2), np.array([np.nan, 1.0])), "b contains NaN"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_per_block_value_symbolically() -> None:
    """sympy: E_θ‖s_{r+2} − c cos θ s_{r+1}‖² = ρ − cρ + c²ρ/2 for one rotating block (θ uniform), minimal ρ/2 at
    c = 1; and weighting the query key instead, E‖s_{r+2} + c s_r‖² = ρ(1 + c²), gains nothing."""
    import sympy as sp

    th, ph, c, rho = sp.symbols("theta phi c rho", real=True)
    r = sp.sqrt(rho)
    s = lambda t: sp.Matrix([r * sp.cos(ph + t * th), r * sp.sin(ph + t * th)])  # noqa: E731
    mean = lambda e: sp.simplify(sp.integrate(sp.expand(sp.simplify(e)), (th, 0, 2 * sp.pi)) / (2 * sp.pi))  # noqa: E731
    last = mean((s(2) - c * sp.cos(th) * s(1)).dot(s(2) - c * sp.cos(th) * s(1)))
    assert sp.simplify(last - (rho - c * rho + c ** 2 * rho / 2)) == 0
    assert sp.solve(sp.diff(last, c), c) == [1] and sp.simplify(last.subs(c, 1) - rho / 2) == 0
    query = mean((s(2) + c * s(0)).dot(s(2) + c * s(0)))
    assert sp.simplify(query - rho * (1 + c ** 2)) == 0
