"""Faults of the task engine (issue #13, "never lie, never lose work"): each test reproduces one defect found by
fault testing and checks the fixed behaviour.

* a cache entry edited, emptied, truncated, of another schema or of another shape is refused with a reason,
  recomputed and reported, never used;
* a point with a NaN anywhere in its result is ERROR (and counted so), never cached;
* outputs are checked before any work; every finished result is on disk as it arrives;
* the run's device reaches code that asks for the default device;
* the local cluster listens on 127.0.0.1 only and serves no dashboard unless asked.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from proofs_check.engine import ResultLog, prepare_output_dir, read_log
from proofs_check.sweeps.cache import ENTRY_SCHEMA, ResultCache
from proofs_check.sweeps.executor import InProcessExecutor
from proofs_check.sweeps.grid import Aggregate, Grid, Sweep
from proofs_check.sweeps.run import nonfinite_path, run_sweep
from theory.arguments import ArgumentError

HERE = __name__
VERSION = "0123456789abcdef"


def counted_task(p: dict) -> dict:
    """``loss = 10 * n + seed``; leaves one file per execution in ``p['log_dir']`` (to count executions)."""
    Path(p["log_dir"], uuid.uuid4().hex).touch()
    return {"loss": 10.0 * p["n"] + p["seed"]}


def nan_task(p: dict) -> dict:
    """A diverged point for ``n == 2`` (a NaN deep inside its result), a finite one otherwise."""
    return {"loss": 1.0, "history": [1.0, 0.5, float("nan") if p["n"] == 2 else 0.25]}


def device_task(p: dict) -> dict:
    """Which device code that asks for the default device gets inside the task."""
    from numerics.device import resolve_device

    return {"default_device": str(resolve_device(None)), "auto_device": str(resolve_device("auto"))}


def _sweep(task: str, log_dir: Path | None = None, n=(1, 2, 3)) -> Sweep:
    fixed = {"log_dir": str(log_dir)} if log_dir else {}
    return Sweep(name="faults", paper="test", description="fault injection", task=f"{HERE}:{task}",
                 scales={"quick": Grid(axes={"n": n}, seeds=(0,), fixed=fixed)},
                 aggregate=lambda tasks, out: Aggregate("(none)"))


def _runs(log_dir: Path) -> int:
    return len(list(log_dir.iterdir()))


# ------------------------------------------------------------------------------------------------- cache


@pytest.mark.parametrize("damage, reason", [
    (lambda e: {**e, "result": {"loss": e["result"]["loss"] + 1.0}}, "checksum mismatch"),  # a number changed
    (lambda e: {**e, "result": None}, "'result' is NoneType"),
    (lambda e: {k: v for k, v in e.items() if k != "result"}, "missing field(s) ['result']"),
    (lambda e: [e], "not a JSON object but a list"),
    (lambda e: {k: v for k, v in e.items() if k not in ("schema", "checksum")}, "schema None"),
    (lambda e: "{truncated", "not valid JSON"),
])
def test_a_damaged_cache_entry_is_refused_recomputed_and_reported(tmp_path, damage, reason):
    log, cache, out = tmp_path / "log", tmp_path / "cache", tmp_path / "out"
    log.mkdir()
    sweep = _sweep("counted_task", log)
    first = run_sweep(sweep, "quick", InProcessExecutor(), cache_root=cache, version=VERSION)
    assert _runs(log) == 3 and first.ok
    store = ResultCache(cache, "faults", VERSION)
    point = sweep.grid("quick").points()[1]
    path = store.path(point.params, point.seed)
    entry = json.loads(path.read_text())
    assert entry["schema"] == ENTRY_SCHEMA and len(entry["checksum"]) == 64
    damaged = damage(entry)
    path.write_text(damaged if isinstance(damaged, str) else json.dumps(damaged))

    again = run_sweep(sweep, "quick", InProcessExecutor(), cache_root=cache, version=VERSION, resume=True,
                      out_dir=out)
    assert _runs(log) == 4  # only the damaged point ran again
    rec = again.tasks[1]
    assert not rec.cached and rec.status == "OK" and rec.result == {"loss": 20.0}  # the true value, recomputed
    assert reason in rec.cache_problem
    assert again.counts()["cache_refused"] == 1 and again.counts()["cached"] == 2 and again.ok
    assert "Refused cache entries" in (out / "sweep.md").read_text()
    assert store.lookup(point.params, point.seed)[1] is None  # rewritten: valid again
    run_sweep(sweep, "quick", InProcessExecutor(), cache_root=cache, version=VERSION, resume=True)
    assert _runs(log) == 4


def test_a_nan_result_is_an_error_counted_as_such_and_never_cached(tmp_path):
    rep = run_sweep(_sweep("nan_task"), "quick", InProcessExecutor(), cache_root=tmp_path / "c", version=VERSION,
                    out_dir=tmp_path / "out")
    statuses = [t.status for t in rep.tasks]
    assert statuses == ["OK", "ERROR", "OK"] and rep.counts()["ERROR"] == 1 and not rep.ok
    assert "result['history'][2] = nan" in rep.tasks[1].error
    assert len(ResultCache(tmp_path / "c", "faults", VERSION)) == 2
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["counts"]["ERROR"] == 1
    assert nonfinite_path({"a": [1.0, {"b": float("-inf")}]}) == "result['a'][1]['b'] = -inf"
    assert nonfinite_path({"a": [1, "nan"]}) is None


# ------------------------------------------------------------------------------------------------ outputs


def test_outputs_are_checked_before_any_work(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for kwargs, option in (({"out_dir": a_file}, "--out"), ({"cache_root": a_file}, "--cache"),
                           ({"out_dir": a_file / "sub"}, "--out")):
        with pytest.raises(ArgumentError, match=option):
            run_sweep(_sweep("counted_task", log), "quick", InProcessExecutor(), version=VERSION, **kwargs)
    assert _runs(log) == 0
    assert prepare_output_dir(tmp_path / "new" / "deep") == tmp_path / "new" / "deep"


def test_finished_points_are_on_disk_as_they_arrive(tmp_path):
    """Interrupted after the second point: points.jsonl already holds both finished points, in full."""
    log, out = tmp_path / "log", tmp_path / "out"
    log.mkdir()
    seen = []

    def stop_after_two(rec):
        seen.append(rec.index)
        lines = read_log(out / "points.jsonl")[1]
        assert [r["index"] for r in lines] == seen  # written before the callback: on disk as it arrives
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(_sweep("counted_task", log), "quick", InProcessExecutor(), out_dir=out, version=VERSION,
                  on_record=stop_after_two)
    header, records = read_log(out / "points.jsonl")
    assert header["log"].startswith("sweep faults") and [r["result"]["loss"] for r in records] == [10.0, 20.0]


def test_result_log_survives_a_truncated_last_line(tmp_path):
    with ResultLog(tmp_path / "r.jsonl", "claims", "cmd") as log:
        log.append({"id": "a", "value": float("nan")})
    with (tmp_path / "r.jsonl").open("a") as fh:
        fh.write('{"id": "b", "val')  # a crash mid-write
    header, records = read_log(tmp_path / "r.jsonl")
    assert header["command"] == "cmd" and [r["id"] for r in records] == ["a"]


# ------------------------------------------------------------------------------------------------- device


def test_the_run_device_reaches_code_that_asks_for_the_default(monkeypatch):
    import torch

    from numerics.device import check_device_name, resolve_device, use_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # "auto" would now say CUDA ...
    assert str(resolve_device(None)) == "cuda"
    rep = run_sweep(_sweep("device_task", n=(1,)), "quick", InProcessExecutor(), version=VERSION, device="cpu")
    assert rep.tasks[0].result == {"default_device": "cpu", "auto_device": "cpu"}  # ... but the run said cpu
    assert rep.tasks[0].device == "cpu"
    with use_device("cpu"):
        assert str(resolve_device("auto")) == "cpu" and str(resolve_device("cpu")) == "cpu"
    for bad in ("tpu", "", "cuda:x", "cpu:0:1", None):
        with pytest.raises(ArgumentError, match="device"):
            check_device_name(bad)
    assert check_device_name(" CUDA:1 ") == "cuda:1"


@pytest.mark.parametrize("bad", ["tpu", "", "cuda:x", "gpu"])
def test_bad_device_names_are_argument_errors(bad):
    from numerics.device import resolve_device

    with pytest.raises(ArgumentError, match="device"):
        resolve_device(bad)


# ----------------------------------------------------------------------------------------------- network


def test_local_cluster_listens_on_localhost_only_and_serves_no_dashboard():
    psutil = pytest.importorskip("psutil")
    from proofs_check.sweeps.executor import local_executor

    with local_executor(1) as ex:
        procs = [psutil.Process()] + psutil.Process().children(recursive=True)
        listening = [c.laddr for p in procs for c in p.net_connections(kind="inet") if c.status == "LISTEN"]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
        assert ex.dashboard_link is None
        port = ex.cluster.scheduler.http_server.port
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).status == 200
        for route in ("info/main/workers.html", "json/counts.json", "metrics"):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/{route}", timeout=5)


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_a_sander_head_count_point_runs_on_the_run_device_on_a_gpu():
    """The device given once (``--device cuda``) reaches ``fit_exact`` inside a sweep point (it used to default
    to the CPU there), and the GPU point reaches the same predicted minimum as the CPU one."""
    from proofs_check.sweeps.definitions.sander import REACH_RTOL

    grid = Grid(axes={"case": ("unitary",), "d": (4,), "T": (6,), "H": (2,)}, seeds=(0,))
    sweep = Sweep("heads-gpu", "test", "one head-count point", "proofs_check.sweeps.definitions.sander:head_count_point",
                  {"quick": grid}, lambda tasks, out: Aggregate("(none)"))
    gpu = run_sweep(sweep, "quick", InProcessExecutor(), version=VERSION, device="cuda").tasks[0]
    cpu = run_sweep(sweep, "quick", InProcessExecutor(), version=VERSION, device="cpu").tasks[0]
    assert gpu.status == cpu.status == "OK" and gpu.device.startswith("cuda") and cpu.device == "cpu"
    predicted = cpu.result["predicted"]
    for rec in (gpu, cpu):  # both reach the prediction within the project's exact-training tolerance
        assert abs(rec.result["loss"] - predicted) <= REACH_RTOL * max(1.0, abs(predicted)), rec.result


def test_dashboard_addresses_default_to_localhost():
    from proofs_check.sweeps.executor import dashboard_address

    assert dashboard_address(None) is None  # no dashboard unless asked
    assert dashboard_address("8787") == dashboard_address(":8787") == "127.0.0.1:8787"
    assert dashboard_address("0.0.0.0:8787") == "0.0.0.0:8787"  # only when the user says so
    for bad in ("", "abc", ":99999", "host name:1"):
        with pytest.raises(ArgumentError, match="dashboard"):
            dashboard_address(bad)


def test_owned_cluster_left_without_workers_is_revived(monkeypatch):
    """A local cluster whose workers all died and were not restarted (seen once under load 7: the sweep then
    waited forever) gets fresh workers after REVIVE_AFTER_S without any worker; a cluster with workers is left
    alone, and an executor that does not own its cluster never scales it."""
    import proofs_check.sweeps.executor as ex

    class FakeClient:
        workers: dict = {}

        def scheduler_info(self):
            return {"workers": self.workers}

    class FakeCluster:
        def __init__(self):
            self.calls = []

        def scale(self, n):
            self.calls.append(n)

    import distributed

    clock = [100.0]
    monkeypatch.setattr(ex.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(distributed, "as_completed", lambda: None)  # no real client here
    client, cluster = FakeClient(), FakeCluster()
    e = ex.DaskExecutor(client, cluster, description="fake", dashboard=False, revive_workers=2)
    since = e._watch_workers(None)
    assert since == 100.0 and cluster.calls == []
    clock[0] += ex.REVIVE_AFTER_S - 1
    assert e._watch_workers(since) == since and cluster.calls == []
    clock[0] += 2
    assert e._watch_workers(since) is None and cluster.calls == [0, 2] and e.revived == 1
    client.workers = {"tcp://127.0.0.1:1": {}}
    assert e._watch_workers(50.0) is None and cluster.calls == [0, 2]
    client.workers = {}
    remote = ex.DaskExecutor(client, None, description="scheduler", dashboard=False)
    assert remote._revive == 0
