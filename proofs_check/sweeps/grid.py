"""Declarative sweeps: a named parameter grid per scale, an importable task function and an aggregator.

A sweep is data, not code that runs anything::

    Sweep(
        name="vladymyrov-table1",
        paper="Vladymyrov et al. 2024 (arXiv:2402.14180)",
        description="Table 1: adjusted loss per layer count, noise law and parameterisation",
        task="proofs_check.sweeps.definitions.vladymyrov:train_point",   # dict -> dict, importable on workers
        scales={
            "quick": Grid(axes={"layers": (1, 2), "noise": ("U0", "U1")}, seeds=(0, 1), fixed={"steps": 2000}),
            "paper": Grid(axes={...}, seeds=(0, 1, 2, 3, 4), fixed={"steps": 200_000}, gpu=True),
        },
        aggregate=make_table1,          # (records, out_dir) -> Aggregate(markdown, data, figures)
    )

:meth:`Grid.points` expands the Cartesian product of the axes (in the order written, seeds last), drops the
(combination, seed) pairs ``where`` rejects, and adds the ``fixed`` values to every point.  The task function is called
with one JSON-able dict, ``{**point.params, "seed": point.seed}``, and must return a JSON-able dict; it is
named by a ``"module:function"`` string so that a worker on another machine imports it instead of receiving
pickled code.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from proofs_check.claim import PROFILES
from proofs_check.sweeps.cache import canonical_json
from theory.arguments import ArgumentError

#: Sweep scales are the suite's one size vocabulary (claim profiles, training presets): quick, cpu, paper.
SCALES: tuple[str, ...] = PROFILES


@dataclass(frozen=True)
class Point:
    """One task of a sweep: its parameters (grid axes + fixed values) and its seed."""

    params: Mapping[str, Any]
    seed: int
    axes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def payload(self) -> dict[str, Any]:
        """What the task function receives."""
        return {**self.params, "seed": self.seed}

    @property
    def label(self) -> str:
        """A short human-readable name (grid-axis values and seed) for progress lines and the report."""
        names = self.axes or tuple(self.params)
        return " ".join(f"{k}={self.params[k]}" for k in names) + f" seed={self.seed}"


@dataclass(frozen=True)
class Grid:
    """The points of a sweep at one scale.

    ``axes`` maps a parameter name to the values it takes; ``seeds`` are the seeds of every combination;
    ``fixed`` holds values shared by every point (steps, batch size, evaluation size ...) and is part of the
    cache key; ``where`` (optional) keeps only the points for which it returns True, called with the axis values
    and the point's ``"seed"`` (so a grid can give one parameterisation more seeds than another); ``gpu`` asks for a
    worker with a ``GPU`` resource for every point.
    """

    axes: Mapping[str, Sequence[Any]]
    seeds: Sequence[int]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    where: Callable[[Mapping[str, Any]], bool] | None = None
    gpu: bool = False

    def __post_init__(self) -> None:
        if not self.axes:
            raise ValueError("Grid.axes must name at least one parameter")
        for name, values in self.axes.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
                raise ValueError(f"Grid.axes[{name!r}] must be a non-empty sequence of values, got {values!r}")
        if not self.seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ValueError(f"Grid.seeds must be non-empty non-negative ints, got {self.seeds!r}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"Grid.seeds has duplicates: {self.seeds!r}")
        clash = (set(self.axes) & set(self.fixed)) | ({"seed"} & (set(self.axes) | set(self.fixed)))
        if clash:
            raise ValueError(f"parameter names used twice (or named 'seed'): {sorted(clash)}")
        canonical_json({**self.axes, **self.fixed})  # JSON-able, finite

    def points(self) -> list[Point]:
        names = list(self.axes)
        out = []
        for combo in itertools.product(*(self.axes[n] for n in names)):
            params = dict(zip(names, combo))
            for seed in self.seeds:
                if self.where is None or self.where({**params, "seed": int(seed)}):
                    out.append(Point({**params, **self.fixed}, int(seed), tuple(names)))
        if not out:
            raise ValueError("the grid's `where` rejects every point: the sweep has no points")
        return out


@dataclass
class Aggregate:
    """What an aggregator returns: Markdown for ``sweep.md``, the numbers behind it, figure paths."""

    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)


AggregateFn = Callable[[list[dict[str, Any]], Path | None], Aggregate]


def group_outcomes(tasks: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
                   ) -> tuple[dict[Any, list[dict[str, Any]]], dict[Any, int]]:
    """For an aggregator: the results of the OK tasks grouped by ``key(params)``, and the count of the other
    (ERROR / not run) tasks per key.  A key with only failed tasks appears in the counts alone."""
    results: dict[Any, list[dict[str, Any]]] = {}
    failed: dict[Any, int] = {}
    for t in tasks:
        k = key(t["params"])
        if t["status"] == "OK":
            results.setdefault(k, []).append(t["result"])
        else:
            failed[k] = failed.get(k, 0) + 1
    return results, failed


@dataclass(frozen=True)
class Sweep:
    """A named, declarative sweep (see the module docstring)."""

    name: str
    paper: str
    description: str
    task: str
    scales: Mapping[str, Grid]
    aggregate: AggregateFn

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip() or "/" in self.name or " " in self.name:
            raise ValueError(f"Sweep.name must be one word (letters, digits, '-', '_'), got {self.name!r}")
        if self.task.count(":") != 1 or not all(self.task.split(":")):
            raise ValueError(f"Sweep.task must be 'module:function', got {self.task!r}")
        bad = [s for s in self.scales if s not in SCALES]
        if bad or not self.scales:
            raise ValueError(f"Sweep.scales must be a non-empty subset of {SCALES}, got {list(self.scales)}")

    def grid(self, scale: str) -> Grid:
        if scale not in self.scales:
            raise ArgumentError(f"--scale: sweep {self.name!r} has no scale {scale!r}; it has {list(self.scales)}")
        return self.scales[scale]


def resolve_ref(ref: str) -> Any:
    """Import ``"module:attribute"`` and return the attribute; ``ValueError`` naming ``ref`` if it does not resolve."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{ref!r}: cannot import module {module_name!r} ({exc})") from exc
    if not hasattr(module, attr):
        raise ValueError(f"{ref!r}: module {module_name!r} has no attribute {attr!r}")
    return getattr(module, attr)


def resolve_task(ref: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Import the task function ``"module:function"``; ``ValueError`` naming it if it is missing or not callable."""
    fn = resolve_ref(ref)
    if not callable(fn):
        raise ValueError(f"task {ref!r} is not a function")
    return fn
