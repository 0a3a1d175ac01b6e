"""Claims of Sander et al. (2024, arXiv:2402.05787) for augmented tokens: the in-context mapping is one GD step.

Derivations of every closed form: ``docs/sander-augmented.md``.  The paper's body was not available when this
was written: theorem/section numbers and the paper's normalisation and ``s_0`` law are UNCONFIRMED; the token
layout ``(0_d, s_t, s_{t-1})`` is the authors' code's.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import sympy as sp
import torch

from numerics import samplers
from numerics.models import sander_augmented as model
from numerics.statistics import Estimate, mean_estimate, paired_difference, ratio_estimate
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.figures import Series, compare_figure, heatmap, pyplot
from proofs_check.papers import SANDER
from proofs_check.registry import register
from theory.sander import augmented as th

U_UNCONFIRMED = ("UNCONFIRMED: the paper's s_0 law and normalisation (this suite: phase-invariant s_0, no 1/t)",)
Z_BOUND = Tolerance(5.0, "5 standard errors of each Monte-Carlo mean (two-sided false alarm 5.7e-7 per "
                         "comparison under the normal approximation; below 1e-4 for the whole grid by the union "
                         "bound; optimistic for Gaussian s_0, whose statistics have heavy tails)", origin="standard-errors")

# ---------------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------------


def _case_u_states(n: int, d: int, t_max: int, rng: np.random.Generator, *, s0_law: str = "torus",
                   mu: float = 1.0) -> np.ndarray:
    _, w = samplers.unitary_diagonal(n, d, rng=rng, mu=mu)
    s0 = samplers.initial_states(n, d, s0_law, rng=rng, complex_valued=True)  # type: ignore[arg-type]
    return samplers.sequences(w, s0, t_max, check_orthogonal=False)


def _case_o_states(n: int, d: int, t_max: int, rng: np.random.Generator, *, s0_law: str = "torus",
                   mu: float = 1.0, basis: np.ndarray | None = None) -> np.ndarray:
    fam = samplers.CommutingFamily(basis=np.eye(d) if basis is None else basis, mu=mu)
    w, _ = fam.sample(n, rng=rng)
    s0 = samplers.initial_states(n, d, s0_law, rng=rng, block_radius=1.0)  # type: ignore[arg-type]
    return samplers.sequences(w, s0 @ fam.basis.T, t_max, check_orthogonal=False)


def gd_statistics(states: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sequence: ``‖S_t s_t‖²``, ``Re⟨s_{t+1}, S_t s_t⟩`` and ``‖s_{t+1}‖²`` (the MC samples of a_t, b_t, c)."""
    v = th.one_step_prediction(states[:, : t + 1], 1.0)
    nxt = states[:, t + 1]
    return (np.sum(np.abs(v) ** 2, axis=1), np.real(np.sum(np.conj(nxt) * v, axis=1)),
            np.sum(np.abs(nxt) ** 2, axis=1))


def z_score(samples: np.ndarray, expected: float) -> float:
    """How many standard errors the MC mean of ``samples`` lies from ``expected`` (:mod:`numerics.statistics`).

    Samples that are constant up to float64 round-off (e.g. torus ``s_0`` at ``t = 1``, where
    ``η_1* ‖S_1 s_1‖² = Re⟨s_2, S_1 s_1⟩`` holds sample by sample) have no standard error: their gap is compared with
    the round-off bound ``1e-9·scale`` instead and reported in the same units, ``Z_BOUND`` times gap/round-off bound
    (finite; within the tolerance iff the gap is within round-off).
    """
    est = mean_estimate(samples)
    gap = abs(est.value - expected)
    scale = max(1.0, float(np.mean(np.abs(samples))), abs(expected))
    if est.se <= 1e-9 * scale:
        return Z_BOUND.bound * gap / (1e-9 * scale)
    return est.z(expected)


# ---------------------------------------------------------------------------------------------------------
# S-A1: the forward pass with block parameters is one GD step on the inner objective
# ---------------------------------------------------------------------------------------------------------


def _symbolic_block_output(states: list, vv: sp.Matrix, mm: sp.Matrix, *, swapped: bool) -> sp.Matrix:
    """The sympy attention output at the last position for block parameters (or, ``swapped``, the value reading
    slot 3 and the key slot 2)."""
    d = vv.shape[0]
    w_v, w_kq = th.block_parameters_sym(vv, mm)
    if swapped:  # value reads slot 3 (s_{i-1}), key reads slot 2 (s_i)
        w_v, w_kq = sp.zeros(3 * d, 3 * d), sp.zeros(3 * d, 3 * d)
        w_v[0:d, 2 * d:3 * d] = vv
        w_kq[d:2 * d, d:2 * d] = mm
    return th.attention_output_sym(th.augmented_tokens_sym(states), w_v, w_kq)


