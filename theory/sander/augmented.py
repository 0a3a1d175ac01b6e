"""Sander et al. (2024, arXiv:2402.05787), augmented tokens: the in-context mapping is one gradient step.

Setting (paper Section 3, "augmented tokens"; section/equation numbers UNCONFIRMED — the paper body was not
available, the layout is taken from the authors' code ``augmented.py``): ``s_{t+1} = W s_t``, tokens
``e_t = (0_d, s_t, s_{t-1}) ∈ C^{3d}`` with ``s_{-1} = 0``, and one causal linear-attention layer without
normalisation (the choice of this suite; see ``docs/sander-augmented.md``)::

    f(e_{0:t}) = e_t + Σ_{i=0}^{t} (W_V e_i)(e_i^* W_KQ e_t),     ŝ_{t+1} = f(e_{0:t})[slot 1].

Block family: ``W_V`` is zero except a block ``V`` (slot 2 → slot 1) and ``W_KQ`` zero except a block ``M``
(key slot 3 × query slot 2).  Then ``ŝ_{t+1} = V S_t M s_t`` with ``S_t = Σ_{i=1}^t s_i s_{i-1}^*``.

Inner objective ``L_t(Ŵ) = ½ Σ_{i=1}^t ‖s_i − Ŵ s_{i-1}‖²``; its (real) gradient at 0 is ``−S_t``, so one GD
step from 0 with step ``η`` gives ``Ŵ = η S_t`` and, with ``V = vI``, ``M = mI``, ``ŝ_{t+1} = Ŵ s_t``, ``η = vm``.

Closed forms (derived in ``docs/sander-augmented.md``; constants are ours, not the paper's):

* Case U (``W = diag(e^{iθ_k})``, θ iid uniform, ``s_0`` coordinates iid phase-invariant with
  ``m_{2n} = E|s_{0k}|^{2n}``): ``a_t = E‖S_t s_t‖² = d m6 t² + d(d−1) m2 m4 t``, ``b_t = Re E⟨s_{t+1}, S_t s_t⟩
  = d m4 t``, ``c = E‖s_{t+1}‖² = d m2``.
* Case O (``W = blockdiag R(θ_m)``, ``d = 2p``, ``s_0`` blocks ``r_m (cos φ_m, sin φ_m)`` with φ uniform and
  ``ρ_{2n} = E r^{2n}``): ``a_t = p t (ρ6 (t+1)/4 + (p−1) ρ2 ρ4 / 2)``, ``b_t = p ρ4 t / 2``, ``c = p ρ2``.
* Per position: ``η_t* = b_t/a_t``, optimal loss ``c − b_t²/a_t``; one step shared over positions
  ``t ∈ positions``: ``η* = Σ b_t / Σ a_t``, loss ``Σ c − (Σ b_t)²/Σ a_t``.

``restricted_tensors_u`` gives the exact population loss of general ``V, M`` in case U (phase-invariant or
deterministic ``s_0 = 1_d``) by exact moment enumeration.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np
import sympy as sp

from theory.arguments import (
    ArgumentError,
    finite_array,
    flag,
    instance,
    int_sequence,
    nonnegative_int,
    one_of,
    positive_float,
    positive_int,
    real_float,
)
from theory.laurent import constant_term

if TYPE_CHECKING:  # pragma: no cover
    import torch


__all__ = [
    "RadialMoments", "TORUS", "COMPLEX_GAUSSIAN", "REAL_GAUSSIAN_BLOCKS", "fixed_radius", "D", "T", "M2", "M4", "M6",
    "moment_exprs", "optimal_step_expr", "optimal_loss_expr", "moments", "optimal_step", "loss_at_step",
    "optimal_loss", "shared_optimum", "symbolic_moments", "symbolic_sequence", "context_matrix_sym",
    "inner_objective_sym", "inner_gradient_at_zero_sym", "one_step_prediction_sym", "block_parameters_sym",
    "augmented_tokens_sym", "attention_output_sym", "context_matrix", "inner_objective", "inner_gradient",
    "one_step_prediction", "RestrictedTensors", "restricted_tensors_u", "restricted_loss",
    "restricted_loss_torch", "distance_to_identity",
]


# ---------------------------------------------------------------------------------------------------------
# Laws of s_0 through their radial moments
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RadialMoments:
    """``(E x, E x², E x³)`` of ``x = |s_{0k}|²`` (case U) or ``x = r_m²`` (case O, squared block radius).

    The only features of the law of ``s_0`` that ``a_t``, ``b_t``, ``c`` depend on (module docstring).  Moments
    violating Cauchy–Schwarz (``m4 ≥ m2²``, ``m2 m6 ≥ m4²``) are no law and raise ``ArgumentError``.

    Examples
    --------
    ``s_0 ~ CN(0, 1)``: ``|s_0|²`` is Exp(1), whose moments are ``n! = 1, 2, 6``:

    >>> from theory.arguments import ArgumentError
    >>> from theory.sander import COMPLEX_GAUSSIAN, RadialMoments
    >>> [COMPLEX_GAUSSIAN.moment(n) for n in range(4)]
    [1.0, 1.0, 2.0, 6.0]
    >>> try:
    ...     RadialMoments(1.0, 0.5, 1.0)  # E x² < (E x)²
    ... except ArgumentError:
    ...     print("rejected")
    rejected
    """

    m2: float
    m4: float
    m6: float

    def __post_init__(self) -> None:
        for name in ("m2", "m4", "m6"):
            positive_float(name, getattr(self, name))
        if self.m4 < self.m2**2 - 1e-12 or self.m6 * self.m2 < self.m4**2 - 1e-12:
            raise ArgumentError(f"moments ({self.m2}, {self.m4}, {self.m6}) violate Cauchy-Schwarz: not a law")

    def moment(self, n: int) -> float:
        """``E x^n`` for ``n ∈ {0, 1, 2, 3}``."""
        return (1.0, self.m2, self.m4, self.m6)[nonnegative_int("n", n)]


#: |s_0k| = 1 (uniform phases on the torus) — also the deterministic ``s_0 = 1_d`` radii.
TORUS = RadialMoments(1.0, 1.0, 1.0)
#: ``s_0 ~ CN(0, I)``: ``|s|²`` is Exp(1).
COMPLEX_GAUSSIAN = RadialMoments(1.0, 2.0, 6.0)
#: Case O, ``s_0 ~ N(0, I_d)``: each block's ``r²`` is χ²₂ (Exp with mean 2).
REAL_GAUSSIAN_BLOCKS = RadialMoments(2.0, 8.0, 48.0)


def fixed_radius(r: float) -> RadialMoments:
    """Radial moments of case O when every 2-D block of ``s_0`` has radius ``r`` (``r = √2`` matches ``s_0 = 1_d``).

    ``x = r²`` deterministically, so ``(m2, m4, m6) = (r², r⁴, r⁶)``.

    Parameters
    ----------
    r : float
        Block radius, positive.

    Returns
    -------
    RadialMoments

    Examples
    --------
    >>> from theory.sander import fixed_radius
    >>> fixed_radius(1.0)
    RadialMoments(m2=1.0, m4=1.0, m6=1.0)
    """
    r2 = positive_float("r", r) ** 2
    return RadialMoments(r2, r2**2, r2**3)


# ---------------------------------------------------------------------------------------------------------
# Closed forms: sympy expressions and lambdified numpy twins
# ---------------------------------------------------------------------------------------------------------

#: Dimension ``d`` and position ``t`` of the closed forms (sympy symbols, positive).
D, T = sp.symbols("d t", positive=True)
#: Former private-looking names of :data:`D` and :data:`T`, kept because callers import them.
D_, T_ = D, T
#: Radial moments ``m2 = E x, m4 = E x², m6 = E x³`` of :class:`RadialMoments` (sympy symbols, positive).
M2, M4, M6 = sp.symbols("m2 m4 m6", positive=True)


def moment_exprs(case: Literal["U", "O"]) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """The three moments ``(a_t, b_t, c)`` of the augmented-token one-step loss as sympy expressions.

    Sander et al. (2024), augmented tokens (Section 3; numbering UNCONFIRMED), derived in
    ``docs/sander-augmented.md``::

        case U:  a_t = E‖S_t s_t‖² = d m6 t² + d(d−1) m2 m4 t,   b_t = Re E⟨s_{t+1}, S_t s_t⟩ = d m4 t,   c = d m2
        case O:  a_t = p t (m6 (t+1)/4 + (p−1) m2 m4/2),   b_t = p m4 t/2,   c = p m2,   p = d/2

    in the symbols :data:`D`, :data:`T`, :data:`M2`, :data:`M4`, :data:`M6`.

    Parameters
    ----------
    case : {"U", "O"}
        ``"U"``: unitary diagonal ``W``; ``"O"``: block-diagonal rotations (``d`` even).

    Returns
    -------
    tuple of sympy.Expr
        ``(a_t, b_t, c)``.

    Examples
    --------
    >>> from theory.sander import moment_exprs, D, T, M2, M4, M6
    >>> a, b, c = moment_exprs("U")
    >>> b, c
    (d*m4*t, d*m2)
    >>> a.subs({D: 4, T: 3, M2: 1, M4: 1, M6: 1})
    72
    """
    one_of("case", case, ("U", "O"))
    if case == "U":
        return D * M6 * T**2 + D * (D - 1) * M2 * M4 * T, D * M4 * T, D * M2
    p = D / 2
    return p * T * (M6 * (T + 1) / 4 + (p - 1) * M2 * M4 / 2), p * M4 * T / 2, p * M2


def optimal_step_expr(case: Literal["U", "O"]) -> sp.Expr:
    """The optimal step ``η_t* = b_t / a_t`` of one GD step at position ``t`` (sympy, simplified).

    Case U: ``η_t* = m4 / (m6 t + (d−1) m2 m4)``; case O: ``η_t* = 2 m4 / (m6 (t+1) + (d−2) m2 m4)``
    (augmented tokens, Sander et al. 2024 Section 3, numbering UNCONFIRMED; :func:`moment_exprs`).  The numpy twin
    is :func:`optimal_step`; for a torch twin differentiate ``loss_at_step`` or lambdify with ``modules="torch"``.

    Parameters
    ----------
    case : {"U", "O"}

    Returns
    -------
    sympy.Expr
        In :data:`D`, :data:`T`, :data:`M2`, :data:`M4`, :data:`M6`.

    Examples
    --------
    >>> from theory.sander import optimal_step_expr, D, T, M2, M4, M6
    >>> eta = optimal_step_expr("U")
    >>> eta
    m4/(m2*m4*(d - 1) + m6*t)
    >>> eta.subs({M2: 1, M4: 1, M6: 1})  # torus: 1/(t + d - 1)
    1/(d + t - 1)
    """
    a, b, _ = moment_exprs(case)
    return sp.simplify(b / a)


def optimal_loss_expr(case: Literal["U", "O"]) -> sp.Expr:
    """The optimal one-step loss ``c − b_t² / a_t`` at position ``t`` (sympy, simplified).

    Torus case U (``m2 = m4 = m6 = 1``): ``d(d−1)/(t+d−1)``; case O with block radius ``r``:
    ``r² (d/2)(d−1)/(t+d−1)`` (augmented tokens, Sander et al. 2024 Section 3, numbering UNCONFIRMED).  Numpy twin:
    :func:`optimal_loss`.

    Parameters
    ----------
    case : {"U", "O"}

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import optimal_loss_expr, M2, M4, M6
    >>> sp.factor(optimal_loss_expr("U").subs({M2: 1, M4: 1, M6: 1}))
    d*(d - 1)/(d + t - 1)
    """
    a, b, c = moment_exprs(case)
    return sp.simplify(c - b**2 / a)


@lru_cache(maxsize=None)
def _moment_funcs(case: str):  # noqa: ANN202 - cached lambdified twins
    return sp.lambdify((D, T, M2, M4, M6), list(moment_exprs(case)), "numpy")  # type: ignore[arg-type]


def _check_case_d(case: str, d: int) -> int:
    one_of("case", case, ("U", "O"))
    d = positive_int("d", d)
    if case == "O" and d % 2:
        raise ArgumentError(f"d must be even in case O (2x2 rotation blocks), got {d}")
    return d


def moments(case: Literal["U", "O"], d: int, t: int, law: RadialMoments) -> tuple[float, float, float]:
    """Numeric ``(a_t, b_t, c)`` of :func:`moment_exprs` for position ``t ≥ 1``.

    Parameters
    ----------
    case : {"U", "O"}
    d : int
        Dimension (even in case O).
    t : int
        Position, ``t ≥ 1``.
    law : RadialMoments
        Radial moments of ``s_0`` (e.g. :data:`TORUS`, :data:`COMPLEX_GAUSSIAN`, :func:`fixed_radius`).

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> from theory.sander import moments, TORUS
    >>> moments("U", 4, 3, TORUS)
    (72.0, 12.0, 4.0)
    """
    instance("law", law, RadialMoments)
    d = _check_case_d(case, d)
    t = positive_int("t", t)
    a, b, c = _moment_funcs(case)(d, t, law.m2, law.m4, law.m6)
    return float(a), float(b), float(c)


def optimal_step(case: Literal["U", "O"], d: int, t: int, law: RadialMoments) -> float:
    """``η_t* = b_t / a_t``: the best step of one GD step at position ``t`` (numpy twin of :func:`optimal_step_expr`).

    Case U: ``m4/(m6 t + (d−1) m2 m4)``; case O, radius ``r``: ``2/(r²(t+d−1))``.

    Parameters
    ----------
    case : {"U", "O"}
    d, t : int
    law : RadialMoments

    Returns
    -------
    float

    Examples
    --------
    >>> from theory.sander import optimal_step, TORUS, fixed_radius
    >>> optimal_step("U", 4, 3, TORUS)  # 1/(t + d - 1)
    0.16666666666666666
    >>> round(optimal_step("O", 4, 3, fixed_radius(2 ** 0.5)), 12)  # 2/(r^2 (t + d - 1))
    0.166666666667
    """
    instance("law", law, RadialMoments)
    a, b, _ = moments(case, d, t, law)
    return b / a


def loss_at_step(case: Literal["U", "O"], d: int, t: int, law: RadialMoments, eta: float) -> float:
    """Population loss ``E‖η S_t s_t − s_{t+1}‖² = η² a_t − 2η b_t + c`` of one GD step with step ``η``.

    Parameters
    ----------
    case : {"U", "O"}
    d, t : int
    law : RadialMoments
    eta : float
        Step size.

    Returns
    -------
    float

    Examples
    --------
    >>> from theory.sander import loss_at_step, TORUS
    >>> loss_at_step("U", 4, 3, TORUS, 0.0)  # zero step: E‖s_{t+1}‖² = d
    4.0
    >>> loss_at_step("U", 4, 3, TORUS, 1 / 6)  # at η_t*: d(d-1)/(t+d-1) = 2
    2.0
    """
    instance("law", law, RadialMoments)
    eta = real_float("eta", eta)
    a, b, c = moments(case, d, t, law)
    return eta**2 * a - 2 * eta * b + c


def optimal_loss(case: Literal["U", "O"], d: int, t: int, law: RadialMoments) -> float:
    """``c − b_t²/a_t``: the loss at ``η_t*`` (numpy twin of :func:`optimal_loss_expr`).

    Torus case U: ``d(d−1)/(t+d−1)``; case O radius ``r``: ``r² (d/2)(d−1)/(t+d−1)``.

    Parameters
    ----------
    case : {"U", "O"}
    d, t : int
    law : RadialMoments

    Returns
    -------
    float

    Examples
    --------
    >>> from theory.sander import optimal_loss, TORUS
    >>> optimal_loss("U", 4, 3, TORUS)
    2.0
    """
    instance("law", law, RadialMoments)
    a, b, c = moments(case, d, t, law)
    return c - b**2 / a


def shared_optimum(case: Literal["U", "O"], d: int, positions: Sequence[int],
                   law: RadialMoments) -> tuple[float, float]:
    """One step ``η`` shared by several positions (no normalisation): ``(η*, loss)`` of ``Σ_t E‖η S_t s_t − s_{t+1}‖²``.

    ``η* = Σ_t b_t / Σ_t a_t`` and loss ``Σ_t c − (Σ_t b_t)² / Σ_t a_t``.  Position ``t = 0`` (``S_0 = 0``)
    contributes ``c`` whatever ``η``.  Torus case U, positions ``1..T−1``: ``η* = 3/(2T + 3d − 4)``.

    Parameters
    ----------
    case : {"U", "O"}
    d : int
    positions : sequence of int
        Non-empty; non-negative positions.
    law : RadialMoments

    Returns
    -------
    tuple of float
        ``(η*, loss)``.

    Examples
    --------
    >>> from theory.sander import shared_optimum, TORUS
    >>> eta, loss = shared_optimum("U", 4, range(1, 5), TORUS)
    >>> eta == 3 / (2 * 5 + 3 * 4 - 4)
    True
    """
    instance("law", law, RadialMoments)
    int_sequence("positions", positions)
    pos = [nonnegative_int("positions[i]", p) for p in positions]
    if not pos:
        raise ArgumentError("positions must not be empty")
    d = _check_case_d(case, d)
    sa = sb = sc = 0.0
    for t in pos:
        if t == 0:
            sc += float(_moment_funcs(case)(d, 1, law.m2, law.m4, law.m6)[2])
            continue
        a, b, c = moments(case, d, t, law)
        sa, sb, sc = sa + a, sb + b, sc + c
    if sa == 0:
        return 0.0, sc
    return sb / sa, sc - sb**2 / sa


# ---------------------------------------------------------------------------------------------------------
# Symbolic moments by constant-term extraction of Laurent polynomials (independent of the closed forms)
# ---------------------------------------------------------------------------------------------------------


def _radial_average(expr: sp.Expr, radii: Sequence[sp.Symbol]) -> sp.Expr:
    """Replace ``∏ ρ_k^{2n_k}`` by ``∏ m_{2n_k}`` (independent radii)."""
    table = {0: sp.Integer(1), 2: M2, 4: M4, 6: M6}
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        powers = term.as_powers_dict()
        factor = sp.Integer(1)
        for rho in radii:
            e = int(powers.get(rho, 0))
            if e not in table:
                raise ValueError(f"unexpected radial power {rho}**{e}")
            factor *= table[e]
        out += term.subs({rho: 1 for rho in radii}) * factor
    return sp.expand(out)


def symbolic_moments(case: Literal["U", "O"], d: int, t: int) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(a_t, b_t, c)`` for concrete small ``d, t``, computed from explicit sequences.

    Case U: ``s_{i,k} = ρ_k ω_k λ_k^i`` (``conj`` = ``ρ_k/(ω_k λ_k^i)``).  Case O: block ``m`` is
    ``r_m (cos(φ_m + iθ_m), sin(φ_m + iθ_m))`` written with ``ω_m = e^{iφ_m}``, ``λ_m = e^{iθ_m}``.  Expectations
    are constant terms in λ and ω (uniform phases of ``s_0``) with radial powers replaced by moments ``m2, m4, m6``.
    (A deterministic phase ``ω = 1`` gives the same three moments: for ``V = M = I`` they are invariant under a
    common per-coordinate phase (case U) or block rotation (case O), which commute with ``W``.)

    Examples
    --------
    >>> from theory.sander import moment_exprs, symbolic_moments, D, T
    >>> symbolic_moments("U", 2, 1)  # constant terms of Laurent polynomials, independent of moment_exprs
    (2*m2*m4 + 2*m6, 2*m4, 2*m2)
    >>> tuple(e.subs({D: 2, T: 1}) for e in moment_exprs("U"))
    (2*m2*m4 + 2*m6, 2*m4, 2*m2)
    """
    d = _check_case_d(case, d)
    t = positive_int("t", t)
    n_coord = d if case == "U" else d // 2
    lam = sp.symbols(f"lam0:{n_coord}")
    om = sp.symbols(f"om0:{n_coord}")
    rho = sp.symbols(f"rho0:{n_coord}", positive=True)

    def state(i: int) -> tuple[list[sp.Expr], list[sp.Expr]]:
        if case == "U":
            s = [rho[k] * om[k] * lam[k] ** i for k in range(d)]
            return s, [rho[k] / (om[k] * lam[k] ** i) for k in range(d)]
        s = []
        for m in range(n_coord):
            z, zc = om[m] * lam[m] ** i, 1 / (om[m] * lam[m] ** i)
            s += [rho[m] * (z + zc) / 2, rho[m] * (z - zc) / (2 * sp.I)]
        return s, s

    states = [state(i) for i in range(t + 2)]
    s_t, s_tc = states[t]
    # v = S_t s_t = Σ_i s_i (s_{i-1}^* s_t)
    v = [sp.Integer(0)] * d
    for i in range(1, t + 1):
        score = sum(states[i - 1][1][k] * s_t[k] for k in range(d))
        v = [v[k] + states[i][0][k] * score for k in range(d)]
    vc = [sp.Integer(0)] * d
    for i in range(1, t + 1):
        score_c = sum(states[i - 1][0][k] * s_tc[k] for k in range(d))
        vc = [vc[k] + states[i][1][k] * score_c for k in range(d)]
    nxt, nxt_c = states[t + 1]
    phases = list(lam) + list(om)
    a = _radial_average(constant_term(sum(v[k] * vc[k] for k in range(d)), tuple(phases)), rho)
    b_full = _radial_average(constant_term(sum(nxt_c[k] * v[k] for k in range(d)), tuple(phases)), rho)
    c = _radial_average(constant_term(sum(nxt[k] * nxt_c[k] for k in range(d)), tuple(phases)), rho)
    return sp.expand(a), sp.expand(sp.re(b_full) if b_full.has(sp.I) else b_full), sp.expand(c)


