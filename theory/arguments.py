"""Argument checks shared by every package: each raises ``ValueError`` naming the offending argument.

``theory`` holds them because it is imported by the other two packages and imports neither.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a positive integer; else raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def even_int(name: str, value: Any) -> int:
    """A positive even integer (e.g. the dimension of a 2x2-rotation-block ``W``)."""
    v = positive_int(name, value)
    if v % 2:
        raise ValueError(f"{name} must be even (W is built from 2x2 rotation blocks), got {v}")
    return v


def positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def nonnegative_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def finite_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a numpy array; raise if it is not numeric, has NaN/inf, or has the wrong number of axes."""
    try:
        arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} axes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def orthogonal(name: str, value: Any, *, atol: float = 1e-8) -> np.ndarray:
    """A square real orthogonal or complex unitary matrix (or a batch ``(..., d, d)`` of them).

    Raises ``ValueError`` naming ``name`` if the matrix is not square or ``W^* W`` differs from ``I`` by more
    than ``atol`` in max-abs.
    """
    arr = finite_array(name, value)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (or a batch of them), got shape {arr.shape}")
    gram = np.conj(np.swapaxes(arr, -1, -2)) @ arr
    dev = float(np.max(np.abs(gram - np.eye(arr.shape[-1])))) if arr.size else 0.0
    if dev > atol:
        raise ValueError(f"{name} must be orthogonal (W^T W = I); max |W^T W - I| = {dev:.3g} > {atol:g}")
    return arr


def one_of(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
