"""Where sweep tasks run: in this process, on a local Dask cluster, or on an existing/batch-queue cluster.

Four routes, exactly one per sweep (:func:`open_executor`):

* **in-process** (``in_process=True``): tasks run one after another in the calling process; no Dask.
* **local cluster** (``workers=N``, the default for sweeps with ``N = os.cpu_count()``): a
  :class:`distributed.LocalCluster` of ``N`` single-threaded worker *processes* on this machine.
* **scheduler address** (``scheduler="tcp://host:8786"``): connect to a running Dask cluster (started with
  ``dask scheduler`` / ``dask worker``, Kubernetes, Coiled, ...).
* **cluster config** (``cluster_config=Path("cluster.yaml")``): a small YAML file naming a ``dask-jobqueue``
  cluster class (SLURM, PBS, SGE, LSF, HTCondor, Moab, OAR), its keyword arguments and the number of jobs;
  see ``docs/sweeps.md``.  It may instead give ``scheduler: tcp://...``.

Every task is the same wrapper, :func:`execute`, called with an importable task reference
(``"module:function"``) and a JSON-able payload.  The wrapper catches the task's own exceptions and returns
them as data with the full traceback, so a Dask-level failure can only mean the worker was lost (killed,
out of memory, node gone).  On the local cluster the scheduler's own silent re-runs of such tasks are turned
off (``allowed-failures = 0``) so that every lost attempt reaches the caller, which retries it a bounded number
of times and records each attempt (:mod:`proofs_check.sweeps.run`).

GPU tasks are submitted with ``resources={"GPU": 1}``: Dask only places them on workers started with
``--resources GPU=1``, so CPU-only workers never receive them.  A sweep that needs a GPU and a cluster with no
GPU worker is refused up front instead of waiting forever.

Every configuration problem (a bad route, address, cluster file, missing GPU) raises
:class:`theory.arguments.ArgumentError` naming the option, the file or the key, before any work is submitted.

Nothing listens beyond this machine unless asked: a local cluster binds its scheduler and workers to 127.0.0.1
and starts no dashboard (``dashboard=`` opens one, on 127.0.0.1 unless an address says otherwise); a jobqueue
cluster starts its scheduler without a dashboard unless its ``cluster.scheduler_options`` asks for one.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import json
import logging
import os
import re
import shutil
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from theory.arguments import ArgumentError, positive_int

JOBQUEUE_KINDS: dict[str, str] = {
    "slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster",
    "htcondor": "HTCondorCluster", "moab": "MoabCluster", "oar": "OARCluster",
}
CONFIG_KEYS = ("kind", "cluster", "jobs", "adapt", "scheduler", "connect_timeout")
_ADDRESS = re.compile(r"^(?:(tcp|tls|inproc|ucx|ws|wss)://)?[^\s/:]+(?::\d+)?$")


TASK_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body with ``n`` torch intra-op threads, then restore the previous number."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def execute(task_ref: str, payload: dict[str, Any], device: str | None = None) -> dict[str, Any]:
    """Run one task where this is called (a worker or this process) and describe what happened.

    The task runs with :data:`TASK_THREADS` (1) torch thread on every route: a Dask worker process already has
    one (``OMP_NUM_THREADS=1``), and the same count in-process is what makes one seed give one number whichever
    route runs it (a float32 reduction split over a different number of threads rounds differently, and an
    Adam trajectory amplifies that).  Parallelism comes from running points side by side.

    ``device`` is the run's device (``"auto"``, ``"cpu"``, ``"cuda[:N]"`` or ``None`` = auto), resolved *here*,
    on the machine that runs the task: the task runs inside :func:`numerics.device.use_device`, so code that
    asks for the default device gets it, and the outcome records which device that was.

    Returns ``{"ok": True, "result": ..., "seconds", "host", "pid", "worker", "device"}`` or, when the task raised,
    ``{"ok": False, "error": "Type: message", "traceback": "...", ...}``.  Never raises for a task error.
    """
    from numerics.device import use_device
    from proofs_check.sweeps.grid import resolve_task

    t0 = time.perf_counter()
    where = {"host": socket.gethostname(), "pid": os.getpid(), "worker": _worker_address()}
    try:
        with torch_threads(TASK_THREADS), use_device(device) as dev:
            where["device"] = str(dev)
            result = resolve_task(task_ref)(dict(payload))
        if not isinstance(result, Mapping):
            raise TypeError(f"task {task_ref} must return a dict, returned {type(result).__name__}")
        try:  # the JSON round trip makes a fresh result identical to one read back from the cache
            result = json.loads(json.dumps(dict(result)))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"task {task_ref} must return a JSON-serialisable dict: {exc}") from exc
        return {"ok": True, "result": result, "seconds": time.perf_counter() - t0, **where}
    except Exception as exc:  # the task's own failure is data, reported with its traceback
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0, **where}


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "in-process"


@dataclass
class Handle:
    """A submitted attempt: the caller's token plus the executor's own bookkeeping."""

    token: Any
    key: str
    future: Any = None
    args: tuple[str, dict[str, Any], str | None] | None = None


def lost_outcome(exc: BaseException) -> dict[str, Any]:
    """The outcome recorded when an attempt never returned (its worker died or the future was cancelled)."""
    return {"ok": False, "lost": True, "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}


class Executor(abc.ABC):
    """Common interface: ``submit`` attempts, iterate ``completed()`` to receive them as they finish."""

    description: str = ""
    dashboard_link: str | None = None

    @abc.abstractmethod
    def submit(self, token: Any, task_ref: str, payload: dict[str, Any], *, key: str, gpu: bool,
               device: str | None = None) -> Handle:
        """Queue one attempt of ``task_ref(payload)``; ``key`` is unique per attempt; ``gpu`` asks for a GPU;
        ``device`` is the run's device, handed to :func:`execute`."""

    @abc.abstractmethod
    def completed(self) -> Iterator[tuple[Handle, dict[str, Any]]]:
        """Yield ``(handle, outcome)`` as attempts finish, including attempts submitted during the iteration."""

    @abc.abstractmethod
    def running(self) -> int:
        """How many submitted attempts are executing right now (best effort)."""

    @abc.abstractmethod
    def require_gpu(self) -> None:
        """Raise ``ArgumentError`` if GPU tasks submitted here could never run."""

    def cancel_all(self) -> None:
        """Stop what has not finished (used on interruption)."""

    def close(self) -> None:
        """Release workers, clusters and connections owned by this executor."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs attempts one by one in the calling process, in submission order."""

    def __init__(self) -> None:
        self.description = "in-process (sequential)"
        self._queue: collections.deque[Handle] = collections.deque()
        self._running = 0

    def submit(self, token: Any, task_ref: str, payload: dict[str, Any], *, key: str, gpu: bool,
               device: str | None = None) -> Handle:
        handle = Handle(token, key, args=(task_ref, dict(payload), device))
        self._queue.append(handle)
        return handle

    def completed(self) -> Iterator[tuple[Handle, dict[str, Any]]]:
        while self._queue:
            handle = self._queue.popleft()
            self._running = 1
            try:
                outcome = execute(*handle.args)
            finally:
                self._running = 0
            yield handle, outcome

    def running(self) -> int:
        return self._running

    def require_gpu(self) -> None:
        import torch

        if not torch.cuda.is_available():
            raise ArgumentError("this sweep's points ask for a GPU but torch sees none in this process; "
                             "run it on a cluster with GPU workers, or pass --no-gpu to run them on CPU")

    def cancel_all(self) -> None:
        self._queue.clear()


