"""Tests of the sweep layer (issue #8): grids, cache, executors, retries, resume, reports, CLI.

The task functions below are test-only; workers import them as ``tests.test_sweeps:<name>`` (the repository
root is put on ``sys.path`` before a cluster starts; spawned worker processes inherit it).  Cluster tests use
a 2-process ``LocalCluster`` (module-scoped: starting one costs a few seconds on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from proofs_check.sweeps.cache import ResultCache, canonical_json, code_version, hash_sources, point_key
from proofs_check.sweeps.executor import (DaskExecutor, InProcessExecutor, address_executor, config_executor,
                                          jobqueue_cluster, load_cluster_config, local_executor, open_executor)
from proofs_check.sweeps.grid import Aggregate, Grid, Point, Sweep, resolve_task
from proofs_check.sweeps.run import main as run_point_main
from proofs_check.sweeps.run import run_sweep

REPO = Path(__file__).resolve().parents[1]
HERE = __name__  # "tests.test_sweeps" under --import-mode=importlib
VERSION = "0123456789abcdef"  # a fixed code version: the checkout is edited while tests run


# ------------------------------------------------------------------------------------------ test-only tasks


def mc_task(p: dict) -> dict:
    """A deterministic Monte-Carlo estimate of E||x||^2 = d for x ~ N(0, I_d) (numpy only)."""
    rng = np.random.default_rng([p["seed"], p["n"], p["d"]])
    x = rng.standard_normal((p["n"], p["d"]))
    sq = (x ** 2).sum(axis=1)
    return {"mean": float(sq.mean()), "se": float(sq.std(ddof=1) / np.sqrt(p["n"]))}


def logged_task(p: dict) -> dict:
    """``mc_task`` that also leaves one file per execution in ``p['log_dir']`` (to count executions)."""
    Path(p["log_dir"], f"{p['n']}-{p['seed']}-{uuid.uuid4().hex}").touch()
    return mc_task(p)


def fault_task(p: dict) -> dict:
    """mode 'ok': a result; 'crash_once': kill the worker process on the first attempt only (marker file);
    'crash_always': kill it on every attempt; 'raise': raise ValueError naming the seed."""
    mode = p["mode"]
    if mode == "crash_once":
        marker = Path(p["marker_dir"], f"crashed-{p['seed']}")
        if not marker.exists():
            marker.touch()
            os._exit(3)
    elif mode == "crash_always":
        os._exit(3)
    elif mode == "raise":
        raise ValueError(f"bad seed {p['seed']}")
    return {"value": p["seed"] * 10}


def where_task(p: dict) -> dict:
    """Where the point ran (the worker address) — for the GPU-placement test."""
    from proofs_check.sweeps.executor import _worker_address

    return {"worker": _worker_address()}


def sleep_task(p: dict) -> dict:
    import time

    time.sleep(p["sleep"])
    return {}


def not_a_dict_task(p: dict) -> list:
    return [1, 2]


def numpy_task(p: dict) -> dict:
    """Returns a tuple (JSON turns it into a list) or, for seed 1, a numpy integer (not JSON-serialisable)."""
    return {"pair": (1, 2.5)} if p["seed"] == 0 else {"count": np.int64(3)}


def table_aggregate(tasks: list[dict], out_dir: Path | None) -> Aggregate:
    """Mean over seeds per n, as a Markdown table (ERROR points shown as such)."""
    by_n: dict[int, list[float]] = {}
    for t in tasks:
        if t["status"] == "OK":
            by_n.setdefault(t["params"]["n"], []).append(t["result"]["mean"])
    rows = ["| n | mean |", "|---|---|"] + [f"| {n} | {np.mean(v):.4f} |" for n, v in sorted(by_n.items())]
    return Aggregate("\n".join(rows), data={str(n): float(np.mean(v)) for n, v in by_n.items()})


def raising_aggregate(tasks: list[dict], out_dir: Path | None) -> Aggregate:
    raise RuntimeError("aggregator bug")


def toy_sweep(task: str = "mc_task", axes: dict | None = None, seeds=(0, 1), fixed: dict | None = None,
              aggregate=table_aggregate, gpu: bool = False, name: str = "toy") -> Sweep:
    grid = Grid(axes=axes or {"n": (200, 400)}, seeds=seeds, fixed=fixed or {"d": 3}, gpu=gpu)
    return Sweep(name=name, paper="test", description="toy", task=f"{HERE}:{task}", scales={"cpu": grid, "quick": grid},
                 aggregate=aggregate)


@pytest.fixture(scope="module")
def cluster2():
    """A 2-worker-process LocalCluster executor shared by the cluster tests of this module."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    ex = local_executor(2)
    yield ex
    ex.close()


# ------------------------------------------------------------------------------------------------- grids


