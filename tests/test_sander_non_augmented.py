"""Non-augmented model of Sander et al. (2024): closed forms, their twins, the torch model and the minima."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.models import sander_non_augmented as model
from theory.sander import non_augmented as na
from tests.strategies import seeds


def _rand_CP(rng: np.random.Generator, d: int, T: int, scale: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    return scale * rng.standard_normal((d, d)), scale * rng.standard_normal((T, T))


# ----------------------------------------------------------------------------------------------------------------
# symbolic derivations
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d,T,s0", [(2, 3, "torus"), (3, 3, "ones"), (2, 4, "ones")])
def test_case_u_closed_form_is_the_constant_term(d: int, T: int, s0: str) -> None:
    derived, C, P = na.loss_u_derivation(d, T, s0=s0)
    assert sp.expand(derived - na.loss_u_closed_sympy(C, P)) == 0
    over = sp.expand(na.loss_u_reference_sympy(C, P) - derived)
    fro = sum(x ** 2 for x in C)
    assert sp.expand(over - fro * sum(P[r, r] ** 2 for r in range(T - 1))) == 0


@pytest.mark.parametrize("d,T", [(2, 3), (2, 4)])   # d = 4 runs in the claim sander.non-aug.loss-o.symbolic
def test_case_o_closed_form_is_the_constant_term(d: int, T: int) -> None:
    derived, C, P = na.loss_o_derivation(d, T)
    assert sp.expand(derived - na.loss_o_closed_sympy(C, P)) == 0
    assert sp.expand(derived - na.loss_o_reference_sympy(C, P)) != 0


def test_case_o_deterministic_s0_differs_only_through_key_zero() -> None:
    """With s_0 = 𝟙 (fixed phase π/4) the expectation changes, but only in terms with the key s_0 (j = 0)."""
    fixed, C, P = na.loss_o_derivation(2, 3, random_phase=False)
    diff = sp.expand(fixed - na.loss_o_closed_sympy(C, P))
    assert diff != 0
    key0 = {P[r, 0] for r in range(2)}
    assert all(t.free_symbols & key0 for t in sp.Add.make_args(diff))
    Cm, Pm = na.loss_o_minimiser(2, 3)
    subs = {C[i, j]: Cm[i, j] for i in range(2) for j in range(2)}
    subs.update({P[r, j]: Pm[r, j] for r in range(3) for j in range(3) if isinstance(P[r, j], sp.Symbol)})
    assert sp.nsimplify(fixed.subs(subs)) == 0


def test_constant_term_by_pairing_equals_full_expansion() -> None:
    lam = sp.symbols("l0 l1")
    a, b = sp.symbols("a b", real=True)
    f = a * lam[0] ** 2 / lam[1] + b * lam[1] - 3 + a * b / lam[0]
    g = sp.expand(f.subs({lam[0]: 1 / lam[0], lam[1]: 1 / lam[1]}))
    assert sp.expand(na.constant_term(sp.expand(f * g), lam) - na.expectation_of_product(f, g, lam)) == 0
    assert sp.expand(na.constant_term(sp.expand(f * g), lam) - (a ** 2 + b ** 2 + 9 + a ** 2 * b ** 2)) == 0


def test_heads_enter_only_through_C() -> None:
    assert na.heads_factorisation_sympy(3, 2) == 0


def test_query_at_last_token_cannot_predict_case_u() -> None:
    """With the query at the last key s_c, every monomial of the output misses the target's λ_k^{c+1}."""
    d, T = 2, 4
    lam = sp.symbols(f"lambda_0:{d}")
    C, P = na.symbolic_C(d), na.symbolic_P(T)
    for r in range(T - 1):
        c = r + 1
        for k in range(d):
            pred = sum(P[r, j] * C[k, l] * lam[l] ** (j - c) * lam[k] ** j for j in range(r + 2) for l in range(d))
            cross = na.expectation_of_product(pred, lam[k] ** (-(c + 1)), lam)
            assert cross == 0


