"""The shared optimisers of numerics.optimize: per-model sampled training (freeze, clip) and model chunking."""

from __future__ import annotations

import pytest
import torch

from numerics.optimize import _freeze_and_clip, train_sampled

TARGETS = torch.tensor([[1.0, -2.0], [0.5, 0.5], [-3.0, 2.0]], dtype=torch.float64)


def _quadratic(blow_up: int | None = None, at_step: int = 3):
    """Per-model losses ||x_m − t_m||²; model ``blow_up`` returns inf from step ``at_step`` on."""
    calls = {"n": 0}

    def loss(params, _batch):
        out = ((params["x"] - TARGETS) ** 2).sum(-1)
        if blow_up is not None and calls["n"] >= at_step:
            out = out.clone()
            out[blow_up] = float("inf")
        calls["n"] += 1
        return out

    return loss


def test_per_model_training_freezes_a_diverged_model_and_trains_the_others() -> None:
    init = {"x": torch.zeros(3, 2, dtype=torch.float64)}
    # a constant rate (final_lr_fraction=1), so the first three steps are the same in both runs
    ref = train_sampled(_quadratic(), init, lambda s: None, steps=3, lr=0.1, per_model=True, final_lr_fraction=1.0)
    res = train_sampled(_quadratic(blow_up=1), init, lambda s: None, steps=400, lr=0.1, per_model=True,
                        final_lr_fraction=1.0)
    assert [a["diverged"] for a in res.attempts] == [False, True, False]
    # model 1 stopped where its three finite steps left it; the others reached their targets
    assert torch.equal(res.params["x"][1], ref.params["x"][1])
    assert torch.allclose(res.params["x"][[0, 2]], TARGETS[[0, 2]], atol=1e-3)
    assert not torch.allclose(res.params["x"][1], TARGETS[1], atol=1e-1)


def test_all_models_diverging_raises_and_clip_needs_per_model() -> None:
    init = {"x": torch.zeros(1, 2, dtype=torch.float64)}
    with pytest.raises(FloatingPointError, match="every restart diverged by step 0"):
        train_sampled(lambda p, b: torch.full((1,), float("nan")), init, lambda s: None, steps=5, lr=0.1,
                      per_model=True, name="restart")
    with pytest.raises(FloatingPointError, match="training diverged at step 0"):
        train_sampled(lambda p, b: p["x"].sum() * float("inf"), init, lambda s: None, steps=5, lr=0.1)
    with pytest.raises(ValueError, match="clip_norm is per model"):
        train_sampled(lambda p, b: p["x"].sum(), init, lambda s: None, steps=5, lr=0.1, clip_norm=1.0)
    with pytest.raises(ValueError, match="clip_norm must be a positive"):
        train_sampled(lambda p, b: p["x"].sum(), init, lambda s: None, steps=5, lr=0.1, per_model=True, clip_norm=0.0)


def test_freeze_and_clip_rescales_each_models_gradient_norm() -> None:
    leaves = {"a": torch.zeros(3, 2, requires_grad=True), "b": torch.zeros(3, 1, requires_grad=True)}
    leaves["a"].grad = torch.tensor([[3.0, 0.0], [0.3, 0.0], [5.0, 5.0]])
    leaves["b"].grad = torch.tensor([[4.0], [0.4], [1.0]])
    _freeze_and_clip(leaves, torch.tensor([True, True, False]), clip_norm=1.0)
    norms = torch.sqrt((leaves["a"].grad ** 2).sum(-1) + (leaves["b"].grad ** 2).sum(-1))
    # model 0 (norm 5) clipped to 1 along the same direction; model 1 (norm 0.5) untouched; model 2 frozen
    assert torch.allclose(norms, torch.tensor([1.0, 0.5, 0.0]))
    assert torch.allclose(leaves["a"].grad[0], torch.tensor([0.6, 0.0])) and torch.allclose(leaves["b"].grad[0], torch.tensor([0.8]))