def test_grid_points_are_the_product_with_fixed_values_and_seeds_last():
    g = Grid(axes={"a": (1, 2), "b": ("x", "y", "z")}, seeds=(5, 6), fixed={"steps": 10},
             where=lambda p: not (p["a"] == 2 and p["b"] == "z"))
    pts = g.points()
    assert len(pts) == (2 * 3 - 1) * 2
    assert pts[0] == Point({"a": 1, "b": "x", "steps": 10}, 5) and pts[1].seed == 6
    assert all(p.params["steps"] == 10 for p in pts)
    assert {"a": 2, "b": "z", "steps": 10} not in [dict(p.params) for p in pts]
    assert pts[0].payload == {"a": 1, "b": "x", "steps": 10, "seed": 5}


def test_grid_where_sees_the_seed():
    """``where`` is called per (combination, seed): one axis value can have more seeds than another."""
    g = Grid(axes={"kind": ("a", "b")}, seeds=(0, 1, 2), where=lambda q: q["kind"] == "b" or q["seed"] == 0)
    assert [(p.params["kind"], p.seed) for p in g.points()] == [("a", 0), ("b", 0), ("b", 1), ("b", 2)]
    assert all("seed" not in p.params for p in g.points())


@pytest.mark.parametrize("kwargs, match", [
    (dict(axes={}, seeds=(0,)), "at least one"),
    (dict(axes={"a": ()}, seeds=(0,)), "non-empty sequence"),
    (dict(axes={"a": "abc"}, seeds=(0,)), "non-empty sequence"),
    (dict(axes={"a": (1,)}, seeds=()), "seeds"),
    (dict(axes={"a": (1,)}, seeds=(1, 1)), "duplicates"),
    (dict(axes={"a": (1,)}, seeds=(-1,)), "seeds"),
    (dict(axes={"seed": (1,)}, seeds=(0,)), "seed"),
    (dict(axes={"a": (1,)}, seeds=(0,), fixed={"a": 2}), "twice"),
    (dict(axes={"a": (float("nan"),)}, seeds=(0,)), "JSON"),
])
def test_bad_grids_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Grid(**kwargs)


def test_grid_rejecting_everything_and_bad_sweeps_are_refused():
    with pytest.raises(ValueError, match="no points"):
        Grid(axes={"a": (1,)}, seeds=(0,), where=lambda p: False).points()
    g = Grid(axes={"a": (1,)}, seeds=(0,))
    with pytest.raises(ValueError, match="module:function"):
        Sweep("s", "p", "d", "no_colon", {"cpu": g}, table_aggregate)
    with pytest.raises(ValueError, match="scales"):
        Sweep("s", "p", "d", "m:f", {"huge": g}, table_aggregate)
    with pytest.raises(ValueError, match="no scale 'paper'"):
        Sweep("s", "p", "d", "m:f", {"cpu": g}, table_aggregate).grid("paper")
    with pytest.raises(ValueError, match="cannot import"):
        resolve_task("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="no attribute"):
        resolve_task(f"{HERE}:no_such_function")
    with pytest.raises(ValueError, match="not a function"):
        resolve_task(f"{HERE}:VERSION")


# ------------------------------------------------------------------------------------------------- cache


def test_point_key_depends_on_sweep_params_and_seed_only():
    k = point_key("s", {"a": 1, "b": 2.5}, 0)
    assert k == point_key("s", {"b": 2.5, "a": 1}, 0)  # order of keys does not matter
    assert len({k, point_key("t", {"a": 1, "b": 2.5}, 0), point_key("s", {"a": 2, "b": 2.5}, 0),
                point_key("s", {"a": 1, "b": 2.5}, 1), point_key("s", {"a": 1, "b": 2.5000001}, 0)}) == 5
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"a": float("inf")})


def test_cache_round_trip_version_isolation_and_tamper_rejection(tmp_path):
    c1 = ResultCache(tmp_path, "s", "aaaa")
    assert c1.get({"a": 1}, 0) is None
    c1.put({"a": 1}, 0, {"loss": 0.5}, seconds=1.0)
    assert c1.get({"a": 1}, 0)["result"] == {"loss": 0.5} and len(c1) == 1
    assert c1.get({"a": 1}, 1) is None and c1.get({"a": 2}, 0) is None
    assert ResultCache(tmp_path, "s", "bbbb").get({"a": 1}, 0) is None  # another code version
    path = c1.path({"a": 1}, 0)
    entry = json.loads(path.read_text())
    entry["params"] = {"a": 99}
    path.write_text(json.dumps(entry))
    assert c1.get({"a": 1}, 0) is None  # an entry whose content does not match its key is never trusted
    path.write_text("{truncated")
    assert c1.get({"a": 1}, 0) is None
    assert not list(c1.folder.glob(".tmp-*"))
    for bad in ("", "../x", ".hidden"):
        with pytest.raises(ValueError, match="sweep name"):
            ResultCache(tmp_path, bad, "aaaa")
    with pytest.raises(ValueError, match="hex"):
        ResultCache(tmp_path, "s", "not-hex")


