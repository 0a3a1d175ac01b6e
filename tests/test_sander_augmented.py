"""Tests of theory.sander.augmented and numerics.models.sander_augmented (Sander et al. 2024, augmented tokens)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from numerics import samplers
from numerics.models import sander_augmented as model
from proofs_check.claim import RunContext
from proofs_check.claims import sander_augmented as claims
from tests.strategies import commuting_families, seeds
from theory.arguments import ArgumentError
from theory.sander import augmented as th

# ---------------------------------------------------------------------------------------------------------
# closed forms: special cases derived by hand (docs/sander-augmented.md), not read off the code
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d,t", [(1, 1), (2, 3), (3, 4), (5, 10)])
def test_torus_and_gaussian_special_cases(d: int, t: int) -> None:
    assert th.optimal_step("U", d, t, th.TORUS) == pytest.approx(1 / (t + d - 1), rel=1e-14)
    assert th.optimal_loss("U", d, t, th.TORUS) == pytest.approx(d * (d - 1) / (t + d - 1), abs=1e-12)
    assert th.optimal_step("U", d, t, th.COMPLEX_GAUSSIAN) == pytest.approx(1 / (3 * t + d - 1), rel=1e-14)


@pytest.mark.parametrize("d,t,r", [(2, 1, 1.0), (4, 3, 1.0), (6, 5, 1.0), (4, 6, np.sqrt(2.0))])
def test_case_o_special_cases(d: int, t: int, r: float) -> None:
    law = th.fixed_radius(r)
    assert th.optimal_step("O", d, t, law) == pytest.approx(2 / (r**2 * (t + d - 1)), rel=1e-12)
    assert th.optimal_loss("O", d, t, law) == pytest.approx(r**2 * (d / 2) * (d - 1) / (t + d - 1), rel=1e-12)


def test_case_o_values_quoted_in_notes() -> None:
    # MC values of the reference notes (block radius 1): d=4,t=3 → 1.00; d=6,t=5 → 1.50; d=4,t=6 → 0.667
    law = th.fixed_radius(1.0)
    assert th.optimal_loss("O", 4, 3, law) == pytest.approx(1.0)
    assert th.optimal_loss("O", 6, 5, law) == pytest.approx(1.5)
    assert th.optimal_loss("O", 4, 6, law) == pytest.approx(2 / 3)


@pytest.mark.parametrize("d,horizon", [(2, 3), (3, 6), (5, 20)])
def test_shared_step_torus(d: int, horizon: int) -> None:
    eta, _ = th.shared_optimum("U", d, range(1, horizon), th.TORUS)
    assert eta == pytest.approx(3 / (2 * horizon + 3 * d - 4), rel=1e-13)
    # position 0 only adds the constant c = d
    eta0, loss0 = th.shared_optimum("U", d, range(horizon), th.TORUS)
    _, loss1 = th.shared_optimum("U", d, range(1, horizon), th.TORUS)
    assert eta0 == eta and loss0 == pytest.approx(loss1 + d)


def test_loss_at_step_is_minimised_at_optimal_step() -> None:
    eta = th.optimal_step("U", 3, 4, th.COMPLEX_GAUSSIAN)
    best = th.loss_at_step("U", 3, 4, th.COMPLEX_GAUSSIAN, eta)
    assert best == pytest.approx(th.optimal_loss("U", 3, 4, th.COMPLEX_GAUSSIAN))
    for f in (0.8, 0.99, 1.01, 1.2):
        assert th.loss_at_step("U", 3, 4, th.COMPLEX_GAUSSIAN, f * eta) > best


def test_sympy_expressions_simplify_to_quoted_forms() -> None:
    d, t, m2, m4, m6 = th.D_, th.T_, th.M2, th.M4, th.M6
    assert sp.simplify(th.optimal_step_expr("U") - m4 / (m6 * t + (d - 1) * m2 * m4)) == 0
    assert sp.simplify(th.optimal_loss_expr("U") - (d * m2 - d * m4**2 * t / (m6 * t + (d - 1) * m2 * m4))) == 0
    r2 = sp.Symbol("r2", positive=True)
    eta_o = th.optimal_step_expr("O").subs({m2: r2, m4: r2**2, m6: r2**3})
    assert sp.simplify(eta_o - 2 / (r2 * (t + d - 1))) == 0


# ---------------------------------------------------------------------------------------------------------
# inner objective, gradient, one-step map: numpy / torch / sympy twins
# ---------------------------------------------------------------------------------------------------------


def _random_states(rng: np.random.Generator, n: int, length: int, d: int, complex_valued: bool) -> np.ndarray:
    x = rng.standard_normal((n, length, d))
    return x + 1j * rng.standard_normal((n, length, d)) if complex_valued else x


@pytest.mark.parametrize("complex_valued", [False, True])
def test_numpy_gradient_matches_finite_differences_and_is_minus_s_at_zero(complex_valued: bool) -> None:
    rng = np.random.default_rng(0)
    s = _random_states(rng, 1, 5, 3, complex_valued)[0]
    w = _random_states(rng, 1, 3, 3, complex_valued)[0] * 0.3
    grad = th.inner_gradient(w, s)
    h = 1e-6
    fd = np.zeros_like(grad)
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = h
            fd[i, j] = (th.inner_objective(w + e, s) - th.inner_objective(w - e, s)) / (2 * h)
            if complex_valued:
                fd[i, j] += 1j * (th.inner_objective(w + 1j * e, s) - th.inner_objective(w - 1j * e, s)) / (2 * h)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    np.testing.assert_allclose(th.inner_gradient(np.zeros((3, 3)), s), -th.context_matrix(s), atol=1e-14)
    np.testing.assert_allclose(th.one_step_prediction(s, 0.7), (0 - 0.7 * th.inner_gradient(np.zeros((3, 3)), s)) @ s[-1],
                               atol=1e-13)


def test_sympy_inner_objective_matches_numpy() -> None:
    states = th.symbolic_sequence(2, 2, complex_valued=True)
    w = sp.Matrix(2, 2, sp.symbols("w0:4"))
    expr = th.inner_objective_sym(w, states)
    rng = np.random.default_rng(2)
    s_num = _random_states(rng, 1, 3, 2, True)[0]
    w_num = _random_states(rng, 1, 2, 2, True)[0]
    subs = {}
    for i, vec in enumerate(states):
        for k in range(2):
            subs[sp.Symbol(f"s{i}_re{k}", real=True)] = s_num[i, k].real
            subs[sp.Symbol(f"s{i}_im{k}", real=True)] = s_num[i, k].imag
    subs.update({w[i, j]: w_num[i, j] for i in range(2) for j in range(2)})
    assert complex(expr.subs(subs).evalf()) == pytest.approx(th.inner_objective(w_num, s_num), rel=1e-12)


def test_symbolic_gradient_real_case() -> None:
    states = th.symbolic_sequence(2, 3, complex_valued=False)
    grad = th.inner_gradient_at_zero_sym(states, complex_valued=False)
    assert sp.expand(grad + th.context_matrix_sym(states)) == sp.zeros(2, 2)


# ---------------------------------------------------------------------------------------------------------
# the torch model
# ---------------------------------------------------------------------------------------------------------


def _naive_forward(w_kq: np.ndarray, w_v: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    out = np.array(tokens, dtype=np.result_type(tokens, w_kq))
    for t in range(tokens.shape[0]):
        for i in range(t + 1):
            out[t] += (w_v @ tokens[i]) * (np.conj(tokens[i]) @ w_kq @ tokens[t])
    return out


@pytest.mark.parametrize("complex_valued", [False, True])
def test_forward_matches_naive_loop_and_is_causal(complex_valued: bool) -> None:
    d, length = 2, 5
    gen = torch.Generator().manual_seed(3)
    params = model.init_full(d, scale=0.5, generator=gen, complex_valued=complex_valued)
    rng = np.random.default_rng(3)
    states = torch.as_tensor(_random_states(rng, 2, length, d, complex_valued))
    tokens = model.augment(states)
    out = model.forward(params, tokens).numpy()
    for b in range(2):
        np.testing.assert_allclose(out[b], _naive_forward(params["W_KQ"].numpy(), params["W_V"].numpy(),
                                                          tokens[b].numpy()), atol=1e-12)
    changed = tokens.clone()
    changed[:, -1] += 1.0
    np.testing.assert_array_equal(model.forward(params, changed)[:, :-1].numpy(), out[:, :-1])
    assert torch.equal(tokens[:, 0, 2 * d:], torch.zeros_like(tokens[:, 0, 2 * d:]))  # s_{-1} = 0


@pytest.mark.parametrize("complex_valued", [False, True])
def test_block_parameters_predict_one_gd_step(complex_valued: bool) -> None:
    rng = np.random.default_rng(4)
    s = _random_states(rng, 8, 7, 3, complex_valued)
    x = torch.as_tensor(s)
    eye = torch.eye(3, dtype=x.dtype)
    pred = model.predict(model.embed_blocks(2.0 * eye, 0.05 * eye), x).numpy()
    for t in range(6):
        np.testing.assert_allclose(pred[:, t], th.one_step_prediction(s[:, : t + 1], 0.1), atol=1e-12)
    prods = model.block_products(model.embed_blocks(2.0 * eye, 0.05 * eye))
    assert prods.off_ratio == 0.0 and th.distance_to_identity(prods.vm) == pytest.approx(0.0, abs=1e-15)


def test_block_products_detect_other_blocks() -> None:
    eye = torch.eye(2, dtype=torch.float64)
    p = model.embed_blocks(eye, eye)
    p["W_KQ"][2:4, 2:4] = 0.5 * eye  # key slot 2 × query slot 2: a non-GD term
    assert model.block_products(p).off_ratio == pytest.approx(0.5)
    norms = model.product_norms(p)
    assert norms["v2k3q2"] == pytest.approx(2.0) and norms["v2k2q2"] == pytest.approx(1.0)
    assert sum(v for k, v in norms.items() if k not in ("v2k3q2", "v2k2q2")) == 0.0


# ---------------------------------------------------------------------------------------------------------
# exact restricted population loss (moment enumeration) against Monte Carlo and against the closed forms
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("s0,law", [("phase_invariant", "torus"), ("phase_invariant", "gaussian"), ("ones", "ones")])
def test_restricted_loss_matches_monte_carlo(s0: str, law: str) -> None:
    d, t, n = 2, 3, 100_000
    rng = np.random.default_rng(5)
    v = rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))
    m = 0.3 * (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d)))
    radial = th.COMPLEX_GAUSSIAN if law == "gaussian" else th.TORUS
    exact = th.restricted_loss(v, m, th.restricted_tensors_u(d, [t], s0=s0, law=radial))  # type: ignore[arg-type]
    _, w = samplers.unitary_diagonal(n, d, rng=rng)
    s0_arr = samplers.initial_states(n, d, law if law != "ones" else "ones", rng=rng, complex_valued=True)  # type: ignore[arg-type]
    states = samplers.sequences(w, s0_arr, t + 1, check_orthogonal=False)
    pred = np.einsum("ka,nab,bc,nc->nk", v, th.context_matrix(states[:, : t + 1]), m, states[:, t])
    per = np.sum(np.abs(pred - states[:, t + 1]) ** 2, axis=1)
    assert claims.z_score(per, exact) < 5.0


@given(d=st.integers(1, 4), t=st.integers(1, 5), gaussian=st.booleans(), seed=seeds())
def test_restricted_loss_at_scalar_equals_closed_form(d: int, t: int, gaussian: bool, seed: int) -> None:
    law = th.COMPLEX_GAUSSIAN if gaussian else th.TORUS
    eta = np.random.default_rng(seed).uniform(0.01, 1.0)
    tensors = th.restricted_tensors_u(d, [t], s0="phase_invariant", law=law)
    assert th.restricted_loss(np.eye(d), eta * np.eye(d), tensors) == pytest.approx(
        th.loss_at_step("U", d, t, law, eta), rel=1e-12)


def test_restricted_loss_torch_twin() -> None:
    rng = np.random.default_rng(6)
    tensors = th.restricted_tensors_u(2, [1, 2], s0="phase_invariant", law=th.COMPLEX_GAUSSIAN)
    v = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
    m = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
    got = th.restricted_loss_torch(torch.as_tensor(v), torch.as_tensor(m), torch.as_tensor(tensors.quad.astype(complex)),
                                   torch.as_tensor(tensors.lin.astype(complex)), tensors.const)
    assert float(got) == pytest.approx(th.restricted_loss(v, m, tensors), rel=1e-12)


def test_general_vm_beats_scalar_only_for_deterministic_s0() -> None:
    gen = torch.Generator().manual_seed(0)
    ones = th.restricted_tensors_u(3, [4], s0="ones")
    _, _, res = model.train_restricted_population(ones, generator=gen, target=None)
    assert res.loss < 0.87  # vs 1.000 for every scalar VM (d = 3, t = 4)
    torus = th.restricted_tensors_u(3, [4], s0="phase_invariant")
    v, m, res = model.train_restricted_population(torus, generator=gen, target=1.0)
    assert res.loss == pytest.approx(1.0, abs=1e-9)
    assert th.distance_to_identity(v @ m) < 1e-6


def test_gauge_symmetry_leaves_loss_unchanged_but_changes_prediction() -> None:
    # V → V D, M → D^* M with D diagonal unitary: same exact loss (docs: "gauge"), different in-context map
    d, t = 3, 4
    tensors = th.restricted_tensors_u(d, [t], s0="phase_invariant")
    eta = th.optimal_step("U", d, t, th.TORUS)
    dmat = np.diag(np.exp(1j * np.array([0.3, -1.1, 2.0])))
    assert th.restricted_loss(dmat, eta * dmat.conj().T, tensors) == pytest.approx(th.optimal_loss("U", d, t, th.TORUS))
    rng = np.random.default_rng(7)
    states = claims._case_u_states(4, d, t, rng)
    gauged = np.einsum("ab,nbc,cd,nd->na", dmat, th.context_matrix(states), eta * dmat.conj().T, states[:, -1])
    assert np.max(np.abs(gauged - th.one_step_prediction(states, eta))) > 1e-2
    # a non-unitary diagonal D costs loss (AM-GM on the off-diagonal terms)
    dnu = np.diag([1.0, 2.0, 0.5])
    assert th.restricted_loss(dnu, eta * np.linalg.inv(dnu), tensors) > th.optimal_loss("U", d, t, th.TORUS) + 1e-3


# ---------------------------------------------------------------------------------------------------------
# Hypothesis: random commuting families
# ---------------------------------------------------------------------------------------------------------


@given(fam=commuting_families(min_d=2, max_d=6), seed=seeds(), horizon=st.integers(1, 6))
def test_block_model_is_one_gd_step_for_any_commuting_family(fam: samplers.CommutingFamily, seed: int,
                                                             horizon: int) -> None:
    rng = np.random.default_rng(seed)
    w, _ = fam.sample(5, rng=rng)
    states = samplers.sequences(w, rng.standard_normal((5, fam.d)), horizon)
    eye = torch.eye(fam.d, dtype=torch.float64)
    pred = model.predict(model.embed_blocks(eye, 0.3 * eye), torch.as_tensor(states)).numpy()
    want = np.stack([th.one_step_prediction(states[:, : k + 1], 0.3) for k in range(horizon)], axis=1)
    np.testing.assert_allclose(pred, want, atol=1e-10 * max(1.0, np.abs(want).max()))


@given(fam=commuting_families(min_d=2, max_d=6), seed=seeds(), t=st.integers(1, 5))
def test_case_o_moments_in_any_shared_basis(fam: samplers.CommutingFamily, seed: int, t: int) -> None:
    """Closed forms hold for any basis Q when s_0 = Q·(block torus) and angles are uniform (μ = 1)."""
    rng = np.random.default_rng(seed)
    states = claims._case_o_states(20_000, fam.d, t + 1, rng, basis=fam.basis)
    x, y, c = claims.gd_statistics(states, t)
    a, b, c_exp = th.moments("O", fam.d, t, th.fixed_radius(1.0))
    assert max(claims.z_score(x, a), claims.z_score(y, b), claims.z_score(c, c_exp)) < 5.0


@given(fam=commuting_families(min_d=4, max_d=6), seed=seeds())
def test_concentrated_angle_law_breaks_the_case_o_moments(fam: samplers.CommutingFamily, seed: int) -> None:
    """With θ ~ U[0, 2π/μ), μ ≥ 4, (a_t, b_t) move away from the closed forms (the control of the MC claims).

    μ = 2 is excluded on purpose: case-O moments only involve cos(nθ), n ≠ 0 integer, whose mean over
    [0, π) is 0 as over [0, 2π) (see ``test_case_o_moments_unchanged_on_half_circle``).  d = 2 is excluded
    too: with one block every frequency in a_t, b_t is even, and cos(2jθ) also averages to 0 over [0, π/2).
    """
    if fam.mu < 4:
        fam = samplers.CommutingFamily(basis=fam.basis, mu=4.0)
    rng = np.random.default_rng(seed)
    states = claims._case_o_states(20_000, fam.d, 3, rng, mu=fam.mu, basis=fam.basis)
    x, y, _ = claims.gd_statistics(states, 2)
    a, b, _ = th.moments("O", fam.d, 2, th.fixed_radius(1.0))
    # (b_t alone survives μ = 4: it only holds cos(2kθ), whose mean over [0, π/2) is still 0; a_t does not)
    assert max(claims.z_score(x, a), claims.z_score(y, b)) > 5.0


def test_case_o_moments_unchanged_on_half_circle() -> None:
    rng = np.random.default_rng(9)
    states = claims._case_o_states(40_000, 4, 4, rng, mu=2.0)
    for t in (1, 3):
        x, y, _ = claims.gd_statistics(states, t)
        a, b, _ = th.moments("O", 4, t, th.fixed_radius(1.0))
        assert max(claims.z_score(x, a), claims.z_score(y, b)) < 5.0


# ---------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------


def test_bad_input_raises_value_error_naming_argument() -> None:
    with pytest.raises(ValueError, match="d must be even"):
        th.moments("O", 3, 2, th.TORUS)
    with pytest.raises(ValueError, match="t must be a positive integer"):
        th.optimal_step("U", 3, 0, th.TORUS)
    with pytest.raises(ValueError, match="case"):
        th.moments("X", 3, 2, th.TORUS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="m4"):
        th.RadialMoments(1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="Cauchy-Schwarz"):
        th.RadialMoments(1.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="states contains NaN"):
        th.context_matrix(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="positions"):
        th.restricted_tensors_u(2, [], s0="ones")
    with pytest.raises(ValueError, match="s0"):
        th.restricted_tensors_u(2, [1], s0="gauss")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mat is zero"):
        th.distance_to_identity(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="v and m must be"):
        th.restricted_loss(np.eye(2), np.eye(3), th.restricted_tensors_u(2, [1], s0="ones"))
    with pytest.raises(ValueError, match="states must have shape"):
        model.augment(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="tokens must have shape"):
        model.forward(model.embed_blocks(torch.eye(2), torch.eye(2)), torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="scale"):
        model.init_full(2, scale=0.0, generator=torch.Generator())


# ---------------------------------------------------------------------------------------------------------
# full-profile training (slow)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_full_profile_trained_model_reaches_gd_structure() -> None:
    claim_ctx = RunContext(profile="full", seed=61)
    m = claims._full_trained_measure(claim_ctx, mean_of_steps=False)
    assert m.error < 0.1, m.observed


# ---------------------------------------------------------------------------------------------------------
# quadrature grid of the exact-expectation claims (numerics.models.sander_augmented.quadrature_states)
# ---------------------------------------------------------------------------------------------------------


def test_quadrature_grid_reproduces_the_torus_loss_by_hand() -> None:
    # d = 1, torus, V = M = 1: ŝ_{t+1} = S_t s_t = t λ^{t+1} (every term s_i s̄_{i−1} s_t is λ^{t+1}), so the
    # error |t λ^{t+1} − λ^{t+1}|² = (t − 1)² exactly, at every grid point
    states, weights = model.quadrature_states("U", 1, 4, [1.0], [1.0])
    losses = model.position_losses(model.embed_blocks(torch.ones(1, 1, dtype=torch.complex128),
                                                      torch.ones(1, 1, dtype=torch.complex128)),
                                   torch.from_numpy(states), torch.from_numpy(weights))
    np.testing.assert_allclose(losses.numpy(), [1.0, 0.0, 1.0, 4.0], atol=1e-13)
    assert weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs,name", [
    ({"case": "X", "d": 2, "horizon": 2, "radial_nodes": [1.0], "radial_weights": [1.0]}, "case"),
    ({"case": "O", "d": 3, "horizon": 2, "radial_nodes": [1.0], "radial_weights": [1.0]}, "d"),
    ({"case": "U", "d": 2, "horizon": 2, "radial_nodes": [1.0, 2.0], "radial_weights": [0.5, 0.6]}, "radial"),
    ({"case": "U", "d": 8, "horizon": 6, "radial_nodes": [1.0], "radial_weights": [1.0]}, "too large"),
])
def test_quadrature_grid_rejects_bad_input(kwargs: dict, name: str) -> None:
    with pytest.raises(ArgumentError, match=name):
        model.quadrature_states(**kwargs)


def test_restricted_quadrature_claim_fails_when_the_law_is_ignored(monkeypatch) -> None:
    """Planted bug: the moment enumeration with the torus moments whatever the law (the slip the torus-only claims
    could not see) must fail ``sander.aug.restricted.quadrature``."""
    from proofs_check.claims import sander_augmented_exact as exact
    original = th.restricted_tensors_u
    ctx = RunContext("quick", 20240212, "cpu", None, "check")
    assert exact._restricted_measure(ctx, shift=0).error <= exact.ROUND_OFF.bound
    monkeypatch.setattr(th, "restricted_tensors_u", lambda d, positions, *, s0, law=th.TORUS:
                        original(d, positions, s0=s0, law=th.TORUS))
    assert exact._restricted_measure(ctx, shift=0).error > 1e3 * exact.ROUND_OFF.bound
