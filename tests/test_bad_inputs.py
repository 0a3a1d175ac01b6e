"""Every public callable of ``theory`` and ``numerics`` refuses bad arguments with an ``ArgumentError`` naming them.

The surface (callables, valid calls, argument kinds) is ``tests/api_surface.py``.  Three layers:

* every public module-level function and class is an entry or deliberately exempt (with a reason);
* exhaustively, every entry × argument × bad value of its kind (wrong type, ``None``, NaN/inf, complex where
  real is required, non-positive sizes, odd ``d``, non-square or non-orthogonal matrices, negative seeds, ...)
  raises :class:`theory.arguments.ArgumentError` whose message names the argument — never another exception,
  never a silent answer;
* a Hypothesis property test draws further bad values (any non-positive size, any negative seed, NaN planted at
  any position, ...); the profile sets how many (``ci``: a few seconds, ``thorough``: 20x).

A list given for an array argument must give the array's answer or an ``ArgumentError`` naming it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
import theory
from numerics.models import sander_non_augmented as m_na
from numerics.samplers import CommutingFamily, commuting_family, rotation_blocks
from theory.arguments import ArgumentError
from theory.sander import augmented as aug
from theory.sander import non_augmented as na
from theory.sander import pe_only as pe
from theory.vladymyrov import model as vmodel
from tests.api_surface import ENTRIES, EXEMPT, Entry, bad_values

BY_NAME = {e.name: e for e in ENTRIES}
ARRAY_KINDS = ("real_array", "real_batch", "array", "batch", "real_square", "square_batch", "real_square_batch",
               "real_orthogonal", "real_orthogonal_batch", "orthogonal")


def _public_callables() -> set[str]:
    names = set()
    for pkg in (theory, numerics):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            for key, value in vars(module).items():
                if not key.startswith("_") and getattr(value, "__module__", None) == info.name and (
                        inspect.isfunction(value) or inspect.isclass(value)):
                    names.add(f"{info.name}.{key}")
    return names


def _named(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _expected_name(entry: Entry, arg: str, kwargs: dict[str, Any]) -> str:
    """The name the message must carry: the argument, or for the checkers themselves the ``name`` they were given."""
    return kwargs["name"] if arg == "value" and "name" in kwargs else arg


def _outcome(entry: Entry, arg: str, bad: Any) -> str | None:
    """``None`` if the call raised an ArgumentError naming ``arg``; otherwise what happened instead."""
    kwargs = entry.valid()
    kwargs[arg] = bad
    try:
        entry.call(**kwargs)
    except ArgumentError as exc:
        name = _expected_name(entry, arg, kwargs)
        return None if _named(str(exc), name) else f"ArgumentError not naming {name!r}: {exc}"
    except Exception as exc:  # noqa: BLE001 - any other exception type is the defect being tested for
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    return "accepted silently"


def test_every_public_callable_is_an_entry_or_exempt() -> None:
    missing = sorted(_public_callables() - set(BY_NAME) - set(EXEMPT))
    stale = sorted(set(EXEMPT) - _public_callables())
    assert not stale, f"exemptions for callables that no longer exist: {stale}"
    assert not missing, f"public callables with no entry in tests/api_surface.py: {missing}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_valid_call_succeeds(entry: Entry) -> None:
    """The entry's valid call runs: a refusal below is due to the bad argument alone."""
    entry.call(**entry.valid())


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_bad_argument_is_refused_by_name(entry: Entry) -> None:
    failures = []
    for arg, kind in entry.kinds.items():
        for label, bad in bad_values(kind, entry.valid().get(arg)):
            outcome = _outcome(entry, arg, bad)
            if outcome is not None:
                failures.append(f"{arg}={label}: {outcome}")
    assert not failures, "\n".join(failures)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return bool(a == b) or (a != a and b != b)


LIST_CASES = [(e, arg) for e in ENTRIES for arg, kind in e.kinds.items() if kind.rstrip("?") in ARRAY_KINDS]


@pytest.mark.parametrize("entry, arg", LIST_CASES, ids=[f"{e.name}-{a}" for e, a in LIST_CASES])
def test_a_list_for_an_array_gives_the_array_answer_or_is_refused(entry: Entry, arg: str) -> None:
    kwargs = entry.valid()
    expected = entry.call(**kwargs)
    kwargs = entry.valid()
    kwargs[arg] = np.asarray(kwargs[arg]).tolist()
    try:
        got = entry.call(**kwargs)
    except ArgumentError as exc:
        assert _named(str(exc), _expected_name(entry, arg, kwargs)), exc
        return
    assert _same(got, expected), f"{entry.name}({arg}=list) differs from the array call"


# ----------------------------------------------------------------------------------------------------------------
# Property test: drawn bad values
# ----------------------------------------------------------------------------------------------------------------