def test_cayley_hamilton_and_pe_ratio() -> None:
    assert na.cayley_hamilton_rotation() == sp.zeros(2, 2)
    sol = na.pe_ratio_from_cayley_hamilton()
    assert sol["ratio"] == -2 and sol["p_c"] == 1 and sol["p_q"] == sp.Rational(-1, 2)
    sol4 = na.pe_ratio_from_cayley_hamilton(radius_sq=4)
    assert sol4["p_c"] == sp.Rational(1, 2) and sol4["ratio"] == -2


# ----------------------------------------------------------------------------------------------------------------
# numeric twins
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,d,T", [("u", 3, 5), ("o", 4, 5), ("o", 6, 4)])
def test_numpy_torch_and_lambdified_twins_agree(kind: str, d: int, T: int) -> None:
    rng = np.random.default_rng(3)
    C, P = _rand_CP(rng, d, T)
    f_np = {"u": na.loss_u, "o": na.loss_o}[kind]
    f_t = {"u": na.loss_u_torch, "o": na.loss_o_torch}[kind]
    ref_np = {"u": na.loss_u_reference, "o": na.loss_o_reference}[kind]
    ref_t = {"u": na.loss_u_reference_torch, "o": na.loss_o_reference_torch}[kind]
    ref_sym = {"u": na.loss_u_reference_sympy, "o": na.loss_o_reference_sympy}[kind]
    val = float(f_np(C, P))
    assert val == pytest.approx(na.lambdified_loss(kind, C, P), rel=1e-12)
    assert val == pytest.approx(float(f_t(torch.tensor(C), torch.tensor(P))), rel=1e-12)
    assert float(ref_np(C, P)) == pytest.approx(float(ref_t(torch.tensor(C), torch.tensor(P))), rel=1e-12)
    Cs, Ps = na.symbolic_C(d), na.symbolic_P(T)
    subs = {Cs[i, j]: C[i, j] for i in range(d) for j in range(d)}
    subs.update({Ps[r, j]: P[r, j] for r in range(T) for j in range(T) if isinstance(Ps[r, j], sp.Symbol)})
    assert float(ref_sym(Cs, Ps).subs(subs)) == pytest.approx(float(ref_np(C, P)), rel=1e-10)


def test_batched_and_per_row_shapes() -> None:
    rng = np.random.default_rng(4)
    C = rng.standard_normal((5, 4, 4))
    P = rng.standard_normal((5, 6, 6))
    for f in (na.loss_u, na.loss_o):
        rows = f(C, P, per_row=True)
        assert rows.shape == (5, 5)
        np.testing.assert_allclose(rows.sum(-1), f(C, P))
        np.testing.assert_allclose(f(C, P)[2], f(C[2], P[2]))


def test_row_gram_matches_loss() -> None:
    rng = np.random.default_rng(5)
    C, P = _rand_CP(rng, 4, 5)
    rows = na.loss_o(C, P, per_row=True)
    for r in range(4):
        G, b, const = na.loss_o_row_gram(C, r + 2, r)
        p = P[r, : r + 2]
        assert p @ G @ p - 2 * b @ p + const == pytest.approx(rows[r], rel=1e-12)


def test_unused_P_entries_do_not_matter() -> None:
    rng = np.random.default_rng(6)
    C, P = _rand_CP(rng, 4, 5)
    Q = P.copy()
    Q[~na.used_mask(5)] = 99.0
    for f in (na.loss_u, na.loss_o, na.loss_u_reference, na.loss_o_reference):
        assert f(C, P) == pytest.approx(f(C, Q), rel=1e-13)