def test_code_version_changes_with_any_source_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    v0 = hash_sources([pkg])
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    v1 = hash_sources([pkg])
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    assert hash_sources([pkg]) == v0 != v1
    (pkg / "sub" / "c.py").write_text("")
    assert hash_sources([pkg]) != v0  # a new file counts
    (pkg / "notes.txt").write_text("x")
    (pkg / "sub" / "c.py").unlink()
    assert hash_sources([pkg]) == v0  # only .py files count
    v = code_version()
    assert len(v) == 16 and int(v, 16) >= 0
    with pytest.raises(ValueError, match="not importable"):
        code_version(("no_such_package_xyz",))


# --------------------------------------------------------------------------- in-process vs LocalCluster


def test_local_cluster_gives_the_same_numbers_as_in_process(cluster2):
    sweep = toy_sweep(axes={"n": (100, 200, 300, 400)}, seeds=(0, 1))
    ref = run_sweep(sweep, "cpu", InProcessExecutor(), version=VERSION)
    got = run_sweep(sweep, "cpu", cluster2, version=VERSION)
    assert ref.ok and got.ok and len(got.tasks) == 8
    assert [t.result for t in got.tasks] == [t.result for t in ref.tasks]  # bit-for-bit: same seeds
    assert got.aggregate.data == ref.aggregate.data
    assert len({t.worker for t in got.tasks}) == 2  # both worker processes took part
    assert {t.worker for t in ref.tasks} == {"in-process"}
    # the estimate is a real one: E||x||^2 = d within 5 standard errors (false alarm ~6e-7 per point)
    assert all(abs(t.result["mean"] - 3) < 5 * t.result["se"] for t in got.tasks)


def test_running_count_sees_executing_points(cluster2):
    import time

    handles = [cluster2.submit(i, f"{HERE}:sleep_task", {"sleep": 2.0}, key=f"sleep-{i}-{uuid.uuid4().hex}", gpu=False)
               for i in range(3)]
    seen, t0 = 0, time.perf_counter()
    while seen < 2 and time.perf_counter() - t0 < 15:
        seen = max(seen, cluster2.running())
        time.sleep(0.1)
    done = [h.token for h, outcome in cluster2.completed() if outcome["ok"]]
    assert seen == 2  # two single-threaded workers: two points at a time, never three
    assert sorted(done) == [h.token for h in handles]


def test_scheduler_address_route_runs_a_sweep(cluster2):
    """``--scheduler ADDRESS``: a second client connects to a running cluster (here: the local one's scheduler)."""
    with open_executor(scheduler=cluster2.client.scheduler.address) as ex:
        assert ex.description.startswith("scheduler tcp://")
        rep = run_sweep(toy_sweep(), "cpu", ex, version=VERSION)
    ref = run_sweep(toy_sweep(), "cpu", InProcessExecutor(), version=VERSION)
    assert rep.ok and [t.result for t in rep.tasks] == [t.result for t in ref.tasks]
    assert cluster2.client.status == "running"  # closing the connection leaves the cluster alone


def test_gpu_points_only_go_to_gpu_workers(tmp_path):
    from distributed import Client, Scheduler, SpecCluster, Worker

    spec = {"cpu": {"cls": Worker, "options": {"nthreads": 1, "dashboard": False}},
            "gpu": {"cls": Worker, "options": {"nthreads": 1, "dashboard": False, "resources": {"GPU": 1}}}}
    scheduler = {"cls": Scheduler, "options": {"dashboard": False, "dashboard_address": ":0"}}
    cluster = SpecCluster(workers=spec, scheduler=scheduler)
    with DaskExecutor(Client(cluster), cluster, description="cpu+gpu workers") as ex:
        gpu_addr = next(a for a, w in ex.client.scheduler_info()["workers"].items() if w["resources"].get("GPU"))
        sweep = toy_sweep("where_task", axes={"n": tuple(range(6))}, seeds=(0,), aggregate=lambda t, o: Aggregate(""),
                          gpu=True)
        rep = run_sweep(sweep, "cpu", ex, version=VERSION)
        assert rep.ok and {t.result["worker"] for t in rep.tasks} == {gpu_addr}
    with SpecCluster(workers={"cpu": spec["cpu"]}, scheduler=scheduler) as cpu_only:
        ex = DaskExecutor(Client(cpu_only), description="cpu-only workers")
        with pytest.raises(ValueError, match="GPU=1"):
            run_sweep(sweep, "cpu", ex, version=VERSION)
        rep = run_sweep(sweep, "cpu", ex, version=VERSION, gpu=False)  # --no-gpu
        assert rep.ok
        ex.close()


