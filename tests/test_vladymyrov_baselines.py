"""Tests of theory.vladymyrov.baselines, each against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from numerics.regression import NoiseLaw, sample_regression
from theory.vladymyrov import baselines as bl

seeds = st.integers(0, 2**32 - 1)


def _batch(seed: int, batch: int = 50, law: str = "U3", n: int = 20, d: int = 10):
    return sample_regression(batch, NoiseLaw.parse(law), rng=np.random.default_rng(seed), n=n, d=d)


@settings(deadline=None)
@given(seed=seeds, lam=st.floats(0.0, 50.0), n=st.integers(4, 25), d=st.integers(1, 4))
def test_spectral_ridge_equals_linear_solve(seed, lam, n, d):
    b = _batch(seed, 7, n=n, d=d)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    direct = (bl.ridge_weights(b.x, b.y, lam) * b.x_query).sum(-1)
    np.testing.assert_allclose(spec.predict(lam), direct, rtol=1e-9, atol=1e-10)


def test_oracle_is_posterior_mean_push_through():
    """E[w | y] = X^T (X X^T + σ² I_n)^{-1} y (Gaussian conditioning in y-space) equals (Σ + σ² I)^{-1} α."""
    b = _batch(1, 5)
    for i in range(5):
        X, y, s = b.x[i], b.y[i], b.sigma[i]
        post = X.T @ np.linalg.solve(X @ X.T + s**2 * np.eye(X.shape[0]), y)
        np.testing.assert_allclose(bl.ridge_weights(X, y, s**2), post, rtol=1e-9, atol=1e-12)


def test_residual_variance_matches_lstsq():
    b = _batch(2, 6)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    for i in range(6):
        _, rss, *_ = np.linalg.lstsq(b.x[i], b.y[i], rcond=None)
        assert spec.residual_variance()[i] == pytest.approx(rss[0] / 10, rel=1e-8)


@pytest.mark.parametrize("sigma", [0.5, 2.0, 5.0])
def test_residual_variance_unbiased_mc(sigma):
    """E[RSS/(n − d)] = σ² (V-B6); 4e4 prompts, 5 standard errors."""
    b = sample_regression(40000, NoiseLaw.categorical([sigma]), rng=np.random.default_rng(3))
    s2 = bl.ridge_spectrum(b.x, b.y, b.x_query).residual_variance()
    assert abs(s2.mean() - sigma**2) < 5 * s2.std(ddof=1) / math.sqrt(s2.size)
    biased = s2 * 10 / 20  # RSS/n: biased by (n − d)/n, must be detected
    assert abs(biased.mean() - sigma**2) > 5 * biased.std(ddof=1) / math.sqrt(biased.size)


def test_gd_path_equals_loop():
    b = _batch(4, 5)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    sigma = np.swapaxes(b.x, -1, -2) @ b.x
    alpha = (b.y[..., None] * b.x).sum(-2)
    w = np.zeros_like(alpha)
    path = spec.gd_path(0.02, 12)
    for k in range(1, 13):
        w = w + 0.02 * (alpha - (sigma @ w[..., None])[..., 0])
        np.testing.assert_allclose(path[k], (w * b.x_query).sum(-1), rtol=1e-9, atol=1e-10)


def test_log_evidence_matches_scipy_up_to_constant():
    b = _batch(5, 3, n=8, d=3)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    sig = np.array([0.3, 1.0, 2.5, 4.0])
    ours = bl.log_evidence(spec, sig)
    for i in range(3):
        ref = np.array([multivariate_normal(np.zeros(8), b.x[i] @ b.x[i].T + s**2 * np.eye(8)).logpdf(b.y[i]) for s in sig])
        diff = ours[i] - ref
        np.testing.assert_allclose(diff, diff[0], atol=1e-9)


def test_bayes_with_point_mass_is_oracle_and_quadrature_converges():
    b = _batch(6, 200)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    np.testing.assert_allclose(bl.bayes_prediction(spec, np.array([2.0]), np.array([1.0])), spec.predict(4.0), rtol=1e-12)
    p48 = bl.bayes_prediction(spec, *NoiseLaw.uniform(3.0).quadrature(48))
    p96 = bl.bayes_prediction(spec, *NoiseLaw.uniform(3.0).quadrature(96))
    assert np.abs(p48 - p96).max() < 1e-3 * np.abs(p96).max()


def test_uniform_quadrature_integrates_moments():
    s, w = bl.uniform_sigma_quadrature(3.0, 20)
    assert w.sum() == pytest.approx(1.0)
    assert (w * s**2).sum() == pytest.approx(3.0, rel=1e-12)  # E σ² = σ_max²/3


def test_ordering_oracle_bayes_adarr_constrr_mc():
    """Paired MC at U(0,3): oracle < Bayes < AdaRR < ConstRR(c tuned on other prompts), each gap > 3 SE."""
    law = NoiseLaw.uniform(3.0)
    tune, ev = (sample_regression(20000, law, rng=np.random.default_rng(s)) for s in (7, 8))
    ts, es = bl.ridge_spectrum(tune.x, tune.y, tune.x_query), bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    c, _ = bl.tune_constant(ts, tune.y_query, np.linspace(0.5, 8.0, 31))
    sq = {name: 0.5 * (p - ev.y_query) ** 2 for name, p in {
        "oracle": bl.oracle_prediction(es, ev.sigma), "bayes": bl.bayes_prediction(es, *law.quadrature(48)),
        "adarr": bl.adaptive_prediction(es), "constrr": es.predict(c)}.items()}
    names = list(sq)
    for lo, hi in zip(names, names[1:]):
        diff = sq[hi] - sq[lo]
        assert diff.mean() > 3 * diff.std(ddof=1) / math.sqrt(diff.size), (lo, hi)


def test_one_layer_closed_form_mc_and_optimality():
    law = NoiseLaw.uniform(3.0)
    b = sample_regression(100000, law, rng=np.random.default_rng(9))
    eta, closed = bl.one_layer_optimal_loss(20, 10, law.mean_variance)
    assert eta == pytest.approx(1 / (31 + 3.0))
    base = (b.y[..., None] * b.x).sum(-2) @ np.eye(10)
    proj = (base * b.x_query).sum(-1)
    sq = 0.5 * (eta * proj - b.y_query) ** 2
    assert abs(sq.mean() - closed) < 5 * sq.std(ddof=1) / math.sqrt(sq.size)
    worse = 0.5 * (1.2 * eta * proj - b.y_query) ** 2 - sq  # paired: 20% larger step is worse
    assert worse.mean() > 5 * worse.std(ddof=1) / math.sqrt(worse.size)


def test_tuning_picks_grid_minimum_and_uncapped_tuned_is_scaled_adarr():
    b = _batch(10, 2000, law="U5")
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    grid = np.array([0.5, 2.0, 8.0, 30.0])
    c, losses = bl.tune_constant(spec, b.y_query, grid)
    assert losses[list(grid).index(c)] == losses.min()
    np.testing.assert_allclose(bl.tuned_prediction(spec, 1.0, np.inf), bl.adaptive_prediction(spec))
    k, cap, tl = bl.tune_tuned(spec, b.y_query, np.array([0.8, 1.0, 1.3]), np.array([5.0, np.inf]))
    assert tl.min() <= bl.half_mse(bl.adaptive_prediction(spec), b.y_query) + 1e-15
    eta, steps, gl = bl.tune_gd(spec, b.y_query, np.array([0.005, 0.01, 0.02]), 10)
    assert gl[[0.005, 0.01, 0.02].index(eta), steps] == gl.min()


def test_bad_arguments_raise():
    b = _batch(11, 3)
    spec = bl.ridge_spectrum(b.x, b.y, b.x_query)
    with pytest.raises(ValueError, match="lam"):
        bl.ridge_weights(b.x, b.y, -1.0)
    with pytest.raises(ValueError, match="sigma"):
        bl.log_evidence(spec, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="n > d"):
        small = sample_regression(2, NoiseLaw.uniform(1.0), rng=np.random.default_rng(0), n=3, d=3)
        bl.ridge_spectrum(small.x, small.y, small.x_query).residual_variance()
    with pytest.raises(ValueError, match="sigma_max"):
        bl.uniform_sigma_quadrature(0.0)
    with pytest.raises(ValueError, match="n"):
        bl.one_layer_optimal_loss(0, 3, 1.0)
