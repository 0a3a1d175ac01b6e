"""The claims of ``proofs_check/claims/vladymyrov_recursion.py`` pass, and fail on plausible planted bugs."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_check.claim import RunContext
from proofs_check.claims import vladymyrov_recursion as claims
from theory.vladymyrov import recursion as rec


def test_recursion_claim_passes_and_its_control_fails() -> None:
    ctx = RunContext(profile="quick", seed=41003)
    assert claims._recursion_measure(ctx, shift=0).error <= 1
    assert claims._recursion_measure(ctx, shift=1).error > 1e6


def test_recursion_claim_fails_on_a_transposed_m(monkeypatch: pytest.MonkeyPatch) -> None:
    """``w' = (1 + d) w − M c`` instead of ``− Mᵀ c``: equal while M is symmetric, wrong for FULL weights."""
    right = rec._update

    def planted(state: rec.ImplicitState, parts: tuple) -> rec.ImplicitState:
        new = right(state, parts)
        c = parts[2]
        fix = ((rec._swap(state.M) - state.M) @ c[..., None])[..., 0]
        return rec.ImplicitState(new.M, new.u, new.a, new.w + fix)

    monkeypatch.setattr(rec, "_update", planted)
    assert claims._recursion_measure(RunContext(profile="quick", seed=41003), shift=0).error > 1e6


def test_recursion_claim_fails_on_a_batch_shape_from_the_wrong_axes(monkeypatch: pytest.MonkeyPatch) -> None:
    """An initial state with the batch shape ``x.shape[:-3]`` broadcasts for one batch axis but not for three."""
    right = rec.initial_state
    monkeypatch.setattr(rec, "initial_state", lambda batch_shape, d, dtype=float: right(batch_shape[:-1], d, dtype))
    with pytest.raises(ValueError):
        claims._recursion_measure(RunContext(profile="quick", seed=41003), shift=0)


def test_model_claim_passes_and_fails_with_omega_names_exchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = RunContext(profile="quick", seed=41004)
    assert claims._model_measure(ctx, include_query=False).error <= 1
    assert claims._model_measure(ctx, include_query=True).error > 1e6
    right = claims.th_model.omega
    monkeypatch.setattr(claims.th_model, "omega", lambda *a: right(*a)[:, [0, 2, 1, 3]])
    assert claims._model_measure(ctx, include_query=False).error > 1e6
