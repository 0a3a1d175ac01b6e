"""Property tests (issue #15): for a drawn law of W — commuting or not — trained solutions have the predicted structure.

Augmented tokens, block family ``ŝ = V S_t M s_t`` (``docs/sander-haar.md``):

* real laws (commuting in a drawn basis with ``μ``-scaled angles, Haar ``O(d)``, Haar conjugates of a commuting
  family, mixtures): L-BFGS on ``N`` sampled sequences; ``VM`` must lie in the law's commutant (``span{I}``, or
  ``span{I, QJQᵀ}`` for commuting ``μ ≠ 1``) and, where that is ``span{I}``, ``tr(VM)/d = η*`` (closed form of
  :mod:`theory.sander.haar`).  Tolerance: the sandwich covariance of the trained ``VM`` (``χ²`` and ``z`` at
  family-wise level 1e-4, :func:`numerics.block_family.structure_test`);
* case U (complex diagonal): L-BFGS on the exact population loss; optimiser-gap tolerance.

Non-augmented tokens (commuting laws with an exact loss): the head-count minimum, ``C ∝ blockdiag(𝟙𝟙ᵀ)`` with
the PE ratio ``P[r, r+1]/P[r, r] = −2`` (case O), ``C ∝ I`` with ``αP[r, r+1] = 1`` (case U).

``test_planted_*`` feed each check a wrong prediction (η off by one position, the commuting η for Haar ``W``, the
non-augmented case-O shape blockdiag(𝟙𝟙ᵀ) for VM, PE ratio −1, head count off by one, ``C ∝ I`` for case O) and assert that it fails.
A failing property prints the law (``Law.describe()``), ``T`` and the seed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, note, settings
from hypothesis import strategies as st

from numerics import block_family as bf
from numerics.laws import Law, commuting
from numerics.models import sander_augmented as aug_model
from numerics.models import sander_non_augmented as na_model
from theory.sander import augmented as th_aug
from theory.sander import non_augmented as na
from tests.strategies import laws_of_w, seeds

#: sequences per trained block family (sampling error of tr(VM)/d ≈ 1 % of η at d ≤ 4, T ≤ 6)
N_SEQUENCES = 8000
#: s_0 uniform on the sphere: every statistic is bounded given W, so the sandwich's normal approximation holds at
#: this N (with s_0 ~ N(0, I) the sixth-moment tails made the 1e-4-level test fail at z = 4.12 once in the
#: thorough profile: conjugated d = 4, μ = 2, T = 3, seed 3, whose scalar Monte-Carlo step agrees with η*)
START = "sphere"
#: exact-loss checks: L-BFGS gap and structure (as in the existing exact-loss claims)
LOSS_GAP, STRUCTURE_TOL = 1e-8, 1e-3


def augmented_check(law: Law, T: int, seed: int, *, positions: range | None = None,
                    subspace: list[np.ndarray] | None = None, eta: float | None = None) -> bf.StructureTest:
    """Train the block family on ``law`` and test the predicted structure; the keywords plant other predictions."""
    states = law.sample_states(N_SEQUENCES, T, rng=np.random.default_rng(seed), start=START)
    fit = bf.fit_block_family(states, seed=seed)
    assert fit.loss <= fit.scalar_loss + 1e-9 * fit.scalar_loss, f"L-BFGS stayed above the scalar loss: {fit}"
    step = eta if eta is not None else law.predicted_step(positions or range(1, T), start=START)
    return bf.structure_test(fit, subspace if subspace is not None else law.commutant(), step)


@settings(deadline=None)
@given(law=laws_of_w(), T=st.integers(3, 6), seed=seeds())
def test_property_trained_block_family_structure(law: Law, T: int, seed: int) -> None:
    note(f"law={law.describe()} T={T} seed={seed}")
    res = augmented_check(law, T, seed)
    assert res.passed, f"{law.describe()}, T={T}, seed={seed}: {res}"


@settings(deadline=None)
@given(d=st.integers(2, 3), T=st.integers(3, 5), seed=seeds())
def test_property_case_u_exact_block_family(d: int, T: int, seed: int) -> None:
    """Case U (commuting, complex): exact population loss, optimum ``VM = η* I``.

    ``T ≥ 3``: with the single position ``t = 1`` and torus ``s_0`` the optimum is degenerate (``S_1 s_1 = s_1
    ⟨s_0, s_1⟩`` and ``|s_0| = 1``), so VM is not determined (distance to identity 0.09 at the same loss).
    """
    pos = tuple(range(1, T))
    eta, best = th_aug.shared_optimum("U", d, pos, th_aug.TORUS)
    tensors = th_aug.restricted_tensors_u(d, pos, s0="phase_invariant", law=th_aug.TORUS)
    v, m, res = aug_model.train_restricted_population(tensors, generator=torch.Generator().manual_seed(seed % 2**63),
                                                      target=best)
    vm = v @ m
    assert res.loss - best <= LOSS_GAP * max(1.0, best), res.attempts
    assert th_aug.distance_to_identity(vm) <= STRUCTURE_TOL
    assert abs(np.trace(vm).real / d - eta) <= STRUCTURE_TOL * eta


def non_augmented_deviations(law: Law, H: int, T: int, seed: int, *, pe_ratio: float = -2.0, head_offset: int = 0,
                             shape: str | None = None) -> dict[str, float]:
    """Exact-loss fit of the non-augmented model on a commuting law (case U, or case O in the identity basis with
    ``μ = 1``): the relative gap to the head-count minimum and the structure deviations (0 at the prediction).
    ``pe_ratio``, ``head_offset`` and ``shape`` (``"U"``/``"O"``) plant other predictions."""
    if not (law.kind == "unitary" or (law.kind == "commuting" and law.mu == 1.0 and law.basis is None)):
        raise ValueError(f"no exact non-augmented loss for {law.describe()}")
    case = "unitary" if law.kind == "unitary" else "orthogonal"
    res = na_model.fit_exact(case, law.d, H, T, seed=seed % 2**31)
    minimum = na.loss_u_minimum if case == "unitary" else na.loss_o_minimum
    target = minimum(law.d, H + head_offset, T)
    out = {"loss_gap": abs(res.loss - target) / max(1.0, target)}
    full_rank = H >= law.d if case == "unitary" else 2 * H >= law.d
    if full_rank:
        C = na_model.attention_product(res.params).numpy()
        P = res.params["P"].numpy()
        as_case = shape or ("U" if case == "unitary" else "O")
        inv = na.structure_u(C, P, H=H) if as_case == "U" else na.structure_o(C, P, H=H)
        out["structure"] = na.max_deviation({k: v for k, v in inv.items() if k != "ratio_dev"})
        if case == "orthogonal":
            r = np.arange(T - 1)
            out["pe_ratio"] = float(np.max(np.abs(P[r, r + 1] / P[r, r] - pe_ratio)))
    return out


def _non_augmented_passes(dev: dict[str, float]) -> bool:
    return dev["loss_gap"] <= LOSS_GAP and all(v <= STRUCTURE_TOL for k, v in dev.items() if k != "loss_gap")


@settings(deadline=None)
@given(kind=st.sampled_from(["commuting", "unitary"]), half=st.integers(1, 2), extra=st.integers(-1, 1),
       T=st.integers(3, 5), seed=seeds())
def test_property_non_augmented_commuting_laws(kind: str, half: int, extra: int, T: int, seed: int) -> None:
    d = 2 * half
    law = Law(kind, d)
    H = max(1, (d if kind == "unitary" else half) + extra)
    dev = non_augmented_deviations(law, H, T, seed)
    note(f"law={law.describe()} H={H} T={T} seed={seed}: {dev}")
    assert _non_augmented_passes(dev), f"{law.describe()}, H={H}, T={T}, seed={seed}: {dev}"


# ---------------------------------------------------------------------------------------------------------
# Planted bugs: every structure check must fail on a wrong prediction
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("law, T", [(Law("haar", 3), 4), (Law("conjugated", 2), 5), (commuting(2), 3)])
def test_planted_step_off_by_one_position_is_caught(law: Law, T: int) -> None:
    assert augmented_check(law, T, seed=5).passed
    assert not augmented_check(law, T, seed=5, positions=range(2, T + 1)).passed


def test_planted_commuting_step_for_haar_is_caught() -> None:
    eta_commuting = commuting(2).predicted_step(range(1, 6), start=START)
    assert not augmented_check(Law("haar", 2), 6, seed=6, eta=eta_commuting).passed


def test_planted_block_shape_for_vm_is_caught() -> None:
    law = Law("haar", 4)
    assert augmented_check(law, 4, seed=7).passed
    shape = na.block_pattern(4) / np.linalg.norm(na.block_pattern(4))
    assert not augmented_check(law, 4, seed=7, subspace=[shape]).passed


@pytest.mark.parametrize("planted", [{"pe_ratio": -1.0}, {"head_offset": 1}, {"shape": "U"}])
def test_planted_non_augmented_predictions_are_caught(planted: dict) -> None:
    law, T = Law("commuting", 4), 4
    H = 2 if "head_offset" not in planted else 1        # H = 1 < d/2: the head-count minimum is positive
    assert _non_augmented_passes(non_augmented_deviations(law, H, T, seed=3))
    assert not _non_augmented_passes(non_augmented_deviations(law, H, T, seed=3, **planted))


@pytest.mark.slow
def test_planted_bug_shrinks_to_a_small_counterexample() -> None:
    """With η planted off by one position, Hypothesis shrinks the failure to d = 2, T = 3 and a small seed."""
    from hypothesis import find

    example = find(st.tuples(laws_of_w(), st.integers(3, 6), seeds()),
                   lambda x: not augmented_check(x[0], x[1], x[2], positions=range(2, x[1] + 1)).passed,
                   settings=settings(max_examples=50, deadline=None))
    law, T, seed = example
    assert law.d == 2 and T == 3 and seed < 10, (law.describe(), T, seed)