def test_stall_window_leaves_a_saddle_plateau_and_needs_a_target():
    """``f = (x² − 1)² + y²`` started on the ridge x = 0 converges to the saddle (0, 0) (loss 1): with a stall
    window the attempt ends there and a perturbation reaches the minimum 0; without a target it is refused."""
    from numerics.optimize import minimize_population
    from theory.arguments import ArgumentError

    def f(p):
        return (p["x"] ** 2 - 1) ** 2 + p["y"] ** 2

    init = {"x": torch.zeros(1, dtype=torch.float64), "y": torch.ones(1, dtype=torch.float64)}
    res = minimize_population(f, init, target=0.0, gap=1e-12, restarts=3, stall_window=10,
                              generator=torch.Generator().manual_seed(0))
    assert res.loss < 1e-12 and res.attempts[0]["loss"] > 0.5 and len(res.attempts) >= 2
    with pytest.raises(ArgumentError, match="stall_window"):
        minimize_population(f, init, stall_window=10)
    with pytest.raises(ArgumentError, match="stall_ratio"):
        minimize_population(f, init, target=0.0, stall_window=10, stall_ratio=1.5)


def test_rebalance_is_tried_before_a_perturbation_and_recorded():
    """An attempt that stops above the target is continued from ``rebalance(best)`` first, then perturbed."""
    from numerics.optimize import minimize_population

    calls = []

    def rebalance(p):
        calls.append(float(p["x"]))
        return {k: v.clone() for k, v in p.items()}

    def f(p):
        return (p["x"] ** 2 - 1) ** 2 + p["y"] ** 2

    init = {"x": torch.zeros(1, dtype=torch.float64), "y": torch.ones(1, dtype=torch.float64)}
    res = minimize_population(f, init, target=0.0, gap=1e-12, restarts=4, stall_window=10, rebalance=rebalance,
                              generator=torch.Generator().manual_seed(0))
    kinds = [a["kind"] for a in res.attempts]
    assert kinds[:3] == ["init", "rebalance", "perturb"] and len(calls) >= 1 and res.loss < 1e-12


def test_fit_exact_with_stall_window_and_rebalancing_reaches_the_closed_form_minimum():
    from numerics.models.sander_non_augmented import fit_exact
    from theory.sander.non_augmented import loss_o_minimum

    res = fit_exact("orthogonal", 4, 2, 6, seed=1, gap=1e-9, stall_window=50, rebalance=True, eliminate_p=False,
                    newton_steps=0)
    assert res.loss - loss_o_minimum(4, 2, 6) <= 1e-9 * max(1.0, loss_o_minimum(4, 2, 6))
    assert all("kind" in a for a in res.attempts)


def _double_well(p):
    """``(x² − 1)² + y²``: minima (±1, 0) at 0, a strict saddle at (0, 0) with curvatures −4 and 2."""
    return (p["x"] ** 2 - 1) ** 2 + p["y"] ** 2


def test_newton_trust_region_leaves_a_saddle_where_the_gradient_is_zero():
    """Started exactly on the saddle (zero gradient) L-BFGS cannot move; the trust-region step follows the
    negative curvature and Newton steps then reach a minimum."""
    from numerics.optimize import minimize_population, newton_trust_region

    saddle = {"x": torch.zeros(1, dtype=torch.float64), "y": torch.zeros(1, dtype=torch.float64)}
    stuck = minimize_population(_double_well, saddle, restarts=0)
    assert stuck.loss == 1.0
    res = newton_trust_region(_double_well, saddle, steps=20, target=0.0, gap=1e-14)
    assert res.loss <= 1e-14 and abs(abs(float(res.params["x"])) - 1) < 1e-7 and 1 <= res.hessians <= 20
    assert res.iterations == len(res.history) == len(res.history_clock)


