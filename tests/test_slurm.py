"""The dask-jobqueue route against a real SLURM (issue #13, "a real cluster"): marker ``slurm``.

``.ci/slurm-up.sh`` starts a single-node SLURM on this machine (slurmctld + slurmd + munge; as root it installs
Debian's ``slurm-wlm`` and ``munge`` when missing).  The test runs a small sweep through
``proofs-check sweep --cluster-config FILE`` with two one-worker batch jobs, cancels (``scancel``) the job whose
worker is running a point, and checks that

* the sweep still finishes with every point OK, and the lost point's first attempt is recorded as ``lost``
  (KilledWorker) and its retry as ``ok``;
* every result equals the in-process run of the same sweep, number for number.

Run it with ``python3 -m pytest -q -p no:xdist -m slurm tests/test_slurm.py`` (``.ci/run`` does).  It is
skipped, with the reason, only where SLURM cannot be started (not root, no package registry).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from proofs_check.sweeps.executor import InProcessExecutor
from proofs_check.sweeps.grid import Aggregate, Grid, Sweep
from proofs_check.sweeps.run import run_sweep

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
HERE = __name__
VERSION = "0123456789abcdef"


def slow_mc_task(p: dict) -> dict:
    """A seeded Monte-Carlo mean that takes ``p['sleep']`` seconds; leaves ``started-<seed>-<SLURM job id>``."""
    Path(p["marker_dir"], f"started-{p['seed']}-{os.environ.get('SLURM_JOB_ID', 'local')}").touch()
    time.sleep(p["sleep"])
    x = np.random.default_rng([p["seed"], p["n"]]).standard_normal(p["n"])
    return {"mean": float(x.mean()), "sq": float((x ** 2).mean())}


def _sweep(marker_dir: Path) -> Sweep:
    grid = Grid(axes={"n": (1000, 2000)}, seeds=(0, 1, 2), fixed={"sleep": 3.0, "marker_dir": str(marker_dir)})
    return Sweep(name="slurm-toy", paper="test", description="toy sweep on a real SLURM", task=f"{HERE}:slow_mc_task",
                 scales={"quick": grid}, aggregate=lambda tasks, out: Aggregate("(none)"))


@pytest.fixture(scope="module")
def slurm() -> None:
    """A running single-node SLURM, started by .ci/slurm-up.sh (skip only when it cannot be started)."""
    if os.geteuid() != 0:
        pytest.skip("the single-node SLURM needs root (to install slurm-wlm/munge and start the daemons)")
    proc = subprocess.run(["bash", str(REPO / ".ci" / "slurm-up.sh")], capture_output=True, text=True, timeout=600)
    if proc.returncode == 3:
        pytest.skip(f"SLURM cannot be installed here: {proc.stdout.strip()} {proc.stderr.strip()}")
    assert proc.returncode == 0, f"SLURM did not start: {proc.stdout} {proc.stderr}"


def _config(tmp_path: Path) -> Path:
    cfg = {
        "kind": "slurm",
        "jobs": 2,
        "cluster": {
            "queue": "debug", "cores": 1, "processes": 1, "memory": "2GB", "walltime": "00:20:00",
            "python": os.environ.get("PYTHON_FOR_WORKERS", __import__("sys").executable),
            "job_script_prologue": [f"export PYTHONPATH={REPO}", "export OMP_NUM_THREADS=1"],
            "log_directory": str(tmp_path / "slurm-logs"),
            "local_directory": str(tmp_path / "worker-space"),
            # one machine: the scheduler and the workers talk over the loopback interface only
            "scheduler_options": {"host": "127.0.0.1"},
            "worker_extra_args": ["--host", "127.0.0.1"],
        },
    }
    path = tmp_path / "slurm.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def _kill_the_job_running_a_point(marker_dir: Path, killed: list[str], stop: threading.Event) -> None:
    """Wait for the first point to start in a batch job, then scancel that job."""
    while not stop.is_set():
        started = [p.name.split("-")[-1] for p in marker_dir.glob("started-*")]
        jobs = [j for j in started if j != "local"]
        if jobs:
            subprocess.run(["scancel", jobs[0]], check=True, timeout=30)
            killed.append(jobs[0])
            return
        time.sleep(0.2)


def test_a_sweep_on_a_real_slurm_survives_a_killed_job_and_equals_the_in_process_run(slurm, tmp_path, monkeypatch):
    import proofs_check.sweeps.definitions as definitions
    from proofs_check import cli

    local_markers, markers = tmp_path / "local-markers", tmp_path / "markers"
    local_markers.mkdir()
    markers.mkdir()
    reference = run_sweep(_sweep(local_markers), "quick", InProcessExecutor(), version=VERSION)
    assert reference.ok

    sweep = _sweep(markers)
    monkeypatch.setattr(definitions, "get_sweep", lambda name: sweep)
    killed: list[str] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_the_job_running_a_point, args=(markers, killed, stop), daemon=True)
    killer.start()
    out = tmp_path / "out"
    try:
        status = cli.main(["sweep", "slurm-toy", "--cluster-config", str(_config(tmp_path)), "--out", str(out),
                           "--no-progress", "--device", "cpu", "--max-attempts", "3"])
    finally:
        stop.set()
        killer.join(timeout=10)
    logs = "\n".join(p.read_text() for p in (tmp_path / "slurm-logs").glob("*")) if killed else ""
    assert killed, "no point ever started in a SLURM job"
    assert status == 0, logs[-3000:]
    got = json.loads((out / "sweep.json").read_text())
    assert [t["status"] for t in got["tasks"]] == ["OK"] * 6
    # same numbers as in-process (the marker folder differs, so compare the results, point by point)
    assert [t["result"] for t in got["tasks"]] == [t.result for t in reference.tasks]
    lost = [t for t in got["tasks"] if any(a["outcome"] == "lost" for a in t["attempts"])]
    assert lost, "the killed job's point was not recorded as lost"
    for t in lost:
        assert t["attempts"][-1]["outcome"] == "ok" and "KilledWorker" in t["attempts"][0]["error"]
    assert got["executor"].startswith("SLURMCluster")
