"""Run registered claims as independent tasks on any sweep executor (local cluster, scheduler, jobqueue).

:func:`run_claims_on` is the distributed twin of :func:`proofs_check.runner.run_claims`: each claim is one task
that calls the same :func:`~proofs_check.runner.run_claim` on a worker, results stream back as they finish, a
claim whose worker dies is resubmitted (at most ``max_attempts`` attempts) and, if it is lost every time,
reported ``ERROR`` with the attempts in its reason — never missing.  The report lists the claims in the order
given, so it reads the same as an in-process run.  Claims with ``requires_cuda`` ask for a ``GPU`` worker.

Figures are written by the workers into ``out_dir``: on a cluster without a shared filesystem they stay on the
workers (the report still lists their relative paths).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

from proofs_check.claim import Claim
from proofs_check.runner import ClaimResult, RunReport, environment, result_header
from proofs_check.sweeps.executor import Executor
from theory.arguments import positive_int


def claim_task(p: dict[str, Any]) -> dict[str, Any]:
    """Worker side: find the claim (registry id, or ``module:attribute`` of a Claim) and run it."""
    from proofs_check.registry import load_all
    from proofs_check.runner import run_claim
    from proofs_check.sweeps.grid import resolve_ref

    claim = resolve_ref(p["claim_ref"]) if "claim_ref" in p else load_all().get(p["claim"])
    if not isinstance(claim, Claim):
        raise TypeError(f"{p.get('claim_ref')!r} is a {type(claim).__name__}, not a Claim")
    out_dir = Path(p["out_dir"]) if p.get("out_dir") else None
    result = run_claim(claim, profile=p["profile"], device=p["device"], out_dir=out_dir, seed=p.get("seed"))
    return dataclasses.asdict(result)


def _error_result(claim: Claim, profile: str, device: str, seed: int | None, reason: str, tb: str) -> ClaimResult:
    """The ERROR result of a claim that never produced its own result (lost worker, unknown claim)."""
    used = claim.seed if seed is None else seed
    return ClaimResult(verdict="ERROR", reason=reason, seconds=0.0, traceback=tb,
                       **result_header(claim, profile, device, used))


def run_claims_on(executor: Executor, claims: Iterable[Claim], *, profile: str = "quick", device: str = "cpu",
                  out_dir: Path | None = None, seed: int | None = None, max_attempts: int = 3,
                  on_result: Callable[[ClaimResult], None] | None = None, command: str = "",
                  refs: dict[str, str] | None = None) -> RunReport:
    """Run ``claims`` on ``executor``; ``refs`` maps a claim id to ``module:attribute`` for claims that are not
    in the registry (tests).  ``on_result`` is called in completion order."""
    max_attempts = positive_int("max_attempts", max_attempts)
    claims = list(claims)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    run_id = uuid.uuid4().hex[:8]
    attempts: dict[int, list[str]] = {i: [] for i in range(len(claims))}
    results: dict[int, ClaimResult] = {}
    if any(c.requires_cuda for c in claims) and device.startswith("cuda"):
        executor.require_gpu()

    def submit(i: int) -> None:
        c = claims[i]
        payload = {"profile": profile, "device": device, "out_dir": str(out_dir) if out_dir else None, "seed": seed}
        payload.update({"claim_ref": refs[c.id]} if refs and c.id in refs else {"claim": c.id})
        executor.submit(i, "proofs_check.sweeps.claims:claim_task", payload, gpu=c.requires_cuda and device != "cpu",
                        key=f"claim-{c.id}-a{len(attempts[i]) + 1}-{run_id}")

    for i in range(len(claims)):
        submit(i)
    for handle, outcome in executor.completed():
        i = handle.token
        if outcome.get("ok"):
            results[i] = ClaimResult(**outcome["result"])
        else:
            attempts[i].append(outcome.get("error", "unknown"))
            if outcome.get("lost") and len(attempts[i]) < max_attempts:
                submit(i)
                continue
            reason = (f"its worker was lost on all {len(attempts[i])} attempt(s): " + "; ".join(attempts[i])
                      if outcome.get("lost") else f"the claim could not be run on the worker: {outcome.get('error')}")
            results[i] = _error_result(claims[i], profile, device, seed, reason, outcome.get("traceback", ""))
        if on_result is not None:
            on_result(results[i])
    return RunReport(results=[results[i] for i in range(len(claims))], profile=profile, device=device,
                     started=started, seconds=time.perf_counter() - t0, environment=environment(device),
                     command=command)