# ---------------------------------------------------------------------------------------------------------
# Inner objective, its gradient and the one-step map (sympy; numpy and torch twins)
# ---------------------------------------------------------------------------------------------------------


def symbolic_sequence(d: int, t: int, *, complex_valued: bool = True, name: str = "s") -> list[sp.Matrix]:
    """Generic states ``s_0..s_t`` as column vectors of independent symbols (``x + i y`` when complex).

    Parameters
    ----------
    d : int
        Dimension of each state.
    t : int
        Last index (``t + 1`` states).
    complex_valued : bool
        ``x + i y`` with real ``x``, ``y`` (default) or real entries.
    name : str
        Symbol prefix.

    Returns
    -------
    list of sympy.Matrix
        ``t + 1`` column vectors ``d × 1``.

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import symbolic_sequence
    >>> s = symbolic_sequence(2, 1)
    >>> len(s), s[0].shape, s[1][0]
    (2, (2, 1), I*s1_im0 + s1_re0)
    >>> sp.expand((s[0].H * s[0])[0, 0])  # ‖s_0‖² is real
    s0_im0**2 + s0_im1**2 + s0_re0**2 + s0_re1**2
    """
    flag("complex_valued", complex_valued)
    d, t = positive_int("d", d), nonnegative_int("t", t)
    out = []
    for i in range(t + 1):
        re = sp.symbols(f"{name}{i}_re0:{d}", real=True)
        if complex_valued:
            im = sp.symbols(f"{name}{i}_im0:{d}", real=True)
            out.append(sp.Matrix([re[k] + sp.I * im[k] for k in range(d)]))
        else:
            out.append(sp.Matrix(re))
    return out


