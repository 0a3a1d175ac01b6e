"""Argument checks shared by every package: each raises :class:`ArgumentError` naming the offending argument.

:class:`ArgumentError` subclasses ``ValueError`` (so ``except ValueError`` still catches it) but is its own type:
the CLI turns it, and only it, into "bad arguments, exit 2"; any other exception is an internal error.

``theory`` holds them because it is imported by the other two packages and imports neither.
"""

from __future__ import annotations

import numbers
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
    if value not in choices:
        raise ArgumentError(f"{name} must be one of {choices}, got {value!r}")
    return value
