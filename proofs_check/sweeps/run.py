"""Run a sweep: its points are tasks of the task engine (:mod:`proofs_check.engine`), streamed back as they
finish, lost ones retried, every result written as it arrives, then the report.

Guarantees:

* **Every point is in the report.**  Each ends ``OK`` (a result), ``ERROR`` (the task raised, or its worker
  was lost on every one of ``max_attempts`` attempts: the error, the seed and the traceback are recorded) or,
  only when the run is interrupted, ``NOT RUN``.
* **Bounded retries of lost attempts.**  An attempt whose worker dies (killed, out of memory, node gone) is
  resubmitted up to ``max_attempts`` attempts in all; each attempt is recorded.  An exception raised by the
  task itself is not retried: with a fixed seed it would raise again.
* **No silent NaN.**  A point whose result holds a NaN or an infinity anywhere is ``ERROR`` (naming where),
  is counted as such and is never cached.
* **Nothing finished is lost.**  ``out_dir`` and the cache folder are checked writable before any point runs;
  each finished point is appended to ``out_dir/points.jsonl`` and each ``OK`` result written to the cache as
  soon as it arrives (see :mod:`proofs_check.sweeps.cache`); a failing cache write is reported, not fatal.
* **Nothing recomputed on resume, nothing wrong reused.**  With ``resume=True`` the points found in the cache
  are not submitted; an entry that fails its schema or checksum check is refused, reported (``cache_problem``
  of the point, "refused cache entries" in the report) and recomputed.
* **Progress** (done/running/failed/cached/retries and an ETA from the rate of fresh results) and the Dask
  dashboard link, when the cluster serves one.

Outputs in ``out_dir``: ``sweep.json`` (the record), ``sweep.md`` (rendered from the same data, with the
aggregator's table) and ``figures/``.

Reproduce one point outside any cluster::

    python -m proofs_check.sweeps.run MODULE:FUNCTION '{"param": 1, "seed": 0}'
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from proofs_check.report import jsonable, strict_json
from proofs_check.sweeps.cache import ResultCache, code_version
from proofs_check.sweeps.executor import Executor, execute
from proofs_check.sweeps.grid import Aggregate, Sweep
from theory.arguments import ArgumentError, positive_int

SCHEMA_VERSION = 1
STATUSES = ("OK", "ERROR", "NOT RUN")


@dataclass
class TaskRecord:
    """One point of the sweep and what became of it."""

    index: int
    label: str
    params: dict[str, Any]
    seed: int
    status: str = "NOT RUN"
    result: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float | None = None
    worker: str | None = None
    cached: bool = False
    cache_problem: str | None = None
    device: str | None = None

    @property
    def retried(self) -> bool:
        return len(self.attempts) > 1


@dataclass
class SweepReport:
    """All points of one sweep run, the aggregator's output and where it ran."""

    sweep: str
    paper: str
    description: str
    scale: str
    task: str
    code_version: str
    executor: str
    dashboard: str | None
    started: str
    seconds: float
    command: str
    max_attempts: int
    axes: list[str]
    fixed: dict[str, Any]
    tasks: list[TaskRecord]
    aggregate: Aggregate | None = None
    interrupted: bool = False
    schema_version: int = SCHEMA_VERSION

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for t in self.tasks:
            out[t.status] += 1
        out["cached"] = sum(t.cached for t in self.tasks)
        out["retried"] = sum(t.retried for t in self.tasks)
        out["cache_refused"] = sum(t.cache_problem is not None for t in self.tasks)
        return out

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(t.status == "OK" for t in self.tasks)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["counts"] = self.counts()
        return d


def task_view(record: TaskRecord) -> dict[str, Any]:
    """What an aggregator sees of one point."""
    return {"params": record.params, "seed": record.seed, "status": record.status, "result": record.result}