class DaskExecutor(Executor):
    """Submits attempts to a :class:`distributed.Client`; owns the cluster when it created one."""

    def __init__(self, client: Any, cluster: Any = None, *, description: str,
                 gpu_declared: bool | None = None, gpu_hint: str = "", dashboard: bool = True,
                 revive_workers: int = 0) -> None:
        """``gpu_declared``: None = ask the scheduler which workers have a GPU; True/False = known from a config
        whose workers have not started yet (``gpu_hint`` then says how to add the GPU resource)."""
        from distributed import as_completed

        self.client = client
        self.cluster = cluster
        self.description = description
        self.dashboard_link = _dashboard_link(client) if dashboard else None
        self._gpu_declared = gpu_declared
        self._gpu_hint = gpu_hint
        self._handles: dict[str, Handle] = {}
        self._ac = as_completed()
        #: worker count to restore when an owned local cluster is left without workers (0: never revive)
        self._revive = revive_workers
        self.revived = 0

    def submit(self, token: Any, task_ref: str, payload: dict[str, Any], *, key: str, gpu: bool,
               device: str | None = None) -> Handle:
        future = self.client.submit(execute, task_ref, dict(payload), device, key=key, pure=False,
                                    resources={"GPU": 1} if gpu else None)
        handle = Handle(token, key, future=future)
        self._handles[key] = handle
        self._ac.add(future)
        return handle

    def completed(self) -> Iterator[tuple[Handle, dict[str, Any]]]:
        """Futures as they finish.  While none is ready, a cluster this executor owns is watched: when it has had
        no worker for :data:`REVIVE_AFTER_S` seconds (a worker that died and whose nanny did not restart it, seen
        under heavy load), its workers are replaced, so queued attempts run instead of waiting forever."""
        last_check, workerless_since = time.monotonic(), None
        while not self._ac.is_empty():
            if not self._ac.has_ready():
                time.sleep(0.02)
                if self._revive and time.monotonic() - last_check > 1.0:
                    last_check = time.monotonic()
                    workerless_since = self._watch_workers(workerless_since)
                continue
            future = next(self._ac)
            handle = self._handles.pop(future.key)
            try:
                outcome = future.result()
            except Exception as exc:  # KilledWorker, CancelledError, lost connection: the attempt was lost
                outcome = lost_outcome(exc)
            future.release()
            yield handle, outcome

    def _watch_workers(self, since: float | None) -> float | None:
        """When no worker has been alive since ``since`` for REVIVE_AFTER_S, start fresh ones; return the new
        start of the worker-less period (None while some worker is alive)."""
        try:
            alive = len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # the scheduler is busy: look again later
            return since
        if alive:
            return None
        now = time.monotonic()
        if since is None:
            return now
        if now - since < REVIVE_AFTER_S:
            return since
        self.revived += 1
        self.cluster.scale(0)  # drop the dead workers' specs, then start as many fresh nannies
        self.cluster.scale(self._revive)
        return None

    def running(self) -> int:
        """Points executing now: per worker, ours among its assigned tasks, capped by its thread count (a
        worker may hold a few assigned tasks queued behind the one it runs)."""
        try:
            processing, nthreads = self.client.processing(), self.client.nthreads()
        except Exception:  # the scheduler is busy or gone: show what we know
            return 0
        return sum(min(sum(1 for k in keys if k in self._handles), nthreads.get(w, 1))
                   for w, keys in processing.items())

    def require_gpu(self) -> None:
        if self._gpu_declared is True:
            return
        if self._gpu_declared is False:
            raise ArgumentError(self._gpu_hint)
        workers = self.client.scheduler_info().get("workers", {})
        if not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values()):
            raise ArgumentError(
                f"this sweep's points ask for a GPU (resources={{'GPU': 1}}) but no worker of {self.description} "
                f"advertises one ({len(workers)} workers); start GPU workers with `dask worker ... --resources GPU=1` "
                "(or `worker_extra_args: ['--resources', 'GPU=1']` in a jobqueue config), or pass --no-gpu")

    def cancel_all(self) -> None:
        futures = [h.future for h in self._handles.values()]
        if futures:
            self.client.cancel(futures)
        self._handles.clear()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _dashboard_link(client: Any) -> str | None:
    """The dashboard URL when the scheduler serves one (it needs ``bokeh`` to draw pages)."""
    try:
        services = client.scheduler_info().get("services", {})
    except Exception:  # an old or restricted scheduler: no link rather than no sweep
        return None
    return client.dashboard_link if "dashboard" in services else None