def context_matrix_sym(states: Sequence[sp.Matrix]) -> sp.Matrix:
    """``S_t = Σ_{i=1}^t s_i s_{i-1}^*`` for states ``s_0..s_t`` (minus the gradient of ``L_t`` at 0; module docstring).

    Examples
    --------
    Real scalars: ``S_2 = s_1 s_0 + s_2 s_1``; on a geometric sequence ``s_i = w^i`` it is ``w + w³``:

    >>> import sympy as sp
    >>> from theory.sander import context_matrix_sym, symbolic_sequence
    >>> context_matrix_sym(symbolic_sequence(1, 2, complex_valued=False))
    Matrix([[s0_re0*s1_re0 + s1_re0*s2_re0]])
    >>> w = sp.Symbol("w", real=True)
    >>> context_matrix_sym([sp.Matrix([w**i]) for i in range(3)])
    Matrix([[w**3 + w]])
    """
    d = states[0].shape[0]
    out = sp.zeros(d, d)
    for i in range(1, len(states)):
        out += states[i] * states[i - 1].H
    return out


def inner_objective_sym(w_hat: sp.Matrix, states: Sequence[sp.Matrix]) -> sp.Expr:
    """``L_t(Ŵ) = ½ Σ_{i=1}^t ‖s_i − Ŵ s_{i-1}‖²`` (``t = len(states) − 1``), the inner objective (Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``)).

    Examples
    --------
    On ``s_i = 2^i`` the true ``Ŵ = 2`` fits exactly; ``Ŵ = 0`` costs ``½(2² + 4²) = 10``:

    >>> import sympy as sp
    >>> from theory.sander import inner_objective_sym
    >>> states = [sp.Matrix([2**i]) for i in range(3)]
    >>> inner_objective_sym(sp.Matrix([2]), states), inner_objective_sym(sp.Matrix([0]), states)
    (0, 10)
    """
    total = sp.Integer(0)
    for i in range(1, len(states)):
        r = states[i] - w_hat * states[i - 1]
        total += (r.H * r)[0, 0]
    return sp.Rational(1, 2) * total


