"""Every registered claim, through the same runner as ``proofs-check run``.

Quick-profile claims run by default; full-profile claims carry the ``slow`` marker
(``pytest -m slow tests/test_claims.py``).  A failure message is the report's own explanation: what was
compared, by how much it missed, and the command that reproduces it.
"""

from __future__ import annotations

import pytest

from numerics.device import resolve_device
from proofs_check.registry import load_all
from proofs_check.runner import run_claim

_REGISTRY = load_all()
_DEVICE = str(resolve_device("auto"))


@pytest.mark.parametrize("claim", _REGISTRY.select(profile="quick"), ids=lambda c: c.id)
def test_claim_quick_profile(claim, tmp_path) -> None:
    result = run_claim(claim, profile="quick", device=_DEVICE, out_dir=tmp_path)
    assert result.verdict in ("PASS", "SKIPPED"), result.explain()


@pytest.mark.slow
@pytest.mark.parametrize("claim", _REGISTRY.select(profile="full"), ids=lambda c: c.id)
def test_claim_full_profile(claim, tmp_path) -> None:
    result = run_claim(claim, profile="full", device=_DEVICE, out_dir=tmp_path)
    assert result.verdict in ("PASS", "SKIPPED"), result.explain()
