"""Augmented tokens (Sander et al. 2024, arXiv:2402.05787, Section 3; numbering UNCONFIRMED): the closed forms
against the *exact* population loss of the torch forward pass on a quadrature grid.

:func:`numerics.models.sander_augmented.quadrature_states` puts the sequences on a weighted product grid (roots of
unity for the angles of ``W`` and the phases of ``s_0``, a degree-3-exact rule for the radial law) whose weighted
mean is the exact expectation of every one-layer squared error; the loss is measured through
:func:`numerics.models.sander_augmented.predict` (the attention layer built from tokens), never from a closed form.
The squared error is exactly quadratic in the step: ``L_t(η) = η² a_t − 2η b_t + c``, so the three grid losses at
``η ∈ {0, 1, −1}`` give ``(a_t, b_t, c)`` exactly, to round-off.  Derivations: ``docs/sander-augmented.md``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from numerics.models import sander_augmented as model
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.papers import SANDER
from proofs_check.registry import register
from theory.laurent import constant_term, expectation_of_product
from theory.sander import augmented as th

U_UNCONFIRMED = ("UNCONFIRMED: the paper's s_0 law and normalisation (this suite: phase-invariant s_0, no 1/t)",)

#: Discrete radial laws (``x = |s_{0k}|²`` in case U, the squared block radius in case O), exact to degree 3.
#: Gauss–Laguerre with two nodes integrates ``x^n e^{−x}`` exactly for ``n ≤ 3``: the Exp(1) law of ``|s|²`` for
#: ``s ~ CN(0, 1)``, and (scaled by 2) the χ²₂ law of a real Gaussian block's ``r²``.
_LAGUERRE = np.polynomial.laguerre.laggauss(2)
_TWO_POINT = (np.array([1.0, 3.0]), np.array([0.5, 0.5]))
_RADIUS = 1.5


def _moments_of(nodes: np.ndarray, weights: np.ndarray) -> th.RadialMoments:
    """The radial moments of a discrete law, computed from the law itself."""
    return th.RadialMoments(*(float(weights @ nodes**n) for n in (1, 2, 3)))


#: ``{name: (law for the closed forms, radial nodes, radial weights)}`` per case; the law is built when a claim
#: runs (a closed form called at import time would escape the mutation harness).
LAWS = {
    "U": {"torus": (lambda: th.TORUS, np.ones(1), np.ones(1)),
          "gaussian": (lambda: th.COMPLEX_GAUSSIAN, *_LAGUERRE),
          "two-point x∈{1,3}": (lambda: _moments_of(*_TWO_POINT), *_TWO_POINT)},
    "O": {f"radius {_RADIUS}": (lambda: th.fixed_radius(_RADIUS), np.array([_RADIUS**2]), np.ones(1)),
          "gaussian": (lambda: th.REAL_GAUSSIAN_BLOCKS, 2 * _LAGUERRE[0], _LAGUERRE[1])},
}

ROUND_OFF = Tolerance(1e-9, (
    "float64 round-off: every grid loss is a weighted mean of ≤ 5e5 non-negative terms, each from a forward pass of "
    "≲ 100 flops (relative error ≲ 100 eps ≈ 2e-14) summed with relative error ≤ n eps ≈ 1e-10 in the worst case; "
    "recovering b_t = (L(−1) − L(1))/4 amplifies a relative error by (L(1) + L(−1))/(2 b_t), at most ~10 here "
    "(reported per setting): 1e-9 relative bounds every comparison"), origin="round-off")

_QUAD_CACHE: dict[tuple, np.ndarray] = {}


def _grid_losses(case: str, d: int, horizon: int, law_name: str, v: np.ndarray, m: np.ndarray,
                 *, phase_invariant: bool = True) -> np.ndarray:
    """Exact per-position loss ``E‖V S_t M s_t − s_{t+1}‖²``, ``t = 0..horizon−1``, of the torch layer with block
    parameters ``(V, M)`` (cached: the check and its control read the same grid values)."""
    key = (case, d, horizon, law_name, phase_invariant, v.tobytes(), m.tobytes())
    if key not in _QUAD_CACHE:
        _, nodes, weights = LAWS[case][law_name] if phase_invariant else (None, np.ones(1), np.ones(1))
        states, w = model.quadrature_states(case, d, horizon, nodes, weights, phase_invariant=phase_invariant)
        x = torch.from_numpy(states)
        params = model.embed_blocks(torch.as_tensor(v, dtype=x.dtype), torch.as_tensor(m, dtype=x.dtype))
        _QUAD_CACHE[key] = model.position_losses(params, x, torch.from_numpy(w)).numpy()
    return _QUAD_CACHE[key]


def _rel(closed: float, exact: float) -> float:
    return abs(closed - exact) / abs(exact)


# ---------------------------------------------------------------------------------------------------------
# The scalar family V = I, M = ηI: moments, η_t*, losses, the shared step (cases U and O, up to three blocks)
# ---------------------------------------------------------------------------------------------------------

#: ``(case, d, horizon, law)``: positions ``t = 0..horizon−1``; case O up to three blocks (``d = 6``).
_SCALAR_SETTINGS = (("U", 2, 4, "torus"), ("U", 2, 4, "gaussian"), ("U", 2, 4, "two-point x∈{1,3}"),
                    ("U", 3, 3, "torus"), ("O", 4, 3, f"radius {_RADIUS}"), ("O", 4, 3, "gaussian"),
                    ("O", 6, 2, f"radius {_RADIUS}"))


def _scalar_measure(ctx: RunContext, *, shift: int) -> Measurement:
    """Every scalar closed form against the grid; ``shift = 1`` (the control) reads the closed forms at ``t + 1``."""
    eta_sym = {case: (th.optimal_step_expr(case), th.optimal_loss_expr(case)) for case in ("U", "O")}
    worst, rows = 0.0, []
    for case, d, horizon, law_name in _SCALAR_SETTINGS:
        law = LAWS[case][law_name][0]()
        eye = np.eye(d)
        l0, lp, lm = (_grid_losses(case, d, horizon, law_name, eye, s * eye) for s in (0.0, 1.0, -1.0))
        a_q, b_q, c_q = (lp + lm) / 2 - l0, (lm - lp) / 4, l0
        errs: dict[str, float] = {}
        for t in range(1, horizon):
            tc = t + shift
            a, b, c = th.moments(case, d, tc, law)  # type: ignore[arg-type]
            eta_q, best_q = b_q[t] / a_q[t], c_q[t] - b_q[t] ** 2 / a_q[t]
            eta_probe = 0.37 * eta_q
            subs = {th.D: d, th.T: tc, th.M2: law.m2, th.M4: law.m4, th.M6: law.m6}
            errs.update({
                f"a_{t}": _rel(a, a_q[t]), f"b_{t}": _rel(b, b_q[t]), f"c_{t}": _rel(c, c_q[t]),
                f"eta*_{t}": _rel(th.optimal_step(case, d, tc, law), eta_q),  # type: ignore[arg-type]
                f"eta*_expr_{t}": _rel(float(eta_sym[case][0].subs(subs)), eta_q),
                f"loss*_{t}": _rel(th.optimal_loss(case, d, tc, law), best_q),  # type: ignore[arg-type]
                f"loss*_expr_{t}": _rel(float(eta_sym[case][1].subs(subs)), best_q),
                f"loss(0.37 eta*)_{t}": _rel(th.loss_at_step(case, d, tc, law, eta_probe),  # type: ignore[arg-type]
                                              eta_probe**2 * a_q[t] - 2 * eta_probe * b_q[t] + c_q[t])})
        # one step shared by positions 0..horizon−1 (position 0 contributes c whatever η)
        positions = range(shift, horizon + shift)
        eta_s, loss_s = th.shared_optimum(case, d, positions, law)  # type: ignore[arg-type]
        sa, sb, sc = a_q[1:].sum(), b_q[1:].sum(), c_q.sum()
        errs["shared eta*"] = _rel(eta_s, sb / sa)
        errs["shared loss"] = _rel(loss_s, sc - sb**2 / sa)
        # position 0 alone (S_0 = 0): every step gives the loss c; the documented step is 0
        eta_0, loss_0 = th.shared_optimum(case, d, [shift], law)  # type: ignore[arg-type]
        errs["position 0 alone: loss"] = _rel(loss_0, c_q[0])
        errs["position 0 alone: step"] = abs(eta_0)
        amplification = float(np.max((lp[1:] + lm[1:]) / (2 * b_q[1:])))
        key, val = max(errs.items(), key=lambda kv: kv[1])
        rows.append({"case": case, "d": d, "law": law_name, "positions": f"0..{horizon - 1}", "worst": key,
                     "rel_error": val, "b_amplification": amplification,
                     "a_t (grid)": [round(float(x), 10) for x in a_q[1:]],
                     "b_t (grid)": [round(float(x), 10) for x in b_q[1:]], "c (grid)": round(float(c_q[1]), 10)})
        worst = max(worst, val)
    return Measurement(
        error=worst, expected="every closed form equal to the grid value (relative round-off)",
        observed={f"{r['case']} d={r['d']} {r['law']}": f"{r['rel_error']:.2e} ({r['worst']})" for r in rows},
        compared=("largest relative gap between the closed forms (moments, optimal_step, optimal_loss, loss_at_step, "
                  "shared_optimum, and the sympy optimal_step_expr / optimal_loss_expr) "
                  + ("at position t" if shift == 0 else "at position t + 1 (control)")
                  + " and the exact grid loss of the torch layer V = I, M = ηI at η ∈ {0, ±1} at position t"),
        details={"rows": rows})


register(Claim(
    id="sander.aug.scalar.quadrature", paper=SANDER,
    reference="Section 3, one GD step on augmented tokens: optimal step and loss (numbering UNCONFIRMED)",
    statement=("For V = I, M = ηI the per-position loss is η² a_t − 2η b_t + c with the closed-form (a_t, b_t, c) of "
               "cases U (d m6 t² + d(d−1) m2 m4 t, d m4 t, d m2) and O (p t (m6 (t+1)/4 + (p−1) m2 m4/2), p m4 t/2, "
               "p m2); η_t* = b_t/a_t, the optimal loss c − b_t²/a_t, and the step shared over positions "
               "Σb_t/Σa_t with loss Σc − (Σb_t)²/Σa_t — exactly, for three s_0 laws in case U and up to three "
               "rotation blocks (d = 6) in case O."),
    kind="identity", check=lambda ctx: _scalar_measure(ctx, shift=0),
    control=lambda ctx: _scalar_measure(ctx, shift=1),
    control_description="the closed forms at the neighbouring position t + 1 (the off-by-one in t)",
    tolerance=ROUND_OFF, seed=20240211, rests_on=U_UNCONFIRMED,
    route=("exact expectation by a product quadrature grid (roots of unity for the angles and phases, a degree-3 "
           "radial rule built from the law) of the loss of the torch forward pass; a_t, b_t, c read off the exact "
           "quadratic in η")))


# ---------------------------------------------------------------------------------------------------------
# General V, M in case U: the exact moment enumeration of restricted_tensors_u
# ---------------------------------------------------------------------------------------------------------

#: ``(d, positions, s0, law)``; the grid runs to ``max(positions) + 1``.
_RESTRICTED_SETTINGS = ((2, (1, 2, 3), "phase_invariant", "two-point x∈{1,3}"),
                        (2, (2,), "phase_invariant", "gaussian"),
                        (3, (1, 2), "phase_invariant", "torus"),
                        (3, (1, 3), "ones", "torus"))


def _random_vm(d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    def draw() -> np.ndarray:
        return (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))) / np.sqrt(2 * d)
    return draw(), draw()


def _restricted_measure(ctx: RunContext, *, shift: int) -> Measurement:
    """``restricted_loss`` (numpy and torch) at random complex ``V, M`` against the grid; ``shift = 1`` (the
    control) builds the tensors for the positions ``t + 1``."""
    rng = ctx.rng(1)
    worst, rows = 0.0, []
    for d, positions, s0, law_name in _RESTRICTED_SETTINGS:
        law = LAWS["U"][law_name][0]()
        tensors = th.restricted_tensors_u(d, [t + shift for t in positions], s0=s0, law=law)  # type: ignore[arg-type]
        for _ in range(2):
            v, m = _random_vm(d, rng)
            per_t = _grid_losses("U", d, max(positions) + 1, law_name, v, m, phase_invariant=s0 == "phase_invariant")
            exact = float(sum(per_t[t] for t in positions))
            closed = th.restricted_loss(v, m, tensors)
            closed_torch = float(th.restricted_loss_torch(
                torch.as_tensor(v), torch.as_tensor(m), torch.as_tensor(tensors.quad.astype(complex)),
                torch.as_tensor(tensors.lin.astype(complex)), tensors.const))
            err = max(_rel(closed, exact), _rel(closed_torch, exact))
            rows.append({"d": d, "positions": list(positions), "s0": s0, "law": law_name, "grid": exact,
                         "restricted_loss": closed, "restricted_loss_torch": closed_torch, "rel_error": err})
            worst = max(worst, err)
    return Measurement(
        error=worst, expected="restricted_loss = exact grid loss (relative round-off)",
        observed={f"d={r['d']} t∈{r['positions']} {r['s0']} {r['law']}": f"{r['rel_error']:.2e}" for r in rows},
        compared=("largest relative gap between restricted_loss / restricted_loss_torch of restricted_tensors_u "
                  + ("" if shift == 0 else "at the positions t + 1 (control) ")
                  + "and the exact grid loss of the torch layer with block parameters V, M, summed over the positions, "
                  "at two random complex (V, M) per setting"),
        details={"rows": rows})


register(Claim(
    id="sander.aug.restricted.quadrature", paper=SANDER,
    reference="Section 3: the block family ŝ = V S_t M s_t beyond V, M ∝ I (numbering UNCONFIRMED)",
    statement=("The moment enumeration restricted_tensors_u gives the exact case-U population loss of ŝ = V S_t M s_t "
               "for general complex V, M, summed over positions: for phase-invariant s_0 with any radial law "
               "(torus, complex Gaussian, a two-point law of |s_0k|²) and for the deterministic s_0 = 1_d."),
    kind="identity", check=lambda ctx: _restricted_measure(ctx, shift=0),
    control=lambda ctx: _restricted_measure(ctx, shift=1),
    control_description="the tensors built for the neighbouring positions t + 1 (the off-by-one in t)",
    tolerance=ROUND_OFF, seed=20240212, rests_on=U_UNCONFIRMED,
    route=("exact expectation by a product quadrature grid (roots of unity for the eigen-angles and s_0 phases, "
           "the radial law's own nodes) of the loss of the torch forward pass with block parameters V, M")))


# ---------------------------------------------------------------------------------------------------------
# The Laurent-polynomial expectation (theory.laurent) every symbolic claim of the Sander settings rests on
# ---------------------------------------------------------------------------------------------------------

_LAURENT_DEGREE = 3


def _random_laurent(rng: np.random.Generator, gens: tuple[sp.Symbol, ...], terms: int, with_constant: bool) -> sp.Expr:
    """A Laurent polynomial with integer coefficients in {±1, ±2} and exponents in [−3, 3] per generator."""
    expr = sp.Integer(0)
    for _ in range(terms):
        exps = rng.integers(-_LAURENT_DEGREE, _LAURENT_DEGREE + 1, len(gens))
        if not exps.any():
            continue  # the constant is set below
        expr += int(rng.choice([-2, -1, 1, 2])) * sp.Mul(*[g ** int(e) for g, e in zip(gens, exps)])
    return expr + (int(rng.choice([-1, 1])) if with_constant else 0)


def _grid_mean(expr: sp.Expr, gens: tuple[sp.Symbol, ...], points: int) -> complex:
    """Mean of ``expr`` over the product grid of ``points``-th roots of unity (exact for ``|exponent| < points``)."""
    f = sp.lambdify(gens, expr, "numpy")
    roots = np.exp(2j * np.pi * np.arange(points) / points)
    mesh = np.meshgrid(*([roots] * len(gens)), indexing="ij")
    return complex(np.mean(np.broadcast_to(f(*mesh), mesh[0].shape)))


def _laurent_measure(ctx: RunContext, *, points_short: int) -> Measurement:
    """``constant_term`` and ``expectation_of_product`` against the roots-of-unity grid mean; ``points_short``
    (the control) takes one point fewer than the exactness rule needs, so the extreme exponents alias."""
    rng = ctx.rng(4)
    gens = sp.symbols("z0:2")
    worst, rows = 0.0, []
    for k in range(8):
        f = _random_laurent(rng, gens, 8, with_constant=k % 2 == 0)
        g = _random_laurent(rng, gens, 6, with_constant=k % 4 < 2)
        ct = complex(constant_term(f, gens))
        ep = complex(expectation_of_product(f, g, gens))
        grid_f = _grid_mean(f, gens, _LAURENT_DEGREE + 1 - points_short)
        grid_fg = _grid_mean(sp.expand(f * g), gens, 2 * _LAURENT_DEGREE + 1 - points_short)
        err = max(abs(ct - grid_f), abs(ep - grid_fg))
        rows.append({"f": str(f), "constant_term": str(ct), "E[fg]": str(ep), "error": err})
        worst = max(worst, err)
    return Measurement(
        error=worst, expected="constant term = exact grid mean",
        observed=[f"{r['error']:.1e}" for r in rows],
        compared=("largest |constant_term(f) − mean of f over the 4×4 grid of 4th roots of unity| and |expectation_of_"
                  "product(f, g) − mean of fg over the 7×7 grid| over 8 random Laurent polynomials in two generators"
                  + (" (control: grids one point short, 3 and 6)" if points_short else "")),
        details={"rows": rows})


register(Claim(
    id="sander.laurent.constant-term.quadrature", paper=SANDER,
    reference="the expectation rule behind every symbolic expectation of the Sander settings (E[g^k] = 0, k ≠ 0)",
    statement=("For independent uniform phases g = e^{iθ}, the mean of a Laurent polynomial is its constant term "
               "(theory.laurent.constant_term), and E[f g] = Σ_e f_e g_{−e} (expectation_of_product)."),
    kind="identity", check=lambda ctx: _laurent_measure(ctx, points_short=0),
    control=lambda ctx: _laurent_measure(ctx, points_short=1),
    control_description=("the grid one point short of the exactness rule (N = max exponent): the extreme exponents "
                         "alias onto the constant"),
    tolerance=Tolerance(1e-12, ("float64 round-off of a mean of ≤ 49 terms with integer coefficients ≤ 2·8·6 in "
                                "modulus (≲ 1e-13)"), origin="round-off"),
    seed=20240213,
    route="the mean over a product grid of roots of unity (an N-point rule is exact for |exponent| < N), evaluated in "
          "floating point, independent of the symbolic coefficient extraction"))