def _drawn_bad(kind: str, valid: Any) -> st.SearchStrategy[Any]:
    finite = st.floats(allow_nan=False, allow_infinity=False)
    if kind in ("pos_int", "nonneg_int", "even_int"):
        low = st.integers(max_value=0 if kind != "nonneg_int" else -1)
        odd = st.integers(0, 50).map(lambda k: 2 * k + 1) if kind == "even_int" else st.nothing()
        return st.one_of(low, odd, finite.filter(lambda x: x != int(x)), st.text(max_size=3), st.none())
    if kind == "seed":
        return st.one_of(st.integers(max_value=-1), st.integers(min_value=2**63), finite.filter(lambda x: x != int(x)))
    if kind in ("pos_float", "nonneg_float", "real_float"):
        neg = st.floats(max_value=0.0 if kind == "pos_float" else -1e-300, allow_nan=False, allow_infinity=False)
        bad = [st.just(float("nan")), st.sampled_from([float("inf"), float("-inf")]), st.complex_numbers(min_magnitude=1e-3)]
        return st.one_of(*(bad + ([] if kind == "real_float" else [neg])))
    if kind in ARRAY_KINDS:
        arr = np.asarray(valid)
        idx = st.integers(0, max(arr.size - 1, 0))
        value = st.sampled_from([float("nan"), float("inf"), float("-inf")])

        def plant(i: int, v: float) -> np.ndarray:
            out = np.array(arr, dtype=np.result_type(arr, float), copy=True)
            out.flat[i] = v
            return out

        planted = st.builds(plant, idx, value)
        if kind.startswith("real"):
            planted = st.one_of(planted, st.floats(1e-6, 1e3).map(lambda eps: arr + 1j * eps))
        return planted
    return st.sampled_from([bad for _, bad in bad_values(kind, valid)])


CASES = [(e, arg) for e in ENTRIES for arg in e.kinds]


@settings(max_examples=settings.default.max_examples * 10)  # a few ms an example
@given(data=st.data(), case=st.sampled_from(CASES))
def test_drawn_bad_arguments_are_refused_by_name(data: st.DataObject, case: tuple[Entry, str]) -> None:
    entry, arg = case
    valid = entry.valid().get(arg)
    bad = data.draw(_drawn_bad(entry.kinds[arg], valid), label=f"{entry.name}({arg}=...)")
    outcome = _outcome(entry, arg, bad)
    assert outcome is None, f"{entry.name}({arg}={bad!r}): {outcome}"


# ----------------------------------------------------------------------------------------------------------------
# The defects of issue #13, one by one (each failed before its fix)
# ----------------------------------------------------------------------------------------------------------------


def test_complex_unitary_basis_is_refused() -> None:
    """It gave zero vectors from ``trajectories`` where ``sequences`` gave norm 1."""
    with pytest.raises(ArgumentError, match="basis"):
        CommutingFamily(basis=np.diag(np.exp(1j * np.array([0.3, 0.3, 1.0, 1.0]))))


def test_complex_angles_are_refused() -> None:
    """They gave decaying "orthogonal" sequences."""
    fam = commuting_family(2)
    for call in (lambda: fam.trajectories(np.array([[0.5 + 0.1j]]), np.ones((1, 2)), 3),
                 lambda: fam.from_angles(np.array([[0.5 + 0.1j]])), lambda: rotation_blocks(np.array([0.5 + 0.1j]))):
        with pytest.raises(ArgumentError, match="thetas"):
            call()


def test_list_basis_is_an_array_basis() -> None:
    """``CommutingFamily(basis=list)`` raised AttributeError."""
    fam = CommutingFamily(basis=np.eye(2).tolist())
    np.testing.assert_array_equal(fam.trajectories(np.array([[0.5]]), np.ones((1, 2)), 2),
                                  CommutingFamily(basis=np.eye(2)).trajectories(np.array([[0.5]]), np.ones((1, 2)), 2))


def test_complex_regression_data_are_refused() -> None:
    """The Vladymyrov forward pass returned a complex prediction for complex ``x``."""
    r = np.random.default_rng(0)
    x, y, q = r.standard_normal((1, 4, 2)), r.standard_normal((1, 4)), r.standard_normal((1, 2))
    P = Q = 0.1 * r.standard_normal((1, 1, 3, 3))
    with pytest.raises(ArgumentError, match="x must be real"):
        vmodel.forward(x + 1j, y, q, P, Q)


@pytest.mark.parametrize("call, name", [
    (lambda: na.loss_u_row_optimum(np.ones((2, 3))), "C"),
    (lambda: pe.gd_from_zero(1, 1.0), "T"),
    (lambda: m_na.fit_sampled("orthogonal", 2, 1, 3, seed=0, steps=1, batch=0, lr=1e-3), "batch"),
    (lambda: aug.moments("U", 2, 1, None), "law"),
    (lambda: m_na.fit_exact("unitary", 1, 1, 2, seed=-1), "seed"),
], ids=["non-square C", "T=1", "batch=0", "law=None", "seed=-1"])
def test_issue_13_examples(call: Any, name: str) -> None:
    """Non-square ``C`` accepted; ZeroDivisionError at ``T=1`` / ``batch=0``; AttributeError for ``law=None``;
    a negative seed accepted."""
    with pytest.raises(ArgumentError) as info:
        call()
    assert _named(str(info.value), name), info.value
