"""On-disk cache of completed sweep points, keyed by sweep, point parameters, seed and code version.

Layout::

    <root>/<sweep name>/<code version>/<key>.json

``key`` is the SHA-256 of the canonical JSON of ``{"sweep", "params", "seed"}`` (parameters sorted, floats in
their shortest round-trip form), so the same point always maps to the same file and any change of a
parameter, of the seed or of the sweep gives a different file.  The *code version* is a hash of the source
files of the packages that compute results (:data:`CODE_PACKAGES`); a changed line anywhere in them moves the
sweep into a fresh folder, so results computed by older code are never read back (they stay on disk until
the folder is deleted).

Only successful points are stored: a point that ended in ERROR is run again on ``--resume``.  Files are
written atomically (temporary file + :func:`os.replace`), so an interrupted sweep never leaves a truncated
entry that a resumed one would trust.

Every entry carries ``"schema": ENTRY_SCHEMA`` and a ``"checksum"``: the SHA-256 of the canonical JSON of the
rest of the entry.  :meth:`ResultCache.lookup` refuses, *with the reason*, any entry that is not valid JSON,
not an object, of another schema, missing a field, whose ``result`` is not an object of finite numbers, whose
checksum does not match (a value edited by hand, a flipped bit) or that belongs to another sweep, version,
parameter set or seed.  A refused entry is never used: the sweep recomputes the point, reports the refusal and
overwrites the entry.  (The checksum detects edits and corruption; it is not a signature against a deliberate
forger, who could recompute it.)
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

CODE_PACKAGES: tuple[str, ...] = ("theory", "numerics", "proofs_check")
ENTRY_SCHEMA = 2
ENTRY_FIELDS: tuple[str, ...] = ("schema", "sweep", "code_version", "params", "seed", "result", "checksum")


def canonical_json(obj: Any) -> str:
    """Sorted-key, whitespace-free JSON; refuses NaN/inf (a parameter must be a plain number)."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sweep parameters must be JSON-serialisable finite values: {exc}") from exc


def hash_sources(roots: Iterable[Path]) -> str:
    """SHA-256 over the relative paths and bytes of every ``*.py`` file under ``roots`` (sorted, so stable)."""
    h = hashlib.sha256()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"code root {root} is not a directory")
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root.parent).as_posix()
            h.update(rel.encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def package_roots(packages: Iterable[str] = CODE_PACKAGES) -> list[Path]:
    """The source folders of ``packages`` as imported here (the checkout, for an editable install)."""
    roots = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"package {name!r} is not importable; cannot compute the code version")
        roots.append(Path(next(iter(spec.submodule_search_locations))))
    return roots


def code_version(packages: Iterable[str] = CODE_PACKAGES) -> str:
    """A 16-hex-digit hash of the source of ``theory``, ``numerics`` and ``proofs_check``."""
    return hash_sources(package_roots(packages))[:16]


def point_key(sweep: str, params: Mapping[str, Any], seed: int) -> str:
    """The cache key of one sweep point (independent of the code version, which names the folder)."""
    text = canonical_json({"sweep": sweep, "params": dict(params), "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultCache:
    """Completed results of one sweep under one code version."""

    def __init__(self, root: Path, sweep: str, version: str) -> None:
        if not sweep or "/" in sweep or sweep.startswith("."):
            raise ValueError(f"sweep name {sweep!r} cannot name a cache folder")
        if not version or not all(c in "0123456789abcdef" for c in version):
            raise ValueError(f"code version must be a hex digest, got {version!r}")
        self.sweep = sweep
        self.version = version
        self.folder = Path(root) / sweep / version

    def path(self, params: Mapping[str, Any], seed: int) -> Path:
        return self.folder / f"{point_key(self.sweep, params, seed)}.json"

    def lookup(self, params: Mapping[str, Any], seed: int) -> tuple[dict[str, Any] | None, str | None]:
        """``(entry, None)`` for a valid stored entry, ``(None, None)`` when there is none, and
        ``(None, reason)`` when there is one that must not be used (see the module docstring)."""
        path = self.path(params, seed)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"{path.name}: unreadable ({exc})"
        try:
            entry = json.loads(text)
        except ValueError as exc:
            return None, f"{path.name}: not valid JSON ({exc})"
        problem = self._problem(entry, params, seed)
        return (None, f"{path.name}: {problem}") if problem else (entry, None)

    def _problem(self, entry: Any, params: Mapping[str, Any], seed: int) -> str | None:
        if not isinstance(entry, dict):
            return f"not a JSON object but a {type(entry).__name__}"
        if entry.get("schema") != ENTRY_SCHEMA:
            return f"schema {entry.get('schema')!r}, this version reads schema {ENTRY_SCHEMA}"
        missing = [k for k in ENTRY_FIELDS if k not in entry]
        if missing:
            return f"missing field(s) {missing}"
        if not isinstance(entry["result"], dict):
            return f"'result' is {type(entry['result']).__name__}, not an object"
        try:
            body = canonical_json({k: v for k, v in entry.items() if k != "checksum"})
        except ValueError as exc:
            return f"not canonical JSON ({exc})"
        if hashlib.sha256(body.encode()).hexdigest() != entry["checksum"]:
            return "checksum mismatch: the entry was edited or corrupted after it was written"
        if (entry["sweep"] != self.sweep or entry["code_version"] != self.version
                or canonical_json(entry["params"]) != canonical_json(dict(params)) or entry["seed"] != seed):
            return "it belongs to another sweep, code version, parameter set or seed"
        return None

    def get(self, params: Mapping[str, Any], seed: int) -> dict[str, Any] | None:
        """The stored entry of a point, or ``None`` when there is none or it is refused (:meth:`lookup`)."""
        return self.lookup(params, seed)[0]

    def put(self, params: Mapping[str, Any], seed: int, result: Mapping[str, Any], **meta: Any) -> Path:
        """Store a successful result atomically, with schema and checksum; ``meta`` (seconds, worker, attempts)
        is kept alongside.  A result with NaN or inf is refused (``ValueError``): it is never a success."""
        entry = {"schema": ENTRY_SCHEMA, "sweep": self.sweep, "code_version": self.version, "params": dict(params),
                 "seed": int(seed), "result": dict(result), **meta}
        body = canonical_json(entry)
        entry["checksum"] = hashlib.sha256(body.encode()).hexdigest()
        text = json.dumps(entry, sort_keys=True, allow_nan=False)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(params, seed)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json")) if self.folder.is_dir() else 0
