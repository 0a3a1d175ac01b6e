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
    ``limit`` seconds) or ``"crashed"`` (the child died or raised; ``value`` holds the reason)."""

    status: str
    value: Any
    seconds: float
    limit: float


def _child(fn: Callable[[Any], Any], task: Any, conn: mpc.Connection, quiet: bool) -> None:
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    try:
        conn.send(("done", fn(task)))
    except BaseException as exc:  # reported to the parent as a crash
        conn.send(("crashed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    finally:
        conn.close()
        sys.stdout.flush()
        os._exit(0)


def run_forked(fn: Callable[[T], Any], tasks: Iterable[T], *, workers: int, limit: Callable[[T], float],
               quiet: bool = True) -> Iterator[tuple[T, Outcome]]:
    """Yield ``(task, outcome)`` for every task as it finishes; ``fn(task)`` runs in a fresh forked child.

    Parameters
    ----------
    fn : callable
        Runs in the child; its return value must pickle.
    tasks : iterable
        Started in order, ``workers`` at a time.
    workers : int
        How many children run at once.
    limit : callable
        ``limit(task)`` is the task's wall-clock limit in seconds; a child past it is killed (status ``timeout``).
    quiet : bool
        Send the children's stdout and stderr to ``/dev/null``.
    """
    if workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers}")
    ctx = mp.get_context("fork")
    pending = iter(tasks)
    running: dict[Any, tuple[T, mp.Process, mpc.Connection, float, float]] = {}
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
            running[proc.sentinel] = (task, proc, recv, time.perf_counter(), float(limit(task)))
        if not running:
            break
        now = time.perf_counter()
        wait_for = max(0.0, min(start + lim - now for _, _, _, start, lim in running.values()))
        ready = mpc.wait(list(running) + [entry[2] for entry in running.values()], timeout=wait_for + 0.05)
        now = time.perf_counter()
        for sentinel in list(running):
            task, proc, recv, start, lim = running[sentinel]
            if sentinel in ready or recv in ready:  # a message is read before the child exits (no full pipe)
                message = None
                try:
                    if recv.poll():
                        message = recv.recv()
                except (EOFError, OSError):
                    message = None
                proc.join()
                outcome = (Outcome(message[0], message[1], now - start, lim) if message is not None else
                           Outcome("crashed", f"the child exited with code {proc.exitcode} and sent nothing",
                                   now - start, lim))
            elif now - start > lim:
                proc.kill()
                proc.join()
                outcome = Outcome("timeout", None, now - start, lim)
            else:
                continue
            recv.close()
            del running[sentinel]
            yield task, outcome
