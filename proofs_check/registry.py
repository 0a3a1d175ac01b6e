"""The claim registry: registration (refusing claims without a negative control), lookup and selection."""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from typing import Iterable, Iterator

from proofs_check.claim import PROFILES, Claim


class Registry:
    """An ordered collection of claims keyed by id."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def register(self, claim: Claim) -> Claim:
        """Add ``claim``; refuse a duplicate id or anything that is not a complete :class:`Claim`."""
        if not isinstance(claim, Claim):
            raise TypeError(f"register() takes a Claim, got {type(claim).__name__}")
        if claim.id in self._claims:
            raise ValueError(f"a claim with id {claim.id!r} is already registered")
        self._claims[claim.id] = claim
        return claim

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise KeyError(f"no claim with id {claim_id!r}; `proofs-check list` shows the ids") from None

    def select(self, patterns: Iterable[str] | None = None, profile: str | None = None) -> list[Claim]:
        """Claims whose id matches any glob in ``patterns`` (all if none) and that run in ``profile``."""
        if profile is not None and profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        pats = list(patterns or [])
        out = []
        for claim in self._claims.values():
            if pats and not any(fnmatch.fnmatchcase(claim.id, p) or p == claim.id for p in pats):
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


REGISTRY = Registry()


def register(claim: Claim) -> Claim:
    """Register ``claim`` in the global registry (called at import time by ``proofs_check.claims.*``)."""
    return REGISTRY.register(claim)


def load_all() -> Registry:
    """Import every module of :mod:`proofs_check.claims` (each registers its claims once) and return the registry."""
    import proofs_check.claims as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    return REGISTRY