# ------------------------------------------------------------------------------------ faults and retries


def test_killed_worker_is_retried_and_every_point_is_reported(cluster2, tmp_path):
    sweep = toy_sweep("fault_task", axes={"mode": ("ok", "crash_once", "crash_always")}, seeds=(0, 1),
                      fixed={"marker_dir": str(tmp_path)}, aggregate=lambda t, o: Aggregate("(none)"))
    rep = run_sweep(sweep, "cpu", cluster2, version=VERSION, max_attempts=3, out_dir=tmp_path / "out")
    by = {(t.params["mode"], t.seed): t for t in rep.tasks}
    assert len(rep.tasks) == 6 and not any(t.status == "NOT RUN" for t in rep.tasks)
    for seed in (0, 1):
        assert by["ok", seed].status == "OK" and by["ok", seed].result == {"value": seed * 10}
        once = by["crash_once", seed]
        assert once.status == "OK" and once.result == {"value": seed * 10}
        assert once.attempts[0]["outcome"] == "lost" and once.attempts[-1]["outcome"] == "ok"
        assert "KilledWorker" in once.attempts[0]["error"]
        always = by["crash_always", seed]
        assert always.status == "ERROR" and [a["outcome"] for a in always.attempts] == ["lost"] * 3
        assert "worker lost on all 3 attempt(s)" in always.error and always.traceback
    md = (tmp_path / "out" / "sweep.md").read_text()
    assert "point 4: mode=crash_always" in md and "Seed 0." in md and "Seed 1." in md
    js = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert js["counts"]["ERROR"] == 2 and js["counts"]["OK"] == 4 and js["counts"]["retried"] >= 4
    assert not rep.ok


def test_task_exception_is_an_error_with_seed_and_traceback_and_not_retried(tmp_path):
    sweep = toy_sweep("fault_task", axes={"mode": ("ok", "raise")}, seeds=(7,), fixed={"marker_dir": "x"},
                      aggregate=raising_aggregate)
    rep = run_sweep(sweep, "cpu", InProcessExecutor(), version=VERSION, out_dir=tmp_path)
    bad = rep.tasks[1]
    assert bad.status == "ERROR" and len(bad.attempts) == 1 and bad.attempts[0]["outcome"] == "error"
    assert bad.error == "ValueError: bad seed 7" and "raise ValueError" in bad.traceback
    md = (tmp_path / "sweep.md").read_text()
    assert "Seed 7. ValueError: bad seed 7" in md and "Traceback (most recent call last)" in md
    assert "The aggregator raised" in md and "RuntimeError: aggregator bug" in md
    assert rep.tasks[0].status == "OK"
    # the printed reproduce command reproduces the error
    assert run_point_main([f"{HERE}:fault_task", json.dumps({**bad.params, "seed": 7})]) == 1
    assert run_point_main([f"{HERE}:fault_task", json.dumps({"mode": "ok", "marker_dir": "x", "seed": 7})]) == 0
    rep = run_sweep(toy_sweep("not_a_dict_task"), "cpu", InProcessExecutor(), version=VERSION)
    assert all(t.status == "ERROR" and "must return a dict" in t.error for t in rep.tasks)
    rep = run_sweep(toy_sweep("numpy_task", axes={"n": (1,)}), "cpu", InProcessExecutor(), version=VERSION,
                    cache_root=tmp_path / "cache")
    assert rep.tasks[0].result == {"pair": [1, 2.5]}  # as it will read back from the cache
    assert rep.tasks[1].status == "ERROR" and "JSON-serialisable" in rep.tasks[1].error


# ------------------------------------------------------------------------------------------------ resume


def _executions(log_dir: Path) -> int:
    return len(list(log_dir.iterdir()))


def test_interrupted_sweep_resumes_with_only_the_missing_points(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    sweep = toy_sweep("logged_task", axes={"n": (100, 200, 300)}, seeds=(0, 1), fixed={"d": 2, "log_dir": str(log)})
    cache, out = tmp_path / "cache", tmp_path / "out"
    seen = []

    def interrupt_after_two(rec):
        seen.append(rec.index)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=cache, out_dir=out, version=VERSION,
                  on_record=interrupt_after_two)
    partial = json.loads((out / "sweep.json").read_text())
    assert partial["interrupted"] and partial["counts"]["OK"] == 2 and partial["counts"]["NOT RUN"] == 4
    assert "Interrupted" in (out / "sweep.md").read_text()
    assert _executions(log) == 2

    rep = run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=cache, out_dir=out, version=VERSION, resume=True)
    assert _executions(log) == 6  # only the 4 missing points ran
    assert rep.ok and rep.counts()["cached"] == 2 and {t.index for t in rep.tasks if t.cached} == set(seen)
    fresh = run_sweep(sweep, "cpu", InProcessExecutor(), version=VERSION)  # no cache at all
    assert [t.result for t in rep.tasks] == [t.result for t in fresh.tasks]
    assert _executions(log) == 12

    again = run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=cache, version=VERSION, resume=True)
    assert again.counts()["cached"] == 6 and _executions(log) == 12  # nothing left to run
    run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=cache, version="fedcba9876543210", resume=True)
    assert _executions(log) == 18  # a changed code version invalidates every cached result
    run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=cache, version=VERSION)
    assert _executions(log) == 24  # without --resume everything runs again
    with pytest.raises(ValueError, match="cache"):
        run_sweep(sweep, "cpu", InProcessExecutor(), resume=True, version=VERSION)