def test_minimize_population_continues_a_stalled_run_with_newton_steps():
    from numerics.optimize import minimize_population
    from theory.arguments import ArgumentError

    ridge = {"x": torch.zeros(1, dtype=torch.float64), "y": torch.ones(1, dtype=torch.float64)}
    res = minimize_population(_double_well, ridge, target=0.0, gap=1e-14, restarts=0, newton_steps=20)
    assert res.loss <= 1e-14 and res.attempts[0]["hessians"] >= 1 and res.hessians == res.attempts[0]["hessians"]
    with pytest.raises(ArgumentError, match="newton_steps needs target"):
        minimize_population(_double_well, ridge, newton_steps=5)
    with pytest.raises(ArgumentError, match="newton_steps"):
        minimize_population(_double_well, ridge, target=0.0, newton_steps=-1)


def test_newton_steps_on_a_quartic_shrink_the_distance_by_two_thirds():
    """``f = x⁴ + (y − 1)²``: an exact Newton step maps ``x → 2x/3`` (``x − 4x³/12x²``) and solves the quadratic
    ``y`` part at once; every step is inside the trust region, so the iterates are exactly ``(2/3)^k``."""
    from numerics.optimize import newton_trust_region

    f = lambda p: p["x"][0] ** 4 + (p["x"][1] - 1) ** 2  # noqa: E731
    init = {"x": torch.tensor([0.9, 0.8], dtype=torch.float64)}       # first step (−0.3, 0.2): inside radius 1
    for k in (1, 2, 5):
        res = newton_trust_region(f, init, steps=k)
        assert res.hessians == k
        assert abs(float(res.params["x"][0]) - 0.9 * (2 / 3) ** k) < 1e-14
        assert abs(float(res.params["x"][1]) - 1) < 1e-14


def test_trust_region_step_is_the_minimum_of_the_model_in_the_ball():
    """Against sampling: no point of the ball (interior or boundary) has a lower model value than the step."""
    from numerics.optimize import _trust_region_step

    g = torch.Generator().manual_seed(3)
    for w, gv, radius in ((torch.tensor([1.0, 2.0, 5.0]), torch.tensor([0.3, -0.2, 1.0]), 10.0),   # Newton step
                          (torch.tensor([1.0, 2.0, 5.0]), torch.tensor([3.0, -2.0, 1.0]), 0.5),    # boundary
                          (torch.tensor([-3.0, 0.5, 2.0]), torch.tensor([0.1, 1.0, -1.0]), 1.0),   # indefinite
                          (torch.tensor([-3.0, 0.5, 2.0]), torch.tensor([0.0, 0.2, -0.1]), 1.0)):  # hard case
        w, gv = w.double(), gv.double()
        s = _trust_region_step(w, gv, radius)
        model = lambda z: z @ gv + 0.5 * (w * z ** 2).sum(-1)  # noqa: E731
        assert float(s.norm()) <= radius * (1 + 1e-9)
        z = torch.randn(20000, 3, generator=g, dtype=torch.float64)
        z = z / z.norm(dim=-1, keepdim=True) * radius * torch.rand(20000, 1, generator=g, dtype=torch.float64) ** (1 / 3)
        boundary = z / z.norm(dim=-1, keepdim=True) * radius
        assert float(model(s)) <= float(torch.cat([model(z), model(boundary)]).min()) + 1e-12
    newton = _trust_region_step(torch.tensor([1.0, 2.0, 5.0]).double(), torch.tensor([0.3, -0.2, 1.0]).double(), 10.0)
    assert torch.allclose(newton, torch.tensor([-0.3, 0.1, -0.2]).double(), atol=1e-15)


def test_newton_rejects_a_non_finite_trial_and_shrinks_the_radius():
    """A loss that is NaN for |x| > 0.5: the first trial (the Newton step from x = 0.4 to x = 2) is rejected
    and the radius shrinks until the steps stay finite; the run ends at a finite, lower loss, never looping."""
    from numerics.optimize import newton_trust_region

    def f(p):
        x = p["x"][0]
        return torch.where(x.abs() > 0.5, torch.full_like(x, float("nan")), (x - 2) ** 2)

    res = newton_trust_region(f, {"x": torch.tensor([0.4], dtype=torch.float64)}, steps=10)
    assert any(v != v for v in res.history) and res.loss < (0.4 - 2) ** 2 and float(res.params["x"]) <= 0.5
