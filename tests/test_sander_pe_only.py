"""PE-only model of Sander et al. (2024): moments, exact loss, exact minimiser, GD from zero, sampled twin."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given

from numerics.models import sander_non_augmented as model
from theory.sander import pe_only as pe
from tests.strategies import angle_scales, seeds


@pytest.mark.parametrize("m,mu", [(1, 1), (3, 50), (-4, 7), (2, 300)])
def test_moment_matches_sympy_integral(m: int, mu: int) -> None:
    got = complex(pe.moment(m, mu))
    want = complex(sp.N(pe.moment_sympy(sp.Integer(m), sp.Integer(mu)), 30))
    assert got == pytest.approx(want, abs=1e-14)


def test_moment_uniform_law_vanishes_off_zero() -> None:
    m = np.arange(-6, 7)
    got = pe.moment(m, 1.0)
    np.testing.assert_allclose(got[m != 0], 0.0, atol=1e-15)
    assert got[m == 0][0] == 1.0


def test_moment_against_quadrature() -> None:
    """E[λ^m] by a fine midpoint rule over θ ~ U[0, 2π)."""
    n = 200_000
    th = (np.arange(n) + 0.5) / n * 2 * np.pi
    for m, mu in ((2, 50.0), (5, 3.0), (-3, 7.5)):
        quad = np.exp(1j * m * th / mu).mean()
        assert complex(pe.moment(m, mu)) == pytest.approx(quad, abs=1e-9)


@given(mu=angle_scales(), seed=seeds())
def test_exact_loss_matches_sampled_model_mean(mu: float, seed: int) -> None:
    """The closed form equals the torch model's mean squared error in expectation: check within 5 SE."""
    rng = np.random.default_rng(seed)
    Tm = 6
    P = rng.standard_normal((Tm, Tm))
    seqs = model.pe_only_sequences(20_000, Tm, mu, rng=rng)
    err = model.pe_only_predict(torch.tensor(P), seqs) - seqs[:, 2:]
    per = (err.abs() ** 2).mean(1).squeeze(-1).numpy()
    se = per.std(ddof=1) / np.sqrt(per.size)
    assert abs(per.mean() - pe.loss(P, mu)) <= 5 * se + 1e-12


def test_loss_rows_shape_and_mean() -> None:
    rng = np.random.default_rng(1)
    P = rng.standard_normal((7, 7))
    rows = pe.loss_rows(P, 50.0)
    assert rows.shape == (6,) and pe.loss(P, 50.0) == pytest.approx(rows.mean(), rel=1e-15)


@pytest.mark.parametrize("mu", [1.0, 2.0, 50.0, 300.0])
def test_exact_minimiser_has_zero_loss_for_every_law(mu: float) -> None:
    assert pe.loss(pe.exact_minimiser(30), mu) == pytest.approx(0.0, abs=1e-13)
    assert pe.loss(np.eye(30), mu) > 0


def test_pe_only_predict_equals_general_model() -> None:
    rng = np.random.default_rng(2)
    for d in (1, 2):
        seqs = model.pe_only_sequences(20, 5, 3.0, rng=rng, d=d)
        P = torch.tensor(rng.standard_normal((5, 5)))
        np.testing.assert_allclose(model.pe_only_predict(P, seqs).numpy(),
                                   model.predict(model.pe_only_params(P, d), seqs).numpy(), atol=1e-13)


def test_gd_from_zero_follows_the_reference_loop() -> None:
    """One step past the first iterate below the threshold; uniform angles converge to the superdiagonal."""
    run = pe.gd_from_zero(30, 1.0)
    P = run["P"]
    i = np.arange(29)
    assert P[i, i + 1].min() > 0.9
    off = P.copy()
    off[i, i + 1] = 0
    assert np.abs(off).max() < 0.02
    assert run["loss"] < 1e-3
    # the previous iterate was already below the threshold, the one before was not
    short = pe.gd_from_zero(30, 1.0, max_steps=run["steps"] + 1)
    assert short["steps"] == run["steps"]
    with pytest.raises(RuntimeError, match="did not reach"):
        pe.gd_from_zero(30, 1.0, max_steps=run["steps"] - 1)


def test_sampled_gd_matches_exact_gd_on_a_short_run() -> None:
    """Full-batch GD on 4000 samples tracks GD on the exact expectation (T = 8, μ = 20)."""
    Tm, mu = 8, 20.0
    seqs = model.pe_only_sequences(4000, Tm, mu, rng=np.random.default_rng(3))
    exact = pe.gd_from_zero(Tm, mu, stop_below=5e-3)
    sampled = model.pe_only_gd(seqs, stop_below=5e-3)
    assert abs(sampled["steps"] - exact["steps"]) <= max(3, 0.1 * exact["steps"])
    np.testing.assert_allclose(sampled["P"].numpy(), exact["P"], atol=0.02)


def test_row_features_and_errors() -> None:
    f = pe.row_features(np.array([0.1, -0.2, 0.3, 0.0, 0.4]))
    assert f["zero_crossings"] == 2 and f["argmax"] == 4
    with pytest.raises(ValueError, match="mu"):
        pe.moment(1, 0.0)
    with pytest.raises(ValueError, match="P"):
        pe.loss(np.ones((3, 4)), 2.0)
