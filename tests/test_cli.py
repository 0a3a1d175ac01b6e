"""The ``proofs-check`` command line (issues #13 and #16): exit statuses, stderr, argument errors vs bugs,
outputs checked before work, results kept when the report writer fails, outside claims (entry points and
``--claims-module``), script-friendly listing, unwrapped commands, ``python -m proofs_check``, ``mutate``.

Every claim here is a tiny claims file written by the test and loaded into a fresh registry, so nothing leaks
into the suite's own registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import proofs_check.registry as registry_module
from proofs_check import __version__, cli
from proofs_check.registry import Registry

REPO = Path(__file__).resolve().parents[1]

CLAIMS_FILE = '''
import math
from pathlib import Path
from proofs_check.claim import Claim, Measurement, Tolerance
from proofs_check.registry import register

MARKER = Path({marker!r})


def _mean(ctx, shift=0.0):
    MARKER.mkdir(exist_ok=True)
    (MARKER / f"{{ctx.role}}-{{ctx.seed}}").touch()
    x = ctx.rng(0).standard_normal(4000) + shift
    return Measurement(error=abs(float(x.mean())) * math.sqrt(4000), expected=0.0, observed=float(x.mean()),
                       compared="sample mean of N(0,1) vs 0, in standard errors")


def _claim(cid, shift=0.0):
    return Claim(id=cid, paper="outside", reference="Eq. (1)", statement="a sample mean is near 0",
                 kind="monte-carlo", check=lambda ctx: _mean(ctx, shift), control=lambda ctx: _mean(ctx, 0.5),
                 control_description="N(0.5, 1) samples", route="Monte Carlo",
                 tolerance=Tolerance(5.0, "5 standard errors: false alarm ~6e-7", "standard-errors"), seed=5)


register(_claim({prefix!r} + ".mean"))
register(_claim({prefix!r} + ".a-rather-long-identifier-that-a-terminal-would-have-to-wrap.wrong", shift=0.3))
'''


@pytest.fixture
def fresh_registry(monkeypatch):
    """A fresh global registry for the test.  The package's own claim modules are imported into the real registry
    first: imported under the fresh one, they would register there and be lost to the rest of the session."""
    registry_module.load_all()
    reg = Registry()
    monkeypatch.setattr(registry_module, "REGISTRY", reg)
    return reg


def _claims_file(tmp_path: Path, prefix: str = "outside") -> Path:
    path = tmp_path / f"{prefix}_claims.py"
    path.write_text(CLAIMS_FILE.format(marker=str(tmp_path / "ran"), prefix=prefix))
    return path


def _ran(tmp_path: Path) -> int:
    return len(list((tmp_path / "ran").iterdir())) if (tmp_path / "ran").is_dir() else 0


# ------------------------------------------------------------------------------------------- exit statuses


def test_version_and_python_dash_m(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0 and __version__ in capsys.readouterr().out
    proc = subprocess.run([sys.executable, "-m", "proofs_check", "--version"], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("proofs-check (icl-verify) ")


def test_argument_errors_exit_2_on_stderr_and_bugs_exit_1_with_a_traceback(tmp_path, capsys, monkeypatch,
                                                                          fresh_registry):
    mod = _claims_file(tmp_path)
    base = ["run", "--claims-module", str(mod), "--out", str(tmp_path / "r"), "--no-progress"]
    for device in ("tpu", "", "cuda:x"):
        assert cli.main(base + ["--device", device]) == 2
        captured = capsys.readouterr()
        assert "error:" in captured.err and "device" in captured.err and "error" not in captured.out
    assert cli.main(base + ["--claims", "outside.mean", "nosuch.*"]) == 2
    assert "no registered claim matches ['nosuch.*']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # a bare --claims is refused by argparse, not read as "everything"
        cli.main(base + ["--claims"])
    assert exc.value.code == 2
    assert _ran(tmp_path) == 0

    def bug(*args, **kwargs):
        raise ValueError("an internal invariant broke")  # a plain ValueError is a bug, not a bad argument

    import proofs_check.runner as runner

    monkeypatch.setattr(runner, "run_claims", bug)
    assert cli.main(base + ["--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback (most recent call last)" in err and "invariant broke" in err


def test_a_non_utf8_cluster_config_is_named(tmp_path, capsys, fresh_registry):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("kind: slurm  # Zürich\n".encode("latin-1"))
    mod = _claims_file(tmp_path)
    assert cli.main(["run", "--claims-module", str(mod), "--cluster-config", str(bad), "--out",
                     str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err.replace("\n", "") and "UTF-8" in err


# --------------------------------------------------------------------------------------- never lose work


def test_run_out_that_is_a_file_is_refused_before_any_claim_runs(tmp_path, capsys, fresh_registry):
    mod = _claims_file(tmp_path)
    a_file = tmp_path / "report-file"
    a_file.write_text("")
    for out in (a_file, a_file / "sub"):
        assert cli.main(["run", "--claims-module", str(mod), "--out", str(out), "--no-progress",
                         "--device", "cpu"]) == 2
        assert "--out" in capsys.readouterr().err
    assert _ran(tmp_path) == 0


def test_results_survive_a_report_writer_that_fails(tmp_path, capsys, monkeypatch, fresh_registry):
    import proofs_check.report as report

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_report", disk_full)
    mod = _claims_file(tmp_path)
    out = tmp_path / "r"
    assert cli.main(["run", "--claims-module", str(mod), "--out", str(out), "--no-progress", "--device", "cpu"]) == 1
    assert "results.jsonl" in capsys.readouterr().err
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r.get("verdict") for r in lines[1:]] == ["PASS", "FAIL"] and lines[0]["log"] == "claims"


def test_sweep_out_or_cache_that_is_a_file_is_refused_before_any_point_runs(tmp_path, capsys):
    a_file = tmp_path / "f"
    a_file.write_text("")
    for extra in (["--out", str(a_file)], ["--out", str(tmp_path / "o"), "--cache", str(a_file)],
                  ["--device", "tpu"], ["--scale", "paper", "--out", str(tmp_path / "o2"), "--device", "nope"]):
        assert cli.main(["sweep", "sander-pe-mu", "--in-process", "--no-progress", *extra]) == 2
        assert "error:" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ outside claims


def test_claims_module_runs_and_the_reproduce_command_is_printed_whole(tmp_path, capsys, fresh_registry):
    mod = _claims_file(tmp_path)
    out = tmp_path / "r"
    assert cli.main(["run", "--claims-module", str(mod), "--out", str(out), "--no-progress", "--device", "cpu"]) == 1
    text = capsys.readouterr().out
    wrong = "outside.a-rather-long-identifier-that-a-terminal-would-have-to-wrap.wrong"
    expected = (f"    reproduce: proofs-check run --claims {wrong} --claims-module {mod.resolve()} --profile quick "
                "--seed 5 --device cpu\n")
    assert expected in text  # one line, unwrapped, although longer than the 80-column console
    data = json.loads((out / "report.json").read_text())
    assert [r["verdict"] for r in data["results"]] == ["PASS", "FAIL"]


def test_a_module_that_fails_to_load_is_named_and_the_others_still_run(tmp_path, capsys, fresh_registry):
    good = _claims_file(tmp_path)
    broken = tmp_path / "broken_claims.py"
    broken.write_text("from proofs_check.registry import register\nraise RuntimeError('half-written module')\n")
    assert cli.main(["run", "--claims-module", str(broken), "--claims-module", str(good), "--claims", "outside.mean",
                     "--out", str(tmp_path / "r"), "--no-progress", "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert f"claims module file {broken.resolve()} failed to load: RuntimeError: half-written module" in \
        captured.err.replace("\n", "")
    assert "PASS    outside.mean" in captured.out
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["load_errors"][0]["error"] == "RuntimeError: half-written module"


def test_an_outside_package_adds_claims_through_an_entry_point(tmp_path, monkeypatch, capsys, fresh_registry):
    """A distribution on sys.path declares ``[proofs_check.claims]``; its claims are listed and run."""
    site = tmp_path / "site"
    pkg = site / "outside_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(CLAIMS_FILE.format(marker=str(tmp_path / "ran"), prefix="ep"))
    info = site / "outside_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[proofs_check.claims]\noutside = outside_pkg\n")
    monkeypatch.syspath_prepend(str(site))
    assert cli.main(["list", "--ids"]) == 0
    assert capsys.readouterr().out.split() == ["ep.mean",
                                               "ep.a-rather-long-identifier-that-a-terminal-would-have-to-wrap.wrong"]
    assert cli.main(["run", "--claims", "ep.mean", "--out", str(tmp_path / "r"), "--no-progress",
                     "--device", "cpu"]) == 0
    assert _ran(tmp_path) == 2  # check and control ran
    sys.modules.pop("outside_pkg", None)


# ----------------------------------------------------------------------------------------------- listing


def test_list_json_ids_and_piped_output_are_whole(tmp_path, capsys, fresh_registry):
    mod = _claims_file(tmp_path)
    long_id = "outside.a-rather-long-identifier-that-a-terminal-would-have-to-wrap.wrong"
    assert cli.main(["list", "--claims-module", str(mod), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["outside.mean", long_id]
    assert rows[0]["profiles"] == ["quick", "cpu", "paper"] and rows[0]["source_file"] == str(mod.resolve())
    assert cli.main(["list", "--claims-module", str(mod), "--ids", "--claims", "*.wrong"]) == 0
    assert capsys.readouterr().out == long_id + "\n"
    assert cli.main(["list", "--claims-module", str(mod)]) == 0  # captured stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split("\t") == [long_id, "outside", "Eq. (1)", "monte-carlo", "quick,cpu,paper"]


# ------------------------------------------------------------------------------------------------ mutate


def test_mutate_delegates_to_the_mutation_package(monkeypatch):
    seen = {}
    fake = types.ModuleType("proofs_check.mutation.cli")
    fake.add_arguments = lambda parser: parser.add_argument("--only", default=None)

    def main(args):
        seen["only"] = args.only
        return 3

    fake.main = main
    monkeypatch.setitem(sys.modules, "proofs_check.mutation", types.ModuleType("proofs_check.mutation"))
    monkeypatch.setattr(sys.modules["proofs_check.mutation"], "cli", fake, raising=False)
    monkeypatch.setitem(sys.modules, "proofs_check.mutation.cli", fake)
    assert cli.main(["mutate", "--only", "theory.sander"]) == 3 and seen == {"only": "theory.sander"}


def test_docstring_usage_names_every_subcommand():
    usage = textwrap.dedent(cli.__doc__)
    for sub in ("list", "run", "sweep", "mutate", "--version"):
        assert f"proofs-check {sub}" in usage