def inner_gradient_at_zero_sym(states: Sequence[sp.Matrix], *, complex_valued: bool = True) -> sp.Matrix:
    """The gradient of ``L_t`` at ``Ŵ = 0``, differentiated entry-wise.

    Complex case: ``Ŵ = X + iY`` and the gradient is ``∂L/∂X + i ∂L/∂Y`` (the steepest-descent direction of
    ``L`` on ``R^{2d²}``, i.e. twice the Wirtinger derivative ``∂L/∂conj(Ŵ)``).  The claim of Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``):
    ``∇L_t(0) = −S_t``, so one GD step from 0 is ``Ŵ = η S_t``.

    Examples
    --------
    Differentiating the symbolic objective reproduces ``−S_t`` (complex, ``d = 2``, ``t = 1``):

    >>> import sympy as sp
    >>> from theory.sander import context_matrix_sym, inner_gradient_at_zero_sym, symbolic_sequence
    >>> s = symbolic_sequence(2, 1)
    >>> sp.simplify(inner_gradient_at_zero_sym(s) + context_matrix_sym(s))
    Matrix([
    [0, 0],
    [0, 0]])
    """
    d = states[0].shape[0]
    x = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"X{i}_{j}", real=True))
    if complex_valued:
        y = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"Y{i}_{j}", real=True))
        w = x + sp.I * y
    else:
        y, w = None, x
    loss = sp.expand(inner_objective_sym(w, states))
    zero = {sym: 0 for sym in list(x) + (list(y) if y is not None else [])}
    grad = sp.zeros(d, d)
    for i in range(d):
        for j in range(d):
            g = sp.diff(loss, x[i, j])
            if y is not None:
                g = g + sp.I * sp.diff(loss, y[i, j])
            grad[i, j] = sp.expand(g.subs(zero))
    return grad