def test_errors_are_not_cached_so_resume_retries_them(tmp_path):
    sweep = toy_sweep("fault_task", axes={"mode": ("ok", "raise")}, seeds=(0,), fixed={"marker_dir": "x"})
    run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=tmp_path, version=VERSION)
    rep = run_sweep(sweep, "cpu", InProcessExecutor(), cache_root=tmp_path, version=VERSION, resume=True)
    assert [(t.status, t.cached) for t in rep.tasks] == [("OK", True), ("ERROR", False)]


# ---------------------------------------------------------------------------------- bad configuration


def test_bad_executor_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        open_executor(workers=0)
    with pytest.raises(ValueError, match="choose one place"):
        open_executor(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="scheduler must be an address"):
        open_executor(scheduler="not an address")
    with pytest.raises(ValueError, match="could not connect to the Dask scheduler at 'tcp://127.0.0.1:9'"):
        address_executor("tcp://127.0.0.1:9", timeout=1.0)


def _cfg(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"c{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, match", [
    ("kind: [unclosed", "not valid YAML"),
    ("- a list", "must be a mapping"),
    ("kind: kubernetes\njobs: 1\ncluster: {cores: 1, memory: 1GB}", "'kind' must be one of"),
    ("kind: slurm\njobs: 1\nqueue: gpu\ncluster: {cores: 1, memory: 1GB}", r"unknown key\(s\) \['queue'\]"),
    ("kind: slurm\njobs: 1\ncluster: {memory: 1GB}", "cluster.cores is required"),
    ("kind: slurm\njobs: 1\ncluster: {cores: 1}", "cluster.memory is required"),
    ("kind: slurm\njobs: -1\ncluster: {cores: 1, memory: 1GB}", "'jobs' must be a non-negative integer"),
    ("kind: slurm\ncluster: {cores: 1, memory: 1GB}", "give 'jobs: N'"),
    ("kind: slurm\nadapt: {maximum_jobs: 0}\ncluster: {cores: 1, memory: 1GB}", "maximum_jobs must be positive"),
    ("kind: pbs\ncluster: [1, 2]\njobs: 1", "'cluster' must be a mapping"),
    ("scheduler: tcp://h:8786\nkind: slurm", "excludes"),
    ("scheduler: 'a b c'", "scheduler must be an address"),
    ("scheduler: tcp://h:8786\nconnect_timeout: 0", "connect_timeout"),
])
def test_bad_cluster_config_files_are_clear_errors(tmp_path, text, match):
    path = _cfg(tmp_path, text)
    with pytest.raises(ValueError, match=match) as info:
        load_cluster_config(path)
    assert str(path) in str(info.value)  # the message names the file