def run_sweep(sweep: Sweep, scale: str, executor: Executor, *, out_dir: Path | None = None,
              cache_root: Path | None = None, resume: bool = False, max_attempts: int = 3,
              gpu: bool | None = None, version: str | None = None, console: Any = None, progress: bool = False,
              on_record: Callable[[TaskRecord], None] | None = None, command: str = "",
              device: str | None = None) -> SweepReport:
    """Run every point of ``sweep`` at ``scale`` on ``executor`` and return (and write) the report.

    ``out_dir`` and ``cache_root`` are checked writable before any point runs (``ArgumentError`` naming
    ``--out`` / ``--cache``).  ``gpu`` overrides the grid's GPU request (``False`` runs GPU points on any
    worker).  ``version`` overrides the code version (tests); by default it is
    :func:`~proofs_check.sweeps.cache.code_version`.  ``device`` is the run's device, handed to every point
    (:func:`numerics.device.use_device`).  ``on_record`` is called with each finished record, in completion
    order.  On ``KeyboardInterrupt`` the partial report (unfinished points ``NOT RUN``) is written and the
    interrupt re-raised.
    """
    from rich.console import Console

    from proofs_check.engine import Display, ResultLog, Task, prepare_output_dir, run_tasks

    max_attempts = positive_int("max_attempts", max_attempts)
    grid = sweep.grid(scale)
    points = grid.points()
    if resume and cache_root is None:
        raise ArgumentError("resume=True needs a cache folder (cache_root) to resume from")
    if out_dir is not None:
        out_dir = prepare_output_dir(out_dir, "--out")
    if cache_root is not None:
        prepare_output_dir(cache_root, "--cache")
    version = version or code_version()
    cache = ResultCache(Path(cache_root), sweep.name, version) if cache_root is not None else None
    console = console or Console(quiet=not progress)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    records = [TaskRecord(i, p.label, dict(p.params), p.seed) for i, p in enumerate(points)]
    pending = []
    for rec, point in zip(records, points):
        entry, problem = cache.lookup(point.params, point.seed) if (cache is not None and resume) else (None, None)
        if entry is not None:
            rec.status, rec.result, rec.cached = "OK", entry["result"], True
            rec.seconds, rec.worker, rec.attempts = entry.get("seconds"), entry.get("worker"), entry.get("attempts", [])
            continue
        if problem is not None:
            rec.cache_problem = problem
            console.print(f"[yellow]cache entry refused[/] for point {rec.index} ({rec.label}): {problem}; "
                          "recomputing it")
        pending.append((rec, point))
    needs_gpu = grid.gpu if gpu is None else gpu
    if needs_gpu and pending:
        executor.require_gpu()
    if executor.dashboard_link:
        console.print(f"Dask dashboard: {executor.dashboard_link}")
    console.print(f"sweep {sweep.name} ({scale}): {len(records)} points, {len(records) - len(pending)} from the "
                  f"cache, {len(pending)} to run on {executor.description}")
    report = SweepReport(sweep.name, sweep.paper, sweep.description, scale, sweep.task, version,
                         executor.description, executor.dashboard_link, started, 0.0, command, max_attempts,
                         list(grid.axes), dict(grid.fixed), records)
    log = ResultLog(out_dir / "points.jsonl", f"sweep {sweep.name} ({scale})", command) if out_dir else None

    def on_final(task: Task, outcome: dict[str, Any]) -> None:
        rec, point = task.state
        rec.attempts = task.attempts
        _finish(rec, outcome, max_attempts)
        if rec.status == "OK" and cache is not None:
            try:
                cache.put(point.params, point.seed, rec.result, seconds=rec.seconds, worker=rec.worker,
                          attempts=rec.attempts)
            except OSError as exc:  # the result is kept in the report and points.jsonl; only the cache misses it
                rec.cache_problem = f"could not be written to the cache: {exc}"
                console.print(f"[yellow]cache write failed[/] for point {rec.index}: {exc}")
        if log is not None:
            log.append(dataclasses.asdict(rec))
        if rec.status == "ERROR":
            console.print(f"[bold magenta]ERROR[/] {rec.label}: {rec.error}")
        if on_record is not None:
            on_record(rec)

    tasks = [Task(rec.index, sweep.task, point.payload, rec.label, gpu=needs_gpu, state=(rec, point))
             for rec, point in pending]
    try:
        with Display(console, len(records), executor, label=f"{sweep.name} ({scale})",
                     cached=len(records) - len(pending), enabled=progress) as display:
            run_tasks(executor, tasks, on_final=on_final, max_attempts=max_attempts, device=device,
                      display=display, name=sweep.name)
    except KeyboardInterrupt:
        report.interrupted = True
        _complete(report, sweep, out_dir, t0)
        raise
    finally:
        if log is not None:
            log.close()
    _complete(report, sweep, out_dir, t0)
    return report


def _complete(report: SweepReport, sweep: Sweep, out_dir: Path | None, t0: float) -> None:
    """Time, aggregate (never losing the records if the aggregator raises) and write the report."""
    import traceback as _tb

    report.seconds = time.perf_counter() - t0
    try:
        report.aggregate = sweep.aggregate([task_view(t) for t in report.tasks],
                                           None if out_dir is None else Path(out_dir))
    except Exception as exc:  # the table is lost, the points are not
        report.aggregate = Aggregate(markdown=f"**The aggregator raised** `{type(exc).__name__}: {exc}`; the "
                                              f"points below are complete.\n\n```\n{_tb.format_exc()}```")
    if out_dir is not None:
        write_sweep(report, Path(out_dir))