def one_step_prediction_sym(states: Sequence[sp.Matrix], eta: sp.Expr) -> sp.Matrix:
    """``Ŵ_GD s_t`` with ``Ŵ_GD = 0 − η ∇L_t(0) = η S_t``.

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import one_step_prediction_sym, symbolic_sequence
    >>> s = symbolic_sequence(1, 2, complex_valued=False)
    >>> eta = sp.Symbol("eta")
    >>> sp.expand(one_step_prediction_sym(s, eta)[0])  # η S_2 s_2 = η (s_1 s_0 + s_2 s_1) s_2
    eta*s0_re0*s1_re0*s2_re0 + eta*s1_re0*s2_re0**2
    """
    return eta * context_matrix_sym(states) * states[-1]


def block_parameters_sym(v: sp.Matrix, m: sp.Matrix) -> tuple[sp.Matrix, sp.Matrix]:
    """Full ``(W_V, W_KQ)`` (``3d × 3d``) of the block family: ``W_V[1,2] = V``, ``W_KQ[3,2] = M`` (slots 1-based).

    Sander et al. (2024), augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``).
    Through :func:`attention_output_sym` this family predicts ``ŝ_{t+1} = V S_t M s_t``.

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import block_parameters_sym
    >>> w_v, w_kq = block_parameters_sym(sp.Matrix([[sp.Symbol("v")]]), sp.Matrix([[sp.Symbol("m")]]))
    >>> w_v, w_kq
    (Matrix([
    [0, v, 0],
    [0, 0, 0],
    [0, 0, 0]]), Matrix([
    [0, 0, 0],
    [0, 0, 0],
    [0, m, 0]]))
    """
    d = v.shape[0]
    w_v, w_kq = sp.zeros(3 * d, 3 * d), sp.zeros(3 * d, 3 * d)
    w_v[0:d, d:2 * d] = v
    w_kq[2 * d:3 * d, d:2 * d] = m
    return w_v, w_kq


