"""Claims of Sander et al. (2024, arXiv:2402.05787) for non-commuting (Haar) W, augmented tokens.

The paper reports experiments only for non-commuting W; the predictions here are derived in
``docs/sander-haar.md``: for a law of ``(W, s_0)`` invariant under orthogonal conjugation the optimal block-family
``VM`` is a multiple of ``I`` (Schur, given uniqueness up to the gauge — established numerically), and the optimal
step ``η_t*`` follows from moments of Haar traces (:mod:`theory.sander.haar`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from numerics import block_family as bf
from numerics import group_cubature as gc
from numerics import samplers
from numerics.laws import Law, commuting
from numerics.models import sander_augmented as model
from numerics.models import sander_non_augmented as na_model
from numerics.statistics import mean_estimate, ratio_estimate
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.figures import pyplot
from proofs_check.papers import SANDER
from proofs_check.registry import register
from theory.sander import haar as hh

REFERENCE = "Section 5 experiments, non-commuting W (the paper has no closed form; derived here, docs/sander-haar.md)"
RESTS_ON = ("UNCONFIRMED: the paper's normalisation and s_0 law (this suite: no 1/t, isotropic s_0)",)


# ---------------------------------------------------------------------------------------------------------
# η_t* for Haar W: closed form vs Monte Carlo through the torch forward pass
# ---------------------------------------------------------------------------------------------------------


def _z(samples_num: np.ndarray, samples_den: np.ndarray | None, expected: float) -> float:
    """z of a mean (``samples_den is None``) or of a ratio of means against ``expected``.

    Sample-wise deterministic statistics (sphere ``s_0`` at ``t = 1``: ``Y = X`` for every sequence) have a zero
    standard error; their gap is measured in units of a float64 round-off scale ``1e-9·max(1, |value|)`` instead
    (so the claim's bound 5 means a relative gap of 5e-9 there).
    """
    est = mean_estimate(samples_num) if samples_den is None else ratio_estimate(samples_num, samples_den)
    scale = max(1.0, abs(est.value), abs(expected))
    if est.se <= 1e-12 * scale:
        return abs(est.value - expected) / (1e-9 * scale)
    return est.z(expected)


def _step_measure(ctx: RunContext, *, predict: str) -> Measurement:
    """``predict="haar"``: the Haar closed forms; ``"commuting"``: the commuting-rotation ones (even ``d`` only)."""
    dims, T, n = ((2, 3, 4), 6, 40_000) if ctx.quick else ((2, 3, 4, 5, 6), 8, 200_000)
    rng = ctx.rng(1)
    worst, rows = 0.0, []
    for d in dims:
        states = Law("haar", d).sample_states(n, T, rng=rng, start="sphere")
        if predict == "commuting" and d % 2:
            continue
        rule = hh.haar_rule(d, 2 * T) if predict == "haar" else hh.rotation_rule(d, 2 * T)
        x = samplers.to_torch(states, device=ctx.device)
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        with torch.no_grad():  # the forward pass with V = M = I predicts S_t s_t at every position
            g = model.predict(model.embed_blocks(eye, eye), x)
            xs = (g**2).sum(-1).cpu().numpy()                     # ‖S_t s_t‖²
            ys = (g * x[:, 1:]).sum(-1).cpu().numpy()             # ⟨s_{t+1}, S_t s_t⟩
            cs = (x[:, 1:] ** 2).sum(-1).cpu().numpy()
        for t in range(1, T):
            eta, best = hh.optimal_step(rule, t, hh.SPHERE), hh.optimal_loss(rule, t, hh.SPHERE)
            zs = {"eta": _z(ys[:, t], xs[:, t], eta), "loss": _z(eta**2 * xs[:, t] - 2 * eta * ys[:, t] + cs[:, t], None, best)}
            rows.append({"d": d, "t": t, "eta*": eta, **{k: round(v, 2) for k, v in zs.items()}})
            worst = _worst(worst, *zs.values())
        eta_s, loss_s = hh.shared_optimum(rule, range(T), hh.SPHERE)
        sx, sy, sc = xs[:, 1:].sum(1), ys[:, 1:].sum(1), cs.sum(1)
        zs = {"eta": _z(sy, sx, eta_s), "loss": _z(eta_s**2 * sx - 2 * eta_s * sy + sc, None, loss_s)}
        rows.append({"d": d, "t": f"shared 0..{T - 1}", "eta*": eta_s, **{k: round(v, 2) for k, v in zs.items()}})
        worst = _worst(worst, *zs.values())
    return Measurement(
        error=worst, expected="|z| ≤ 5 for η̂_t and the loss at η_t*", observed=round(worst, 2),
        compared=(f"Haar W on O(d), s_0 uniform on the sphere, d ∈ {dims}, t = 1..{T - 1} and one step shared by "
                  f"t = 0..{T - 1}, N = {n}: η̂_t = ΣY/ΣX (delta-method SE) and the MC loss at η_t*, from the torch "
                  f"forward pass with V = M = I, against the {predict} closed forms"),
        details={"rows": rows, "predicted_by": predict})


register(Claim(
    id="sander.haar.step.mc", paper=SANDER, reference=REFERENCE,
    statement=("For Haar W on O(d) and isotropic s_0, the optimal one-step size is η_t* = b_t/a_t with b_t = "
               "m4/(d(d+2)) Σ_k E[p_k² + p_2k + d], a_t = m6/(d(d+2)(d+4)) Σ_{k,l} E[cubic in p], p_n = tr W^n (Haar "
               "trace moments, exact spectral quadrature), and the loss there is c − b_t²/a_t; likewise for one step "
               "shared over positions."),
    kind="monte-carlo", check=lambda ctx: _step_measure(ctx, predict="haar"),
    control=lambda ctx: _step_measure(ctx, predict="commuting"),
    control_description=("the commuting-case η_t* and loss (2×2 rotations with uniform angles, same d and s_0), "
                         "even d: equal at t = 1, 6–21 % larger beyond"),
    tolerance=Tolerance(5.0, "5 standard errors (delta method for the ratio ΣY/ΣX, numerics.statistics); "
                             "two-sided normal false alarm 5.7e-7 per comparison", origin="standard-errors"),
    seed=1501, rests_on=RESTS_ON,
    route="Monte Carlo through the torch forward pass of the augmented model (V = M = I gives S_t s_t) on Haar "
          "draws (QR of Gaussian matrices), against Weyl-density quadrature of Haar trace moments"))


# ---------------------------------------------------------------------------------------------------------
# a_t, b_t, η_t*, trace moments: closed forms (quadrature and sympy) vs exact cubature over the group itself
# ---------------------------------------------------------------------------------------------------------

#: Relative float64 round-off allowed per compared value, in units of eps (derivation in ``_EXACT_TOLERANCE``).
_EPS = float(np.finfo(np.float64).eps)


def _worst(*errors: float) -> float:
    """The largest error, a NaN (a broken evaluation, e.g. 0/0) counting as infinite: ``max`` would skip it."""
    return max(math.inf if math.isnan(e) else float(e) for e in errors)


def _model_moments(rule: gc.MatrixRule, s0: np.ndarray, s0_weights: np.ndarray, T: int,
                   device: str) -> dict[str, np.ndarray]:
    """``E‖S_t s_t‖², E⟨s_{t+1}, S_t s_t⟩, E‖s_{t+1}‖²`` (``t = 0..T−1``) by the augmented model's forward pass.

    Every pair (group node, ``s_0`` node) is one sequence ``s_t = W^t s_0`` run through the torch model with
    ``V = M = I`` (prediction ``S_t s_t``); the cubature weights are the products of the two rules' weights.
    """
    d = s0.shape[1]
    w = (rule.weights[:, None] * s0_weights[None, :]).ravel()
    mats = np.repeat(rule.matrices, s0.shape[0], axis=0)
    states = [np.tile(s0, (rule.weights.size, 1))]
    for _ in range(T):
        states.append(np.einsum("gij,gj->gi", mats, states[-1]))
    x = samplers.to_torch(np.stack(states, axis=1), device=device)
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        g = model.predict(model.embed_blocks(eye, eye), x)
        f = {"a": (g**2).sum(-1), "b": (g * x[:, 1:]).sum(-1), "c": (x[:, 1:] ** 2).sum(-1)}
    vals = {k: v.cpu().numpy() for k, v in f.items()}  # numpy's pairwise summation: error ≤ log2(G)·eps·Σ|w f|
    out = {k: (w[:, None] * v).sum(0) for k, v in vals.items()}
    out.update({f"|{k}|": (w[:, None] * np.abs(v)).sum(0) for k, v in vals.items()})
    out["nodes"] = np.array(w.size)
    return out


def _start_moments(d: int) -> tuple[float, float, float]:
    """``E‖x‖², E‖x‖⁴, E‖x‖⁶`` of ``x ~ N(0, I_d)`` by the Gauss–Hermite product rule (exact to degree 7)."""
    x, w = gc.gaussian_rule(d, 6)
    r2 = (x**2).sum(1)
    return float(w @ r2), float(w @ r2**2), float(w @ r2**3)


def _exact_route(kind: str, d: int, T: int, mu: float, device: str, *, special: bool = False) -> dict[str, np.ndarray]:
    """``a_t, b_t, c`` (``t = 1..T−1``) for ``s_0 ~ N(0, I_d)`` by exact cubature over the law of ``W``.

    Degree: with ``g_k = s_0ᵀ W^k s_0`` (``= g_{−k}`` on the orthogonal group),
    ``‖S_t s_t‖² = Σ_{i,j=1}^t ⟨s_i, s_j⟩⟨s_{i−1}, s_t⟩⟨s_{j−1}, s_t⟩ = Σ g_{j−i} g_{t+1−i} g_{t+1−j}`` and
    ``⟨s_{t+1}, S_t s_t⟩ = Σ_i g_{t+1−i}²``: on the group both are polynomials of degree ``≤ 2t`` in the entries of
    ``W`` (``|j − i| + (t+1−i) + (t+1−j) ≤ 2t``), so a rule exact to degree ``2(T − 1)`` is exact for them.
    Start: Haar — the law of ``(W, s_0)`` is invariant under ``(W, s_0) → (QWQᵀ, Qs_0)`` and the three
    integrands are homogeneous of degrees 6, 4, 2 in ``s_0``, so ``E f = E‖s_0‖^{2j} E_W f(W, e_1)``.  Block
    rotations commute with in-block rotations of ``s_0``, which leave ``N(0, I)`` invariant, so
    ``s_0 = Σ_j r_j e_{2j}`` with ``r_j² ~ χ²₂ = 2·Exp(1)`` iid; the integrands are then polynomials of degree
    ``≤ 3`` in each ``r_j²`` (even in ``r_j``: ``r_j → −r_j`` is the in-block rotation by π), integrated exactly by
    2-node Gauss–Laguerre rules.
    """
    degree = 2 * (T - 1)
    if kind == "haar":
        e1 = np.zeros((1, d))
        e1[0, 0] = 1.0
        raw = _model_moments(gc.haar_orthogonal_rule(d, degree, special=special), e1, np.ones(1), T, device)
        m2, m4, m6 = _start_moments(d)
        out = {k: raw[k] * {"a": m6, "b": m4, "c": m2}[k.strip("|")] for k in ("a", "b", "c", "|a|", "|b|", "|c|")}
        out["nodes"] = raw["nodes"]
    else:
        x, wx = np.polynomial.laguerre.laggauss(2)  # ∫ e^{-x} g(x) dx, exact to degree 3; r² = 2x
        idx = np.array(list(itertools.product(range(2), repeat=d // 2)))
        s0 = np.zeros((idx.shape[0], d))
        s0[:, 0::2] = np.sqrt(2 * x[idx])
        out = _model_moments(gc.block_rotation_rule(d, degree, mu), s0, np.prod(wx[idx], axis=1), T, device)
    return {k: (v[1:] if np.ndim(v) else v) for k, v in out.items()}  # positions t = 1..T−1 (t = 0 predicts 0)


def _exact_settings(quick: bool) -> list[tuple[str, int, int, float]]:
    """``(kind, d, T, μ)``: every coset shape of ``O(d)`` for ``d ≤ 4``, rotations with ``μ = 1`` and ``μ = 2``."""
    T4 = 4 if quick else 6
    return [("haar", 1, 5, 1.0), ("haar", 2, 6, 1.0), ("haar", 3, 5, 1.0), ("haar", 4, T4, 1.0),
            ("rotations", 2, 6, 1.0), ("rotations", 2, 6, 3.0), ("rotations", 2, 6, 0.3), ("rotations", 4, T4, 1.0),
            ("rotations", 4, T4, 3.0)]


#: ``(kind, d, t)`` of the exact sympy twin :func:`theory.sander.haar.moments_sym` compared with the route.
_SYMPY_SETTINGS = [("haar", 1, 2), ("haar", 2, 3), ("haar", 3, 3), ("haar", 4, 2), ("rotations", 2, 3),
                   ("rotations", 4, 2)]


def _closed_rule(kind: str, d: int, max_frequency: int, mu: float) -> hh.SpectralRule:
    """The tightest rule for ``t = max_frequency/2``: a node count one short would be inexact (so is caught)."""
    return hh.haar_rule(d, max_frequency) if kind == "haar" else hh.rotation_rule(d, max_frequency, mu)


def _exact_measure(ctx: RunContext, *, special: bool) -> Measurement:
    """Closed forms against the exact group cubature; ``special=True`` integrates Haar over ``SO(d)`` (control)."""
    worst, rows, routes = 0.0, [], {}
    for kind, d, T, mu in _exact_settings(ctx.quick):
        route = _exact_route(kind, d, T, mu, ctx.device, special=special)
        routes[kind, d, mu] = route
        rule, start = _closed_rule(kind, d, 2 * (T - 1), mu), hh.gaussian_start(d)
        # K: flops in sequence per node (T matrix-vector products of length d, T² score dot products of 3d,
        # the same for the quadrature's t² integrand terms of d cosines) + log2 of the route's nodes (numpy's
        # pairwise sum) + the quadrature's node count (its BLAS dot product sums in sequence)
        k_ops = 16 * T * T * d + np.log2(float(route["nodes"])) + rule.weights.size
        for t in range(1, T):
            rule_t = _closed_rule(kind, d, 2 * t, mu)
            a, b, c = hh.moments(rule_t, t, start)
            ra, rb, rc = (route[k][t - 1] for k in "abc")
            got = {"a": (a, ra, route["|a|"][t - 1]), "b": (b, rb, route["|b|"][t - 1]),
                   "c": (c, rc, route["|c|"][t - 1]),
                   "eta": (hh.optimal_step(rule_t, t, start), rb / ra, 3 * route["|b|"][t - 1] / ra),
                   "loss": (hh.optimal_loss(rule_t, t, start), rc - rb**2 / ra,
                            route["|c|"][t - 1] + 3 * route["|b|"][t - 1] ** 2 / ra)}
            errs = {k: abs(v - r) / (k_ops * _EPS * max(size, abs(v))) for k, (v, r, size) in got.items()}
            worst = _worst(worst, *errs.values())
            rows.append({"law": kind, "d": d, "mu": mu, "t": t, "a_t": a, "b_t": b, "route a_t": float(ra),
                         "route b_t": float(rb), "max err/bound": round(max(errs.values()), 3)})
        positions = list(range(T))
        eta_s, loss_s = hh.shared_optimum(rule, positions, start)
        sa, sb, sc = route["a"].sum(), route["b"].sum(), route["c"].sum() + float(route["c"][0])  # t = 0 adds c
        size = 3 * route["|b|"].sum()
        errs = [abs(eta_s - sb / sa) / (k_ops * _EPS * size / sa),
                abs(loss_s - (sc - sb**2 / sa)) / (k_ops * _EPS * (sc + size * sb / sa))]
        worst = _worst(worst, *errs)
        rows.append({"law": kind, "d": d, "mu": mu, "t": f"shared 0..{T - 1}", "eta*": eta_s,
                     "max err/bound": round(max(errs), 3)})
    for kind, d, t in _SYMPY_SETTINGS:
        route = routes[kind, d, 1.0]
        a, b = hh.moments_sym(kind, d, t)  # type: ignore[arg-type]
        errs = [abs(float(a) - route["a"][t - 1]) / (64 * d * t * t * _EPS * route["|a|"][t - 1]),
                abs(float(b) - route["b"][t - 1]) / (64 * d * t * t * _EPS * route["|b|"][t - 1])]
        worst = _worst(worst, *errs)
        rows.append({"law": f"{kind} (sympy)", "d": d, "t": t, "a_t": str(a), "b_t": str(b),
                     "max err/bound": round(max(errs), 3)})
    for d in (2, 3, 4):  # trace moments E ∏ tr W^{n_i} of Haar O(d): quadrature vs group cubature
        grp = gc.haar_orthogonal_rule(d, 6, special=special)
        rule = hh.haar_rule(d, 6)
        for ex in [(), (1,), (2,), (1, 1), (1, 2), (1, 1, 1), (3, 3), (1, 2, 3), (2, 4), (1, 1, 2, 2)]:  # odd sums: det
            vals = np.prod([np.ones(grp.weights.size)]
                           + [np.trace(np.linalg.matrix_power(grp.matrices, n), axis1=1, axis2=2) for n in ex], axis=0)
            want, size = float(grp.weights @ vals), float(grp.weights @ np.abs(vals))
            err = abs(hh.trace_moment(rule, ex) - want) / (64 * d * _EPS * max(size, 1.0))
            worst = _worst(worst, err)
            rows.append({"law": "haar trace moment", "d": d, "exponents": list(ex), "value": want,
                         "err/bound": round(err, 3)})
    for d, mu, freq in [(2, 1.0, 3), (2, 1.0, 5), (2, 3.0, 5), (2, 0.3, 5), (4, 1.0, 3), (4, 3.0, 3)]:
        # rotation laws, odd max_frequency (an odd node count is no special case) and odd exponent sums (W → −W)
        grp, rule = gc.block_rotation_rule(d, freq, mu), hh.rotation_rule(d, freq, mu)
        # p_n at the rule's own nodes against tr R^n of the block rotations R built from the node angles
        blocks = samplers.rotation_blocks(rule.angles[:, : d // 2])
        traces = np.stack([np.trace(np.linalg.matrix_power(blocks, n), axis1=1, axis2=2) for n in range(freq + 1)], 1)
        # round-off: fl(nθ) is off by eps·n|θ| and R^n by ~4n·eps per entry, summed over d eigenvalues
        p_err = float(np.max(np.abs(hh.power_sums(rule, freq) - traces))) / (
            2 * d * freq * (np.abs(rule.angles).max() + 4) * _EPS)
        worst = _worst(worst, p_err)
        rows.append({"law": f"rotations mu = {mu} power sums", "d": d, "n_max": freq, "err/bound": round(p_err, 3)})
        for ex in [(1,), (1, 1), (1, 2), (3,), (1, 1, 1), (2, 3)]:
            if sum(ex) > freq:
                continue
            vals = np.prod([np.trace(np.linalg.matrix_power(grp.matrices, n), axis1=1, axis2=2) for n in ex], axis=0)
            want, size = float(grp.weights @ vals), float(grp.weights @ np.abs(vals))
            err = abs(hh.trace_moment(rule, ex) - want) / ((64 * d + rule.weights.size) * _EPS * max(size, 1.0))
            worst = _worst(worst, err)
            rows.append({"law": f"rotations mu = {mu} trace moment", "d": d, "max_frequency": freq,
                         "exponents": list(ex), "value": want, "err/bound": round(err, 3)})
    mix = hh.mixture_rule([hh.haar_rule(2, 8), hh.rotation_rule(2, 8, 3.0)], [1.0, 3.0])
    for t in range(1, 5):
        ra, rb = (0.25 * routes["haar", 2, 1.0][k][t - 1] + 0.75 * routes["rotations", 2, 3.0][k][t - 1] for k in "ab")
        a, b, _ = hh.moments(mix, t, hh.gaussian_start(2))
        err = max(abs(a - ra) / (256 * _EPS * ra), abs(b - rb) / (256 * _EPS * abs(rb)))
        worst = _worst(worst, err)
        rows.append({"law": "1:3 mixture of Haar O(2) and rotations mu = 3", "d": 2, "t": t,
                     "err/bound": round(err, 3)})
    group = "SO(d)" if special else "O(d)"
    return Measurement(
        error=worst, expected="every |closed form − route| within its float64 round-off bound (ratio ≤ 1)",
        observed=round(worst, 3),
        compared=(f"a_t, b_t, c, η_t*, the loss at η_t* and the shared step for s_0 ~ N(0, I) (moments, optimal_step, "
                  f"optimal_loss, shared_optimum, gaussian_start), the sympy twin moments_sym, Haar trace moments "
                  f"and a mixture, against exact cubature over Haar {group} (d ≤ 4, explicit parametrisations: angles, unit "
                  f"quaternions) and block rotations (μ = 1, 2), every node run through the torch forward pass"),
        details={"rows": rows})


register(Claim(
    id="sander.haar.moments.exact", paper=SANDER, reference=REFERENCE,
    statement=("For s_0 ~ N(0, I_d) and W Haar on O(d) or block rotations with angles U/μ, the spectral reduction "
               "b_t = m4/(d(d+2)) Σ_k E[p_k² + p_2k + d], a_t = m6/(d(d+2)(d+4)) Σ_{k,l} E[cubic in p] integrated "
               "by Weyl's density (numpy quadrature and exact sympy constant terms) equals E‖S_t s_t‖² and "
               "E⟨s_{t+1}, S_t s_t⟩ of the model; so do η_t* = b_t/a_t, the loss c − b_t²/a_t, the shared step, the "
               "Haar trace moments and mixtures."),
    kind="identity", check=lambda ctx: _exact_measure(ctx, special=False),
    control=lambda ctx: _exact_measure(ctx, special=True),
    control_description=("the same closed forms against Haar on SO(d) instead of O(d) (forgetting the det = −1 "
                         "coset, the common slip): equal at d = 1 (no) and d = 3 (−W has the same moments), "
                         "different at d = 2 and 4"),
    tolerance=Tolerance(1.0, "float64 round-off: each compared value within K·eps·S, S = Σ_g w_g|f_g| over the "
                             "route's nodes (the size of the summed terms, ≥ the value), K = 16T²d + 2·log2(nodes) "
                             "(flops per node of the forward pass and the quadrature integrand, plus pairwise "
                             "summation); sympy rationals and trace moments: K = 64·d·t²; error = max ratio to that "
                             "bound", origin="round-off"),
    seed=1504, rests_on=RESTS_ON,
    route=("exact cubature over the group itself (O(2): angles; O(3), O(4): unit quaternions on S³ with Hopf "
           "coordinates, exact to the integrand's degree 6t − 2 in W; block rotations: equispaced or Gauss–Legendre "
           "angles; s_0 by Gauss–Hermite or, for Haar, conjugation invariance), every node a sequence through the "
           "torch forward pass of the augmented model with V = M = I — no Weyl density, no Isserlis reduction")))


# ---------------------------------------------------------------------------------------------------------
# Trained block family under Haar W: VM = η* I (sandwich standard errors); figure of VM per law
# ---------------------------------------------------------------------------------------------------------


def _vm_figure(ctx: RunContext) -> list[str]:
    """Trained ``VM`` per law of W (top) and the predicted structure (bottom), d = 4, T = 6 (Fig. 3 style)."""
    d, T, n = 4, 6, 4000
    laws = [("commuting, basis I", commuting(d)), ("commuting, μ = 5", commuting(d, mu=5.0)),
            ("Haar O(4)", Law("haar", d)), ("Haar-conjugated rotations", Law("conjugated", d)),
            ("½ Haar + ½ commuting", Law("mixture", d, components=(Law("haar", d), commuting(d)), weights=(1.0, 1.0)))]
    plt = pyplot()
    fig, axes = plt.subplots(2, len(laws), figsize=(3.0 * len(laws), 5.6), constrained_layout=True)
    for col, (name, law) in enumerate(laws):
        fit = bf.fit_block_family(law.sample_states(n, T, rng=ctx.rng(100 + col)), seed=ctx.torch_seed(100 + col) % 2**62)
        eta = law.predicted_step(range(1, T))
        basis = law.commutant()
        predicted = (eta * np.eye(d) if eta is not None
                     else sum(np.sum(fit.vm * b) * b for b in basis))
        lim = float(np.abs(fit.vm).max())
        for row, (mat, label) in enumerate(((fit.vm, "trained VM"),
                                            (predicted, "η* I" if eta is not None else "projection on span{I, J}"))):
            ax = axes[row, col]
            im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"{name}\n{label}" if row == 0 else label, fontsize=8)
            ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=axes[:, col], fraction=0.05)
    fig.suptitle(f"Augmented tokens, block family V S_t M s_t: trained VM per law of W (d = {d}, T = {T}, N = {n})",
                 fontsize=9)
    path = ctx.save_figure(fig, "sander-haar-vm-per-law")
    return [path] if path else []


_FITS: dict[tuple[int, int, int, int, int], bf.BlockFit] = {}


def _haar_fit(ctx: RunContext, stream: int, d: int, T: int, n: int) -> bf.BlockFit:
    """The block family trained on ``n`` Haar sequences (sphere ``s_0``); shared by the check and its control."""
    key = (ctx.seed, stream, d, T, n)
    if key not in _FITS:
        states = Law("haar", d).sample_states(n, T, rng=ctx.rng(stream), start="sphere")
        _FITS[key] = bf.fit_block_family(states, seed=ctx.torch_seed(stream) % 2**62)
    return _FITS[key]


def _trained_measure(ctx: RunContext, *, predict: str) -> Measurement:
    settings = [(2, 10), (4, 8)] if ctx.quick else [(2, 10), (3, 10), (4, 10), (6, 10)]
    n = 20_000 if ctx.quick else 100_000
    worst, rows = 0.0, []
    for i, (d, T) in enumerate(settings):
        law = Law("haar", d)
        fit = _haar_fit(ctx, 10 + i, d, T, n)
        if predict == "commuting" and d % 2:
            continue
        ref = law if predict == "haar" else commuting(d)
        eta = ref.predicted_step(range(1, T), start="sphere")
        res = bf.structure_test(fit, law.commutant(), eta)
        err = max(res.chi2 / res.chi2_bound, res.eta_z / res.z_bound)
        worst = _worst(worst, err)
        rows.append({"d": d, "T": T, "chi2": round(res.chi2, 2), "dof": res.dof, "chi2_bound": round(res.chi2_bound, 2),
                     "tr(VM)/d": res.step, "se": res.step_se, "eta*": eta, "z": round(res.eta_z, 2),
                     "loss": fit.loss, "best_scalar_loss": fit.scalar_loss,
                     "hessian_eigenvalues[:3]": [float(v) for v in fit.hessian_eigenvalues[:3]]})
    figures = _vm_figure(ctx) if ctx.role == "check" and ctx.out_dir is not None else []
    return Measurement(
        error=worst, expected="χ² ≤ its 1 − 5e-5 quantile and |z| ≤ 4.06 (ratio ≤ 1)", observed=round(worst, 3),
        compared=(f"block family V S_t M s_t trained by L-BFGS on N = {n} Haar sequences (s_0 uniform on the sphere), settings "
                  f"(d, T) = {settings}: max of χ²/bound for VM's residual off span{{I}} and |tr(VM)/d − η*|/(4.06 se), "
                  f"se from the sandwich covariance, η* from the {predict} closed form"),
        details={"rows": rows}, figures=figures)


register(Claim(
    id="sander.haar.trained-vm", paper=SANDER, reference=REFERENCE,
    statement=("Under Haar W and isotropic s_0 the loss is invariant under (V, M) → (QᵀVQ, QᵀMQ); the optimum is "
               "unique up to the gauge (cV, M/c) (numerically: one null Hessian eigenvalue), so the trained VM is a "
               "multiple of I (Schur), and its multiple is the closed-form shared step η* = Σb_t/Σa_t."),
    kind="trained", check=lambda ctx: _trained_measure(ctx, predict="haar"),
    control=lambda ctx: _trained_measure(ctx, predict="commuting"),
    control_description=("the commuting-case shared step (2×2 rotations, uniform angles, same d and s_0) as the "
                         "prediction, even d: 21 % off at d = 2, T = 10, 8 % at d = 4"),
    tolerance=Tolerance(1.0, "sandwich (H⁻¹ΣH⁻¹/N) standard errors of the trained VM, gauge direction projected out; "
                             "χ² and z at family-wise level 1e-4 (Bonferroni), expressed as ratio to the bound",
                        origin="standard-errors"),
    seed=1502, rests_on=RESTS_ON,
    route="training on sampled Haar sequences (L-BFGS on the empirical loss, restarted until below the best scalar "
          "loss), compared with the spectral-quadrature closed form; the figure compares five laws of W",
    finding=("For commuting rotations with μ ≠ 1 (θ ~ U[0, 2π/μ)) the optimal VM is not a multiple of I: symmetry "
             "leaves span{I, QJQᵀ} and the J part is real (d = 4, μ = 5, T = 4: VM_01 ≈ −VM_10 ≈ −0.008 against a "
             "diagonal 0.071, stable in N); Haar-conjugating the same family restores VM ∝ I.")))


# ---------------------------------------------------------------------------------------------------------
# Non-augmented tokens under Haar W: symmetry leaves C ∈ span{I, 𝟙𝟙ᵀ}; measured: C ∝ 𝟙𝟙ᵀ
# ---------------------------------------------------------------------------------------------------------


_NON_AUG_FITS: dict[tuple[int, str], object] = {}


def _non_aug_measure(ctx: RunContext, *, coefficient: str) -> Measurement:
    """``coefficient="identity"``: the I part of C/tr C must vanish; ``"ones"``: the 𝟙𝟙ᵀ part (the control)."""
    d, T, models, steps = (3, 4, 5, 500) if ctx.quick else (4, 6, 8, 2000)
    key = (ctx.seed, ctx.profile)
    if key not in _NON_AUG_FITS:  # one training shared by the check and its control
        _NON_AUG_FITS[key] = na_model.fit_sampled("haar", d, d, T, seed=ctx.torch_seed(20) % 2**31, steps=steps,
                                                  batch=256, lr=0.02, models=models, s0_law="sphere", device=ctx.device)
    res = _NON_AUG_FITS[key]
    off = ~np.eye(d, dtype=bool)
    r = np.arange(T - 1)
    rows = []
    for i in range(models):
        p = na_model.unstack(res.params, i)
        c = na_model.attention_product(p).detach().cpu().numpy()
        big_p = p["P"].detach().cpu().numpy()
        cn = c / np.trace(c)
        b = float(cn[off].mean())
        a = float(np.diag(cn).mean() - b)
        span = a * np.eye(d) + b * np.ones((d, d))
        rows.append({"a (I part of C/trC)": a, "b (𝟙𝟙ᵀ part)": b,
                     "off-span residual": float(np.linalg.norm(cn - span) / np.linalg.norm(cn)),
                     "trC·P[r,r+1]": [float(v) for v in np.trace(c) * big_p[r, r + 1]],
                     "trC·P[r,r]": [float(v) for v in np.trace(c) * big_p[r, r]]})
    key = "a (I part of C/trC)" if coefficient == "identity" else "b (𝟙𝟙ᵀ part)"
    est = mean_estimate([row[key] for row in rows])
    return Measurement(
        error=est.z(0.0), expected=f"{key} = 0 (|mean|/SE ≤ t-quantile)", observed={"mean": est.value, "se": est.se},
        compared=(f"non-augmented model (H = d = {d}, T = {T}) trained by Adam ({steps} steps, batch 256) on Haar W "
                  f"with s_0 on the sphere, {models} independently seeded models: mean of the {key} of C/tr C "
                  "over the models in units of its seed-to-seed standard error"),
        details={"rows": rows})


register(Claim(
    id="sander.haar.non-aug.measured", paper=SANDER, reference=REFERENCE,
    statement=("Non-augmented tokens, Haar W, isotropic s_0: the coordinate-wise products leave only signed "
               "permutations as symmetries of the model, so (given uniqueness) C ∈ span{I, 𝟙𝟙ᵀ}. Measured: C ∝ 𝟙𝟙ᵀ "
               "(no I part), i.e. the trained model is the O(d)-equivariant ŝ = Σ_j P_j ⟨s_q, s_j⟩ s_j; the P band "
               "(trC·P[r, r+1] ≈ 3.0–3.4, trC·P[r, r] ≈ 0–0.2 at d = 3, T = 4) is reported, not predicted."),
    kind="measured", check=lambda ctx: _non_aug_measure(ctx, coefficient="identity"),
    control=lambda ctx: _non_aug_measure(ctx, coefficient="ones"),
    control_description="the commuting case-U answer C ∝ I (no 𝟙𝟙ᵀ part) tested the same way",
    tolerance=Tolerance(8.61, "two-sided 1e-3 quantile of Student's t with 4 degrees of freedom (5 seeds, quick; "
                              "the cpu/paper profiles' 8 seeds would allow 5.41, so 8.61 is conservative there); "
                              "seed-to-seed standard error of the mean coefficient", origin="standard-errors"),
    seed=1503, rests_on=RESTS_ON,
    route="Adam on freshly sampled Haar sequences through the non-augmented torch model, five independent seeds",
    finding=("Under Haar W the trained non-augmented C is 𝟙𝟙ᵀ/d·trC (I part −1e−4 ± 4e−4 at d = 3), which turns the "
             "diagonal multi-head model into rotation-equivariant linear attention Σ_j P_j ⟨s_q, s_j⟩ s_j; symmetry "
             "alone only gives span{I, 𝟙𝟙ᵀ}.")))
