"""The exact-loss fit of the non-augmented Sander model: the closed-form positional matrix ``P*(C)`` (variable
projection) and the default recipe of ``fit_exact`` (L-BFGS, then trust-region Newton), each against an
independent route: the numpy least-squares row optimum of the full Gram matrix, the case-U row optimum in closed
form, the full gradient over every used entry of ``P``, and the quadrature loss of the torch forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics.models import sander_non_augmented as model
from theory.arguments import ArgumentError
from theory.sander import non_augmented as theory


def _random_C(d: int, seed: int) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(seed).standard_normal((d, d)))


@pytest.mark.parametrize("seed", range(3))
def test_position_solver_matches_the_least_squares_row_optimum_of_case_o(seed: int) -> None:
    """Every row of ``P*(C)`` equals ``G⁺b`` of the full ``(r+2)``-entry Gram matrix (numpy lstsq), so the
    three-unknown reduction loses nothing; unused entries are 0."""
    d, T = 4, 7
    C = _random_C(d, seed)
    P = model.position_solver("orthogonal", T)(C).numpy()
    for r in range(T - 1):
        p, _ = theory.best_p_row_o(C.numpy(), r + 2, r)
        assert np.abs(P[r, : r + 2] - p).max() <= 1e-10 * max(1.0, np.abs(p).max())
    assert not P[~theory.used_mask(T)].any()


@pytest.mark.parametrize("seed", range(3))
def test_position_solver_reaches_the_case_u_row_optimum(seed: int) -> None:
    """Case U: ``p_c = tr C/‖C‖_F²``, every other entry 0, and each row loss is ``d − tr(C)²/‖C‖_F²``."""
    d, T = 3, 6
    C = _random_C(d, seed)
    P = model.position_solver("unitary", T)(C)
    c = float(torch.trace(C) / (C ** 2).sum())
    expected = np.zeros((T, T))
    expected[np.arange(T - 1), np.arange(1, T)] = c
    assert np.abs(P.numpy() - expected).max() <= 1e-10 * max(1.0, abs(c))
    rows = theory.loss_u(C.numpy(), P.numpy(), per_row=True)
    assert np.abs(rows - theory.loss_u_row_optimum(C.numpy())).max() <= 1e-10


@pytest.mark.parametrize("case", ["unitary", "orthogonal"])
def test_the_loss_gradient_over_every_used_entry_of_P_vanishes_at_P_star(case: str) -> None:
    """Stationarity in all of ``P`` (not only the three-unknown subspace): the symmetry argument holds."""
    d, T = 4, 8
    C = _random_C(d, 7) * 0.3
    loss = theory.loss_u_torch if case == "unitary" else theory.loss_o_torch

    def grad_at(P: torch.Tensor) -> torch.Tensor:
        P = P.clone().requires_grad_(True)
        return torch.autograd.grad(loss(C, P), P)[0]

    at_star, at_zero = grad_at(model.position_solver(case, T)(C)), grad_at(torch.zeros(T, T, dtype=C.dtype))
    assert float(at_star.norm()) <= 1e-10 * float(at_zero.norm())


def test_position_solver_refuses_bad_arguments() -> None:
    with pytest.raises(ArgumentError, match="T"):
        model.position_solver("orthogonal", 1)
    with pytest.raises(ArgumentError, match="case"):
        model.position_solver("haar", 4)
    with pytest.raises(ArgumentError, match="radius_sq"):
        model.position_solver("orthogonal", 4, radius_sq=0.0)


@pytest.mark.parametrize("case, d, H, T", [("orthogonal", 4, 2, 6), ("unitary", 3, 3, 5), ("orthogonal", 4, 1, 3)])
def test_default_fit_reaches_the_closed_form_minimum_by_quadrature(case: str, d: int, H: int, T: int) -> None:
    """The returned ``(A, B, P)`` is a full parameter set: its quadrature loss (torch forward pass, no closed form)
    equals the closed-form minimum (``(4, 1, 3)``: 4, with spurious minima at 5.28 and 5.93 that restarts leave)."""
    res = model.fit_exact(case, d, H, T, seed=1, gap=1e-10)
    target = theory.loss_u_minimum(d, H, T) if case == "unitary" else theory.loss_o_minimum(d, H, T)
    assert res.loss - target <= 1e-10 * max(1.0, target)
    assert abs(float(model.exact_loss(res.params, case)) - res.loss) <= 1e-10 * max(1.0, target)
    assert abs(model.quadrature_loss(res.params, case) - target) <= 1e-8 * max(1.0, target)
    assert res.hessians == sum(a["hessians"] for a in res.attempts)


def test_elimination_refuses_rebalance() -> None:
    with pytest.raises(ArgumentError, match="rebalance"):
        model.fit_exact("orthogonal", 4, 2, 6, seed=0, rebalance=True)
    with pytest.raises(ArgumentError, match="eliminate_p"):
        model.fit_exact("orthogonal", 4, 2, 6, seed=0, eliminate_p=1)


def test_a_zero_attention_start_is_left_by_perturbation() -> None:
    """``A = B = 0``: ``C = 0``, every row system is singular (``P*`` = 0 by the ridge) and the gradient vanishes;
    the fit still reaches the minimum (perturbation restarts), with no error from the solver or the Hessian."""
    T = 5
    assert not model.position_solver("orthogonal", T)(torch.zeros(4, 4, dtype=torch.float64)).any()
    zero = {"A": torch.zeros(2, 4, dtype=torch.float64), "B": torch.zeros(2, 4, dtype=torch.float64),
            "P": torch.zeros(T, T, dtype=torch.float64)}
    res = model.fit_exact("orthogonal", 4, 2, T, seed=0, init=zero, gap=1e-10)
    assert res.loss <= 1e-10 and res.attempts[0]["loss"] == (T - 1) * 4  # the zero predictor: (T−1)·d·ρ/2
