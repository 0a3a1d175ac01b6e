"""Run claims: one check, one negative control, one verdict each, with seeds, timings and environment.

The CLI (``proofs-check run``) and the test suite (``tests/test_claims.py``) both call :func:`run_claim`, so a
claim is checked by exactly one implementation wherever it runs.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from proofs_check.claim import PROFILES, Claim, Measurement, RunContext, control_margin, is_weak, verdict_of
from theory.arguments import nonnegative_int, one_of

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

    def counts(self) -> dict[str, int]:
        out = {v: 0 for v in ("PASS", "FAIL", "ERROR", "SKIPPED")}
        for r in self.results:
            out[r.verdict] += 1
        return out

    @property
    def ok(self) -> bool:
        c = self.counts()
        return c["FAIL"] == 0 and c["ERROR"] == 0

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
    return f"proofs-check run --claims '{claim.id}' --profile {profile} --seed {seed} --device {device}"


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
    one_of("profile", profile, PROFILES)
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


def run_claims(claims: Iterable[Claim], *, profile: str = "quick", device: str = "cpu", out_dir: Path | None = None,
               seed: int | None = None, on_result: Callable[[ClaimResult], None] | None = None,
               command: str = "") -> RunReport:
    """Run ``claims`` in order; ``on_result`` is called after each (progress display)."""
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    results = []
    for claim in claims:
        result = run_claim(claim, profile=profile, device=device, out_dir=out_dir, seed=seed)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return RunReport(results=results, profile=profile, device=device, started=started,
                     seconds=time.perf_counter() - t0, environment=environment(device), command=command)
