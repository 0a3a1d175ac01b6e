"""Which claims depend on which function of ``theory``: derived by running every claim once under a call tracer.

Each claim of the selected profile runs once (in a forked child, through :func:`proofs_check.runner.run_claim`)
with :func:`sys.setprofile` recording every Python function entered whose code lives in a ``theory`` module; a
traced code object is mapped to the *unit* (top-level function or ``Class.method``) that contains it, so nested
functions, lambdas and comprehensions count for their enclosing function.  The result, with each claim's
unmutated verdict and time, is cached per code version: the key hashes the source of ``theory/``, ``numerics/``,
the claims and the runner (:data:`TRACED_SOURCES`: any edit of a closed form, a model or a claim retraces), the
profile, the claim selection and the Python version.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from proofs_check.mutation.forking import run_forked
from proofs_check.mutation.operators import module_path, theory_modules, unit_line_ranges

_TRACE_LIMIT_S = 900.0


@dataclass
class ClaimTrace:
    """One claim's unmutated run: its verdict, seconds, and the ``theory`` units it called (``module:function``)."""

    id: str
    verdict: str
    seconds: float
    units: list[str] = field(default_factory=list)


@dataclass
class DependencyMap:
    """Claims per unit, from one traced run of the selected claims (see module docstring)."""

    key: str
    profile: str
    claims: dict[str, ClaimTrace]
    import_time_units: list[str]

    def usable(self) -> list[str]:
        """Claims that PASS unmutated (only those can kill a mutant: a FAIL without a mutant proves nothing)."""
        return [cid for cid, t in self.claims.items() if t.verdict == "PASS"]

    def claims_of(self, unit: str) -> list[str]:
        """Usable claims that call ``unit`` (``module:function``)."""
        return [cid for cid in self.usable() if unit in self.claims[cid].units]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "profile": self.profile, "import_time_units": self.import_time_units,
                "claims": {cid: asdict(t) for cid, t in self.claims.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DependencyMap":
        return cls(key=data["key"], profile=data["profile"], import_time_units=list(data["import_time_units"]),
                   claims={cid: ClaimTrace(**t) for cid, t in data["claims"].items()})


def _theory_files() -> dict[str, tuple[str, list[tuple[str, int, int]]]]:
    """``{file path: (module, unit line ranges)}`` for every mutated module."""
    files = {}
    for module in theory_modules():
        path = module_path(module)
        files[str(path)] = (module, unit_line_ranges(path.read_text(encoding="utf-8")))
    return files


def _unit_of(code: Any, files: dict[str, tuple[str, list[tuple[str, int, int]]]]) -> str | None:
    entry = files.get(code.co_filename)
    if entry is None:
        return None
    module, ranges = entry
    for name, first, last in ranges:
        if first <= code.co_firstlineno <= last:
            return f"{module}:{name}"
    return None


class UnitTracer:
    """A :func:`sys.setprofile` hook collecting the ``theory`` units entered while it is installed."""

    def __init__(self) -> None:
        self.files = _theory_files()
        self._memo: dict[Any, str | None] = {}
        self.units: set[str] = set()

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        try:
            unit = self._memo[code]
        except KeyError:
            unit = self._memo[code] = _unit_of(code, self.files)
        if unit is not None:
            self.units.add(unit)

    def __enter__(self) -> "UnitTracer":
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


#: What a claim's calls into ``theory`` can depend on (paths relative to the checkout): the dependency map is
#: retraced when any of these files changes.
TRACED_SOURCES: tuple[str, ...] = ("theory", "numerics", "proofs_check/claims", "proofs_check/claim.py",
                                   "proofs_check/runner.py", "proofs_check/registry.py")


def code_version(profile: str, claim_ids: Iterable[str]) -> str:
    """A hash of :data:`TRACED_SOURCES`, the profile, the claim ids and the Python version."""
    h = hashlib.sha256()
    root = module_path("theory").parent.parent
    for entry in TRACED_SOURCES:
        base = root / entry
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    h.update(f"{profile}|{sys.version_info[:2]}|{','.join(sorted(claim_ids))}".encode())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/icl-verify/mutation`` (``~/.cache/...`` when unset): outside the checkout."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "icl-verify" / "mutation"


def _trace_one(task: tuple[str, str, str]) -> dict[str, Any]:
    from proofs_check.registry import REGISTRY
    from proofs_check.runner import run_claim

    claim_id, profile, device = task
    with UnitTracer() as tracer:
        result = run_claim(REGISTRY.get(claim_id), profile=profile, device=device)
    return asdict(ClaimTrace(id=claim_id, verdict=result.verdict, seconds=result.seconds, units=sorted(tracer.units)))


def trace_dependencies(claim_ids: list[str], *, profile: str, device: str, workers: int,
                       import_time_units: list[str], cache_dir: Path | None = None,
                       log: Any = None) -> tuple[DependencyMap, bool]:
    """The dependency map of ``claim_ids`` (registered already), from the cache or traced now.

    Returns ``(map, from_cache)``.  A claim whose trace times out or crashes is recorded with verdict ``ERROR``
    (and so is never used to kill a mutant).
    """
    key = code_version(profile, claim_ids)
    cache = (cache_dir or default_cache_dir()) / f"deps-{key}.json"
    if cache.is_file():
        try:
            return DependencyMap.from_json(json.loads(cache.read_text())), True
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache file is retraced
    traces: dict[str, ClaimTrace] = {}
    tasks = [(cid, profile, device) for cid in claim_ids]
    for task, outcome in run_forked(_trace_one, tasks, workers=workers, limit=lambda _t: _TRACE_LIMIT_S):
        if outcome.status == "done":
            traces[task[0]] = ClaimTrace(**outcome.value)
        else:
            traces[task[0]] = ClaimTrace(id=task[0], verdict="ERROR", seconds=outcome.seconds)
        if log is not None:
            t = traces[task[0]]
            log(f"traced {t.id}: {t.verdict} in {t.seconds:.1f} s, {len(t.units)} theory functions")
    dep = DependencyMap(key=key, profile=profile, claims={cid: traces[cid] for cid in claim_ids},
                        import_time_units=sorted(import_time_units))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(dep.to_json(), indent=1))
    tmp.replace(cache)
    return dep, False
