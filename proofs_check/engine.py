"""The task engine: every claim run and every sweep is a set of tasks on an executor, run by :func:`run_tasks`.

One path for both (``proofs-check run`` and ``proofs-check sweep``):

* **one retry loop** — every task is submitted to the executor (:mod:`proofs_check.sweeps.executor`: in-process,
  ``LocalCluster``, a scheduler address or a dask-jobqueue cluster); an attempt whose worker was *lost* (killed,
  out of memory, node gone, batch job cancelled) is resubmitted until ``max_attempts`` attempts in all; an
  exception raised by the task itself is final at once (with a fixed seed it would raise again).  Every attempt
  is recorded on the task;
* **one progress display** (:class:`Display`): done/total, running, failed, cached, retries, elapsed, ETA;
* **one way results reach the disk** — the caller's ``on_final`` callback receives each task's final outcome as
  it arrives, and :class:`ResultLog` appends it to a JSON-lines file at once (flushed and synced), so a crash
  of the report writer, of the machine or of this process never loses a finished result.  Outputs are checked
  before any work starts (:func:`prepare_output_dir`).

The caller keeps what is specific to it: :func:`proofs_check.runner.run_claims` turns claims into tasks and
outcomes into :class:`~proofs_check.runner.ClaimResult`; :func:`proofs_check.sweeps.run.run_sweep` turns grid
points into tasks, reads and writes the result cache and aggregates the table.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from proofs_check.sweeps.executor import Executor
from theory.arguments import ArgumentError, positive_int


@dataclass
class Task:
    """One unit of work: ``ref(payload)`` (``ref`` = ``"module:function"``), with the attempts made so far.

    ``index`` orders tasks in reports; ``label`` names the task in progress lines and attempt keys; ``gpu`` asks
    for a worker with a ``GPU`` resource; ``state`` is the caller's own (e.g. its record of the task).
    """

    index: int
    ref: str
    payload: dict[str, Any]
    label: str
    gpu: bool = False
    state: Any = None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def attempt_entry(outcome: dict[str, Any], number: int) -> dict[str, Any]:
    """What the report keeps of one attempt: its number, ``ok``/``lost``/``error``, worker, seconds, error."""
    kind = "ok" if outcome.get("ok") else ("lost" if outcome.get("lost") else "error")
    entry = {"attempt": number, "outcome": kind, "worker": outcome.get("worker"), "seconds": outcome.get("seconds")}
    if kind != "ok":
        entry["error"] = outcome.get("error")
    return entry


def run_tasks(executor: Executor, tasks: Iterable[Task], *, on_final: Callable[[Task, dict[str, Any]], None],
              max_attempts: int = 3, device: str | None = None, display: "Display | None" = None,
              name: str = "task") -> None:
    """Run ``tasks`` on ``executor``; call ``on_final(task, outcome)`` once per task, in completion order.

    Parameters
    ----------
    executor : Executor
        Where the attempts run.
    tasks : iterable of Task
        The tasks; each gets ``attempts`` appended (one :func:`attempt_entry` per attempt).
    on_final : callable
        Receives the task and its final outcome (``{"ok": True, "result": ...}``, a task error
        ``{"ok": False, "error", "traceback"}``, or the last lost attempt ``{"ok": False, "lost": True, ...}``).
    max_attempts : int
        Attempts per task when its worker is lost (a positive integer).
    device : str or None
        The run's device, resolved by the caller; every task runs inside ``numerics.device.use_device(device)``.
    display : Display or None
        Progress display, told of each final outcome and each retry.
    name : str
        Prefix of the executor keys (``NAME-INDEX-aATTEMPT-RUNID``), so attempts are unique and readable.

    Raises
    ------
    KeyboardInterrupt
        Re-raised after the executor's unfinished attempts are cancelled; results already passed to
        ``on_final`` are the caller's to keep.
    """
    max_attempts = positive_int("max_attempts", max_attempts)
    run_id = uuid.uuid4().hex[:8]

    def submit(task: Task) -> None:
        executor.submit(task, task.ref, task.payload, gpu=task.gpu, device=device,
                        key=f"{name}-{task.index}-a{len(task.attempts) + 1}-{run_id}")

    try:
        for task in tasks:
            submit(task)
        for handle, outcome in executor.completed():
            task = handle.token
            task.attempts.append(attempt_entry(outcome, len(task.attempts) + 1))
            if outcome.get("lost") and len(task.attempts) < max_attempts:
                if display is not None:
                    display.retried()
                submit(task)
                continue
            on_final(task, outcome)
            if display is not None:
                display.finished(failed=not outcome.get("ok"))
    except BaseException:
        executor.cancel_all()
        raise


# ------------------------------------------------------------------------------------------------ outputs


def prepare_output_dir(path: Path | str, option: str = "--out") -> Path:
    """Make sure results can be written under ``path`` *before* any work: create it and write a probe file.

    Raises :class:`~theory.arguments.ArgumentError` naming ``option`` when ``path`` is a file, or cannot be
    created or written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ArgumentError(f"{option} {str(path)!r} is a file, not a folder; give a folder for the results")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ArgumentError(f"{option} {str(path)!r} cannot be written: {exc.strerror or exc}") from exc
    return path


class ResultLog:
    """Append-only JSON-lines file of final results, each line flushed and synced as it arrives.

    The first line is a header (``{"log": KIND, "started": ..., "command": ...}``); every other line is one
    result.  :func:`read_log` reads it back (a truncated last line, from a crash mid-write, is skipped).
    """

    def __init__(self, path: Path, kind: str, command: str = "") -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fh = self.path.open("w", encoding="utf-8")
        self.append({"log": kind, "command": command, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def append(self, record: dict[str, Any]) -> None:
        from proofs_check.report import jsonable

        line = json.dumps(record, default=jsonable, allow_nan=True)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "ResultLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_log(path: Path | str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the results of a :class:`ResultLog` file (a truncated last line is skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    if not records or "log" not in records[0]:
        raise ValueError(f"{path} is not a result log (no header line)")
    return records[0], records[1:]


# ----------------------------------------------------------------------------------------------- progress


class Display:
    """A rich progress line: done/total, running (asked of the executor every second), failed, cached,
    retries, elapsed time and an ETA from the rate of fresh results.  Disabled, it draws nothing."""

    def __init__(self, console: Any, total: int, executor: Executor, *, label: str, cached: int = 0,
                 enabled: bool = True) -> None:
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

    def __enter__(self) -> "Display":
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

    def finished(self, *, failed: bool) -> None:
        """One task reached its final outcome."""
        self.fresh_done += 1
        if failed:
            self.counts["failed"] += 1
        self.bar.update(self.task, advance=1, eta=self.eta(), **self.counts)

    def retried(self) -> None:
        self.counts["retries"] += 1
        self.bar.update(self.task, **self.counts)