def test_cluster_config_routes(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_cluster_config(tmp_path / "missing.yaml")
    good = _cfg(tmp_path, "kind: slurm\njobs: 2\ncluster:\n  cores: 4\n  memory: 16GB\n  queue: gpu\n"
                          "  job_extra_directives: ['--gres=gpu:1']\n  worker_extra_args: ['--resources', 'GPU=1']\n"
                          "  scheduler_options: {dashboard_address: ':0'}\n")
    cfg = load_cluster_config(good)
    assert cfg.kind == "slurm" and cfg.jobs == 2 and cfg.has_gpu_workers()
    cluster = jobqueue_cluster(cfg)
    try:
        script = cluster.job_script()
        assert "#SBATCH --gres=gpu:1" in script and "--resources GPU=1" in script and "#SBATCH -p gpu" in script
    finally:
        cluster.close()
    bad_kw = _cfg(tmp_path, "kind: pbs\njobs: 1\ncluster: {cores: 1, memory: 1GB, no_such_option: 3}")
    with pytest.raises(ValueError, match="PBSCluster refused"):
        jobqueue_cluster(load_cluster_config(bad_kw))
    if not any(Path(p, "sbatch").exists() for p in os.environ.get("PATH", "").split(os.pathsep)):
        with pytest.raises(ValueError, match="'sbatch', which is not on PATH"):
            config_executor(cfg)
    addr = load_cluster_config(_cfg(tmp_path, "scheduler: tcp://127.0.0.1:9\nconnect_timeout: 1"))
    with pytest.raises(ValueError, match="could not connect"):
        config_executor(addr)


# ---------------------------------------------------------------------------------------------------- CLI


def _parse(argv: list[str]) -> argparse.Namespace:
    from proofs_check.sweep_cli import add_sweep_subcommand

    parser = argparse.ArgumentParser(prog="proofs-check")
    add_sweep_subcommand(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_list_and_argument_errors(capsys):
    from rich.console import Console

    from proofs_check.sweep_cli import run_sweep_command
    from proofs_check.sweeps.definitions import all_sweeps

    console = Console(width=250, force_terminal=False)
    assert run_sweep_command(_parse(["sweep", "--list"]), console) == 0
    out = capsys.readouterr().out
    for name in all_sweeps():
        assert name in out
    with pytest.raises(ValueError, match="no sweep named 'nope'"):
        run_sweep_command(_parse(["sweep", "nope"]), console)
    with pytest.raises(ValueError, match="name the sweep"):
        run_sweep_command(_parse(["sweep"]), console)
    with pytest.raises(SystemExit):
        _parse(["sweep", "x", "--workers", "2", "--in-process"])  # one route only (argparse exits 2)
    with pytest.raises(SystemExit):
        _parse(["sweep", "x", "--scale", "huge"])


# ------------------------------------------------------------------------------------- paper definitions


def test_real_training_task_gives_the_same_numbers_on_the_cluster(cluster2):
    """A real sweep task (exact-loss L-BFGS, Sander head count) on 2 worker processes vs in-process."""
    from proofs_check.sweeps.definitions import sander

    sweep = Sweep("heads-small", "p", "d", f"{sander.__name__}:head_count_point",
                  {"cpu": Grid(axes={"case": ("unitary",), "d": (4,), "T": (6,), "H": (1, 2, 4)}, seeds=(0, 1))},
                  sander.head_count_table)
    ref = run_sweep(sweep, "cpu", InProcessExecutor(), version=VERSION)
    got = run_sweep(sweep, "cpu", cluster2, version=VERSION)
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731 - timings differ, numbers must not
    assert ref.ok and got.ok
    assert [strip(t.result) for t in got.tasks] == [strip(t.result) for t in ref.tasks]
    # and the numbers are the theory's: (T-1)·max(d-H, 0) = 15, 10, 0 within the exact-training tolerance
    assert [t.result["predicted"] for t in ref.tasks] == [15.0, 15.0, 10.0, 10.0, 0.0, 0.0]
    assert all(abs(t.result["loss"] - t.result["predicted"]) <= 1e-6 * max(1, t.result["predicted"]) for t in ref.tasks)


def test_table1_training_task_gives_the_same_numbers_on_the_cluster(cluster2):
    """The Table 1 task (float32 Adam: a different torch thread count changes the trajectory) on 2 worker
    processes vs in-process: identical, because every route runs a point on one torch thread."""
    from proofs_check.sweeps.definitions import vladymyrov

    grid = Grid(axes={"parameterisation": ("full", "diag"), "layers": (2,), "noise": ("U1",)}, seeds=(0,),
                fixed={"preset": "quick", "steps": 40, "batch": 64, "eval_sequences": 2000, "restarts": 2})
    sweep = Sweep("t1-small", "p", "d", f"{vladymyrov.__name__}:table1_point", {"cpu": grid}, vladymyrov.table1)
    ref = run_sweep(sweep, "cpu", InProcessExecutor(), version=VERSION)
    got = run_sweep(sweep, "cpu", cluster2, version=VERSION)
    keys = ("adjusted_loss", "adjusted_se", "adjusted_per_readout", "params", "history")
    assert ref.ok and got.ok
    assert [{k: t.result[k] for k in keys} for t in got.tasks] == [{k: t.result[k] for k in keys} for t in ref.tasks]
    assert all(np.isfinite(t.result["adjusted_loss"]) for t in ref.tasks)


def _task(params: dict, seed: int, result: dict | None) -> dict:
    return {"params": params, "seed": seed, "status": "OK" if result is not None else "ERROR", "result": result}


def test_table1_keeps_the_best_seed_marks_errors_and_shows_the_paper(tmp_path):
    from proofs_check.sweeps.definitions.vladymyrov import PAPER_TABLE1, best_of_seeds, table1

    p = lambda L, par, n: {"parameterisation": par, "layers": L, "noise": n}  # noqa: E731
    tasks = [_task(p(2, "diag", "U1"), 0, {"adjusted_loss": 0.30}),
             _task(p(2, "diag", "U1"), 1, {"adjusted_loss": 0.25}),
             _task(p(2, "diag", "U1"), 2, None), _task(p(2, "full", "U1"), 0, None),
             _task(p(2, "full", "U1"), 1, {"adjusted_loss": float("nan")})]
    cells = best_of_seeds(tasks)
    assert cells[2, "diag", "U1"]["best"] == 0.25 and cells[2, "diag", "U1"]["best_seed"] == 1
    assert cells[2, "diag", "U1"]["errors"] == 1 and cells[2, "full", "U1"]["best"] is None
    agg = table1(tasks, tmp_path)
    assert f"| 2 | DIAG | 0.250 / {PAPER_TABLE1[2, 'diag']['U1']:.3f} |" in agg.markdown
    assert "| 2 | FULL | ERROR / 0.215 |" in agg.markdown
    assert agg.figures == ["figures/vladymyrov-table1.png"] and (tmp_path / agg.figures[0]).is_file()
    # the transcription of the paper's Table 1 has every (L, model) row and all ten columns
    assert len(PAPER_TABLE1) == 21 and all(len(v) == 10 for v in PAPER_TABLE1.values())


def test_baselines_table_averages_seeds_and_shows_errors():
    from proofs_check.sweeps.definitions.vladymyrov import baselines_table

    r = lambda a, se: {"adjusted": a, "se": se}  # noqa: E731
    res = lambda a: {"constrr": r(a, 0.01), "adarr": r(a / 2, 0.02), "tunedrr": r(a / 4, 0.0)}  # noqa: E731
    agg = baselines_table([_task({"noise": "U3"}, 0, res(0.10)), _task({"noise": "U3"}, 1, res(0.20)),
                           _task({"noise": "U5"}, 0, None)], None)
    # mean of the seeds; SE of the mean of two = sqrt(mean(se²)/2)
    assert agg.data["constrr/U3"]["adjusted"] == pytest.approx(0.15)
    assert agg.data["adarr/U3"]["se"] == pytest.approx(0.02 / np.sqrt(2))
    assert "| ConstRR | 0.150 ± 0.014 / 0.161 | ERROR / 0.365 |" in agg.markdown
    assert "| Bayes posterior mean | — | ERROR |" in agg.markdown


def test_head_count_table_counts_seeds_reaching_the_prediction():
    from proofs_check.sweeps.definitions.sander import head_count_table

    q = {"case": "unitary", "d": 4, "T": 6, "H": 2}
    res = lambda loss, first: {"loss": loss, "first_loss": first, "predicted": 10.0}  # noqa: E731
    agg = head_count_table([_task(q, 0, res(10.0, 10.0)), _task(q, 1, res(10.000001, 12.0)),
                            _task(q, 2, res(10.1, 10.1)), _task(q, 3, None)], None)
    row = agg.data["unitary/d4/T6/H2"]
    assert (row["reached"], row["reached_first_run"], row["n"], row["errors"]) == (2, 1, 3, 1)
    assert "| unitary | 4 | 6 | 2 | 10 | 10 | 10.1 | 2/3 | 1/3 | 1 |" in agg.markdown


def test_row_features_count_sign_changes():
    from proofs_check.sweeps.definitions.sander import row_features

    f = row_features(np.array([0.05, -0.01, 0.0, -0.02, 0.1, 0.3]))
    assert f["zero_crossings"] == 2 and f["argmax"] == 5 and f["max"] == 0.3 and f["min"] == -0.02
    assert abs(f["row_sum"] - 0.42) < 1e-12


def test_defined_sweeps_are_well_formed():
    from proofs_check.sweeps.definitions import all_sweeps

    sweeps = all_sweeps()
    assert {"vladymyrov-table1", "vladymyrov-baselines", "sander-heads", "sander-pe-mu"} <= set(sweeps)
    table1 = sweeps["vladymyrov-table1"]
    assert len(table1.grid("paper").points()) == 7 * 10 * 3 * 5  # the paper's ~1,000 trained models
    assert table1.grid("paper").gpu and not table1.grid("cpu").gpu
    for sw in sweeps.values():
        resolve_task(sw.task)
        for scale in sw.scales:
            assert sw.grid(scale).points()


def test_the_config_examples_in_the_docs_are_valid(tmp_path):
    import re

    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "sweeps.md").read_text(), re.S)
    assert len(blocks) >= 3
    for block in blocks:
        cfg = load_cluster_config(_cfg(tmp_path, block))
        if cfg.kind is not None:
            cluster = jobqueue_cluster(cfg)
            try:
                assert "dask_worker" in cluster.job_script() or "dask-worker" in cluster.job_script()
            finally:
                cluster.close()