def nonfinite_path(value: Any, path: str = "result") -> str | None:
    """Where the first NaN or infinite number in a JSON-like value is (``result['loss']``), or ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} = {value}"
    if isinstance(value, dict):
        items = ((f"{path}[{k!r}]", v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub, v in items:
        found = nonfinite_path(v, sub)
        if found:
            return found
    return None


def _finish(rec: TaskRecord, outcome: dict[str, Any], max_attempts: int) -> None:
    """Set a record's final status from its last outcome: a result with a NaN or inf anywhere is ERROR."""
    rec.seconds = outcome.get("seconds")
    rec.worker = outcome.get("worker")
    rec.device = outcome.get("device")
    if outcome.get("ok"):
        bad = nonfinite_path(outcome["result"])
        if bad is None:
            rec.status, rec.result = "OK", outcome["result"]
            return
        rec.status, rec.result = "ERROR", outcome["result"]
        rec.error = f"the point returned a non-finite number: {bad} (a diverged or empty computation)"
        return
    rec.status, rec.traceback = "ERROR", outcome.get("traceback")
    if outcome.get("lost"):
        rec.error = (f"worker lost on all {len(rec.attempts)} attempt(s) (max_attempts={max_attempts}); "
                     f"last: {outcome.get('error')}")
    else:
        rec.error = outcome.get("error")


# ------------------------------------------------------------------------------------------------ output


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def to_json(report: SweepReport) -> str:
    return strict_json(report.to_dict())


def to_markdown(report: SweepReport) -> str:
    c = report.counts()
    lines = [f"# Sweep `{report.sweep}` — scale {report.scale}", "",
             f"*{report.paper}*. {report.description}", "",
             f"{len(report.tasks)} points: OK {c['OK']} · ERROR {c['ERROR']} · NOT RUN {c['NOT RUN']} "
             f"(from the cache {c['cached']}, retried {c['retried']}). {report.seconds:.1f} s on {report.executor}, "
             f"started {report.started}. Code version `{report.code_version}`; task `{report.task}`; "
             f"at most {report.max_attempts} attempts per point.", ""]
    refused = [t for t in report.tasks if t.cache_problem]
    if refused:
        lines += [f"**Refused cache entries** ({len(refused)}): recomputed, never used.", ""]
        lines += [f"- point {t.index} ({t.label}): {t.cache_problem}" for t in refused] + [""]
    if report.interrupted:
        lines += ["**Interrupted**: the points marked NOT RUN are missing; rerun the same command with "
                  "`--resume` to run only them.", ""]
    if report.fixed:
        lines += ["Fixed for every point: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in report.fixed.items()), ""]
    if report.command:
        lines += [f"Command: `{report.command}`", ""]
    if report.dashboard:
        lines += [f"Dask dashboard (while it ran): {report.dashboard}", ""]
    if report.aggregate is not None:
        lines += ["## Results", "", report.aggregate.markdown.rstrip(), ""]
        lines += [f"![{Path(f).stem}]({f})\n" for f in report.aggregate.figures]
    errors = [t for t in report.tasks if t.status == "ERROR"]
    if errors:
        lines += ["## Errors", ""]
        for t in errors:
            payload = json.dumps({**t.params, "seed": t.seed}, default=jsonable)
            tried = "; ".join(f"#{a['attempt']} {a['outcome']} on {a.get('worker')}"
                              + (f" ({a['error']})" if a.get("error") else "") for a in t.attempts)
            lines += [f"### point {t.index}: {t.label}", "", f"Seed {t.seed}. {t.error}", "", f"Attempts: {tried}", "",
                      f"Reproduce: `python -m proofs_check.sweeps.run {report.task} '{payload}'`", ""]
            if t.traceback:
                lines += ["```", t.traceback.rstrip(), "```", ""]
    keys = report.axes
    lines += ["## All points", "",
              "| # | " + " | ".join(keys) + " | seed | status | attempts | seconds | worker | cached |",
              "|---" * (len(keys) + 7) + "|"]
    for t in report.tasks:
        secs = f"{t.seconds:.2f}" if isinstance(t.seconds, (int, float)) else "—"
        lines.append(f"| {t.index} | " + " | ".join(_fmt(t.params.get(k)) for k in keys)
                     + f" | {t.seed} | **{t.status}** | {len(t.attempts)} | {secs} | {t.worker or '—'} | "
                       f"{'yes' if t.cached else ''} |")
    return "\n".join(lines) + "\n"


def write_sweep(report: SweepReport, out_dir: Path) -> dict[str, Path]:
    """Write ``sweep.json`` and ``sweep.md`` into ``out_dir`` (figures are already under ``figures/``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "sweep.json", "md": out_dir / "sweep.md"}
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["md"].write_text(to_markdown(report), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m proofs_check.sweeps.run MODULE:FUNCTION JSON``: run one point here and print its outcome."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    outcome = execute(argv[0], json.loads(argv[1]))
    print(outcome.pop("traceback", "") or json.dumps(outcome, indent=2, default=jsonable))
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
