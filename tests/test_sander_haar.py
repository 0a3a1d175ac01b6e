"""Closed forms of :mod:`theory.sander.haar` (Haar and other real laws of W), the laws of :mod:`numerics.laws` and
the block-family fit of :mod:`numerics.block_family`."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

from numerics import block_family as bf
from numerics import samplers
from numerics.laws import Law, commuting
from numerics.models import sander_augmented as aug_model
from numerics.statistics import mean_estimate
from theory.arguments import ArgumentError
from theory.sander import augmented as th_aug
from theory.sander import haar as hh


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_haar_trace_moments_match_monte_carlo(d: int) -> None:
    rule = hh.haar_rule(d, 8)
    ev = np.linalg.eigvals(samplers.haar_orthogonal(d, 40_000, rng=np.random.default_rng(d)))
    for ex in [(1,), (2,), (1, 1), (2, 2), (1, 2, 3), (3, 3), (2, 4)]:
        samples = np.prod([np.real((ev**n).sum(-1)) for n in ex], axis=0)
        assert mean_estimate(samples).z(hh.trace_moment(rule, ex)) <= 5, (d, ex)


def test_haar_trace_moments_known_values() -> None:
    """``E tr W^j = 1`` for even ``j``, 0 for odd ``j`` (Haar ``O(d)``, every ``d``); ``E (tr W)² = 1`` for ``d ≥ 2``."""
    for d in range(1, 7):
        rule = hh.haar_rule(d, 6)
        for j in range(1, 7):
            assert hh.trace_moment(rule, (j,)) == pytest.approx(float(j % 2 == 0), abs=1e-12)
        if d >= 2:
            assert hh.trace_moment(rule, (1, 1)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("d", [2, 4, 6])
def test_rotation_rule_reproduces_the_case_o_closed_forms(d: int) -> None:
    """Commuting rotations with ``s_0 ~ N(0, I)`` are case O with block radii ``r² ~ χ²₂`` (an independent closed form)."""
    for t in (1, 2, 3, 5):
        got = hh.moments(hh.rotation_rule(d, 2 * t), t, hh.gaussian_start(d))
        want = th_aug.moments("O", d, t, th_aug.REAL_GAUSSIAN_BLOCKS)
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("kind, d, t", [("haar", 2, 3), ("haar", 3, 2), ("haar", 4, 2), ("haar", 5, 1),
                                        ("rotations", 4, 2)])
def test_sympy_constant_terms_equal_the_quadrature(kind: str, d: int, t: int) -> None:
    a, b = hh.moments_sym(kind, d, t)  # type: ignore[arg-type]
    assert isinstance(a, sp.Rational) and isinstance(b, sp.Rational)
    rule = hh.haar_rule(d, 2 * t) if kind == "haar" else hh.rotation_rule(d, 2 * t)
    an, bn, _ = hh.moments(rule, t, hh.gaussian_start(d))
    assert float(a) == pytest.approx(an, rel=1e-12) and float(b) == pytest.approx(bn, rel=1e-12)


def test_haar_moments_match_the_torch_forward_pass() -> None:
    """``a_t``, ``b_t`` from the augmented model's forward pass with ``V = M = I`` (prediction ``S_t s_t``)."""
    d, T, n = 3, 4, 40_000
    states = Law("haar", d).sample_states(n, T, rng=np.random.default_rng(11), start="sphere")
    x = samplers.to_torch(states)
    with torch.no_grad():
        g = aug_model.predict(aug_model.embed_blocks(torch.eye(d, dtype=x.dtype), torch.eye(d, dtype=x.dtype)), x)
    rule = hh.haar_rule(d, 2 * T)
    for t in range(1, T):
        a, b, _ = hh.moments(rule, t, hh.SPHERE)
        assert mean_estimate((g[:, t] ** 2).sum(-1).numpy()).z(a) <= 5
        assert mean_estimate((g[:, t] * x[:, t + 1]).sum(-1).numpy()).z(b) <= 5


def test_mixture_moments_are_linear_and_optimum_formulas() -> None:
    d, t = 4, 3
    rh, rr = hh.haar_rule(d, 2 * t), hh.rotation_rule(d, 2 * t, 2.0)
    mix = hh.mixture_rule([rh, rr], [1.0, 3.0])
    start = hh.gaussian_start(d)
    want = 0.25 * np.array(hh.moments(rh, t, start)) + 0.75 * np.array(hh.moments(rr, t, start))
    np.testing.assert_allclose(hh.moments(mix, t, start), want, rtol=1e-12)
    a, b, c = hh.moments(rh, t, start)
    assert hh.optimal_step(rh, t, start) == pytest.approx(b / a)
    assert hh.optimal_loss(rh, t, start) == pytest.approx(c - b * b / a)
    eta, loss = hh.shared_optimum(rh, [0, t], start)
    assert eta == pytest.approx(b / a) and loss == pytest.approx(2 * c - b * b / a)