def augmented_tokens_sym(states: Sequence[sp.Matrix]) -> list[sp.Matrix]:
    """``e_t = (0_d, s_t, s_{t-1})`` with ``s_{-1} = 0``: the augmented tokens of Sander et al. (2024), augmented tokens
    (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``).

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.sander import augmented_tokens_sym
    >>> [list(e) for e in augmented_tokens_sym([sp.Matrix([1]), sp.Matrix([2])])]
    [[0, 1, 0], [0, 2, 1]]
    """
    d = states[0].shape[0]
    out = []
    for i, s in enumerate(states):
        prev = states[i - 1] if i > 0 else sp.zeros(d, 1)
        out.append(sp.Matrix.vstack(sp.zeros(d, 1), s, prev))
    return out


def attention_output_sym(tokens: Sequence[sp.Matrix], w_v: sp.Matrix, w_kq: sp.Matrix) -> sp.Matrix:
    """``f(e_{0:t}) = e_t + Σ_{i≤t} (W_V e_i)(e_i^* W_KQ e_t)`` at the last position ``t`` (Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``)).

    Examples
    --------
    For the block family, slot 1 of the output is ``V S_t M s_t`` for generic ``V``, ``M`` (``d = 2``, ``t = 2``):

    >>> import sympy as sp
    >>> from theory.sander import (attention_output_sym, augmented_tokens_sym, block_parameters_sym,
    ...                            context_matrix_sym, symbolic_sequence)
    >>> s = symbolic_sequence(2, 2, complex_valued=False)
    >>> v, m = sp.Matrix(2, 2, sp.symbols("v0:4")), sp.Matrix(2, 2, sp.symbols("m0:4"))
    >>> out = attention_output_sym(augmented_tokens_sym(s), *block_parameters_sym(v, m))
    >>> sp.expand(out[0:2, 0] - v * context_matrix_sym(s) * m * s[-1])
    Matrix([
    [0],
    [0]])
    """
    e_t = tokens[-1]
    out = e_t
    for e_i in tokens:
        out = out + (w_v * e_i) * (e_i.H * w_kq * e_t)[0, 0]
    return out


# numpy twins ----------------------------------------------------------------------------------------------


def _check_states(states: np.ndarray) -> np.ndarray:
    s = finite_array("states", states, ndim=(2, 3))
    if s.shape[-2] < 1:
        raise ArgumentError(f"states must hold s_0..s_t (t ≥ 0) on axis -2, got shape {s.shape}")
    return s


def context_matrix(states: np.ndarray) -> np.ndarray:
    """``S_t = Σ_{i=1}^t s_i s_{i-1}^*`` for ``states`` of shape ``(..., t+1, d)``; returns ``(..., d, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import context_matrix, one_step_prediction
    >>> states = np.array([[1.0], [2.0], [4.0]])  # s_0, s_1, s_2 (d = 1)
    >>> context_matrix(states)  # S_2 = s_1 s_0* + s_2 s_1* = 2 + 8
    array([[10.]])
    >>> one_step_prediction(states, 0.5)  # η S_t s_t = 0.5 · 10 · 4
    array([20.])
    """
    s = _check_states(states)
    return np.einsum("...ia,...ib->...ab", s[..., 1:, :], np.conj(s[..., :-1, :]))


def inner_objective(w_hat: np.ndarray, states: np.ndarray) -> np.ndarray:
    """``L_t(Ŵ)`` for ``states`` ``(..., t+1, d)`` and ``Ŵ`` ``(..., d, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import inner_objective
    >>> states = np.array([[1.0], [2.0], [4.0]])  # s_i = 2 s_{i-1}: Ŵ = 2 fits exactly
    >>> float(inner_objective(np.zeros((1, 1)), states)), float(inner_objective(np.array([[2.0]]), states))
    (10.0, 0.0)
    """
    w_hat = finite_array("w_hat", w_hat)
    if w_hat.ndim < 2 or w_hat.shape[-1] != w_hat.shape[-2]:
        raise ArgumentError(f"w_hat must be (..., d, d), got shape {w_hat.shape}")
    s = _check_states(states)
    w = finite_array("w_hat", w_hat)
    r = s[..., 1:, :] - np.einsum("...ab,...ib->...ia", w, s[..., :-1, :])
    return 0.5 * np.sum(np.abs(r) ** 2, axis=(-2, -1))