# --------------------------------------------------------------------------------------------- construction


LOCALHOST = "127.0.0.1"
#: Settings of every scheduler this module starts (local and jobqueue clusters).  allowed-failures = 0: a task
#: whose worker dies comes back at once (KilledWorker), so the engine counts, records and bounds the retry
#: instead of the scheduler re-running it silently.  worker-saturation = 1: a single-threaded worker holds only
#: the task it runs, so a worker that dies takes no queued bystander with it (tasks are long; nothing to gain
#: from prefetching them).
#: Seconds an owned local cluster may stay without any worker before :class:`DaskExecutor` replaces its workers.
REVIVE_AFTER_S = 20.0
SCHEDULER_CONFIG: dict[str, Any] = {"distributed.scheduler.allowed-failures": 0,
                                    "distributed.scheduler.worker-saturation": 1.0}


def dashboard_address(address: str | None) -> str | None:
    """``None`` (no dashboard), or ``HOST:PORT`` / ``:PORT`` / ``PORT`` with the host defaulting to 127.0.0.1."""
    if address is None:
        return None
    text = str(address).strip()
    host, sep, port = text.rpartition(":") if ":" in text else ("", ":", text)
    if not port.isdigit() or not 0 <= int(port) < 65536 or (host and not _ADDRESS.match(host)):
        raise ArgumentError(f"dashboard must be PORT, :PORT or HOST:PORT, got {address!r}")
    return f"{host or LOCALHOST}:{int(port)}"