def test_haar_step_differs_from_the_commuting_step() -> None:
    """The natural wrong answer (commuting η*) is wrong for Haar W: equal at t = 1, −6.25 % at t = 2 (d = 2)."""
    start = hh.SPHERE
    assert hh.optimal_step(hh.haar_rule(2, 2), 1, start) == pytest.approx(hh.optimal_step(hh.rotation_rule(2, 2), 1, start))
    ratio = hh.optimal_step(hh.haar_rule(2, 4), 2, start) / hh.optimal_step(hh.rotation_rule(2, 4), 2, start)
    assert ratio == pytest.approx(0.9375, rel=1e-12)


def test_argument_errors_name_the_argument() -> None:
    with pytest.raises(ArgumentError, match="d"):
        hh.rotation_rule(3, 4)
    with pytest.raises(ArgumentError, match="2t"):
        hh.moments(hh.haar_rule(3, 2), 2, hh.SPHERE)
    with pytest.raises(ArgumentError, match="exponents"):
        hh.trace_moment(hh.haar_rule(3, 2), (2, 1))
    with pytest.raises(ArgumentError, match="rules"):
        hh.mixture_rule([hh.haar_rule(2, 2), hh.haar_rule(3, 2)], [1, 1])
    with pytest.raises(ArgumentError, match="d"):
        Law("commuting", 3)
    with pytest.raises(ArgumentError, match="basis"):
        Law("haar", 2, basis=np.eye(2))
    with pytest.raises(ArgumentError, match="components"):
        Law("mixture", 2, components=(Law("haar", 3),), weights=(1.0,))
    with pytest.raises(ArgumentError, match="components"):
        Law("mixture", 2, components=(Law("unitary", 2),), weights=(1.0,))
    with pytest.raises(ArgumentError, match="kind"):
        Law("gaussian", 2)
    with pytest.raises(ArgumentError, match="start"):
        Law("haar", 2).sample_states(4, 3, rng=np.random.default_rng(0), start="torus")
    with pytest.raises(ArgumentError, match="rng"):
        Law("haar", 2).sample_w(4, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="spectral_rule"):
        Law("unitary", 2).spectral_rule(4)
    with pytest.raises(ArgumentError, match="states"):
        bf.fit_block_family(np.zeros((10, 4, 2)), seed=0)


