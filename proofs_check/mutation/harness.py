"""The mutation run: generate mutants of ``theory``, find the claims that depend on each, run them, and score.

Status of a mutant (and how it counts in the score ``(killed + timeout) / (total − equivalent − error)``)

``killed``      a dependent claim's verdict was FAIL or ERROR (a crashing claim counts);
``crashed``     the process running it died without a verdict (counted as killed, reported as such);
``timeout``     it ran past its time limit (counted as killed, reported as such);
``error``       the harness failed (the mutant could not be applied, an import failed): not a verdict on the
                mutant, left out of the score and listed;
``survived``    every dependent claim PASSed;
``uncovered``   no claim of the profile calls the mutated function (a survivor: nothing can notice it);
``equivalent``  listed in :data:`proofs_check.mutation.equivalent.EQUIVALENT` with a reason (not run).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import importlib
import pkgutil
import platform
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from proofs_check.mutation.dependencies import DependencyMap, UnitTracer, trace_dependencies
from proofs_check.mutation.equivalent import EQUIVALENT
from proofs_check.mutation.equivalent import resolve as resolve_catalogue
from proofs_check.mutation.execution import run_mutant
from proofs_check.mutation.forking import run_forked
from proofs_check.mutation.operators import OPERATORS, Mutant, mutants_of_module, theory_modules
from theory.arguments import ArgumentError

STATUSES = ("killed", "crashed", "timeout", "survived", "uncovered", "equivalent", "error")


@dataclass
class MutantResult:
    """The outcome of one mutant (see the module docstring for ``status``)."""

    mutant: Mutant
    status: str
    killed_by: str | None = None
    verdict: str | None = None
    reason: str = ""
    seconds: float = 0.0
    limit: float | None = None
    claims_run: list[dict[str, Any]] = field(default_factory=list)
    dependent_claims: list[str] = field(default_factory=list)


@dataclass
class MutationRun:
    """Everything a mutation report shows."""

    results: list[MutantResult]
    stale: dict[str, str]
    moved: dict[str, str]
    dependencies: DependencyMap
    traces_reused: int
    selection: dict[str, Any]
    started: str
    seconds: float
    trace_seconds: float
    environment: dict[str, Any]
    complete: bool = True


def _matches(name: str, patterns: list[str] | None) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def generate(modules: list[str] | None = None, operators: tuple[str, ...] = OPERATORS) -> dict[str, list[Mutant]]:
    """Every mutant of the ``theory`` modules matching the glob patterns ``modules`` (all when ``None``)."""
    names = [m for m in theory_modules() if _matches(m, modules)]
    if not names:
        raise ArgumentError(f"modules: no theory module matches {modules}; modules are {theory_modules()}")
    return {name: mutants_of_module(name, operators=operators) for name in names}


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` (1 ≤ K ≤ N) as ``(K, N)``; ``None`` stays ``None``."""
    if text is None:
        return None
    k, sep, n = str(text).partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit() or not 1 <= int(k) <= int(n):
        raise ArgumentError(f"shard must be K/N with 1 <= K <= N (e.g. 3/8), got {text!r}")
    return int(k), int(n)


def select(mutants: list[Mutant], *, ids: list[str] | None = None, functions: list[str] | None = None,
           shard: tuple[int, int] | None = None, sample: int | None = None, seed: int = 0,
           max_mutants: int | None = None, missing_ok: bool = False) -> list[Mutant]:
    """Narrow ``mutants``: exact ``ids``, then ``functions`` globs, then shard ``(K, N)`` — every N-th mutant of
    the catalogue order starting at the K-th, so that shards 1/N … N/N partition the selection and can run on
    different machines (:func:`proofs_check.mutation.report.merge` joins their reports) —, then a seeded sample,
    then the first ``max``.

    An id that matches no mutant is an error unless ``missing_ok`` (re-running an old report's survivors).
    """
    out = mutants
    if ids:
        known = {m.id for m in mutants}
        missing = [i for i in ids if i not in known]
        if missing and not missing_ok:
            raise ArgumentError(f"mutants: no generated mutant has the id(s) {missing}")
        wanted = set(ids)
        out = [m for m in out if m.id in wanted]
    if functions:
        out = [m for m in out if _matches(m.function, functions) or _matches(f"{m.module}:{m.function}", functions)]
    if shard is not None:
        k, n = shard
        out = out[k - 1::n]
    if sample is not None:
        if sample < 1:
            raise ArgumentError(f"sample must be a positive integer, got {sample}")
        # in the order drawn, so that a run stopped early still holds a uniform sample
        out = [out[i] for i in random.Random(seed).sample(range(len(out)), min(sample, len(out)))]
    if max_mutants is not None:
        if max_mutants < 1:
            raise ArgumentError(f"max_mutants must be a positive integer, got {max_mutants}")
        out = out[:max_mutants]
    return out


