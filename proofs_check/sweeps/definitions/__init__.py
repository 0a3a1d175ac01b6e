"""The per-paper sweeps, by name.  Each module lists its sweeps in a module-level ``SWEEPS`` tuple."""

from __future__ import annotations

import importlib

from proofs_check.sweeps.grid import Sweep
from theory.arguments import ArgumentError

MODULES: tuple[str, ...] = ("vladymyrov", "sander")


def all_sweeps() -> dict[str, Sweep]:
    """Every defined sweep, keyed by name (a duplicate name is a ``ValueError``)."""
    out: dict[str, Sweep] = {}
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for sweep in module.SWEEPS:
            if sweep.name in out:
                raise ValueError(f"two sweeps are named {sweep.name!r}")
            out[sweep.name] = sweep
    return out


def get_sweep(name: str) -> Sweep:
    sweeps = all_sweeps()
    if name not in sweeps:
        raise ArgumentError(f"no sweep named {name!r}; `proofs-check sweep --list` shows {sorted(sweeps)}")
    return sweeps[name]