def _identity_measure(ctx: RunContext, *, swapped: bool) -> Measurement:
    d = 2
    v_s, m_s = sp.symbols("v m")
    big_v = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"V{i}{j}"))
    big_m = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"M{i}{j}"))
    residuals = []
    for t in (0, 2):  # the first position (S_0 = 0: no prediction) and a later one
        states = th.symbolic_sequence(d, t, complex_valued=True)
        tokens = th.augmented_tokens_sym(states)
        s_ctx = th.context_matrix_sym(states)
        for vv, mm, target in ((v_s * sp.eye(d), m_s * sp.eye(d), th.one_step_prediction_sym(states, v_s * m_s)),
                               (big_v, big_m, big_v * s_ctx * big_m * states[-1])):
            out = _symbolic_block_output(states, vv, mm, swapped=swapped)
            residuals.append(sp.expand(out[0:d, 0] - target))
            residuals.append(sp.expand(out[d:3 * d, 0] - tokens[-1][d:3 * d, 0]))
        grad = th.inner_gradient_at_zero_sym(states, complex_valued=True)
        residuals.append(sp.expand(grad + s_ctx))
        # L_t vanishes at the true W on the model's own sequence s_i = W^i s_0
        w_true = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"W{i}{j}"))
        residuals.append(sp.Matrix([sp.expand(th.inner_objective_sym(
            w_true, [w_true**i * states[0] for i in range(t + 1)]))]))
        real_states = th.symbolic_sequence(d, t, complex_valued=False)  # the real objective (cases O, Haar)
        residuals.append(sp.expand(th.inner_gradient_at_zero_sym(real_states, complex_valued=False)
                                   + th.context_matrix_sym(real_states)))
    sym_nonzero = sum(int(any(e != 0 for e in r)) for r in residuals)
    # the sympy output (generic states s_0..s_2, random V, M) at numbers against the torch model at position 2
    rng = ctx.rng(2)
    states = th.symbolic_sequence(d, 2, complex_valued=True)
    numbers = rng.standard_normal((4, d)) + 1j * rng.standard_normal((4, d))  # s_0..s_3
    v_num, m_num = (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d)) for _ in range(2))
    subs = {}
    for i, col in enumerate(states):
        for k in range(d):
            re_sym, im_sym = sorted(col[k].free_symbols, key=lambda x: "_im" in x.name)
            subs.update({re_sym: numbers[i, k].real, im_sym: numbers[i, k].imag})
    sym_out = _symbolic_block_output(states, sp.Matrix(v_num), sp.Matrix(m_num), swapped=swapped)
    sym_pred = np.array([complex(sp.N(sym_out[k, 0].subs(subs))) for k in range(d)])
    torch_pred = model.predict(model.embed_blocks(torch.as_tensor(v_num), torch.as_tensor(m_num)),
                               torch.as_tensor(numbers[None]))[0, 2].numpy()
    sym_vs_torch = float(np.max(np.abs(sym_pred - torch_pred)) / np.max(np.abs(torch_pred)))
    # float64: the torch model against the numpy one-step map on random sequences (complex U and real Haar)
    rng = ctx.rng(1)
    rel = []
    for is_complex in (True, False):
        dd, tt, n = 4, 12, 64
        if is_complex:
            st = _case_u_states(n, dd, tt, rng, s0_law="gaussian")
        else:
            st = samplers.sequences(samplers.haar_orthogonal(dd, n, rng=rng), rng.standard_normal((n, dd)), tt)
        eta = 0.3
        x = samplers.to_torch(st)
        eye = torch.eye(dd, dtype=x.dtype)
        if swapped:
            params = {"W_KQ": torch.zeros(3 * dd, 3 * dd, dtype=x.dtype), "W_V": torch.zeros(3 * dd, 3 * dd, dtype=x.dtype)}
            params["W_V"][0:dd, 2 * dd:] = eye
            params["W_KQ"][dd:2 * dd, dd:2 * dd] = eta * eye
        else:
            params = model.embed_blocks(eye, eta * eye)
        pred = model.predict(params, x).numpy()
        gd = np.stack([th.one_step_prediction(st[:, : k + 1], eta) for k in range(tt)], axis=1)
        rel.append(float(np.max(np.abs(pred - gd)) / np.max(np.abs(gd))))
        # the same step as 0 − η ∇L_t(0) from the hand-written gradient, and that gradient against central
        # differences of L_t at a random Ŵ (exact for a quadratic with step h = 1, up to round-off)
        zero = np.zeros((n, dd, dd))
        step = np.stack([np.einsum("nab,nb->na", -eta * th.inner_gradient(zero, st[:, : k + 1]), st[:, k])
                         for k in range(tt)], axis=1)
        rel.append(float(np.max(np.abs(pred - step)) / np.max(np.abs(step))))
        w_hat = rng.standard_normal((n, dd, dd)) + (1j * rng.standard_normal((n, dd, dd)) if is_complex else 0.0)
        grad = th.inner_gradient(w_hat, st)
        fd = np.zeros_like(grad)
        for a, b in np.ndindex(dd, dd):
            e = np.zeros((dd, dd))
            e[a, b] = 1.0
            for direction in ((1.0, 1j) if is_complex else (1.0,)):
                diff = th.inner_objective(w_hat + direction * e, st) - th.inner_objective(w_hat - direction * e, st)
                fd[:, a, b] += direction * diff / 2
        rel.append(float(np.max(np.abs(grad - fd)) / np.max(np.abs(grad))))
    err = max(float(sym_nonzero), sym_vs_torch, *rel)
    return Measurement(
        error=err, expected=0.0, observed={"symbolic residuals not identically 0": sym_nonzero,
                                           "sympy output vs torch model (rel)": sym_vs_torch, "float64 rel": rel},
        compared=("slot 1 of the attention output vs η S_t s_t (sympy, d=2, t ∈ {0, 2}, generic complex states; "
                  "V=vI,M=mI and general V,M), slots 2-3 vs e_t, ∇L_t(0) vs −S_t; the sympy output at random complex "
                  "states and V, M vs the torch model at position 2; then the torch model vs "
                  "the numpy one-step map and vs 0 − η inner_gradient(0), and inner_gradient at a random Ŵ vs "
                  "central differences of inner_objective (float64, d=4, T=12, complex U and real Haar)"),
        details={"symbolic_residual_count": sym_nonzero, "float64_relative_errors": rel})