def import_project() -> list[str]:
    """Import every module of ``theory``, ``numerics`` and ``proofs_check`` now, in the parent.

    The forked children then run one consistent snapshot of the code: a module a claim imports lazily would
    otherwise be read from disk in each child, possibly in a newer version than the rest (others edit the tree
    while a long run goes on).  Modules whose optional dependencies are missing are skipped; returns their names.
    """
    skipped = []
    for package in ("theory", "numerics", "proofs_check"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except ImportError:
                skipped.append(info.name)
    return skipped


def _environment() -> dict[str, Any]:
    import numpy
    import sympy
    import torch

    return {"python": sys.version.split()[0], "platform": platform.platform(), "numpy": numpy.__version__,
            "sympy": sympy.__version__, "torch": torch.__version__}


def run_mutation(*, modules: list[str] | None = None, functions: list[str] | None = None,
                 operators: tuple[str, ...] = OPERATORS, claims: list[str] | None = None, profile: str = "quick",
                 device: str = "cpu", workers: int = 2, shard: tuple[int, int] | None = None,
                 sample: int | None = None, seed: int = 0,
                 max_mutants: int | None = None, ids: list[str] | None = None, missing_ok: bool = False,
                 timeout_factor: float = 4.0,
                 timeout_floor: float = 30.0, cache_dir: Path | None = None,
                 equivalent: dict[str, str] | None = None, log: Callable[[str], None] | None = None,
                 checkpoint: Callable[["MutationRun"], None] | None = None, checkpoint_every: int = 25) -> MutationRun:
    """Generate, select and run mutants; return every outcome (see :func:`proofs_check.mutation.report.write`).

    Parameters
    ----------
    modules, functions : list of str, optional
        Glob patterns on module names (``theory.vladymyrov.*``) and on unit names (``loss_u*`` or
        ``theory.sander.pe_only:loss*``).
    operators : tuple of str
        A subset of :data:`proofs_check.mutation.operators.OPERATORS`.
    claims : list of str, optional
        Claim id globs: only these claims are traced and run (default: every claim of ``profile``).
    profile, device : str
        Passed to :func:`proofs_check.runner.run_claim`.
    workers : int
        Mutants run at once, each in its own forked process.
    shard, sample, seed, max_mutants, ids, missing_ok
        See :func:`select`; the sample is drawn with ``random.Random(seed)``.
    timeout_factor, timeout_floor : float
        Each dependent claim may run ``floor + factor × (its unmutated seconds)`` on a mutant.
    cache_dir : Path, optional
        Where the claim traces are cached (default :func:`~proofs_check.mutation.dependencies.default_cache_dir`).
    equivalent : dict, optional
        The equivalent-mutant catalogue (default :data:`~proofs_check.mutation.equivalent.EQUIVALENT`).
    log : callable, optional
        Receives one line per event (progress).
    checkpoint : callable, optional
        Called every ``checkpoint_every`` finished mutants with the run so far (``complete`` False), so that an
        interrupted run still leaves a report.
    """
    import torch

    from proofs_check.registry import load_all

    say = log or (lambda _line: None)
    if workers < 1:
        raise ArgumentError(f"workers must be a positive integer, got {workers}")
    if timeout_factor <= 0 or timeout_floor <= 0:
        raise ArgumentError("timeout_factor and timeout_floor must be positive")
    catalogue = EQUIVALENT if equivalent is None else equivalent
    torch.set_num_threads(1)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    for library in ("numpy", "scipy", "sympy"):  # imported before the tracer (fast), the project under it
        importlib.import_module(library)
    with UnitTracer() as import_tracer:  # theory functions called while the project is imported
        for name in theory_modules():
            importlib.import_module(name)
        registry = load_all()
        import_project()
    claim_ids = [c.id for c in registry.select(claims, profile)]
    if not claim_ids:
        raise ArgumentError(f"claims: no claim matches {claims} in profile {profile!r}")

    generated = generate(modules, operators)
    everything = [m for ms in generated.values() for m in ms]
    known = {m.id for m in everything}
    covered, moved, stale_ids = resolve_catalogue(
        {mid: why for mid, why in catalogue.items() if mid.split(":", 1)[0] in generated}, known)
    stale = {mid: catalogue[mid] for mid in stale_ids}
    chosen = select(everything, ids=ids, functions=functions, shard=shard, sample=sample, seed=seed,
                    max_mutants=max_mutants, missing_ok=missing_ok)
    say(f"{len(everything)} mutants in {len(generated)} modules; {len(chosen)} selected")

    t_trace = time.perf_counter()
    deps, reused = trace_dependencies(claim_ids, profile=profile, device=device, workers=workers,
                                      import_time_units=sorted(import_tracer.units), cache_dir=cache_dir, log=say)
    trace_seconds = time.perf_counter() - t_trace
    say(f"dependency map {deps.key}: {reused} claim traces reused, {len(claim_ids) - reused} traced in "
        f"{trace_seconds:.0f} s; "
        f"{len(deps.usable())} of {len(claim_ids)} claims PASS unmutated")

    results: dict[str, MutantResult] = {}
    to_run: list[tuple[Mutant, list[str]]] = []
    for m in chosen:
        if m.id in covered:
            results[m.id] = MutantResult(m, "equivalent", reason=covered[m.id])
            continue
        dependents = deps.claims_of(f"{m.module}:{m.function}")
        if dependents:
            to_run.append((m, dependents))
        else:
            results[m.id] = MutantResult(m, "uncovered", reason="no claim of the profile calls this function")

    kills = {cid: 0 for cid in deps.claims}
    seconds = {cid: t.seconds for cid, t in deps.claims.items()}

    def tasks() -> Iterator[tuple[Mutant, list[str], str, str]]:
        for m, dependents in to_run:  # ordered when started: the most lethal, then the fastest claim first
            order = sorted(dependents, key=lambda c: (-kills[c], seconds[c]))
            yield m, order, profile, device

    def limit(task: tuple[Mutant, list[str], str, str], claim: str | None) -> float:
        # per claim: the floor plus a multiple of that claim's unmutated time (before the first claim: the floor)
        return timeout_floor + (timeout_factor * seconds[claim] if claim is not None else 0.0)

    selection = {"modules": modules, "functions": functions, "operators": list(operators), "claims": claims,
                 "profile": profile, "device": device, "workers": workers,
                 "shard": None if shard is None else f"{shard[0]}/{shard[1]}", "sample": sample, "seed": seed,
                 "max_mutants": max_mutants, "ids": ids, "timeout_factor": timeout_factor,
                 "missing_ids": sorted(set(ids or ()) - known),
                 "timeout_floor": timeout_floor, "generated": len(everything),
                 "generated_per_module": {k: len(v) for k, v in generated.items()}}

    def snapshot(complete: bool) -> MutationRun:
        return MutationRun(results=[results[m.id] for m in chosen if m.id in results], stale=stale, moved=moved,
                           dependencies=deps, traces_reused=reused, selection=selection, started=started,
                           seconds=time.perf_counter() - t0, trace_seconds=trace_seconds,
                           environment=_environment(), complete=complete)

    done = 0
    for task, outcome in run_forked(run_mutant, tasks(), workers=workers, limit=limit):
        m, order = task[0], task[1]
        if outcome.status == "done":
            v = outcome.value
            r = MutantResult(m, v["status"], killed_by=v["by"], verdict=v["verdict"], reason=v["reason"],
                             claims_run=v["claims"])
            if v["by"] is not None:
                kills[v["by"]] += 1
        elif outcome.status == "timeout":
            r = MutantResult(m, "timeout", killed_by=outcome.step,
                             reason=f"{outcome.step} ran past its limit of {outcome.limit:.0f} s")
        elif outcome.status == "raised":  # an exception outside the claims (run_claim never raises)
            r = MutantResult(m, "error", reason=str(outcome.value)[:2000])
        else:
            r = MutantResult(m, "crashed", killed_by=outcome.step, reason=str(outcome.value)[:400])
        r.seconds, r.limit, r.dependent_claims = outcome.seconds, outcome.limit, list(order)
        results[m.id] = r
        done += 1
        say(f"[{done}/{len(to_run)}] {r.status:9s} {m.id}" + (f"  (by {r.killed_by})" if r.killed_by else ""))
        if checkpoint is not None and done % checkpoint_every == 0 and done < len(to_run):
            checkpoint(snapshot(complete=False))
    return snapshot(complete=True)
