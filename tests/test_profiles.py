"""The Hypothesis profile governs every property test's example count (no hard-coded ``max_examples``)."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import settings

TESTS = Path(__file__).parent


def _search_budgets(tree: ast.AST) -> set[int]:
    """``max_examples`` keywords inside ``hypothesis.find(...)``: a search budget, not a property test's count."""
    return {id(node) for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", None)) == "find"
            for node in ast.walk(call)}


def test_no_property_test_hard_codes_max_examples() -> None:
    """Any ``max_examples=`` of a property test must be computed from ``settings.default`` (the loaded profile)."""
    bad = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        budgets = _search_budgets(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "max_examples" and id(node) not in budgets:
                if "settings.default.max_examples" not in ast.unparse(node.value):
                    bad.append(f"{path.name}:{node.value.lineno}: max_examples={ast.unparse(node.value)}")
    assert not bad, bad


def test_profiles_scale_the_example_counts() -> None:
    counts = {name: settings.get_profile(name).max_examples for name in ("ci", "dev", "thorough")}
    assert counts["thorough"] >= 10 * counts["ci"], counts