def local_executor(workers: int, *, dashboard: str | None = None) -> DaskExecutor:
    """A :class:`distributed.LocalCluster` of ``workers`` single-threaded processes (GPU resource if CUDA).

    Scheduler, nannies and workers listen on 127.0.0.1 only; the dashboard is off unless ``dashboard``
    (``PORT``, ``:PORT`` or ``HOST:PORT``; host 127.0.0.1 when omitted) asks for it.
    """
    import dask
    from distributed import Client, LocalCluster

    workers = positive_int("workers", workers)
    dashboard = dashboard_address(dashboard)
    gpus = _local_gpu_count()
    # No MALLOC_TRIM_THRESHOLD_: Dask's default (64 KiB, to return memory of large arrays to the OS) made a
    # Table 1 training point 1.7x slower here (torch allocates and frees many small tensors every step); the
    # other pre-spawn variables (OMP/MKL/OpenBLAS threads = 1) are kept.
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ"), "MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set({**SCHEDULER_CONFIG, "distributed.nanny.pre-spawn-environ": environ,
                          **_quiet_http(dashboard is not None)}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOCALHOST,
                               dashboard_address=dashboard, worker_dashboard_address=None,
                               # Dask always runs an HTTP server; without a dashboard: health check only, on a
                               # free port of 127.0.0.1
                               scheduler_kwargs=None if dashboard else {"dashboard": False,
                                                                        "dashboard_address": f"{LOCALHOST}:0"},
                               resources={"GPU": 1} if gpus else None, silence_logs=logging.ERROR)
    client = Client(cluster)
    return DaskExecutor(client, cluster, description=f"LocalCluster ({workers} worker processes"
                                                     f"{', GPU resource' if gpus else ''})",
                        dashboard=dashboard is not None, revive_workers=workers)


def _quiet_http(dashboard: bool) -> dict[str, Any]:
    """Dask configuration for HTTP: every Dask server runs one (on its own host), whose default routes answer
    with worker addresses and memory; without a dashboard only the health check is served."""
    if dashboard:
        return {}
    return {"distributed.scheduler.http.routes": ["distributed.http.health"],
            "distributed.worker.http.routes": ["distributed.http.health"]}


def _local_gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_address(address: str) -> str:
    """``scheme://host:port`` or ``host:port``; else ``ArgumentError`` naming ``scheduler``."""
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise ArgumentError(f"scheduler must be an address like 'tcp://host:8786', got {address!r}")
    return address.strip()