def test_laws_sample_what_they_describe() -> None:
    rng = np.random.default_rng(0)
    fam = commuting(4, basis="haar", rng=rng, mu=2.0)
    w = fam.sample_w(6, rng=rng)
    np.testing.assert_allclose(w[0] @ w[1], w[1] @ w[0], atol=1e-12)             # one shared basis: commuting
    for law in (Law("haar", 4), Law("conjugated", 4)):
        w = law.sample_w(6, rng=rng)
        np.testing.assert_allclose(w @ np.swapaxes(w, 1, 2), np.broadcast_to(np.eye(4), w.shape), atol=1e-12)
        assert np.abs(w[0] @ w[1] - w[1] @ w[0]).max() > 1e-3                     # not commuting
    conj = Law("conjugated", 4, 3.0).sample_w(200, rng=rng)
    angles = np.sort(np.abs(np.angle(np.linalg.eigvals(conj))), axis=1)
    assert angles.max() <= 2 * np.pi / 3 + 1e-9                                    # θ = U/μ, μ = 3
    mix = Law("mixture", 4, components=(Law("haar", 4), Law("commuting", 4)), weights=(1.0, 1.0))
    s1 = mix.sample_states(50, 3, rng=np.random.default_rng(5))
    s2 = mix.sample_states(50, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(s1, s2)                                          # seeded
    assert s1.shape == (50, 4, 4)
    assert Law("unitary", 3).sample_states(5, 2, rng=rng, start="torus").dtype == np.complex128
    assert len(commuting(4, mu=2.0).commutant()) == 2 and len(Law("conjugated", 4, 2.0).commutant()) == 1
    assert commuting(4, mu=2.0).predicted_step(range(1, 4)) is None


def test_block_predictions_equal_the_model_and_the_optimum_is_unique_up_to_gauge() -> None:
    """The fit's fast predictor is the augmented model's forward pass; at the trained Haar optimum the Hessian has
    exactly one null direction (the gauge (cV, M/c)): the optimum is isolated up to the gauge."""
    law, T = Law("haar", 3), 4
    states = law.sample_states(6000, T, rng=np.random.default_rng(2))
    x = torch.as_tensor(states)
    g = torch.Generator().manual_seed(0)
    v, m = torch.randn(3, 3, generator=g, dtype=torch.float64), torch.randn(3, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(bf.block_predictions(v, m, x), aug_model.predict(aug_model.embed_blocks(v, m), x))
    fit = bf.fit_block_family(states, seed=1)
    ev = fit.hessian_eigenvalues
    assert abs(ev[0]) < 1e-6 * ev[-1] and ev[1] > 1e-3 * ev[-1]
    assert fit.loss <= fit.scalar_loss


def test_law_strategy_shrinks_to_small_laws_in_the_identity_basis() -> None:
    """``laws_of_w`` shrinks towards d = 2, μ = 1 and the identity basis (the simplest law overall is Haar O(2),
    which draws the fewest choices)."""
    from hypothesis import find

    from tests.strategies import laws_of_w

    assert find(laws_of_w(), lambda _: True).describe() == "haar(d=2)"
    law = find(laws_of_w(), lambda x: x.kind == "commuting")
    assert (law.d, law.mu) == (2, 1.0)
    np.testing.assert_array_equal(law.basis_matrix(), np.eye(2))
    mix = find(laws_of_w(), lambda x: x.kind == "mixture")
    assert mix.d == 2 and all(c.mu == 1.0 for c, _ in mix.parts())


def test_claim_fails_on_a_bug_planted_in_the_closed_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The third cumulant 8 tr(B_k B_l B_m) of the Gaussian quadratic forms written as 4 tr(…) (the plausible slip of
    counting one ordering only) makes ``sander.haar.step.mc`` miss by far more than its 5 standard errors."""
    from proofs_check.claim import RunContext
    from proofs_check.claims import sander_haar as claims

    ctx = RunContext(profile="quick", seed=1501)
    assert claims._step_measure(ctx, predict="haar").error <= 5
    right = hh._integrands

    def planted(p, d: int, t: int) -> tuple:  # p[n] = p_n over the nodes
        a, b = right(p, d, t)
        for k in range(1, t + 1):
            for l in range(1, t + 1):
                m = abs(k - l)
                a = a - (p[k + l + m] + p[abs(k + l - m)] + p[abs(k - l + m)] + p[abs(-k + l + m)])  # 8τ → 4τ
        return a, b

    monkeypatch.setattr(hh, "_integrands", planted)
    assert claims._step_measure(ctx, predict="haar").error > 15


def test_group_cubature_is_exact_and_independent_of_the_node_count() -> None:
    """The group rules of ``sander.haar.moments.exact`` are exact: refining them (degree 4 → 8) leaves E tr W^j tr W^k
    unchanged, and the S³ rule reproduces ``E q₁^{2k} = Γ(k+½)Γ(2)/(Γ(½)Γ(k+2))`` (``q₁²`` is Beta(½, 3/2) under the
    uniform law on S³)."""
    import math

    from numerics import group_cubature as gc

    q, w = gc.sphere3_rule(8)
    for k in range(5):
        want = math.gamma(k + 0.5) * math.gamma(2) / (math.gamma(0.5) * math.gamma(k + 2))
        assert float(w @ q[:, 0] ** (2 * k)) == pytest.approx(want, rel=1e-13)
    for d in (2, 3, 4):
        coarse, fine = gc.haar_orthogonal_rule(d, 4), gc.haar_orthogonal_rule(d, 8)
        for j, k in [(1, 1), (1, 3), (2, 2)]:
            vals = [r.weights @ (np.trace(np.linalg.matrix_power(r.matrices, j), axis1=1, axis2=2)
                                 * np.trace(np.linalg.matrix_power(r.matrices, k), axis1=1, axis2=2))
                    for r in (coarse, fine)]
            assert vals[0] == pytest.approx(vals[1], abs=1e-12), (d, j, k)


def test_exact_claim_fails_on_planted_bugs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sander.haar.moments.exact`` passes, and fails when ``E‖s_0‖⁶`` is written ``d(d+2)(d+6)`` or the Haar rule
    forgets the det = −1 coset (both plausible slips)."""
    from proofs_check.claim import RunContext
    from proofs_check.claims import sander_haar as claims
    from theory.sander.augmented import RadialMoments

    ctx = RunContext(profile="quick", seed=1504)
    assert claims._exact_measure(ctx, special=False).error <= 1
    monkeypatch.setattr(hh, "gaussian_start",
                        lambda d: RadialMoments(float(d), float(d * (d + 2)), float(d * (d + 2) * (d + 6))))
    assert claims._exact_measure(ctx, special=False).error > 1e6
    monkeypatch.undo()
    right = hh._haar_cosets
    monkeypatch.setattr(hh, "_haar_cosets", lambda d, nodes: right(d, nodes)[:1] * 2)  # SO(d) twice
    hh._haar_rule.cache_clear()
    try:
        assert claims._exact_measure(ctx, special=False).error > 1e6
    finally:
        monkeypatch.undo()
        hh._haar_rule.cache_clear()


def test_group_cubature_doctests() -> None:
    import doctest

    from numerics import group_cubature

    assert doctest.testmod(group_cubature).failed == 0