register(Claim(
    id="sander.aug.one-step-identity", paper=SANDER,
    reference="Section 3 (augmented tokens), in-context mapping = one GD step (proposition number UNCONFIRMED)",
    statement=("With W_V = V on (slot 2 → slot 1) and W_KQ = M on (key slot 3, query slot 2), the layer predicts "
               "V S_t M s_t; with V = vI, M = mI this is Ŵ s_t for Ŵ = 0 − vm ∇L_t(0) = vm S_t, one GD step "
               "on L_t(Ŵ) = ½Σ‖s_i − Ŵ s_{i−1}‖² (real gradient of the complex objective)."),
    kind="identity", check=lambda ctx: _identity_measure(ctx, swapped=False),
    control=lambda ctx: _identity_measure(ctx, swapped=True),
    control_description="value and key slots swapped (value reads s_{i−1}, key reads s_i): Σ s_{i−1} s_i^* s_t is not GD",
    tolerance=Tolerance(1e-10, "exact in sympy (count of non-zero residuals must be 0); float64 round-off of "
                               "length-12 sums of products of unit-scale entries ~1e-14, bound 1e-10", origin="round-off"),
    seed=20240201,
    route="sympy expansion of the attention output built from the token matrices (not from the GD formula), and the torch forward pass against the numpy one-step map"))


# ---------------------------------------------------------------------------------------------------------
# S-A2 (+ S-A5 moments): symbolic moments by constant-term extraction vs the closed forms
# ---------------------------------------------------------------------------------------------------------

_SYM_CASES = (("U", 2, 1), ("U", 2, 3), ("U", 3, 2), ("U", 3, 3), ("O", 2, 3), ("O", 4, 2), ("O", 4, 3))


def _symbolic_moments_measure(ctx: RunContext, *, swap_cases: bool) -> Measurement:
    bad, rows = 0, []
    for case, d, t in _SYM_CASES:
        got = th.symbolic_moments(case, d, t)  # type: ignore[arg-type]
        formula_case = ("O" if case == "U" else "U") if swap_cases else case
        want = [e.subs({th.D_: d, th.T_: t}) for e in th.moment_exprs(formula_case)]  # type: ignore[arg-type]
        diffs = [sp.simplify(g - w) for g, w in zip(got, want)]
        bad += sum(int(df != 0) for df in diffs)
        rows.append({"case": case, "d": d, "t": t, "a_t": str(got[0]), "b_t": str(got[1]), "c": str(got[2])})
    return Measurement(error=float(bad), expected=0, observed=bad,
                       compared="(a_t, b_t, E‖s_{t+1}‖²) from explicit sequences (constant terms) vs the closed forms "
                                "in (d, t, m2, m4, m6); count of differing entries",
                       details={"symbolic": rows})


register(Claim(
    id="sander.aug.moments.symbolic", paper=SANDER, reference="constants of the one-step optimum (derived; docs/sander-augmented.md)",
    statement=("Case U: a_t = E‖S_t s_t‖² = d m6 t² + d(d−1) m2 m4 t, b_t = d m4 t, c = d m2. Case O: a_t = p t "
               "(ρ6 (t+1)/4 + (p−1) ρ2ρ4/2), b_t = p ρ4 t/2, c = p ρ2 (p = d/2, ρ = moments of the squared block radius)."),
    kind="symbolic", check=lambda ctx: _symbolic_moments_measure(ctx, swap_cases=False),
    control=lambda ctx: _symbolic_moments_measure(ctx, swap_cases=True),
    control_description="the other case's constants (complex U vs real O, the d ↔ d/2 pitfall)",
    tolerance=Tolerance(0.0, "exact symbolic equality: no entry may differ", origin="exact"), seed=11, rests_on=U_UNCONFIRMED,
    route="sympy constant-term extraction over explicit symbolic sequences s_t = W^t s_0, independent of the closed-form moment expressions"))


# ---------------------------------------------------------------------------------------------------------
# S-A2 / S-A5: Monte-Carlo moments; S-A3 / S-A5: the optimal step is stationary and its loss is the closed form
# ---------------------------------------------------------------------------------------------------------

_LAWS_U = {"torus": th.TORUS, "gaussian": th.COMPLEX_GAUSSIAN}
_LAWS_O = {"torus": th.fixed_radius(1.0), "gaussian": th.REAL_GAUSSIAN_BLOCKS}


def _grid(ctx: RunContext, case: str) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    if case == "U":
        return ((2, 3, 5), (1, 2, 4, 8), 20_000) if ctx.quick else ((2, 3, 4, 5, 6), (1, 2, 4, 6, 8, 10), 200_000)
    return ((2, 4, 6), (1, 3, 5), 20_000) if ctx.quick else ((2, 4, 6, 8), (1, 2, 3, 5, 8, 10), 200_000)


def _draw(case: str, n: int, d: int, t_max: int, rng: np.random.Generator, law: str, mu: float) -> np.ndarray:
    if case == "U":
        return _case_u_states(n, d, t_max, rng, s0_law=law, mu=mu)
    return _case_o_states(n, d, t_max, rng, s0_law=law, mu=mu)