def address_executor(address: str, *, timeout: float = 10.0) -> DaskExecutor:
    """Connect to a running scheduler; an unreachable address is an ``ArgumentError`` naming it."""
    from distributed import Client

    address = check_address(address)
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise ArgumentError(f"could not connect to the Dask scheduler at {address!r} within {timeout:g} s ({exc}); "
                         "is `dask scheduler` running there and reachable from this machine?") from exc
    return DaskExecutor(client, None, description=f"scheduler {address}")


@dataclass(frozen=True)
class ClusterConfig:
    """A validated cluster config file (see :func:`load_cluster_config`)."""

    source: Path
    kind: str | None = None
    cluster: Mapping[str, Any] = field(default_factory=dict)
    jobs: int = 0
    adapt: Mapping[str, int] | None = None
    scheduler: str | None = None
    connect_timeout: float = 10.0

    def has_gpu_workers(self) -> bool:
        """Whether the jobqueue workers are started with a ``GPU`` resource."""
        args = [str(a) for a in self.cluster.get("worker_extra_args", []) or []]
        return any("GPU=" in a for a in args)


def load_cluster_config(path: Path | str) -> ClusterConfig:
    """Read and validate a cluster YAML file; every problem is an ``ArgumentError`` naming the file and the key."""
    import yaml

    path = Path(path)
    where = f"cluster config {path}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArgumentError(f"{where}: no such file") from None
    except OSError as exc:
        raise ArgumentError(f"{where}: cannot read it ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ArgumentError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise ArgumentError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ArgumentError(f"{where}: must be a mapping with keys among {CONFIG_KEYS}, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(CONFIG_KEYS))
    if unknown:
        raise ArgumentError(f"{where}: unknown key(s) {unknown}; allowed: {CONFIG_KEYS}")
    timeout = raw.get("connect_timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ArgumentError(f"{where}: connect_timeout must be a positive number of seconds, got {timeout!r}")
    if "scheduler" in raw:
        extra = sorted(set(raw) - {"scheduler", "connect_timeout"})
        if extra:
            raise ArgumentError(f"{where}: 'scheduler' connects to a running cluster and excludes {extra}")
        try:
            address = check_address(raw["scheduler"])
        except ArgumentError as exc:
            raise ArgumentError(f"{where}: {exc}") from None
        return ClusterConfig(path, scheduler=address, connect_timeout=float(timeout))
    kind = raw.get("kind")
    if kind not in JOBQUEUE_KINDS:
        raise ArgumentError(f"{where}: 'kind' must be one of {sorted(JOBQUEUE_KINDS)} (or give 'scheduler: "
                         f"tcp://host:port'), got {kind!r}")
    cluster = raw.get("cluster", {})
    if not isinstance(cluster, dict):
        raise ArgumentError(f"{where}: 'cluster' must be a mapping of {JOBQUEUE_KINDS[kind]} keyword arguments")
    for required in ("cores", "memory"):
        if required not in cluster:
            raise ArgumentError(f"{where}: cluster.{required} is required (per-job {required} for {JOBQUEUE_KINDS[kind]})")
    jobs = raw.get("jobs", 0)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise ArgumentError(f"{where}: 'jobs' must be a non-negative integer, got {jobs!r}")
    adapt = raw.get("adapt")
    if adapt is not None:
        if (not isinstance(adapt, dict) or set(adapt) - {"minimum_jobs", "maximum_jobs"}
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in adapt.values())):
            raise ArgumentError(f"{where}: 'adapt' must be {{minimum_jobs: int, maximum_jobs: int}}, got {adapt!r}")
        if adapt.get("maximum_jobs", 1) < adapt.get("minimum_jobs", 0) or adapt.get("maximum_jobs") == 0:
            raise ArgumentError(f"{where}: adapt.maximum_jobs must be positive and >= adapt.minimum_jobs")
    if jobs == 0 and adapt is None:
        raise ArgumentError(f"{where}: give 'jobs: N' (a fixed number of batch jobs) or 'adapt: {{maximum_jobs: N}}'")
    return ClusterConfig(path, kind=kind, cluster=dict(cluster), jobs=jobs, adapt=dict(adapt) if adapt else None,
                         connect_timeout=float(timeout))


