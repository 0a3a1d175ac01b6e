"""Run a sweep: submit every point, stream results back as they finish, retry lost ones, write the report.

Guarantees:

* **Every point is in the report.**  Each ends ``OK`` (a result), ``ERROR`` (the task raised, or its worker
  was lost on every one of ``max_attempts`` attempts: the error, the seed and the traceback are recorded) or,
  only when the run is interrupted, ``NOT RUN``.
* **Bounded retries of lost attempts.**  An attempt whose worker dies (killed, out of memory, node gone) is
  resubmitted up to ``max_attempts`` attempts in all; each attempt is recorded.  An exception raised by the
  task itself is not retried: with a fixed seed it would raise again.
* **Nothing recomputed on resume.**  Each ``OK`` result is written to the cache as soon as it arrives (see
  :mod:`proofs_check.sweeps.cache`); with ``resume=True`` the points found there are not submitted.
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
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from proofs_check.report import jsonable, strict_json
from proofs_check.sweeps.cache import ResultCache, code_version
from proofs_check.sweeps.executor import Executor, execute
from proofs_check.sweeps.grid import Aggregate, Point, Sweep
from theory.arguments import positive_int

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


class _Progress:
    """A rich progress line with done/running/failed/cached/retries and ETA, refreshed once a second."""

    def __init__(self, console: Any, total: int, cached: int, executor: Executor, enabled: bool, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.executor = executor
        self.fresh_total = total - cached
        self.fresh_done = 0
        self.t0 = time.perf_counter()
        self.counts = {"running": 0, "failed": 0, "cached": cached, "retries": 0}
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("running {task.fields[running]} · failed {task.fields[failed]} · "
                                       "cached {task.fields[cached]} · retries {task.fields[retries]}"),
                            TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
                            console=console, disable=not enabled, transient=False)
        self.task = self.bar.add_task(label, total=total, completed=cached, eta="?", **self.counts)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True) if enabled else None

    def __enter__(self) -> "_Progress":
        self.bar.__enter__()
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._refresh()
        self.bar.__exit__(*exc)

    def eta(self) -> str:
        remaining = self.fresh_total - self.fresh_done
        if remaining <= 0:
            return "0s"
        if self.fresh_done == 0:
            return "?"
        rate = self.fresh_done / (time.perf_counter() - self.t0)
        return f"{remaining / rate:.0f}s"

    def _refresh(self) -> None:
        self.counts["running"] = self.executor.running()
        self.bar.update(self.task, eta=self.eta(), **self.counts)

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._refresh()

    def finished(self, record: TaskRecord) -> None:
        """One point reached its final status."""
        self.fresh_done += 1
        if record.status == "ERROR":
            self.counts["failed"] += 1
        self.bar.update(self.task, advance=1, eta=self.eta(), **self.counts)

    def retried(self) -> None:
        self.counts["retries"] += 1
        self.bar.update(self.task, **self.counts)


def run_sweep(sweep: Sweep, scale: str, executor: Executor, *, out_dir: Path | None = None,
              cache_root: Path | None = None, resume: bool = False, max_attempts: int = 3,
              gpu: bool | None = None, version: str | None = None, console: Any = None, progress: bool = False,
              on_record: Callable[[TaskRecord], None] | None = None, command: str = "") -> SweepReport:
    """Run every point of ``sweep`` at ``scale`` on ``executor`` and return (and write) the report.

    ``gpu`` overrides the grid's GPU request (``False`` runs GPU points on any worker).  ``version``
    overrides the code version (tests); by default it is :func:`~proofs_check.sweeps.cache.code_version`.
    ``on_record`` is called with each finished record, in completion order.  On ``KeyboardInterrupt`` the
    partial report (unfinished points ``NOT RUN``) is written and the interrupt re-raised.
    """
    from rich.console import Console

    max_attempts = positive_int("max_attempts", max_attempts)
    grid = sweep.grid(scale)
    points = grid.points()
    version = version or code_version()
    cache = ResultCache(Path(cache_root), sweep.name, version) if cache_root is not None else None
    if resume and cache is None:
        raise ValueError("resume=True needs a cache folder (cache_root) to resume from")
    console = console or Console(quiet=not progress)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    records = [TaskRecord(i, p.label, dict(p.params), p.seed) for i, p in enumerate(points)]
    pending = []
    for rec, point in zip(records, points):
        entry = cache.get(point.params, point.seed) if (cache is not None and resume) else None
        if entry is not None:
            rec.status, rec.result, rec.cached = "OK", entry["result"], True
            rec.seconds, rec.worker, rec.attempts = entry.get("seconds"), entry.get("worker"), entry.get("attempts", [])
        else:
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
    run_id = uuid.uuid4().hex[:8]

    def submit(rec: TaskRecord, point: Point) -> None:
        executor.submit((rec, point), sweep.task, point.payload, gpu=needs_gpu,
                        key=f"{sweep.name}-{rec.index}-a{len(rec.attempts) + 1}-{run_id}")

    bar = _Progress(console, len(records), len(records) - len(pending), executor, progress, f"{sweep.name} ({scale})")
    try:
        with bar:
            for rec, point in pending:
                submit(rec, point)
            for handle, outcome in executor.completed():
                rec, point = handle.token
                rec.attempts.append(_attempt_entry(outcome, len(rec.attempts) + 1))
                if outcome.get("lost") and len(rec.attempts) < max_attempts:
                    bar.retried()
                    submit(rec, point)
                    continue
                _finish(rec, outcome, max_attempts)
                if rec.status == "OK" and cache is not None:
                    cache.put(point.params, point.seed, rec.result, seconds=rec.seconds, worker=rec.worker,
                              attempts=rec.attempts)
                if rec.status == "ERROR":
                    console.print(f"[bold magenta]ERROR[/] {rec.label}: {rec.error}")
                bar.finished(rec)
                if on_record is not None:
                    on_record(rec)
    except KeyboardInterrupt:
        executor.cancel_all()
        report.interrupted = True
        _complete(report, sweep, out_dir, t0)
        raise
    _complete(report, sweep, out_dir, t0)
    return report


def _complete(report: SweepReport, sweep: Sweep, out_dir: Path | None, t0: float) -> None:
    """Time, aggregate (never losing the records if the aggregator raises) and write the report."""
    import traceback as _tb

    report.seconds = time.perf_counter() - t0
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    try:
        report.aggregate = sweep.aggregate([task_view(t) for t in report.tasks],
                                           None if out_dir is None else Path(out_dir))
    except Exception as exc:  # the table is lost, the points are not
        report.aggregate = Aggregate(markdown=f"**The aggregator raised** `{type(exc).__name__}: {exc}`; the "
                                              f"points below are complete.\n\n```\n{_tb.format_exc()}```")
    if out_dir is not None:
        write_sweep(report, Path(out_dir))


def _attempt_entry(outcome: dict[str, Any], number: int) -> dict[str, Any]:
    kind = "ok" if outcome.get("ok") else ("lost" if outcome.get("lost") else "error")
    entry = {"attempt": number, "outcome": kind, "worker": outcome.get("worker"), "seconds": outcome.get("seconds")}
    if kind != "ok":
        entry["error"] = outcome.get("error")
    return entry


def _finish(rec: TaskRecord, outcome: dict[str, Any], max_attempts: int) -> None:
    rec.seconds = outcome.get("seconds")
    rec.worker = outcome.get("worker")
    if outcome.get("ok"):
        rec.status, rec.result = "OK", outcome["result"]
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