def inner_gradient(w_hat: np.ndarray, states: np.ndarray) -> np.ndarray:
    """``∇L_t(Ŵ) = −Σ_i (s_i − Ŵ s_{i-1}) s_{i-1}^*`` (real gradient on ``R^{2d²}`` written as a complex matrix).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.sander import context_matrix, inner_gradient
    >>> states = np.array([[1.0], [2.0], [4.0]])
    >>> bool(np.allclose(inner_gradient(np.zeros((1, 1)), states), -context_matrix(states)))  # ∇L_t(0) = −S_t
    True
    """
    w_hat = finite_array("w_hat", w_hat)
    if w_hat.ndim < 2 or w_hat.shape[-1] != w_hat.shape[-2]:
        raise ArgumentError(f"w_hat must be (..., d, d), got shape {w_hat.shape}")
    s = _check_states(states)
    w = finite_array("w_hat", w_hat)
    r = s[..., 1:, :] - np.einsum("...ab,...ib->...ia", w, s[..., :-1, :])
    return -np.einsum("...ia,...ib->...ab", r, np.conj(s[..., :-1, :]))


def one_step_prediction(states: np.ndarray, eta: float) -> np.ndarray:
    """``η S_t s_t``: one GD step from 0 on ``L_t`` applied to the last state; ``(..., d)`` (Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``)).

    Parameters
    ----------
    states : ndarray, shape (..., t+1, d)
        ``s_0..s_t`` (real or complex).
    eta : float
        Step size ``η``.

    Returns
    -------
    ndarray, shape (..., d)

    Examples
    --------
    Agreement with a GD step ``Ŵ = 0 − η ∇L_t(0)`` built from :func:`inner_gradient`:

    >>> import numpy as np
    >>> from theory.sander import inner_gradient, one_step_prediction
    >>> st = np.array([[1.0, 0.5], [0.2, 1.0], [-0.3, 0.7]])
    >>> bool(np.allclose(one_step_prediction(st, 0.5), -0.5 * inner_gradient(np.zeros((2, 2)), st) @ st[-1]))
    True
    """
    eta = real_float("eta", eta)
    s = _check_states(states)
    return np.einsum("...ab,...b->...a", float(eta) * context_matrix(s), s[..., -1, :])


# ---------------------------------------------------------------------------------------------------------
# Exact population loss of general V, M in case U (moment enumeration)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestrictedTensors:
    """Exact moments of case U for the block family ``ŝ = V S_t M s_t``, summed over ``positions``.

    With ``X_abc = (S_t)_{ab} (s_t)_c``: ``quad[a,b,c,a',b',c'] = Σ_t E[X_abc conj(X_a'b'c')]``,
    ``lin[k,a,b,c] = Σ_t E[conj(s_{t+1,k}) X_abc]`` and ``const = Σ_t E‖s_{t+1}‖²``, so that
    ``loss(V, M) = Σ V_ka conj(V_ka') M_bc conj(M_b'c') quad − 2 Re Σ V_ka M_bc lin + const``.

    Built by :func:`restricted_tensors_u`, evaluated by :func:`restricted_loss`.

    Examples
    --------
    ``const = Σ_t E‖s_{t+1}‖² = d m2`` per position: ``2·1·2 = 4`` for ``d = 2``, positions ``(1, 2)`` on the torus:

    >>> from theory.sander import restricted_tensors_u
    >>> T = restricted_tensors_u(2, [1, 2], s0="phase_invariant")
    >>> T.const, T.quad.shape, T.lin.shape
    (4.0, (2, 2, 2, 2, 2, 2), (2, 2, 2, 2))
    """

    d: int
    positions: tuple[int, ...]
    quad: np.ndarray
    lin: np.ndarray
    const: float


def restricted_tensors_u(d: int, positions: Sequence[int], *, s0: Literal["phase_invariant", "ones"],
                         law: RadialMoments = TORUS) -> RestrictedTensors:
    """Exact ``RestrictedTensors`` for case U (θ iid uniform).

    ``s0="phase_invariant"``: coordinates ``ρ_k ω_k`` with uniform phases ``ω_k`` and radial moments ``law``;
    a product of entries averages to ``∏_k m_{2 n_k}`` when every coordinate appears as often conjugated as
    not, else 0.  ``s0="ones"``: deterministic ``s_0 = 1_d`` (only the λ-exponents must cancel).  Sander et al. (2024),
    augmented tokens (section/equation numbers UNCONFIRMED; ``docs/sander-augmented.md``).

    Examples
    --------
    On the scalar family ``V = I``, ``M = η I`` the enumeration agrees with the closed form ``c − 2η b_t + η² a_t``
    of :func:`loss_at_step` (case U, summed over the positions):

    >>> import numpy as np
    >>> from theory.sander import TORUS, loss_at_step, restricted_loss, restricted_tensors_u
    >>> T = restricted_tensors_u(2, [1, 2], s0="phase_invariant")
    >>> closed = sum(loss_at_step("U", 2, t, TORUS, 0.3) for t in (1, 2))
    >>> bool(np.isclose(restricted_loss(np.eye(2), 0.3 * np.eye(2), T), closed))
    True
    """
    instance("law", law, RadialMoments)
    int_sequence("positions", positions)
    d = positive_int("d", d)
    one_of("s0", s0, ("phase_invariant", "ones"))
    pos = tuple(positive_int("positions[i]", p) for p in positions)
    if not pos:
        raise ArgumentError("positions must not be empty")
    idx = np.indices((d,) * 6).reshape(6, -1)  # a, b, c, a', b', c'
    quad = np.zeros(d**6)
    lin = np.zeros(d**4)
    lidx = np.indices((d,) * 4).reshape(4, -1)  # k, a, b, c
    coords = np.arange(d)[:, None]

    def onehot(ix: np.ndarray) -> np.ndarray:
        return (ix[None, :] == coords).astype(np.int64)  # (d, n)

    oq = [onehot(ix) for ix in idx]
    ol = [onehot(ix) for ix in lidx]
    if s0 == "phase_invariant":
        bal_q = np.all(oq[0] - oq[1] + oq[2] - oq[3] + oq[4] - oq[5] == 0, axis=0)
        counts = oq[0] + oq[2] + oq[4]
        val_q = np.where(bal_q, np.prod(np.vectorize(law.moment)(counts), axis=0), 0.0)
        bal_l = np.all(-ol[0] + ol[1] - ol[2] + ol[3] == 0, axis=0)
        val_l = np.where(bal_l, np.prod(np.vectorize(law.moment)(ol[1] + ol[3]), axis=0), 0.0)
    else:
        val_q, val_l = np.ones(d**6), np.ones(d**4)
    const = 0.0
    for t in pos:
        for i, j in itertools.product(range(1, t + 1), repeat=2):
            expo = i * oq[0] + (1 - i) * oq[1] + t * oq[2] - j * oq[3] + (j - 1) * oq[4] - t * oq[5]
            quad += np.where(np.all(expo == 0, axis=0), val_q, 0.0)
        for i in range(1, t + 1):
            expo = -(t + 1) * ol[0] + i * ol[1] + (1 - i) * ol[2] + t * ol[3]
            lin += np.where(np.all(expo == 0, axis=0), val_l, 0.0)
        const += d * (law.m2 if s0 == "phase_invariant" else 1.0)
    return RestrictedTensors(d=d, positions=pos, quad=quad.reshape((d,) * 6), lin=lin.reshape((d,) * 4),
                             const=const)