def _eta_figure(ctx: RunContext, case: str, points: dict[tuple[str, int], list[tuple[int, Estimate]]]) -> list[str]:
    """η_t* = b_t/a_t against t: the closed form (lines, every integer t) and the Monte-Carlo ratio of means
    (points, ± 2 delta-method standard errors), one panel per s_0 law, one colour per d."""
    laws = _LAWS_U if case == "U" else _LAWS_O
    panels = []
    for law_name, law in laws.items():
        series = []
        for (name, d), pts in points.items():
            if name != law_name:
                continue
            t_all = np.arange(1, max(t for t, _ in pts) + 1)
            series.append(Series(f"d = {d}: b_t/a_t", t_all, [th.optimal_step(case, d, int(t), law) for t in t_all],
                                 group=str(d)))  # type: ignore[arg-type]
            series.append(Series(f"d = {d}: Monte Carlo ± 2 SE", [t for t, _ in pts], [e.value for _, e in pts],
                                 kind="points", yerr=[2 * e.se for _, e in pts], group=str(d)))
        panels.append((f"s_0 law: {law_name}", series))
    fig = compare_figure(panels, xlabel="position t", ylabel="optimal step η_t*", integer_x=True, logy=True,
                         title=f"Augmented tokens, case {case}: optimal one-step size against t")
    path = ctx.save_figure(fig, f"sander-aug-eta-vs-t-{case.lower()}")
    return [path] if path else []


def _mc_measure(ctx: RunContext, case: str, *, what: str, mu: float = 1.0, eta_factor: float = 1.0) -> Measurement:
    dims, ts, n = _grid(ctx, case)
    laws = _LAWS_U if case == "U" else _LAWS_O
    rng = ctx.rng(2)
    worst, rows = 0.0, []
    eta_points: dict[tuple[str, int], list[tuple[int, Estimate]]] = {}
    for law_name, law in laws.items():
        for d in dims:
            st = _draw(case, n, d, max(ts) + 1, rng, law_name, mu)
            x_sum = y_sum = c_sum = 0.0
            for t in ts:
                x, y, c = gd_statistics(st, t)
                a, b, c_exp = th.moments(case, d, t, law)  # type: ignore[arg-type]
                if what == "moments":
                    zs = {"a": z_score(x, a), "b": z_score(y, b), "c": z_score(c, c_exp)}
                else:
                    eta_points.setdefault((law_name, d), []).append((t, ratio_estimate(y, x)))
                    eta = eta_factor * th.optimal_step(case, d, t, law)  # type: ignore[arg-type]
                    best = th.optimal_loss(case, d, t, law)  # type: ignore[arg-type]
                    zs = {"stationarity": z_score(eta * x - y, 0.0),
                          "loss": z_score(eta**2 * x - 2 * eta * y + c, best)}
                    x_sum, y_sum, c_sum = x_sum + x, y_sum + y, c_sum + c
                rows.append({"law": law_name, "d": d, "t": t, **{k: round(v, 3) for k, v in zs.items()}})
                worst = max(worst, *zs.values())
            if what == "optimum":  # one step shared by the positions ts
                eta_s, loss_s = th.shared_optimum(case, d, ts, law)  # type: ignore[arg-type]
                eta_s *= eta_factor
                zs = {"shared_stationarity": z_score(eta_s * x_sum - y_sum, 0.0),
                      "shared_loss": z_score(eta_s**2 * x_sum - 2 * eta_s * y_sum + c_sum, loss_s)}
                rows.append({"law": law_name, "d": d, "t": "shared", **{k: round(v, 3) for k, v in zs.items()}})
                worst = max(worst, *zs.values())
    return Measurement(error=worst, expected="|z| ≤ 5 everywhere", observed=round(worst, 3),
                       compared=(f"case {case}: largest |z| of the MC means vs the closed forms over d ∈ {dims}, "
                                 f"t ∈ {ts}, s_0 laws {list(laws)}, N = {n} sequences each"),
                       details={"rows": rows, "mu": mu, "eta_factor": eta_factor},
                       figures=_eta_figure(ctx, case, eta_points) if eta_points and ctx.role == "check" else [])


for _case, _ref, _stmt_m in (
        ("U", "Section 3, commuting unitary W (case U)",
         "a_t = d(m6 t² + (d−1) m2 m4 t), b_t = d m4 t, c = d m2 for θ iid uniform and phase-invariant s_0 (torus: m=1; CN(0,I): m4=2, m6=6)"),
        ("O", "Section 3, commuting orthogonal W (case O, 2x2 rotation blocks)",
         "a_t = p t(ρ6(t+1)/4 + (p−1)ρ2ρ4/2), b_t = pρ4 t/2, c = pρ2 (p = d/2; fixed block radius r: η_t* = 2/(r²(t+d−1)))")):
    register(Claim(
        id=f"sander.aug.moments-{_case.lower()}.mc", paper=SANDER, reference=_ref, statement=_stmt_m,
        kind="monte-carlo", check=lambda ctx, c=_case: _mc_measure(ctx, c, what="moments"),
        control=lambda ctx, c=_case: _mc_measure(ctx, c, what="moments", mu=4.0),
        control_description="angles θ ~ U[0, π/2) (μ = 4) instead of U[0, 2π): the closed forms must miss",
        tolerance=Z_BOUND, seed=31 if _case == "U" else 37, rests_on=U_UNCONFIRMED,
    route="Monte Carlo over sampled sequences (numerics.samplers), standard errors from numerics.statistics"))
    register(Claim(
        id=f"sander.aug.optimum-{_case.lower()}.mc", paper=SANDER, reference=_ref + "; optimal one-step size",
        statement=("η_t* = b_t/a_t is a stationary point of the MC loss E‖η S_t s_t − s_{t+1}‖² and the loss there "
                   "is c − b_t²/a_t (case U torus: d(d−1)/(t+d−1); case O radius r: r²(d/2)(d−1)/(t+d−1)); one η "
                   "shared over positions: η* = Σb_t/Σa_t with loss Σc − (Σb_t)²/Σa_t."),
        kind="monte-carlo", check=lambda ctx, c=_case: _mc_measure(ctx, c, what="optimum"),
        control=lambda ctx, c=_case: _mc_measure(ctx, c, what="optimum", eta_factor=1.2),
        control_description="the step perturbed by +20 % (1.2 η*): neither stationary nor at the optimal loss",
        tolerance=Z_BOUND, seed=41 if _case == "U" else 43, rests_on=U_UNCONFIRMED,
    route="Monte Carlo over sampled sequences: the sampled loss and its derivative at the closed-form step"))


