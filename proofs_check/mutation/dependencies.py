"""Which claims depend on which function of ``theory``: derived by running every claim once under a call tracer.

Each claim of the selected profile runs once (in a forked child, through :func:`proofs_check.runner.run_claim`)
with :func:`sys.setprofile` recording every Python function entered whose code lives in a ``theory`` module; a
traced code object is mapped to the *unit* (top-level function or ``Class.method``) that contains it, so nested
functions, lambdas and comprehensions count for their enclosing function.

Each claim's trace (the units it called, its unmutated verdict and seconds) is cached on its own, with the SHA-256
of every project file (``theory/``, ``numerics/``, ``proofs_check/``) in which the claim entered a function — its
own claim module, the runner and every model and closed form it ran.  A later run reuses the trace while all those
files are unchanged and retraces the claim otherwise, so an edit of one closed form retraces only the claims that
ran it.  The cache is per profile, device and Python version.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

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
    files: dict[str, str] = field(default_factory=dict)  # project file (relative path) -> SHA-256 when traced


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


_PROJECT_PACKAGES: tuple[str, ...] = ("theory", "numerics", "proofs_check")


def project_root() -> Path:
    """The folder that holds the ``theory``, ``numerics`` and ``proofs_check`` packages."""
    return module_path("theory").parent.parent


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
    """A :func:`sys.setprofile` hook collecting the ``theory`` units entered while it is installed (``units``)
    and the project files in which any function was entered (``files``, paths relative to the project root)."""

    def __init__(self) -> None:
        self.theory_files = _theory_files()
        self.root = str(project_root()) + os.sep
        self._memo: dict[Any, tuple[str | None, str | None]] = {}
        self.units: set[str] = set()
        self.files: set[str] = set()

    def _classify(self, code: Any) -> tuple[str | None, str | None]:
        name = code.co_filename
        rel = name[len(self.root):] if name.startswith(self.root) else None
        if rel is not None and rel.split(os.sep, 1)[0] not in _PROJECT_PACKAGES:
            rel = None
        return _unit_of(code, self.theory_files), rel

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        try:
            unit, rel = self._memo[code]
        except KeyError:
            unit, rel = self._memo[code] = self._classify(code)
            if rel is not None:
                self.files.add(rel)
        if unit is not None:
            self.units.add(unit)

    def __enter__(self) -> "UnitTracer":
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


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
    root = project_root()
    files = {rel: _sha(root / rel) or "" for rel in sorted(tracer.files)}
    return asdict(ClaimTrace(id=claim_id, verdict=result.verdict, seconds=result.seconds, units=sorted(tracer.units),
                             files=files))


def _cached_trace(path: Path, root: Path) -> ClaimTrace | None:
    """The trace stored at ``path`` if every file it ran is unchanged, else ``None``."""
    try:
        trace = ClaimTrace(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if not trace.files or any(_sha(root / rel) != sha for rel, sha in trace.files.items()):
        return None
    return trace


def trace_dependencies(claim_ids: list[str], *, profile: str, device: str, workers: int,
                       import_time_units: list[str], cache_dir: Path | None = None,
                       log: Callable[[str], None] | None = None) -> tuple[DependencyMap, int]:
    """The dependency map of ``claim_ids`` (registered already): cached traces where valid, the rest traced now.

    Returns ``(map, number of claim traces reused from the cache)``.  A claim whose trace times out or crashes is
    recorded with verdict ``ERROR`` (and so never kills a mutant); only traces of PASSing claims are cached.
    """
    root = project_root()
    folder = (cache_dir or default_cache_dir()) / f"{profile}-{device.replace(':', '')}-py{sys.version_info[0]}{sys.version_info[1]}"
    traces: dict[str, ClaimTrace] = {}
    for cid in claim_ids:
        cached = _cached_trace(folder / f"{cid}.json", root)
        if cached is not None:
            traces[cid] = cached
    reused = len(traces)
    tasks = [(cid, profile, device) for cid in claim_ids if cid not in traces]
    folder.mkdir(parents=True, exist_ok=True)
    for task, outcome in run_forked(_trace_one, tasks, workers=workers, limit=lambda _t, _step: _TRACE_LIMIT_S):
        cid = task[0]
        if outcome.status == "done":
            traces[cid] = ClaimTrace(**outcome.value)
        else:
            traces[cid] = ClaimTrace(id=cid, verdict="ERROR", seconds=outcome.seconds)
        if traces[cid].verdict == "PASS":  # a failing claim is retraced next time (its cause may lie elsewhere)
            tmp = folder / f"{cid}.json.tmp"
            tmp.write_text(json.dumps(outcome.value, indent=1), encoding="utf-8")
            tmp.replace(folder / f"{cid}.json")
        if log is not None:
            t = traces[cid]
            log(f"traced {t.id}: {t.verdict} in {t.seconds:.1f} s, {len(t.units)} theory functions")
    claims = {cid: traces[cid] for cid in claim_ids}
    key = hashlib.sha256(json.dumps({c: asdict(t) for c, t in claims.items()}, sort_keys=True).encode()).hexdigest()
    return DependencyMap(key=key[:16], profile=profile, claims=claims,
                        import_time_units=sorted(import_time_units)), reused