# --------------------------------------------------------------------------------- claims on an executor


def _toy_check(ctx):
    from proofs_check.claim import Measurement

    x = ctx.rng(0).standard_normal(4000)
    return Measurement(error=abs(float(x.mean())) / (1 / np.sqrt(4000)), expected=0.0, observed=float(x.mean()),
                       compared="sample mean of N(0,1) vs 0, in standard errors")


def _toy_control(ctx):
    from proofs_check.claim import Measurement

    x = ctx.rng(0).standard_normal(4000) + 0.5
    return Measurement(error=abs(float(x.mean())) / (1 / np.sqrt(4000)), expected=0.0, observed=float(x.mean()),
                       compared="sample mean of N(0.5,1) vs 0, in standard errors")


def _crash(ctx):
    os._exit(3)


def _make_claims():
    from proofs_check.claim import Claim, Tolerance

    tol = Tolerance(5.0, "5 standard errors of a Gaussian mean: false alarm ~6e-7", origin="standard-errors")
    common = dict(paper="test", reference="none", statement="a sample mean is near its expectation",
                  kind="monte-carlo", tolerance=tol, control_description="shifted mean", seed=11)
    return (Claim(id="toy.mean", check=_toy_check, control=_toy_control, **common),
            Claim(id="toy.crash", check=_crash, control=_toy_control, **common))