# ---------------------------------------------------------------------------------------------------------
# S-A4: general V, M on the exact population loss → VM scalar, loss at the scalar optimum
# ---------------------------------------------------------------------------------------------------------


def _general_vm_measure(ctx: RunContext, *, s0: str) -> Measurement:
    configs: list[tuple[int, tuple[int, ...], th.RadialMoments, str]]
    if s0 == "ones":
        configs = [(3, (4,), th.TORUS, "ones")]
    else:
        configs = [(3, (4,), th.TORUS, "torus"), (3, (4,), th.COMPLEX_GAUSSIAN, "gaussian"),
                   (3, (1, 2, 3, 4, 5), th.TORUS, "torus")]
        if not ctx.quick:
            configs += [(5, (10,), th.TORUS, "torus"), (4, (1, 2, 3, 4, 5, 6), th.COMPLEX_GAUSSIAN, "gaussian")]
    gen = torch.Generator().manual_seed(ctx.torch_seed(3))
    worst, rows = 0.0, []
    for d, pos, law, name in configs:
        tensors = th.restricted_tensors_u(d, pos, s0="ones" if s0 == "ones" else "phase_invariant", law=law)
        eta, best = th.shared_optimum("U", d, pos, law)
        v, m, res = model.train_restricted_population(tensors, generator=gen, target=None if s0 == "ones" else best,
                                                      device=ctx.device)
        vm = v @ m
        dist = th.distance_to_identity(vm)
        gap = abs(res.loss - best) / best
        step = abs(np.trace(vm) / d - eta) / eta
        worst = max(worst, dist, gap, step)
        rows.append({"d": d, "positions": list(pos), "s0": name, "loss": res.loss, "scalar optimum": best,
                     "dist_to_identity(VM)": dist, "tr(VM)/d": complex(np.trace(vm) / d).real, "eta*": eta,
                     "lbfgs_attempts": res.attempts})
    return Measurement(error=worst, expected="VM = η* I and loss = scalar optimum", observed=rows,
                       compared=("max over configurations of ‖VM − (tr VM/d)I‖_F/‖VM‖_F, |tr(VM)/d − η*|/η* and "
                                 "|loss − scalar optimum|/optimum after L-BFGS on the exact case-U population loss"),
                       details={"rows": rows})


register(Claim(
    id="sander.aug.general-vm.exact", paper=SANDER,
    reference="Section 3: optimality of one GD step within the block family (theorem number UNCONFIRMED)",
    statement=("Over general complex V, M (ŝ = V S_t M s_t), the exact case-U population loss with phase-invariant "
               "s_0 is minimised at VM = η* I with the one-step loss (per position and with one V, M shared over positions)."),
    kind="trained", check=lambda ctx: _general_vm_measure(ctx, s0="phase_invariant"),
    control=lambda ctx: _general_vm_measure(ctx, s0="ones"),
    control_description=("deterministic s_0 = 1_d (d=3, t=4): the general optimum is not scalar (loss ≈ 0.864 < "
                         "scalar 1.000, VM has off-diagonal entries)"),
    tolerance=Tolerance(1e-5, "exact float64 population loss, L-BFGS to gradient 1e-12 with saddle restarts: "
                              "loss gaps ~1e-14, parameter errors ~1e-7", origin="optimiser-gap"),
    seed=53, rests_on=U_UNCONFIRMED,
    finding=("Deterministic s_0 = 1_d (as in the authors' population scripts) breaks the one-GD-step optimality "
             "in case U: general V, M reach 0.864 (d=3, t=4) against 1.000 for any scalar VM, with "
             "‖VM − (tr VM/d)I‖/‖VM‖ ≈ 0.22. The one-step form needs a phase-invariant s_0 law."),
    route="L-BFGS over general complex V, M on the exact population tensors (the restricted model's loss, not the scalar closed form), compared with the scalar optimum",))


# ---------------------------------------------------------------------------------------------------------
# Trained full model (full 3d x 3d W_KQ, W_V) on sampled case-U sequences
# ---------------------------------------------------------------------------------------------------------


def _pool(sample: Callable[[int, np.random.Generator], np.ndarray], n: int, rng: np.random.Generator,
          device: str) -> torch.Tensor:
    return samplers.to_torch(sample(n, rng), device=device)


def _train_full(ctx: RunContext, sample: Callable[[int, np.random.Generator], np.ndarray], d: int, *,
                complex_valued: bool, steps: int, batch: int = 256, lr: float = 0.02) -> tuple[model.Params, float]:
    rng = ctx.rng(4)
    pool = _pool(sample, 2**14, rng, ctx.device)
    gi = torch.Generator().manual_seed(ctx.torch_seed(5))
    gen = torch.Generator().manual_seed(ctx.torch_seed(6))

    def batch_of(_: int) -> torch.Tensor:
        return pool[torch.randint(0, pool.shape[0], (batch,), generator=gi).to(pool.device)]

    res = model.train_full_sampled(d, batch_of, steps=steps, lr=lr, generator=gen, complex_valued=complex_valued,
                                   device=ctx.device)
    return res.params, res.seconds


