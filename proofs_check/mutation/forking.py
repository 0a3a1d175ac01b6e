"""Run tasks in fresh forked processes, at most ``workers`` at a time, each with its own time limit.

The parent imports everything once (torch, sympy, the claim registry); each task runs in a child forked from it,
so a mutant starts in milliseconds instead of re-importing for seconds, and whatever a mutant breaks (a swapped
code object, a filled cache, a hung optimiser) dies with its child.  The parent itself never runs a claim, so no
thread pool exists when it forks.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


@dataclass
class Outcome:
    """What became of one task: ``status`` is ``"done"`` (``value`` holds the result), ``"timeout"`` (killed after
    ``limit`` seconds in one step), ``"raised"`` (``fn`` raised; ``value`` holds the traceback) or ``"crashed"``
    (the child died without a word; ``value`` says how).
    ``step`` is the last :func:`progress` payload the child sent (``None`` if none)."""

    status: str
    value: Any
    seconds: float
    limit: float
    step: Any = None


_CONNECTION: mpc.Connection | None = None


def progress(step: Any) -> None:
    """Called in a child: tell the parent that a new step begins (its time limit restarts with ``limit(task, step)``)."""
    if _CONNECTION is not None:
        _CONNECTION.send(("progress", step))


def _child(fn: Callable[[Any], Any], task: Any, conn: mpc.Connection, quiet: bool) -> None:
    global _CONNECTION
    _CONNECTION = conn
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    try:
        conn.send(("done", fn(task)))
    except BaseException as exc:  # reported to the parent as a crash
        conn.send(("raised", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    finally:
        conn.close()
        sys.stdout.flush()
        os._exit(0)


@dataclass
class _Running:
    task: Any
    proc: Any
    conn: mpc.Connection
    started: float
    step_started: float
    limit: float
    step: Any = None
    message: tuple[str, Any] | None = None


def run_forked(fn: Callable[[T], Any], tasks: Iterable[T], *, workers: int, limit: Callable[[T, Any], float],
               quiet: bool = True) -> Iterator[tuple[T, Outcome]]:
    """Yield ``(task, outcome)`` for every task as it finishes; ``fn(task)`` runs in a fresh forked child.

    Parameters
    ----------
    fn : callable
        Runs in the child; its return value must pickle.  It may call :func:`progress` at the start of each step.
    tasks : iterable
        Started in order, ``workers`` at a time.
    workers : int
        How many children run at once.
    limit : callable
        ``limit(task, step)`` is the wall-clock limit in seconds of the current step (``step`` is ``None`` before
        the first :func:`progress` call); a child past it is killed (status ``timeout``).
    quiet : bool
        Send the children's stdout and stderr to ``/dev/null``.
    """
    if workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers}")
    ctx = mp.get_context("fork")
    pending = iter(tasks)
    running: dict[Any, _Running] = {}
    exhausted = False
    while running or not exhausted:
        while not exhausted and len(running) < workers:
            try:
                task = next(pending)
            except StopIteration:
                exhausted = True
                break
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(fn, task, send, quiet), daemon=True)
            proc.start()
            send.close()
            now = time.perf_counter()
            running[proc.sentinel] = _Running(task, proc, recv, now, now, float(limit(task, None)))
        if not running:
            break
        now = time.perf_counter()
        wait_for = max(0.0, min(r.step_started + r.limit - now for r in running.values()))
        ready = mpc.wait(list(running) + [r.conn for r in running.values()], timeout=wait_for + 0.05)
        now = time.perf_counter()
        for sentinel in list(running):
            r = running[sentinel]
            try:
                while r.message is None and r.conn.poll():  # read before the child exits (no full pipe)
                    kind, value = r.conn.recv()
                    if kind == "progress":
                        r.step, r.step_started, r.limit = value, now, float(limit(r.task, value))
                    else:
                        r.message = (kind, value)
            except (EOFError, OSError):
                pass
            if sentinel in ready:
                r.proc.join()
                outcome = (Outcome(r.message[0], r.message[1], now - r.started, r.limit, r.step)
                           if r.message is not None else
                           Outcome("crashed", f"the child exited with code {r.proc.exitcode} and sent nothing",
                                   now - r.started, r.limit, r.step))
            elif r.message is None and now - r.step_started > r.limit:
                r.proc.kill()
                r.proc.join()
                outcome = Outcome("timeout", None, now - r.started, r.limit, r.step)
            else:
                continue
            r.conn.close()
            del running[sentinel]
            yield r.task, outcome
