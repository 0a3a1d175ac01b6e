"""Run claims: one check, one negative control, one verdict each, with seeds, timings and environment.

The CLI (``proofs-check run``) and the test suite (``tests/test_claims.py``) both call :func:`run_claim`, so a
claim is checked by exactly one implementation wherever it runs.  :func:`run_claims` runs a list of claims as
tasks of the task engine (:mod:`proofs_check.engine`) on any executor — in this process by default, or on a
local cluster, a scheduler or a batch-queue cluster — with the engine's one retry loop and progress display,
and appends each result to ``OUT/results.jsonl`` the moment it arrives.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from proofs_check.claim import (Claim, Measurement, RunContext, canonical_profile, control_margin, is_weak,
                                verdict_of)
from theory.arguments import nonnegative_int

if TYPE_CHECKING:
    from proofs_check.engine import Display
    from proofs_check.sweeps.executor import Executor

SCHEMA_VERSION = 1


@dataclass
class ClaimResult:
    """The outcome of one claim, ready for JSON."""

    id: str
    paper: str
    reference: str
    statement: str
    kind: str
    verdict: str
    reason: str
    tolerance: dict[str, Any]
    control_description: str
    seed: int
    profile: str
    device: str
    seconds: float
    check: dict[str, Any] | None = None
    control: dict[str, Any] | None = None
    traceback: str | None = None
    finding: str | None = None
    rests_on: list[str] = field(default_factory=list)
    reproduce: str = ""
    route: str = ""
    control_margin: float | None = None
    weak: bool = False

    @property
    def figures(self) -> list[str]:
        out: list[str] = []
        for part in (self.check, self.control):
            if part:
                out.extend(part.get("figures", []))
        return out

    def explain(self) -> str:
        """A multi-line, plain-words account of the verdict (used by pytest assertion messages)."""
        lines = [f"{self.id} [{self.reference}]: {self.verdict}: {self.reason}"]
        if self.check:
            lines.append(f"  compared: {self.check['compared']}")
            lines.append(f"  expected: {self.check['expected']!r}  observed: {self.check['observed']!r}")
        if self.traceback:
            lines.append(self.traceback)
        lines.append(f"  reproduce: {self.reproduce}")
        return "\n".join(lines)


@dataclass
class RunReport:
    """All results of one run plus the environment that produced them."""

    results: list[ClaimResult]
    profile: str
    device: str
    started: str
    seconds: float
    environment: dict[str, Any]
    command: str
    schema_version: int = SCHEMA_VERSION
    executor: str = "in-process (sequential)"
    load_errors: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {v: 0 for v in ("PASS", "FAIL", "ERROR", "SKIPPED")}
        for r in self.results:
            out[r.verdict] += 1
        return out

    @property
    def ok(self) -> bool:
        """No claim FAILed or ERRORed, and every claims module loaded."""
        c = self.counts()
        return c["FAIL"] == 0 and c["ERROR"] == 0 and not self.load_errors

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["counts"] = self.counts()
        return d


def environment(device: str) -> dict[str, Any]:
    """Versions, platform and device for the report header."""
    import numpy
    import scipy
    import sympy
    import torch

    from numerics.device import describe, resolve_device

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device": describe(resolve_device(device)),
    }


def _measure(fn: Callable[[RunContext], Measurement], ctx: RunContext, what: str) -> Measurement:
    m = fn(ctx)
    if not isinstance(m, Measurement):
        raise TypeError(f"the {what} returned {type(m).__name__}, not a Measurement")
    return m


def reproduce_command(claim: Claim, profile: str, seed: int, device: str) -> str:
    """The one-line command that reruns ``claim`` alone (with ``--claims-module`` when it came from a file)."""
    from proofs_check.registry import REGISTRY

    source = REGISTRY.source_file(claim.id)
    module = f" --claims-module {shlex.quote(source)}" if source else ""
    return (f"proofs-check run --claims {shlex.quote(claim.id)}{module} --profile {profile} --seed {seed} "
            f"--device {device}")


def result_header(claim: Claim, profile: str, device: str, seed: int) -> dict[str, Any]:
    """The fields of a :class:`ClaimResult` that describe the claim and the run, before any verdict."""
    return dict(id=claim.id, paper=claim.paper, reference=claim.reference, statement=claim.statement,
                kind=claim.kind, tolerance={"bound": claim.tolerance.bound, "reason": claim.tolerance.reason,
                                               "origin": claim.tolerance.origin},
                control_description=claim.control_description, seed=seed, profile=profile, device=device,
                finding=claim.finding, rests_on=list(claim.rests_on), route=claim.route,
                reproduce=reproduce_command(claim, profile, seed, device))


def run_claim(claim: Claim, *, profile: str = "quick", device: str = "cpu", out_dir: Path | None = None,
              seed: int | None = None) -> ClaimResult:
    """Run the check and the negative control of ``claim``; never raises for a failing or crashing claim."""
    profile = canonical_profile(profile)
    used_seed = claim.seed if seed is None else nonnegative_int("seed", seed)
    base = result_header(claim, profile, device, used_seed)
    if profile not in claim.profiles:
        return ClaimResult(verdict="SKIPPED", reason=f"not part of the {profile!r} profile (runs in {claim.profiles})",
                           seconds=0.0, **base)
    if claim.requires_cuda and not device.startswith("cuda"):
        return ClaimResult(verdict="SKIPPED", reason="needs a CUDA device; run with --device cuda on a GPU machine",
                           seconds=0.0, **base)
    t0 = time.perf_counter()
    check = control = None
    try:
        check = _measure(claim.check, RunContext(profile, used_seed, device, out_dir, "check"), "check")
        control = _measure(claim.control, RunContext(profile, used_seed, device, out_dir, "control"), "negative control")
    except Exception as exc:  # a crashing claim is reported, not raised
        where = "check" if check is None else "negative control"
        return ClaimResult(verdict="ERROR", reason=f"the {where} raised {type(exc).__name__}: {exc}",
                           seconds=time.perf_counter() - t0, traceback=traceback.format_exc(),
                           check=dataclasses.asdict(check) if check else None, **base)
    verdict, reason = verdict_of(check, control, claim.tolerance)
    return ClaimResult(verdict=verdict, reason=reason, seconds=time.perf_counter() - t0,
                       check=dataclasses.asdict(check), control=dataclasses.asdict(control),
                       control_margin=control_margin(control, claim.tolerance),
                       weak=is_weak(control, claim.tolerance), **base)


#: Claims handed to :func:`run_claims` in this process, by id: the in-process route runs claims that are in no
#: registry (tests, notebooks) without importing anything.  Workers in other processes look ids up in the registry.
_SUBMITTED: dict[str, Claim] = {}


def claim_task(p: dict[str, Any]) -> dict[str, Any]:
    """Task-engine side of a claim: find it, run :func:`run_claim`, return the result as a JSON-able dict.

    The claim is ``p["claim_ref"]`` (``module:attribute`` of a Claim) when given, else the claim with id
    ``p["claim"]`` handed to :func:`run_claims` in this process, else in the registry (built-in modules,
    entry points and the ``p["claims_modules"]`` files, loaded here).
    """
    from proofs_check.registry import REGISTRY, load_all
    from proofs_check.sweeps.grid import resolve_ref

    if "claim_ref" in p:
        claim = resolve_ref(p["claim_ref"])
        if not isinstance(claim, Claim):
            raise TypeError(f"{p['claim_ref']!r} is a {type(claim).__name__}, not a Claim")
    elif p["claim"] in _SUBMITTED:
        claim = _SUBMITTED[p["claim"]]
    else:
        load_all(p.get("claims_modules", ()))
        claim = REGISTRY.get(p["claim"])
    from proofs_check.report import jsonable

    out_dir = Path(p["out_dir"]) if p.get("out_dir") else None
    result = run_claim(claim, profile=p["profile"], device=p["device"], out_dir=out_dir, seed=p.get("seed"))
    # numpy values, complex numbers and tensors in a measurement become plain JSON, as the report writes them
    return json.loads(json.dumps(dataclasses.asdict(result), default=jsonable))


def _unfinished_result(claim: Claim, profile: str, device: str, seed: int | None, outcome: dict[str, Any],
                       attempts: list[dict[str, Any]]) -> ClaimResult:
    """The ERROR result of a claim that never produced its own result (lost worker, claim not found)."""
    if outcome.get("lost"):
        reason = (f"its worker was lost on all {len(attempts)} attempt(s): "
                  + "; ".join(str(a.get("error")) for a in attempts))
    else:
        reason = f"the claim could not be run on the worker: {outcome.get('error')}"
    used = claim.seed if seed is None else seed
    return ClaimResult(verdict="ERROR", reason=reason, seconds=float(outcome.get("seconds") or 0.0),
                       traceback=outcome.get("traceback", ""), **result_header(claim, profile, device, used))


def run_claims(claims: Iterable[Claim], *, profile: str = "quick", device: str = "cpu", out_dir: Path | None = None,
               seed: int | None = None, on_result: Callable[[ClaimResult], None] | None = None,
               command: str = "", executor: "Executor | None" = None, max_attempts: int = 3,
               refs: dict[str, str] | None = None, claims_modules: Iterable[str] = (),
               display: "Display | None" = None, load_errors: Iterable[dict[str, str]] = ()) -> RunReport:
    """Run ``claims`` as tasks of the task engine and return the report, claims in the order given.

    Parameters
    ----------
    claims : iterable of Claim
    profile, device, seed :
        As for :func:`run_claim`; ``device`` is the run's device, resolved once by the caller.
    out_dir : Path or None
        Report folder: figures go there, and each result is appended to ``out_dir/results.jsonl`` as it
        arrives (a crash later loses nothing that finished).
    on_result : callable or None
        Called with each result, in completion order (progress lines).
    executor : Executor or None
        Where the claims run (default: one by one in this process, :class:`InProcessExecutor`).
    max_attempts : int
        Attempts per claim when its worker is lost; a claim lost every time is ERROR with its attempts.
    refs : dict or None
        ``claim id -> "module:attribute"`` for claims that workers cannot find in the registry (tests).
    claims_modules : iterable of str
        Claims files (``--claims-module``) that workers load before looking an id up.
    display : Display or None
        The engine's progress display.
    load_errors : iterable of dict
        Claims modules that failed to load (``{"module", "error"}``), recorded in the report (the run is not OK).
    """
    from proofs_check.engine import ResultLog, Task, run_tasks
    from proofs_check.sweeps.executor import InProcessExecutor

    profile = canonical_profile(profile)
    seed = None if seed is None else nonnegative_int("seed", seed)
    claims = list(claims)
    executor = executor if executor is not None else InProcessExecutor()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    base = {"profile": profile, "device": device, "out_dir": str(out_dir) if out_dir else None, "seed": seed,
            "claims_modules": [str(m) for m in claims_modules]}
    tasks = []
    for i, c in enumerate(claims):
        _SUBMITTED[c.id] = c
        payload = {**base, **({"claim_ref": refs[c.id]} if refs and c.id in refs else {"claim": c.id})}
        tasks.append(Task(i, "proofs_check.runner:claim_task", payload, c.id,
                          gpu=c.requires_cuda and device != "cpu", state=c))
    if any(t.gpu for t in tasks) and str(device).startswith("cuda"):
        executor.require_gpu()
    results: dict[int, ClaimResult] = {}
    log = ResultLog(Path(out_dir) / "results.jsonl", "claims", command) if out_dir is not None else None

    def on_final(task: Task, outcome: dict[str, Any]) -> None:
        if outcome.get("ok"):
            result = ClaimResult(**outcome["result"])
        else:
            result = _unfinished_result(task.state, profile, device, seed, outcome, task.attempts)
        results[task.index] = result
        if log is not None:
            log.append(dataclasses.asdict(result))
        if on_result is not None:
            on_result(result)

    try:
        run_tasks(executor, tasks, on_final=on_final, max_attempts=max_attempts, device=device, display=display,
                  name="claim")
    finally:
        if log is not None:
            log.close()
        for c in claims:
            _SUBMITTED.pop(c.id, None)
    return RunReport(results=[results[i] for i in range(len(claims))], profile=profile, device=device,
                     started=started, seconds=time.perf_counter() - t0, environment=environment(device),
                     command=command, executor=executor.description, load_errors=list(load_errors))