def _heatmap_figure(ctx: RunContext, params: model.Params, predicted: model.Params, name: str) -> list[str]:
    """|W_KQ|, |W_V| (balanced under the symmetry (cW_V, W_KQ/c)) and Re(VM), trained vs one GD step.

    Moduli are shown because a complex model sits at an arbitrary diagonal-unitary gauge (docs, "gauge").
    """
    plt = pyplot()

    def panels(p: model.Params) -> list[tuple[np.ndarray, str]]:
        w_v, w_kq = p["W_V"].detach().cpu().numpy(), p["W_KQ"].detach().cpu().numpy()
        c = np.sqrt(np.linalg.norm(w_kq) / np.linalg.norm(w_v))
        return [(np.abs(w_kq / c), "|W_KQ| (rows: key slots, cols: query slots)"), (np.abs(w_v * c), "|W_V|"),
                (np.real(model.block_products(p).vm), "Re(VM)")]

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    rows = (("trained", panels(params)), ("one GD step", panels(predicted)))
    for col in range(3):
        lim = max(np.abs(rows[0][1][col][0]).max(), np.abs(rows[1][1][col][0]).max())
        for row, (label, pan) in enumerate(rows):
            mat, title = pan[col]  # moduli (cols 0, 1) on a sequential map from 0; Re(VM) (col 2) diverging
            heatmap(fig, axes[row, col], mat, title=f"{label}: {title}", signed=col == 2, limit=lim)
    fig.suptitle("Augmented tokens: trained full layer vs one-GD-step parameters", fontsize=9)
    path = ctx.save_figure(fig, name)
    return [path] if path else []


def _full_u_setup(ctx: RunContext) -> tuple[int, int, int]:
    return (3, 6, 600) if ctx.quick else (4, 10, 3000)


_TRAINED_FULL_U: dict[tuple[int, str, str], tuple[model.Params, float]] = {}


def _full_trained_measure(ctx: RunContext, *, mean_of_steps: bool) -> Measurement:
    """How far the trained full layer *beats* one GD step, in paired held-out standard errors.

    In case U one GD step with the shared optimal step η* = Σb_t/Σa_t is the population optimum of the full layer
    (λ-degree argument, ``docs/sander-augmented.md``), so no trained model can beat it beyond sampling noise:
    the error is ``max(0, −z)`` with ``z`` the paired held-out difference (trained − one GD step) over its
    standard error.  The control compares with one GD step at the mean of the per-position optimal steps η_t*
    (the plausible mix-up for a shared step), which a well-trained layer beats by many standard errors.  The
    structure of the trained weights (VM ∝ I, the other products, the step tr(VM)/d) is reported in the details.
    """
    d, horizon, steps = _full_u_setup(ctx)

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        return _case_u_states(n, d, horizon, rng, s0_law="torus")

    key = (ctx.seed, ctx.profile, ctx.device)  # the check and its control measure one trained model
    if key not in _TRAINED_FULL_U:
        _TRAINED_FULL_U[key] = _train_full(ctx, sample, d, complex_valued=True, steps=steps)
    params, seconds = _TRAINED_FULL_U[key]
    eta_star, best = th.shared_optimum("U", d, range(horizon), th.TORUS)
    eta = (float(np.mean([th.optimal_step("U", d, t, th.TORUS) for t in range(1, horizon)])) if mean_of_steps
           else eta_star)
    prods = model.block_products(params)
    held = samplers.to_torch(sample(20_000, ctx.rng(7)), device=ctx.device)
    eye = torch.eye(d, dtype=held.dtype, device=held.device)
    gd_params = model.embed_blocks(eye, eta * eye)
    with torch.no_grad():
        def per_sequence(p: model.Params) -> np.ndarray:
            return ((model.predict(p, held) - held[:, 1:]).abs() ** 2).sum(dim=(-2, -1)).cpu().numpy()
        trained_loss, gd_loss = per_sequence(params), per_sequence(gd_params)
    diff = paired_difference(trained_loss, gd_loss)
    z = diff.value / diff.se
    vm_scale = complex(np.trace(prods.vm) / d)
    dist = th.distance_to_identity(prods.vm) if np.linalg.norm(prods.vm) > 0 else 1.0  # its largest value
    figures = [] if mean_of_steps else _heatmap_figure(ctx, params, gd_params, "sander-aug-trained-vs-gd")
    return Measurement(
        error=max(0.0, -z), expected=f"trained held-out loss ≥ that of one GD step at η = {eta:.5f} − 5 SE",
        observed={"trained - gd (paired)": f"{diff.value:.5f} ± {diff.se:.5f}", "z": round(z, 3),
                  "trained_loss": float(trained_loss.mean()), "gd_loss": float(gd_loss.mean()),
                  "dist_to_identity(VM)": dist, "off_block_ratio": prods.off_ratio, "tr(VM)/d": vm_scale.real},
        compared=(f"full 3d×3d W_KQ, W_V trained with Adam on case-U torus sequences (d={d}, T={horizon}, {steps} "
                  "steps, batch 256): paired held-out loss difference (trained − one GD step VM = ηI) over 20 000 "
                  "fresh sequences in standard errors, counted where the trained layer is better"),
        details={"train_seconds": seconds, "eta": eta, "eta_star": eta_star, "predicted_loss_at_eta_star": best,
                 "step_error |tr(VM)/d − η*|/η*": abs(vm_scale - eta_star) / eta_star}, figures=figures)


