"""Argument checks shared by every package: each raises :class:`ArgumentError` naming the offending argument.

:class:`ArgumentError` subclasses ``ValueError`` (so ``except ValueError`` still catches it) but is its own type:
the CLI turns it, and only it, into "bad arguments, exit 2"; any other exception is an internal error.

``theory`` holds them because it is imported by the other two packages and imports neither.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np


class ArgumentError(ValueError):
    """A caller passed a bad argument; the message names the argument, its value and what was expected."""


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a positive integer; else raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise ArgumentError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise ArgumentError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def even_int(name: str, value: Any) -> int:
    """A positive even integer (e.g. the dimension of a 2x2-rotation-block ``W``)."""
    v = positive_int(name, value)
    if v % 2:
        raise ArgumentError(f"{name} must be even (W is built from 2x2 rotation blocks), got {v}")
    return v


def positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ArgumentError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def nonnegative_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ArgumentError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def finite_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a numpy array; raise if it is not numeric, has NaN/inf, or has the wrong number of axes."""
    try:
        arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ArgumentError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype.kind not in "biufc":
        raise ArgumentError(f"{name} must be numeric, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ArgumentError(f"{name} must have {' or '.join(map(str, allowed))} axes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ArgumentError(f"{name} contains NaN or infinite entries")
    return arr


def orthogonal(name: str, value: Any, *, atol: float = 1e-8) -> np.ndarray:
    """A square real orthogonal or complex unitary matrix (or a batch ``(..., d, d)`` of them).

    Raises ``ValueError`` naming ``name`` if the matrix is not square or ``W^* W`` differs from ``I`` by more
    than ``atol`` in max-abs.
    """
    arr = finite_array(name, value)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ArgumentError(f"{name} must be a square matrix (or a batch of them), got shape {arr.shape}")
    gram = np.conj(np.swapaxes(arr, -1, -2)) @ arr
    dev = float(np.max(np.abs(gram - np.eye(arr.shape[-1])))) if arr.size else 0.0
    if dev > atol:
        raise ArgumentError(f"{name} must be orthogonal (W^T W = I); max |W^T W - I| = {dev:.3g} > {atol:g}")
    return arr


def one_of(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    try:
        ok = bool(value in choices)
    except (TypeError, ValueError):  # e.g. an array, whose comparison has no single truth value
        ok = False
    if not ok:
        raise ArgumentError(f"{name} must be one of {choices}, got {value!r}")
    return value


def real_float(name: str, value: Any) -> float:
    """Any finite real number (not a bool, not complex)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ArgumentError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def real_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """:func:`finite_array` that also refuses complex entries (real orthogonal families, regression data)."""
    arr = finite_array(name, value, ndim=ndim)
    if arr.dtype.kind == "c":
        raise ArgumentError(f"{name} must be real, got complex dtype {arr.dtype}")
    return arr.astype(float, copy=False)


def square_matrix(name: str, value: Any, *, real: bool = False) -> np.ndarray:
    """A finite square ``(d, d)`` matrix with ``d >= 1`` (real-valued if ``real``)."""
    arr = real_array(name, value) if real else finite_array(name, value)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ArgumentError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    return arr


def real_orthogonal(name: str, value: Any, *, atol: float = 1e-8) -> np.ndarray:
    """A real orthogonal matrix (or batch): :func:`orthogonal` that refuses complex unitary matrices."""
    if np.iscomplexobj(finite_array(name, value)):
        raise ArgumentError(f"{name} must be a real orthogonal matrix, got a complex one")
    return orthogonal(name, value, atol=atol).astype(float, copy=False)


def rng(name: str, value: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` (every random draw takes one; seeds go through ``numpy.random.default_rng``)."""
    if not isinstance(value, np.random.Generator):
        raise ArgumentError(f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
                            f"got {type(value).__name__}")
    return value


#: Seeds are what both ``numpy.random.default_rng`` and ``torch.Generator.manual_seed`` accept.
SEED_LIMIT = 2**63


def seed(name: str, value: Any) -> int:
    """A seed: an integer with ``0 <= seed < 2**63`` (``torch.Generator.manual_seed`` and numpy both take it)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < SEED_LIMIT:
        raise ArgumentError(f"{name} must be an integer seed in [0, 2**63), got {value!r}")
    return int(value)


def flag(name: str, value: Any) -> bool:
    """A boolean switch: ``True``/``False`` (numpy booleans included), nothing else."""
    if not isinstance(value, bool | np.bool_):
        raise ArgumentError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def instance(name: str, value: Any, cls: type | tuple[type, ...]) -> Any:
    """``value`` if it is an instance of ``cls`` (e.g. a law or spectrum object built by this package)."""
    if not isinstance(value, cls):
        expected = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise ArgumentError(f"{name} must be a {expected}, got {type(value).__name__}")
    return value


def int_sequence(name: str, value: Any, *, minimum: int = 0) -> list[int]:
    """A non-empty sequence of integers ``>= minimum`` (positions, head counts)."""
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ArgumentError(f"{name} must be a non-empty sequence of integers, got {value!r}")
    out = [nonnegative_int(f"{name}[{i}]", v) if minimum == 0 else positive_int(f"{name}[{i}]", v)
           for i, v in enumerate(value)]
    if not out:
        raise ArgumentError(f"{name} must not be empty")
    return out


def tensor(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None, real: bool = False) -> Any:
    """A floating (complex unless ``real``) ``torch.Tensor`` with an allowed number of axes.

    Types, dtypes and shapes only, never values: a NaN test would synchronise a GPU on every call.  torch is not
    imported here: a caller holding a tensor has imported it already.
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        raise ArgumentError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not (value.is_floating_point() or value.is_complex()):
        raise ArgumentError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if real and value.is_complex():
        raise ArgumentError(f"{name} must be real, got dtype {value.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if value.ndim not in allowed:
            raise ArgumentError(f"{name} must have {' or '.join(map(str, allowed))} axes, got shape {tuple(value.shape)}")
    return value


def function(name: str, value: Any) -> Any:
    """A callable (a loss, a sampler)."""
    if not callable(value):
        raise ArgumentError(f"{name} must be callable, got {type(value).__name__}")
    return value
