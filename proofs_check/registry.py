"""The claim registry: registration (refusing claims without a negative control), lookup, selection and loading.

Claims come from three places, all loaded by :func:`load_all`:

* the modules of :mod:`proofs_check.claims` (this package);
* **entry points** of the group :data:`ENTRY_POINT_GROUP` (``proofs_check.claims``) declared by any installed
  distribution — an outside package adds claims without touching this one::

      [project.entry-points."proofs_check.claims"]
      my_claims = "my_package.claims"          # a module that calls proofs_check.registry.register(...)

* single files given with ``--claims-module PATH`` (:func:`load_claims_file`).

A module that fails to import (a syntax error, a bad claim id, a duplicate id) is recorded with its error in
:attr:`Registry.load_errors` and the other modules still load; the CLI names it on stderr and the run is not OK.
Registering an id again *from the same module* replaces the claim (re-running a notebook cell, reloading a
module); the same id from a different module is refused.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from proofs_check.claim import Claim, canonical_profile
from theory.arguments import ArgumentError

ENTRY_POINT_GROUP = "proofs_check.claims"


@dataclass(frozen=True)
class LoadError:
    """A claims module that could not be loaded: its name (or file), the error and the traceback."""

    module: str
    error: str
    traceback: str

    def as_dict(self) -> dict[str, str]:
        return {"module": self.module, "error": self.error}


def _origin(claim: Claim) -> str:
    """The module that defines a claim's check (``__main__`` in a notebook or script)."""
    return getattr(claim.check, "__module__", None) or "?"


class Registry:
    """An ordered collection of claims keyed by id."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}
        self._files: dict[str, str] = {}
        self.load_errors: list[LoadError] = []
        self._loaded: set[str] = set()

    def register(self, claim: Claim) -> Claim:
        """Add ``claim``; the same id again from the same module replaces it, from another module is refused."""
        if not isinstance(claim, Claim):
            raise TypeError(f"register() takes a Claim, got {type(claim).__name__}")
        old = self._claims.get(claim.id)
        if old is not None and _origin(old) != _origin(claim):
            raise ValueError(f"a claim with id {claim.id!r} is already registered (from module {_origin(old)!r}; "
                             f"this one is from {_origin(claim)!r})")
        self._claims[claim.id] = claim
        module = sys.modules.get(_origin(claim))
        path = getattr(module, "__file__", None)
        if path and getattr(module, "__claims_file__", False):
            self._files[claim.id] = str(path)
        return claim

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise KeyError(f"no claim with id {claim_id!r}; `proofs-check list` shows the ids") from None

    def source_file(self, claim_id: str) -> str | None:
        """The ``--claims-module`` file a claim came from, or ``None`` for package and entry-point claims."""
        return self._files.get(claim_id)

    def select(self, patterns: Iterable[str] | None = None, profile: str | None = None) -> list[Claim]:
        """Claims whose id matches any glob in ``patterns`` (all if ``None``) and that run in ``profile``.

        Raises :class:`~theory.arguments.ArgumentError` for an unknown profile, an empty pattern list, and a
        pattern that matches no registered claim (whatever the profile), so a typo is never silently ignored.
        """
        if profile is not None:
            profile = canonical_profile(profile)
        pats = None if patterns is None else list(patterns)
        if pats is not None:
            if not pats:
                raise ArgumentError("--claims needs at least one id or pattern (omit it to select every claim)")
            unknown = [p for p in pats if not any(fnmatch.fnmatchcase(c, p) for c in self._claims)]
            if unknown:
                raise ArgumentError(f"--claims: no registered claim matches {unknown}; `proofs-check list --ids` "
                                    "prints the ids")
        out = []
        for claim in self._claims.values():
            if pats and not any(fnmatch.fnmatchcase(claim.id, p) for p in pats):
                continue
            if profile is not None and profile not in claim.profiles:
                continue
            out.append(claim)
        return out

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._claims

    def _load(self, name: str, load: Callable[[], object]) -> None:
        """Run ``load()`` once per ``name``; record (not raise) what it raises."""
        if name in self._loaded:
            return
        self._loaded.add(name)
        try:
            load()
        except Exception as exc:  # any failure of a claims module is reported with its name, never fatal
            self.load_errors.append(LoadError(name, f"{type(exc).__name__}: {exc}", traceback.format_exc()))


REGISTRY = Registry()


def register(claim: Claim) -> Claim:
    """Register ``claim`` in the global registry (called at import time by claims modules)."""
    return REGISTRY.register(claim)


def load_claims_file(path: Path | str) -> None:
    """Import one claims file (``--claims-module PATH``); it registers its claims.  Errors propagate."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ArgumentError(f"--claims-module {str(path)!r}: no such file")
    name = "proofs_check_outside_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ArgumentError(f"--claims-module {str(path)!r}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    module.__claims_file__ = True  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def load_all(files: Iterable[Path | str] = ()) -> Registry:
    """Load every claims module (package, entry points, ``files``) once and return the registry.

    A module that fails is recorded in ``REGISTRY.load_errors`` (name, error, traceback); the others load.
    """
    import proofs_check.claims as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = f"{pkg.__name__}.{info.name}"
        REGISTRY._load(module, lambda m=module: importlib.import_module(m))
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        REGISTRY._load(f"entry point {ep.name} = {ep.value}", ep.load)
    for path in files:
        REGISTRY._load(f"file {Path(path).resolve()}", lambda p=path: load_claims_file(p))
    return REGISTRY


__all__ = ["ENTRY_POINT_GROUP", "REGISTRY", "LoadError", "Registry", "load_all", "load_claims_file", "register"]
