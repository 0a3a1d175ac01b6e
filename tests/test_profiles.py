"""The Hypothesis profile governs every property test's example count (no hard-coded ``max_examples``)."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import settings

TESTS = Path(__file__).parent


def test_no_property_test_hard_codes_max_examples() -> None:
    """Any ``max_examples=`` in a test module must be computed from ``settings.default`` (the loaded profile)."""
    bad = []
    for path in sorted(TESTS.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "max_examples":
                if "settings.default.max_examples" not in ast.unparse(node.value):
                    bad.append(f"{path.name}:{node.value.lineno}: max_examples={ast.unparse(node.value)}")
    assert not bad, bad


def test_profiles_scale_the_example_counts() -> None:
    counts = {name: settings.get_profile(name).max_examples for name in ("ci", "dev", "thorough")}
    assert counts["thorough"] >= 10 * counts["ci"], counts