def test_symmetry_gamma() -> None:
    """(C, P) → (γC, P/γ) leaves both losses unchanged."""
    rng = np.random.default_rng(7)
    C, P = _rand_CP(rng, 4, 5)
    for f in (na.loss_u, na.loss_o):
        assert f(-2.5 * C, P / -2.5) == pytest.approx(f(C, P), rel=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# minima and minimisers
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, -1.202, 0.3])
def test_case_u_minimisers(alpha: float) -> None:
    C, P = na.loss_u_minimiser(4, 6, alpha=alpha)
    assert na.loss_u(C, P) == pytest.approx(0.0, abs=1e-12)
    assert na.max_deviation(na.structure_u(C, P, H=4)) < 1e-12
    C2, P2 = na.loss_u_minimiser(4, 6, alpha=alpha, H=2)
    assert na.loss_u(C2, P2) == pytest.approx(na.loss_u_minimum(4, 2, 6))
    assert na.loss_u_row_optimum(C2) == pytest.approx(2.0)


def test_case_u_row_optimum_bound() -> None:
    """d − tr(C)²/‖C‖² ≥ d − rank(C) for random C of every rank."""
    rng = np.random.default_rng(8)
    for rank in range(1, 5):
        for _ in range(20):
            C = rng.standard_normal((5, rank)) @ rng.standard_normal((rank, 5))
            assert na.loss_u_row_optimum(C) >= 5 - rank - 1e-12


@pytest.mark.parametrize("alpha", [1.0, -1.289])
def test_case_o_minimiser_and_controls(alpha: float) -> None:
    C, P = na.loss_o_minimiser(6, 5, alpha=alpha)
    assert na.loss_o(C, P) == pytest.approx(0.0, abs=1e-12)
    assert na.loss_o_reference(C, P) == pytest.approx(0.0, abs=1e-12)
    assert na.max_deviation(na.structure_o(C, P, H=3)) < 1e-12
    # C = αI with the best p: strictly positive
    _, best = na.best_p_row_o(alpha * np.eye(6), 5, 3)
    assert best > 0.5
    # ratio −1 and +2 give positive loss
    for ratio in (-1.0, 2.0):
        Pw = P.copy()
        r = np.arange(4)
        Pw[r, r] = Pw[r, r + 1] / ratio
        assert na.loss_o(C, Pw) > 0.1
    # H < d/2 candidate: cover only some blocks
    Cb, Pb = na.loss_o_minimiser(6, 5, alpha=alpha, blocks=1)
    assert na.loss_o(Cb, Pb) == pytest.approx(na.loss_o_minimum(6, 1, 5))


