"""Laurent polynomials in unit-modulus symbols: the exact expectation under independent uniform phases.

For ``g = e^{iθ}`` with ``θ`` uniform on ``[0, 2π)``, ``E[g^k] = 0`` for every ``k ≠ 0``; the mean of a Laurent
polynomial in independent such ``g`` is therefore its constant term.  Every population expectation of the Sander
et al. settings (case U eigenvalues ``λ_k``, case O rotation angles and ``s_0`` phases) is computed this way.
"""

from __future__ import annotations

import sympy as sp


__all__ = [
    "laurent_coefficients", "constant_term", "expectation_of_product",
]


def laurent_coefficients(expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> dict[tuple[int, ...], sp.Expr]:
    """``expr = Σ_e a_e Π gens^e`` (a Laurent polynomial in ``gens``) as ``{e: a_e}``, ``a_e`` free of ``gens``.

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.laurent import laurent_coefficients
    >>> z = sp.Symbol("z")
    >>> sorted(laurent_coefficients(sp.expand((z + 1 / z) ** 2), (z,)).items())
    [((-2,), 1), ((0,), 2), ((2,), 1)]
    """
    out: dict[tuple[int, ...], sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        powers = term.as_powers_dict()
        exps = []
        for g in gens:
            e = powers.get(g, 0)
            if not (isinstance(e, sp.Integer) or isinstance(e, int)):
                raise ValueError(f"{term} is not a Laurent monomial in {g}")
            exps.append(int(e))
        coeff = term / sp.Mul(*[g ** e for g, e in zip(gens, exps)])
        key = tuple(exps)
        out[key] = out.get(key, sp.Integer(0)) + coeff
    return {k: v for k, v in out.items() if v != 0}


def constant_term(expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
    """The constant term of a Laurent polynomial (= its mean when every ``gen = e^{iθ}``, ``θ`` uniform).

    Examples
    --------
    >>> import sympy as sp
    >>> from theory.laurent import constant_term
    >>> z = sp.Symbol("z")
    >>> constant_term((z + 1 / z) ** 2, (z,))  # E|λ + λ̄|² over λ = e^{iθ}, θ uniform
    2
    """
    return laurent_coefficients(expr, gens).get(tuple(0 for _ in gens), sp.Integer(0))


def expectation_of_product(f: sp.Expr, g: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Constant term of ``f·g`` without expanding the product: ``Σ_e f_e g_{−e}``.

    With ``z_j = e^{iθ_j}`` and independent uniform ``θ_j`` the constant term is the expectation ``E[f g]``.

    Examples
    --------
    ``E (2 cos θ)² = 2`` and ``E[z · z̄] = 1``:

    >>> import sympy as sp
    >>> from theory.laurent import expectation_of_product
    >>> z = sp.Symbol("z")
    >>> expectation_of_product(z + 1 / z, z + 1 / z, (z,)), expectation_of_product(z, 1 / z, (z,))
    (2, 1)
    """
    fc = laurent_coefficients(f, gens)
    gc = laurent_coefficients(g, gens)
    return sp.Add(*[a * gc[tuple(-x for x in e)] for e, a in fc.items() if tuple(-x for x in e) in gc])