def restricted_loss(v: np.ndarray, m: np.ndarray, tensors: RestrictedTensors) -> float:
    """Exact case-U population loss of ``ŝ = V S_t M s_t`` (numpy), summed over ``tensors.positions``.

    Parameters
    ----------
    v, m : ndarray, shape (d, d)
        The blocks ``V`` and ``M``.
    tensors : RestrictedTensors

    Returns
    -------
    float

    Examples
    --------
    The zero predictor (``V = 0``) costs ``const``; the scalar family agrees with :func:`loss_at_step`:

    >>> import numpy as np
    >>> from theory.sander import TORUS, loss_at_step, restricted_loss, restricted_tensors_u
    >>> T = restricted_tensors_u(2, [1], s0="phase_invariant")
    >>> restricted_loss(np.zeros((2, 2)), np.eye(2), T)
    2.0
    >>> bool(np.isclose(restricted_loss(2 * np.eye(2), 0.1 * np.eye(2), T), loss_at_step("U", 2, 1, TORUS, 0.2)))
    True
    """
    instance("tensors", tensors, RestrictedTensors)
    v, m = finite_array("v", v, ndim=2), finite_array("m", m, ndim=2)
    v, m = finite_array("v", v, ndim=2), finite_array("m", m, ndim=2)
    if v.shape != (tensors.d, tensors.d) or m.shape != (tensors.d, tensors.d):
        raise ArgumentError(f"v and m must be {tensors.d}x{tensors.d}, got {v.shape} and {m.shape}")
    vv = np.einsum("ka,kA->aA", v, np.conj(v))
    quad = np.einsum("aA,bc,BC,abcABC->", vv, m, np.conj(m), tensors.quad)
    lin = np.einsum("ka,bc,kabc->", v, m, tensors.lin)
    return float(np.real(quad) - 2 * np.real(lin) + tensors.const)


def restricted_loss_torch(v: "torch.Tensor", m: "torch.Tensor", quad: "torch.Tensor", lin: "torch.Tensor",
                          const: float) -> "torch.Tensor":
    """Torch twin of :func:`restricted_loss` (``quad``/``lin`` as tensors of the same dtype as ``v``).


    Examples
    --------
    Agreement with :func:`restricted_loss` at random ``V``, ``M``:

    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> from theory.sander import restricted_loss, restricted_loss_torch, restricted_tensors_u
    >>> T = restricted_tensors_u(2, [1, 2], s0="phase_invariant")
    >>> v, m = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    >>> q = restricted_loss_torch(torch.tensor(v), torch.tensor(m), torch.tensor(T.quad), torch.tensor(T.lin), T.const)
    >>> bool(np.isclose(q.item(), restricted_loss(v, m, T)))
    True
    """
    import torch

    vv = torch.einsum("ka,kA->aA", v, v.conj())
    q = torch.einsum("aA,bc,BC,abcABC->", vv, m, m.conj(), quad)
    lin_term = torch.einsum("ka,bc,kabc->", v, m, lin)
    return q.real - 2 * lin_term.real + const


def distance_to_identity(mat: np.ndarray) -> float:
    """``‖A − (tr A/d) I‖_F / ‖A‖_F`` (Ahn et al.'s metric; 0 iff ``A`` is a multiple of ``I``).

    Examples
    --------
    ``2I`` is at distance 0; ``diag(2, 0)`` is ``I + diag(1, −1)``, at distance ``√2/2``:

    >>> import numpy as np
    >>> from theory.sander import distance_to_identity
    >>> distance_to_identity(2 * np.eye(3)), round(distance_to_identity(np.diag([2.0, 0.0])), 12)
    (0.0, 0.707106781187)
    """
    a = finite_array("mat", mat, ndim=2)
    if a.shape[0] != a.shape[1]:
        raise ArgumentError(f"mat must be square, got {a.shape}")
    norm = np.linalg.norm(a)
    if norm == 0:
        raise ArgumentError("mat is zero: distance to identity undefined")
    return float(np.linalg.norm(a - np.trace(a) / a.shape[0] * np.eye(a.shape[0])) / norm)