def test_argument_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="T"):
        na.used_mask(1)
    with pytest.raises(ValueError, match="C"):
        na.loss_u(np.ones((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="d"):
        na.loss_o(np.ones((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="alpha"):
        na.loss_u_minimiser(3, 4, alpha=0.0)
    with pytest.raises(ValueError, match="P"):
        na.loss_u(np.ones((2, 2)), np.full((3, 3), np.nan))


# ----------------------------------------------------------------------------------------------------------------
# torch model
# ----------------------------------------------------------------------------------------------------------------


def _c_form_prediction(C: np.ndarray, P: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    n, T1, d = seqs.shape
    T = T1 - 1
    out = np.zeros((n, T - 1, d), dtype=seqs.dtype)
    for r in range(T - 1):
        for j in range(r + 2):
            out[:, r] += P[r, j] * np.einsum("kl,nl,nl,nk->nk", C, seqs[:, r].conj(), seqs[:, j], seqs[:, j])
    return out


@pytest.mark.parametrize("case,d,H", [("unitary", 3, 2), ("orthogonal", 4, 3), ("haar", 3, 4)])
def test_model_equals_c_form(case: str, d: int, H: int) -> None:
    rng = np.random.default_rng(9)
    T = 5
    params = model.init_params(H, d, T, scale=0.5, generator=torch.Generator().manual_seed(1))
    seqs = model.sample_sequences(case, 7, d, T, rng=rng)
    got = model.predict(params, seqs).numpy()
    want = _c_form_prediction(model.attention_product(params).numpy(), params["P"].numpy(), seqs.numpy())
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("case,d", [("unitary", 3), ("orthogonal", 4)])
def test_model_exact_at_minimiser(case: str, d: int) -> None:
    """At the zero-loss point every sampled sequence is predicted exactly."""
    T = 6
    alpha = -1.3
    if case == "unitary":
        C, P = na.loss_u_minimiser(d, T, alpha=alpha)
    else:
        C, P = na.loss_o_minimiser(d, T, alpha=alpha)
    params = model.factor_params(C, P)                     # H = rank(C) heads with BᵀA = C
    np.testing.assert_allclose(model.attention_product(params).numpy(), C, atol=1e-12)
    seqs = model.sample_sequences(case, 50, d, T, rng=np.random.default_rng(10))
    assert float(model.sequence_losses(params, seqs).max()) < 1e-20
    assert float(model.exact_loss(params, case)) == pytest.approx(0.0, abs=1e-12)


def test_model_float32_and_shape_errors() -> None:
    params = model.init_params(2, 3, 4, dtype="float32")
    seqs = model.sample_sequences("unitary", 5, 3, 4, rng=np.random.default_rng(0), dtype="float32")
    assert model.predict(params, seqs).dtype == torch.complex64
    with pytest.raises(ValueError, match="shapes"):
        model.predict(params, seqs[:, :4])
    with pytest.raises(ValueError, match="H must be at least the model's 2 heads"):
        model.pad_heads(params, 1)


def test_batched_sampled_training_matches_independent_models() -> None:
    """Stacked models trained at once see independent data and reach the minimum like a single one."""
    res = model.fit_sampled("unitary", 2, 2, 4, seed=0, steps=60, batch=32, lr=0.1, models=2)
    assert res.params["A"].shape == (2, 2, 2)
    for i in range(2):
        assert float(model.exact_loss(model.unstack(res.params, i), "unitary")) < 1e-2 * 3 * 2


def test_sampled_sequences_keep_the_recursions_draws() -> None:
    """The closed-form trajectories in ``sample_sequences`` consume the same random draws as building ``W`` and
    running the recursion: same seed, same data (to round-off), for both commuting cases."""
    from numerics import samplers as S

    a, b = np.random.default_rng(4), np.random.default_rng(4)
    w, _ = S.commuting_family(6).sample(50, rng=a)
    ref = S.sequences(w, S.initial_states(50, 6, "torus", rng=a), 12)
    got = model.sample_sequences("orthogonal", 50, 6, 12, rng=b).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12, rtol=0)
    _, w = S.unitary_diagonal(50, 3, rng=a)
    ref = S.sequences(w, S.initial_states(50, 3, "torus", rng=a, complex_valued=True), 12)
    np.testing.assert_allclose(model.sample_sequences("unitary", 50, 3, 12, rng=b).numpy(), ref, atol=1e-12, rtol=0)


def test_batched_forward_and_chunked_sum_equal_per_model_passes() -> None:
    """Stacked parameters (M, …) with data (M, n, T+1, d) give each model's own pass; chunking the model axis
    changes neither the summed loss nor its gradient."""
    from numerics.optimize import chunked_model_sum

    M, H, d, T = 5, 2, 4, 5
    g = torch.Generator().manual_seed(3)
    per = [model.init_params(H, d, T, scale=0.5, generator=g) for _ in range(M)]
    stacked = {k: torch.stack([p[k] for p in per]).requires_grad_(True) for k in per[0]}
    data = model.sample_sequences("haar", M * 7, d, T, rng=np.random.default_rng(2)).reshape(M, 7, T + 1, d)
    pred = model.predict_fast(stacked, data)
    for m in range(M):
        assert torch.allclose(pred[m], model.predict(per[m], data[m]), atol=1e-12, rtol=0)
    sums = {}
    for chunk in (1, 2, M):
        total = chunked_model_sum(model.sampled_loss, stacked, data, chunk)
        sums[chunk] = (float(total), torch.autograd.grad(total, list(stacked.values())))
    for chunk in (1, 2):
        assert abs(sums[chunk][0] - sums[M][0]) < 1e-12 * sums[M][0]
        for ga, gb in zip(sums[chunk][1], sums[M][1]):
            assert torch.allclose(ga, gb, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="chunk must be a positive integer"):
        chunked_model_sum(model.sampled_loss, stacked, data, 0)
    with pytest.raises(ValueError, match="shapes do not match"):
        model.predict_fast(stacked, data[:3])


@settings(max_examples=settings.default.max_examples // 3, deadline=None)  # ~0.6 s an example: a third of the profile's count
@given(d=st.integers(2, 4), T=st.integers(3, 6), seed=seeds())
def test_property_head_counts_trained_at_once_reach_their_minima(d: int, T: int, seed: int) -> None:
    """Every head count 1..d+1 in one batched sampled training (zero-padded heads): each model reaches its own
    minimum (T−1)·max(d−H, 0) of the exact loss, and the padding heads are still exactly zero."""
    heads = list(range(1, d + 2))
    res = model.fit_sampled("unitary", d, heads, T, seed=seed % 2**31, steps=120, batch=64, lr=0.1, models=len(heads))
    zero = (T - 1) * d
    for m, h in enumerate(heads):
        p = model.unstack(res.params, m)
        gap = float(model.exact_loss(p, "unitary")) - na.loss_u_minimum(d, h, T)
        assert -1e-9 <= gap <= 1e-3 * zero, (h, gap)            # the claim's bound (sander.non-aug.heads-u.sampled)
        assert not p["A"][h:].any() and not p["B"][h:].any()
    with pytest.raises(ValueError, match="one per model"):
        model.fit_sampled("unitary", d, heads, T, seed=0, steps=1, batch=4, lr=0.1, models=len(heads) + 1)


def test_compiled_sampled_training_equals_eager() -> None:
    """``compile_loss=True`` (torch.compile, fused kernels) trains the same models as the eager pass, to float64
    round-off accumulated over the steps; a different seed must not agree (the comparison can fail)."""
    kw = dict(steps=15, batch=16, lr=1e-2, models=3)
    eager = model.fit_sampled("orthogonal", 4, 2, 4, seed=5, **kw)
    compiled = model.fit_sampled("orthogonal", 4, 2, 4, seed=5, compile_loss=True, **kw)
    other = model.fit_sampled("orthogonal", 4, 2, 4, seed=6, **kw)
    for k in eager.params:
        assert torch.allclose(compiled.params[k], eager.params[k], atol=1e-10, rtol=0), k
    assert not torch.allclose(other.params["P"], eager.params["P"], atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# property tests: L-BFGS on the exact loss reaches the predicted minimum and structure
# ----------------------------------------------------------------------------------------------------------------


@given(d=st.integers(2, 4), extra=st.integers(-2, 2), T=st.integers(3, 6), seed=seeds())
def test_property_case_u_minimum(d: int, extra: int, T: int, seed: int) -> None:
    H = max(1, d + extra)
    res = model.fit_exact("unitary", d, H, T, seed=seed % 2**31)
    target = na.loss_u_minimum(d, H, T)
    assert res.loss - target <= 1e-8 * max(1.0, target), res.attempts
    C = model.attention_product(res.params).numpy()
    inv = na.structure_u(C, res.params["P"].numpy(), H=H)
    assert na.max_deviation(inv) < 1e-3, inv


@settings(max_examples=settings.default.max_examples * 2 // 3)  # ~0.6 s an example: two thirds of the profile's count
@given(half=st.integers(1, 3), extra=st.integers(-1, 1), T=st.integers(3, 6), seed=seeds())
def test_property_case_o_minimum(half: int, extra: int, T: int, seed: int) -> None:
    d = 2 * half
    H = max(1, half + extra)
    res = model.fit_exact("orthogonal", d, H, T, seed=seed % 2**31, max_iter=1500)
    target = na.loss_o_minimum(d, H, T)
    assert res.loss - target <= 1e-8 * max(1.0, target), res.attempts
    assert res.loss >= target - 1e-9
    if 2 * H >= d:
        C = model.attention_product(res.params).numpy()
        inv = na.structure_o(C, res.params["P"].numpy(), H=H)
        assert na.max_deviation(inv) < 1e-3, inv


@given(st.sampled_from(["unitary", "orthogonal", "haar"]), st.integers(1, 4), st.integers(1, 3), st.integers(2, 7),
       st.integers(0, 2**31 - 1))
def test_fast_forward_equals_head_by_head(case: str, k: int, H: int, T: int, seed: int) -> None:
    """``predict_fast`` (grouped through C = BᵀA) equals the head-by-head ``predict`` to float64 round-off."""
    d = 2 * k
    rng = np.random.default_rng(seed)
    params = model.init_params(H, d, T, scale=1.0, generator=torch.Generator().manual_seed(seed))
    seqs = model.sample_sequences(case, 5, d, T, rng=rng)
    ref = model.predict(params, seqs)
    assert torch.allclose(model.predict_fast(params, seqs), ref, atol=1e-12 * (1 + float(ref.abs().max())), rtol=0)
    # and a different C must not agree (the comparison can fail)
    other = dict(params, A=params["A"] + 0.1)
    assert not torch.allclose(model.predict_fast(other, seqs), ref, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# planted bugs: the exact claims of proofs_check.claims.sander_non_augmented_exact FAIL (issue #12)
# ----------------------------------------------------------------------------------------------------------------


def _exact_check_error(claim_id: str) -> tuple[float, float]:
    from proofs_check.claim import RunContext
    from proofs_check.registry import load_all

    claim = load_all().get(claim_id)
    m = claim.check(RunContext(profile="quick", seed=claim.seed, role="check"))
    return m.error, claim.tolerance.bound


def test_row_gram_with_half_linear_term_fails(monkeypatch) -> None:
    """``b = ρ²/4 · Σ S_k`` (the loss's own coefficient) instead of ``ρ²/8`` in ``ℓ_r = pᵀGp − 2bᵀp + c``."""
    original = na.loss_o_row_gram

    def planted(C, n_keys, q, *, radius_sq=2.0):
        G, b, const = original(C, n_keys, q, radius_sq=radius_sq)
        return G, 2 * b, const

    monkeypatch.setattr(na, "loss_o_row_gram", planted)
    err, bound = _exact_check_error("sander.non-aug.closed-forms.quadrature")
    assert err > 3 * bound


def test_structure_ignoring_the_radius_fails(monkeypatch) -> None:
    original = na.structure_o
    monkeypatch.setattr(na, "structure_o", lambda C, P, **kw: original(C, P, **{**kw, "radius_sq": 2.0}))
    err, bound = _exact_check_error("sander.non-aug.structure.calibration")
    assert err > 3 * bound


def test_orthogonal_py_without_block_terms_fails(monkeypatch) -> None:
    """A transcription of orthogonal.py that lost its block terms t3, t4 (it is then the case-U loss)."""
    monkeypatch.setattr(na, "loss_o_reference", lambda C, P, per_row=False: na.loss_u(C, P, per_row=per_row))
    err, bound = _exact_check_error("sander.non-aug.finding.reference-formulas")
    assert err > 3 * bound


def test_row_optimum_with_column_norm_fails(monkeypatch) -> None:
    """``d − tr(C)²/‖C𝟙‖²`` (the query-weight norm) in place of ``d − tr(C)²/‖C‖_F²``."""
    def planted(C):
        C = np.asarray(C, dtype=float)
        return C.shape[-1] - np.trace(C, axis1=-2, axis2=-1) ** 2 / np.maximum((C.sum(-1) ** 2).sum(-1), 1e-300)

    monkeypatch.setattr(na, "loss_u_row_optimum", planted)
    err, bound = _exact_check_error("sander.non-aug.optima.least-squares")
    assert err > 3 * bound
