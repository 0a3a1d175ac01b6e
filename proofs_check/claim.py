"""Data types of the claim registry: a claim, its tolerance, a measurement, a run context and a result.

A *claim* is one checkable statement of a paper.  It carries

* ``check``: a function of a :class:`RunContext` that measures the claim and returns a :class:`Measurement`
  whose ``error`` is a non-negative number compared with ``tolerance.bound``;
* ``control``: a *negative control* (untrained model, wrong structure, perturbed closed form) measured the
  same way.  It must **fail** the same tolerance, otherwise the check cannot discriminate and the claim is
  reported as FAIL.

Verdicts (see :func:`verdict_of`)::

    PASS     check.error <= bound  and  control.error > bound
    FAIL     the check missed its tolerance, or the negative control did not fail
    ERROR    the check or the control raised
    SKIPPED  not part of the selected profile, or needs CUDA where there is none

Profiles (:data:`PROFILES`) are the suite's one size vocabulary, shared with sweep scales and training presets.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

Kind = Literal["symbolic", "identity", "monte-carlo", "trained", "measured"]
KINDS: tuple[str, ...] = ("symbolic", "identity", "monte-carlo", "trained", "measured")
#: The one size vocabulary of the suite (claim profiles, sweep scales and training presets alike): ``quick`` the
#: default run (minutes on 2 CPU cores), ``cpu`` long CPU runs (tens of minutes), ``paper`` the papers' own sizes
#: (a GPU's or a cluster's job).
Profile = Literal["quick", "cpu", "paper"]
PROFILES: tuple[str, ...] = ("quick", "cpu", "paper")
#: Old profile names still accepted in ``Claim.profiles`` and mapped to the vocabulary (``full`` was the long run).
PROFILE_ALIASES: dict[str, str] = {"full": "cpu"}


def canonical_profile(name: str) -> str:
    """``name`` in the one vocabulary (:data:`PROFILES`), old aliases mapped; anything else is an ``ArgumentError``."""
    from theory.arguments import one_of

    return one_of("profile", PROFILE_ALIASES.get(name, name), PROFILES)
Verdict = Literal["PASS", "FAIL", "ERROR", "SKIPPED"]
#: Where a tolerance comes from.  ``standard-errors``: k standard errors of a Monte-Carlo or held-out estimate;
#: ``round-off``: a floating-point error bound; ``optimiser-gap``: the stopping rule or measured gap of an
#: optimiser; ``exact``: exact (symbolic or rational) arithmetic, bound 0; ``theorem-bound``: the bound the paper's
#: statement itself asserts (the claim *is* the inequality).
TOLERANCE_ORIGINS: tuple[str, ...] = ("standard-errors", "round-off", "optimiser-gap", "exact", "theorem-bound")
#: A control whose error is below this multiple of the bound is flagged *weak*: it barely failed.
WEAK_CONTROL_MARGIN = 3.0

_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[.\-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class Tolerance:
    """An upper bound on a claim's ``Measurement.error`` and where that bound comes from.

    ``reason`` must say why the number is what it is (float64 round-off, k standard errors of a
    Monte-Carlo mean, optimiser stopping rule, batch size and steps of SGD, ...); ``origin`` (required) names the
    kind of derivation, one of :data:`TOLERANCE_ORIGINS`.
    """

    bound: float
    reason: str
    origin: str

    def __post_init__(self) -> None:
        if not isinstance(self.bound, (int, float)) or math.isnan(self.bound) or self.bound < 0:
            raise ValueError(f"Tolerance.bound must be a non-negative number, got {self.bound!r}")
        if not self.reason or not self.reason.strip():
            raise ValueError("Tolerance.reason must say where the bound comes from")
        if self.origin not in TOLERANCE_ORIGINS:
            raise ValueError(f"Tolerance.origin must be one of {TOLERANCE_ORIGINS}, got {self.origin!r}")


@dataclass
class Measurement:
    """What a check (or a negative control) measured.

    ``error`` is the one finite, non-negative number compared with the tolerance (anything else is refused with a
    ``ValueError``, so a NaN from a diverged run is reported as ERROR, never as PASS or as a control that "failed"); ``expected`` and ``observed`` are what a reader
    needs to see (numbers, short lists or strings; JSON-serialisable); ``compared`` says in words what was
    compared.  ``details`` holds any further numbers; ``figures`` paths relative to the report folder.
    """

    error: float
    expected: Any
    observed: Any
    compared: str
    details: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            error = float(self.error)
        except (TypeError, ValueError):
            raise ValueError(f"Measurement.error must be a number, got {self.error!r}") from None
        if not math.isfinite(error) or error < 0:
            raise ValueError(
                f"Measurement.error must be a finite non-negative number, got {self.error!r} "
                f"(compared: {self.compared!r})")
        self.error = error


@dataclass
class RunContext:
    """Everything a check may depend on: profile, seed, torch device, and where figures go.

    Every random draw inside a check must come from :meth:`rng` or :meth:`generator` so that a result is
    reproduced by the seed recorded in the report.
    """

    profile: Profile = "quick"
    seed: int = 0
    device: str = "cpu"
    out_dir: Path | None = None
    role: Literal["check", "control"] = "check"

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A numpy generator for independent stream ``stream`` of this context's seed."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, stream]))

    def torch_seed(self, stream: int = 0) -> int:
        """An integer seed for a ``torch.Generator`` of stream ``stream`` (derived from the seed)."""
        return int(np.random.SeedSequence([self.seed, stream, 7]).generate_state(1, dtype=np.uint64)[0] >> 1)

    @property
    def quick(self) -> bool:
        """Whether this is the default (quick) profile; ``cpu`` and ``paper`` use the larger sizes."""
        return self.profile == "quick"

    @property
    def scale(self) -> str:
        """The profile as a training-preset / sweep-scale name (the same vocabulary: quick, cpu, paper)."""
        return self.profile

    def save_figure(self, fig: Any, name: str) -> str | None:
        """Save a matplotlib figure as ``figures/<name>.png`` under the report folder; return its relative path.

        Returns ``None`` (and only closes the figure) when the run writes no report.
        """
        from proofs_check.figures import save_figure

        return save_figure(fig, self.out_dir, name)


CheckFn = Callable[[RunContext], Measurement]


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper, with its check, tolerance and negative control."""

    id: str
    paper: str
    reference: str
    statement: str
    kind: Kind
    check: CheckFn
    tolerance: Tolerance
    control: CheckFn
    control_description: str
    seed: int = 0
    profiles: tuple[str, ...] = PROFILES
    requires_cuda: bool = False
    finding: str | None = None
    rests_on: tuple[str, ...] = ()
    route: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_PATTERN.match(self.id):
            raise ValueError(
                f"Claim.id must be lower-case words joined by '.', '-' or '_' (e.g. 'sander.non-aug.loss-u'), got {self.id!r}"
            )
        for name in ("paper", "reference", "statement"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Claim {self.id!r}: {name} must be a non-empty string")
        if self.kind not in KINDS:
            raise ValueError(f"Claim {self.id!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not callable(self.check):
            raise ValueError(f"Claim {self.id!r}: check must be callable")
        if not isinstance(self.tolerance, Tolerance):
            raise ValueError(f"Claim {self.id!r}: tolerance must be a Tolerance(bound, reason)")
        if self.control is None or not callable(self.control):
            raise ValueError(f"Claim {self.id!r}: a negative control (callable) is required")
        if not self.control_description or not self.control_description.strip():
            raise ValueError(f"Claim {self.id!r}: control_description must say what the negative control is")
        if isinstance(self.profiles, str):
            raise ValueError(f"Claim {self.id!r}: profiles must be a tuple of names, got the string {self.profiles!r}")
        profiles = tuple(dict.fromkeys(PROFILE_ALIASES.get(p, p) for p in self.profiles))
        object.__setattr__(self, "profiles", profiles)
        bad = [p for p in self.profiles if p not in PROFILES]
        if bad or not self.profiles:
            raise ValueError(f"Claim {self.id!r}: profiles must be a non-empty subset of {PROFILES}, got {self.profiles!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Claim {self.id!r}: seed must be a non-negative int, got {self.seed!r}")


def passes(measurement: Measurement, tolerance: Tolerance) -> bool:
    """Whether a measurement is within tolerance (NaN never is)."""
    return bool(measurement.error <= tolerance.bound)


def control_fails(measurement: Measurement, tolerance: Tolerance) -> bool:
    """Whether a negative control failed as it must: a number (possibly +inf) strictly above the bound."""
    return (not math.isnan(measurement.error)) and measurement.error > tolerance.bound


def control_margin(control: Measurement, tolerance: Tolerance) -> float:
    """How many times the bound the negative control missed by: ``control.error / bound`` (inf for bound 0)."""
    if tolerance.bound == 0:
        return math.inf if control.error > 0 else 0.0
    return control.error / tolerance.bound


def is_weak(control: Measurement, tolerance: Tolerance) -> bool:
    """A control that failed by less than :data:`WEAK_CONTROL_MARGIN` times the bound: a weak discrimination."""
    return control_margin(control, tolerance) < WEAK_CONTROL_MARGIN


def verdict_of(check: Measurement, control: Measurement, tolerance: Tolerance) -> tuple[Verdict, str]:
    """The verdict of a claim from its two measurements, with a plain-words reason."""
    ok = passes(check, tolerance)
    ctrl = control_fails(control, tolerance)
    if ok and ctrl:
        return "PASS", (
            f"error {check.error:.3g} <= {tolerance.bound:.3g}; negative control failed as required "
            f"(error {control.error:.3g} > {tolerance.bound:.3g})"
        )
    reasons = []
    if not ok:
        reasons.append(
            f"check missed: {check.compared}: error {check.error:.3g} > tolerance {tolerance.bound:.3g} "
            + (f"(by a factor {check.error / tolerance.bound:.3g})" if tolerance.bound > 0
               else "(the bound is 0: any positive error fails)")
        )
    if not ctrl:
        reasons.append(
            f"negative control did not fail: error {control.error:.3g} <= tolerance {tolerance.bound:.3g}, "
            "so the check cannot tell a right answer from a wrong one"
        )
    return "FAIL", "; ".join(reasons)