def jobqueue_cluster(config: ClusterConfig) -> Any:
    """Build (but do not scale) the ``dask-jobqueue`` cluster a config describes."""
    import dask

    try:
        import dask_jobqueue
    except ImportError as exc:
        raise ArgumentError(f"cluster config {config.source}: kind {config.kind!r} needs the dask-jobqueue package "
                         "(pip install 'icl-verify[sweeps]')") from exc
    cls = getattr(dask_jobqueue, JOBQUEUE_KINDS[config.kind])
    kwargs = dict(config.cluster)
    # No dashboard unless the config asks for one (scheduler_options: {dashboard_address: ...}).
    kwargs["scheduler_options"] = {"dashboard_address": None, **(kwargs.get("scheduler_options") or {})}
    try:
        asked = "dashboard_address" in (config.cluster.get("scheduler_options") or {})
        with dask.config.set({**SCHEDULER_CONFIG, **_quiet_http(asked)}):
            return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"cluster config {config.source}: {cls.__name__} refused the 'cluster' arguments: "
                         f"{exc}") from exc


def config_executor(config: ClusterConfig) -> DaskExecutor:
    """The executor a validated config describes (connect, or build a jobqueue cluster and scale it)."""
    from distributed import Client

    if config.scheduler is not None:
        return address_executor(config.scheduler, timeout=config.connect_timeout)
    cluster = jobqueue_cluster(config)
    submit = str(cluster.job_cls.submit_command).split()[0]
    if shutil.which(submit) is None:
        cluster.close()
        raise ArgumentError(f"cluster config {config.source}: {config.kind} jobs are submitted with {submit!r}, "
                         "which is not on PATH here; run the sweep from a login node of that cluster")
    if config.adapt is not None:
        cluster.adapt(**config.adapt)
    else:
        cluster.scale(jobs=config.jobs)
    client = Client(cluster)
    size = f"adaptive {config.adapt}" if config.adapt else f"{config.jobs} jobs"
    # Workers arrive when the batch system starts the jobs, so the GPU check reads the config instead.
    hint = (f"cluster config {config.source}: this sweep's points ask for a GPU but the workers are not started "
            "with a GPU resource; add worker_extra_args: ['--resources', 'GPU=1'] (and the batch system's GPU "
            "request, e.g. job_extra_directives: ['--gres=gpu:1']), or pass --no-gpu")
    return DaskExecutor(client, cluster, description=f"{JOBQUEUE_KINDS[config.kind]} ({size})",
                        gpu_declared=config.has_gpu_workers(), gpu_hint=hint,
                        dashboard="dashboard_address" in (config.cluster.get("scheduler_options") or {}))


def open_executor(*, in_process: bool = False, workers: int | None = None, scheduler: str | None = None,
                  cluster_config: Path | str | None = None, dashboard: str | None = None) -> Executor:
    """The one executor the arguments name; with none of them, a LocalCluster with one worker per CPU core.

    ``dashboard`` opens the Dask dashboard of a local cluster (see :func:`local_executor`)."""
    chosen = [name for name, v in (("in_process", in_process or None), ("workers", workers),
                                   ("scheduler", scheduler), ("cluster_config", cluster_config)) if v is not None]
    if len(chosen) > 1:
        raise ArgumentError(f"choose one place to run the sweep; got {', '.join(chosen)} together")
    if in_process:
        return InProcessExecutor()
    if scheduler is not None:
        return address_executor(scheduler)
    if cluster_config is not None:
        return config_executor(load_cluster_config(cluster_config))
    return local_executor(workers if workers is not None else (os.cpu_count() or 1), dashboard=dashboard)