register(Claim(
    id="sander.aug.trained-full.u", paper=SANDER,
    reference="Section 3 and Fig. 5 analogue (figure content UNCONFIRMED): trained model = one GD step",
    statement=("In case U one GD step with the shared optimal step η* = Σb_t/Σa_t is the optimum of the full one-layer "
               "linear attention (3d×3d W_KQ, W_V): a full layer trained on case-U sequences does not beat it on "
               "held-out sequences, while it does beat one GD step at the mean of the per-position steps η_t*; the "
               "trained weights show the block structure VM ≈ η* I (details, heat map)."),
    kind="trained", check=lambda ctx: _full_trained_measure(ctx, mean_of_steps=False),
    control=lambda ctx: _full_trained_measure(ctx, mean_of_steps=True),
    control_description=("the same trained model against one GD step with the mean of the per-position optimal steps "
                         "η_t* = 1/(t+d−1) instead of the shared optimum Σb_t/Σa_t"),
    tolerance=Tolerance(5.0, ("5 standard errors of the paired held-out loss difference (20 000 sequences; one-sided "
                              "normal false alarm 3e-7): the trained layer may not beat the optimum by more than "
                              "sampling noise"), origin="standard-errors"),
    seed=61, rests_on=U_UNCONFIRMED,
    route=("Adam on sampled sequences through the torch forward pass of the full 3d x 3d layer; held-out loss "
           "measured by sampling through the forward pass, paired with one GD step")))


# ---------------------------------------------------------------------------------------------------------
# S-A6 / S-X1 (measured): non-commuting Haar W
# ---------------------------------------------------------------------------------------------------------


def _haar_measure(ctx: RunContext, *, s0_law: str) -> Measurement:
    """Whether the trained VM's part off the identity carries held-out loss, in paired standard errors.

    ``M`` is replaced by ``(tr(VM)/d) V⁻¹`` so that ``VM`` becomes its scalar part (every other block kept; the
    products of ``M`` with the other value slots move by ``V⁻¹`` times the removed part); the error is
    ``max(0, z)`` with ``z`` the paired held-out loss difference (projected − trained) over its standard error.
    For an O(d)-invariant law (Haar W, isotropic s_0) the optimal VM commutes with O(d), i.e. is scalar, and the
    removed part is optimiser noise; a structural part (fixed s_0) costs loss.
    """
    d, horizon, steps = (3, 6, 600) if ctx.quick else (5, 10, 4000)

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        w = samplers.haar_orthogonal(d, n, rng=rng)
        return samplers.sequences(w, samplers.initial_states(n, d, s0_law, rng=rng), horizon)  # type: ignore[arg-type]

    params, seconds = _train_full(ctx, sample, d, complex_valued=False, steps=steps)
    prods = model.block_products(params)
    held_np = sample(20_000, ctx.rng(8))
    # the best scalar one-step predictor, shared over positions, estimated on the held-out sequences
    xs = ys = 0.0
    for t in range(1, horizon):
        x, y, _ = gd_statistics(held_np, t)
        xs, ys = xs + x, ys + y
    eta = float(np.mean(ys) / np.mean(xs))
    held = samplers.to_torch(held_np, device=ctx.device)
    eye = torch.eye(d, dtype=held.dtype, device=held.device)
    v = params["W_V"][:d, d:2 * d]
    projected = {k: w.detach().clone() for k, w in params.items()}
    projected["W_KQ"][2 * d:, d:2 * d] = torch.trace(v @ params["W_KQ"][2 * d:, d:2 * d]) / d * torch.linalg.inv(v)
    with torch.no_grad():
        def per_sequence(p: model.Params) -> np.ndarray:
            return ((model.predict(p, held) - held[:, 1:]).abs() ** 2).sum(dim=(-2, -1)).cpu().numpy()
        trained, proj = per_sequence(params), per_sequence(projected)
        gd_loss = float(model.sequence_loss(model.embed_blocks(eye, eta * eye), held))
    diff = paired_difference(proj, trained)
    z = diff.value / diff.se
    dist = th.distance_to_identity(prods.vm)
    return Measurement(
        error=max(0.0, z), expected="removing VM's part off the identity costs no held-out loss beyond 5 SE",
        observed={"projected - trained (paired)": f"{diff.value:.3g} ± {diff.se:.2g}", "z": round(z, 3),
                  "dist_to_identity(VM)": dist, "off_block_ratio": prods.off_ratio,
                  "trained_loss": float(trained.mean()), "best_scalar_one_step_loss": gd_loss},
        compared=(f"Haar W, s_0 law {s0_law!r}, d={d}, T={horizon}: paired held-out loss (20 000 sequences) of the "
                  "trained layer with VM replaced by (tr VM/d) I (through M) minus that of the trained layer, in "
                  "standard errors, counted where the projection costs loss"),
        details={"off_block_ratio": prods.off_ratio, "tr(VM)/d": float(np.trace(prods.vm) / d),
                 "dist_to_identity(VM)": dist, "best_scalar_step_mc": eta, "trained_loss": float(trained.mean()),
                 "one_step_gd_loss": gd_loss, "train_seconds": seconds})


