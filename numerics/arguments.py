"""Argument checks for torch inputs: parameter dicts and ``torch.Generator`` (the tensor check
:func:`theory.arguments.tensor`, re-exported here, and every numpy and scalar check live in
:mod:`theory.arguments`).  Each raises :class:`theory.arguments.ArgumentError` naming the argument.

The checks look at types, dtypes and shapes only, never at values: a NaN test would read the tensor back from
the device (a synchronisation on every training step on a GPU).  NaN/inf are refused where data enter as numpy
arrays (:func:`theory.arguments.finite_array`, :func:`numerics.samplers.to_torch`).
"""

from __future__ import annotations

from typing import Any

import torch

from theory.arguments import ArgumentError, tensor

__all__ = ["generator", "params", "tensor"]


def params(name: str, value: Any, keys: tuple[str, ...], *, real: bool = True) -> dict[str, torch.Tensor]:
    """A parameter dict holding (at least) tensors under ``keys``; real unless ``real=False``."""
    if not isinstance(value, dict) or not value:
        raise ArgumentError(f"{name} must be a non-empty dict of tensors with keys {keys}, got {value!r:.80}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ArgumentError(f"{name} must hold the tensors {keys}; missing {missing}")
    for k in keys:
        tensor(f"{name}[{k!r}]", value[k], real=real)
    return value


def generator(name: str, value: Any) -> torch.Generator:
    """A ``torch.Generator`` (e.g. ``torch.Generator().manual_seed(seed)``)."""
    if not isinstance(value, torch.Generator):
        raise ArgumentError(f"{name} must be a torch.Generator (e.g. torch.Generator().manual_seed(seed)), "
                            f"got {type(value).__name__}")
    return value