TOY_CLAIM, CRASH_CLAIM = _make_claims()


def test_claims_run_on_a_cluster_as_in_process(cluster2):
    """One engine: the same ``run_claims`` runs claims in-process and on a cluster, with the engine's retries."""
    from proofs_check.runner import run_claims

    refs = {"toy.mean": f"{HERE}:TOY_CLAIM", "toy.crash": f"{HERE}:CRASH_CLAIM"}
    report = run_claims([TOY_CLAIM, CRASH_CLAIM], executor=cluster2, refs=refs, max_attempts=2)
    ok, crashed = report.results
    ref = run_claims([TOY_CLAIM]).results[0]  # in-process, no ref needed
    assert ok.verdict == ref.verdict == "PASS" and ok.check == ref.check and ok.control == ref.control
    assert crashed.verdict == "ERROR" and "lost on all 2 attempt(s)" in crashed.reason
    assert "KilledWorker" in crashed.reason
    assert report.executor.startswith("LocalCluster")
    unknown = run_claims([TOY_CLAIM], executor=cluster2).results[0]  # a worker cannot find it: no registry, no ref
    assert unknown.verdict == "ERROR" and "could not be run" in unknown.reason and "toy.mean" in unknown.reason


def test_cli_runs_a_sweep_writes_the_report_and_resumes(tmp_path, monkeypatch):
    from rich.console import Console

    import proofs_check.sweeps.definitions as definitions
    from proofs_check.sweep_cli import run_sweep_command

    log = tmp_path / "log"
    log.mkdir()
    sweeps = {"toy": toy_sweep("logged_task", fixed={"d": 2, "log_dir": str(log)}),
              "toy-bad": toy_sweep("fault_task", axes={"mode": ("raise",)}, seeds=(3,), fixed={"marker_dir": "x"},
                                   name="toy-bad")}
    monkeypatch.setattr(definitions, "get_sweep", sweeps.__getitem__)
    console = Console(width=200, force_terminal=False)
    out = tmp_path / "out"
    assert run_sweep_command(_parse(["sweep", "toy", "--in-process", "--out", str(out), "--no-progress"]), console) == 0
    assert (out / "sweep.md").is_file() and (out / "cache" / "toy").is_dir() and _executions(log) == 4
    js = json.loads((out / "sweep.json").read_text())
    assert js["counts"]["OK"] == 4 and js["axes"] == ["n"] and js["fixed"]["d"] == 2
    assert run_sweep_command(_parse(["sweep", "toy", "--in-process", "--out", str(out), "--resume",
                                     "--no-progress"]), console) == 0
    assert _executions(log) == 4  # all four came from OUT/cache
    assert run_sweep_command(_parse(["sweep", "toy-bad", "--in-process", "--out", str(tmp_path / "bad"),
                                     "--no-progress"]), console) == 1


def test_cli_run_with_workers_gives_the_in_process_results(tmp_path):
    """``proofs-check run --workers 2`` runs the registry's claims on a LocalCluster: same verdicts and the same
    measured numbers as the default in-process run (claims are seeded; every task runs single-threaded)."""
    from proofs_check.cli import main

    pattern = ["vladymyrov.thm41.float64", "vladymyrov.thm41.sympy", "sander.non-aug.zero-o.identity"]
    assert main(["run", "--claims", *pattern, "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    assert main(["run", "--claims", *pattern, "--workers", "2", "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    a, b = (json.loads((tmp_path / x / "report.json").read_text())["results"] for x in ("a", "b"))
    assert [r["id"] for r in a] == [r["id"] for r in b] and len(a) == 3
    for ra, rb in zip(a, b):
        assert ra["verdict"] == rb["verdict"] == "PASS"
        assert ra["check"]["error"] == rb["check"]["error"] and ra["control"]["error"] == rb["control"]["error"]
    with pytest.raises(SystemExit):  # argparse: one place to run at a time
        main(["run", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