register(Claim(
    id="sander.aug.haar.measured", paper=SANDER,
    reference="Section 5 experiments, non-commuting W (Fig. 5; plotted content UNCONFIRMED)",
    statement=("Paper (qualitative): the one-GD-step structure found for commuting W persists for non-commuting "
               "(Haar) W. Measured here: with isotropic s_0 the trained VM block is a multiple of I up to optimiser "
               "noise — replacing VM by its scalar part costs no held-out loss — while the other value/key-query "
               "products and the loss relative to the best scalar one-step predictor are reported."),
    kind="measured", check=lambda ctx: _haar_measure(ctx, s0_law="sphere"),
    control=lambda ctx: _haar_measure(ctx, s0_law="ones_normalized"),
    control_description=("the authors' fixed s_0 = 1_d/√d, which breaks the O(d) symmetry: its s_0-aligned "
                         "off-diagonals in VM carry loss"),
    tolerance=Tolerance(5.0, "5 standard errors of the paired held-out loss difference (20 000 sequences; one-sided "
                             "normal false alarm 3e-7)", origin="standard-errors"),
    seed=71, rests_on=("UNCONFIRMED: the paper's Fig. 5 content and s_0 law",),
    finding=("The reference augmented.py trains on one fixed s_0 = 1_d/√d for every sequence: with it the trained "
             "VM is not a multiple of I (s_0-aligned off-diagonals), so that experiment cannot show the "
             "isotropic one-GD-step structure; with isotropic s_0 it does (VM ∝ I), although other value/key-query "
             "products stay non-zero for non-commuting W."),
    route="Adam on sampled Haar sequences through the torch forward pass; structure read off the trained weights"))


# ---------------------------------------------------------------------------------------------------------
# Measured: is one GD step a minimum of the FULL model in case O?  (the block structure is an assumption)
# ---------------------------------------------------------------------------------------------------------


def _full_from_gd_measure(ctx: RunContext, case: str) -> Measurement:
    d, horizon, steps, batch = 4, 6, 1000, 256
    law = th.fixed_radius(1.0) if case == "O" else th.TORUS

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        if case == "O":
            return _case_o_states(n, d, horizon, rng)
        return _case_u_states(n, d, horizon, rng)

    rng = ctx.rng(9)
    pool = _pool(sample, 2**14, rng, ctx.device)
    held = _pool(sample, 40_000, ctx.rng(10), ctx.device)
    eta, best = th.shared_optimum(case, d, range(horizon), law)  # type: ignore[arg-type]
    eye = torch.eye(d, dtype=pool.dtype, device=pool.device)
    gd = model.embed_blocks(eye, eta * eye)
    gen = torch.Generator().manual_seed(ctx.torch_seed(11))
    gi = torch.Generator().manual_seed(ctx.torch_seed(12))
    init = {k: v + (0.02 * torch.randn(v.shape, generator=gen, dtype=torch.float64)).to(v.dtype).to(v.device)
            for k, v in gd.items()}

    def batch_of(_: int) -> torch.Tensor:
        return pool[torch.randint(0, pool.shape[0], (batch,), generator=gi).to(pool.device)]

    res = model.train_full_sampled(d, batch_of, steps=steps, lr=0.005, generator=gen, init=init)
    with torch.no_grad():
        per_trained = ((model.predict(res.params, held) - held[:, 1:]).abs() ** 2).sum(dim=(-2, -1)).cpu().numpy()
        per_gd = ((model.predict(gd, held) - held[:, 1:]).abs() ** 2).sum(dim=(-2, -1)).cpu().numpy()
    ratio = ratio_estimate(per_trained, per_gd)
    trained, gd_loss = float(per_trained.mean()), float(per_gd.mean())
    z = (1.0 - ratio.value) / ratio.se  # standard errors by which the full model beats one GD step
    return Measurement(
        error=max(0.0, Z_BOUND.bound - z), expected="ratio below 1 by at least 5 SE (the full model improves on one GD step)",
        observed=f"{ratio.value:.4f} ± {ratio.se:.4f} (z = {z:.1f})",
        compared=(f"case {case}, d={d}, T={horizon}: how many of the 5 standard errors (paired, delta method) by which the "
                  f"held-out loss ratio of the full model trained ({steps} Adam steps) from one GD step (+ noise 0.02) "
                  "over one GD step must lie below 1 are missing, on the same 40 000 sequences"),
        details={"ratio": ratio.value, "ratio_se": ratio.se, "trained_loss": trained, "one_step_gd_loss": gd_loss,
                 "closed_form_gd_loss": best,
                 "product_norms": model.product_norms(res.params), "train_seconds": res.seconds})


register(Claim(
    id="sander.aug.full-model-o.measured", paper=SANDER,
    reference="Section 3 (the one-GD-step result assumes block-structured parameters)",
    statement=("Measured: for commuting real rotations (case O) one GD step is NOT a minimum of the full 3d×3d "
               "linear-attention layer: trained from the one-step-GD point it lowers the held-out loss (by ≈ 3 %), using the "
               "product V(slot 2) ⊗ M(key slot 2, query slot 3), i.e. Σ_i s_i s_i^T M s_{t−1}; in case U (complex) "
               "the same procedure stays at one GD step."),
    kind="measured", check=lambda ctx: _full_from_gd_measure(ctx, "O"),
    control=lambda ctx: _full_from_gd_measure(ctx, "U"),
    control_description="case U (complex diagonal W), where one GD step is the full model's optimum (λ-degree argument)",
    tolerance=Tolerance(0.0, ("the statement itself: the paired held-out loss ratio is below 1 by at least 5 "
                              "standard errors (delta method over 40,000 sequences; one-sided false alarm 3e-7); the "
                              "error counts the missing standard errors, so the bound is 0"),
                        origin="standard-errors"),
    seed=83, profiles=("full",), rests_on=U_UNCONFIRMED,
    finding=("The one-GD-step optimum needs the block-structure assumption in case O: the unrestricted one-layer "
             "model beats one GD step by ≈ 3 % (d=4, T=6, block radius 1: 7.26 vs 7.50; N(0,I) start: 15.94 vs "
             "16.39) through the query's s_{t−1} slot. In case U it cannot (every other slot product has a "
             "different total λ-degree than the target)."),
    route="held-out Monte-Carlo loss through the torch forward pass of the trained full layer vs one GD step, paired"))
