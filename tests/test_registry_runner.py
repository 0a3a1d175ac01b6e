"""The claim registry, runner, report writer and CLI, exercised with small self-contained claims."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from proofs_check import cli
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance, verdict_of
from proofs_check.registry import REGISTRY, Registry, load_all
from proofs_check.report import to_markdown, write_report
from proofs_check.runner import run_claim, run_claims
from theory.arguments import ArgumentError


def _mean_error(ctx: RunContext, shift: float = 0.0) -> Measurement:
    """|mean of N(shift, 1) samples - 0| in standard errors."""
    x = ctx.rng(0).standard_normal(10_000) + shift
    z = abs(x.mean()) / (x.std(ddof=1) / math.sqrt(x.size))
    return Measurement(error=z, expected=0.0, observed=float(x.mean()), compared="sample mean vs 0, in SE")


def _claim(**kw) -> Claim:
    base = dict(id="toy.mean", paper="Toy", reference="Eq. (1)", statement="the mean of N(0,1) is 0",
                kind="monte-carlo", check=_mean_error, control=lambda ctx: _mean_error(ctx, shift=0.5),
                control_description="samples of N(0.5, 1)",
                tolerance=Tolerance(5.0, "5 SE: false alarm 5.7e-7", origin="standard-errors"), seed=3)
    base.update(kw)
    return Claim(**base)


def test_claim_without_negative_control_is_refused() -> None:
    with pytest.raises(ValueError, match="negative control"):
        _claim(control=None)
    with pytest.raises(ValueError, match="control_description"):
        _claim(control_description=" ")


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"id": "Bad Id"}, "Claim.id"),
        ({"kind": "vibes"}, "kind must be one of"),
        ({"profiles": ("nightly",)}, "profiles must be"),
        ({"statement": ""}, "statement must be"),
        ({"seed": -1}, "seed must be"),
        ({"tolerance": 1e-3}, "tolerance must be a Tolerance"),
    ],
)
def test_claim_fields_are_validated(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _claim(**kw)


def test_tolerance_needs_a_reason_and_a_bound() -> None:
    with pytest.raises(ValueError, match="reason"):
        Tolerance(1.0, "", origin="exact")
    with pytest.raises(ValueError, match="bound"):
        Tolerance(float("nan"), "x", origin="exact")
    with pytest.raises(ValueError, match="bound"):
        Tolerance(-1.0, "x", origin="exact")


def _elsewhere(ctx: RunContext) -> Measurement:
    return _mean_error(ctx)


_elsewhere.__module__ = "another.claims.module"


def test_registry_replaces_an_id_from_the_same_module_refuses_it_from_another_and_selects_by_glob() -> None:
    reg = Registry()
    first = reg.register(_claim())
    reg.register(_claim(id="toy.other", profiles=("cpu",)))
    again = reg.register(_claim(statement="the mean of N(0,1) is zero (re-run notebook cell)"))
    assert reg.get("toy.mean") is again and again is not first and len(reg) == 2
    with pytest.raises(ValueError, match="already registered.*another.claims.module"):
        reg.register(_claim(check=_elsewhere))
    assert [c.id for c in reg.select(["toy.*"])] == ["toy.mean", "toy.other"]
    assert [c.id for c in reg.select(["toy.*"], profile="quick")] == ["toy.mean"]
    assert [c.id for c in reg.select(["toy.other"])] == ["toy.other"]
    with pytest.raises(KeyError, match="no claim"):
        reg.get("nope")
    with pytest.raises(ArgumentError, match="profile"):
        reg.select(profile="medium")
    with pytest.raises(ArgumentError, match=r"no registered claim matches \['toy.typo'\]"):
        reg.select(["toy.*", "toy.typo"])
    with pytest.raises(ArgumentError, match="at least one"):
        reg.select([])


def test_profiles_are_the_one_vocabulary_and_full_is_read_as_cpu() -> None:
    from proofs_check.claim import PROFILES
    from proofs_check.sweeps.grid import SCALES

    assert PROFILES == SCALES == ("quick", "cpu", "paper")
    assert _claim(profiles=("quick", "full")).profiles == ("quick", "cpu")
    assert _claim().profiles == PROFILES
    assert RunContext(profile="cpu").scale == "cpu" and not RunContext(profile="paper").quick


def test_verdicts() -> None:
    tol = Tolerance(1.0, "r", origin="exact")
    m = lambda e: Measurement(error=e, expected=0, observed=0, compared="x")  # noqa: E731
    assert verdict_of(m(0.5), m(2.0), tol)[0] == "PASS"
    v, why = verdict_of(m(0.5), m(0.9), tol)
    assert v == "FAIL" and "cannot tell" in why
    v, why = verdict_of(m(3.0), m(2.0), tol)
    assert v == "FAIL" and "check missed" in why and "factor 3" in why
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="finite non-negative"):
            m(bad)


def test_run_claim_pass_fail_error_skip(tmp_path) -> None:
    ok = run_claim(_claim())
    assert ok.verdict == "PASS", ok.explain()
    assert ok.control["error"] > 5.0 and ok.seed == 3
    # a check whose control is as right as the check cannot pass
    weak = run_claim(_claim(control=_mean_error))
    assert weak.verdict == "FAIL" and "negative control did not fail" in weak.reason
    # a wrong claim fails with the size of the miss and a reproduce command
    wrong = run_claim(_claim(check=lambda ctx: _mean_error(ctx, shift=0.2)))
    assert wrong.verdict == "FAIL" and "check missed" in wrong.reason
    assert "--seed 3" in wrong.reproduce and "toy.mean" in wrong.reproduce

    def boom(ctx: RunContext) -> Measurement:
        raise RuntimeError("kaput")

    err = run_claim(_claim(check=boom))
    assert err.verdict == "ERROR" and "kaput" in err.reason and "RuntimeError" in err.traceback
    assert run_claim(_claim(profiles=("cpu",)), profile="quick").verdict == "SKIPPED"
    assert run_claim(_claim(requires_cuda=True), device="cpu").verdict == "SKIPPED"


def test_seed_override_changes_the_draw() -> None:
    a = run_claim(_claim(), seed=1)
    b = run_claim(_claim(), seed=2)
    c = run_claim(_claim(), seed=1)
    assert a.check["observed"] != b.check["observed"]
    assert a.check["observed"] == c.check["observed"]


def test_report_json_and_markdown(tmp_path) -> None:
    def with_figure(ctx: RunContext) -> Measurement:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        m = _mean_error(ctx)
        m.figures = [p for p in [ctx.save_figure(fig, "toy")] if p]
        m.details = {"array": np.arange(3), "nan": float("nan")}
        return m

    claims = [_claim(check=with_figure, finding="the toy paper forgot a factor 2"),
              _claim(id="toy.bad", check=lambda ctx: _mean_error(ctx, shift=0.2), rests_on=("UNCONFIRMED: toy",))]
    report = run_claims(claims, out_dir=tmp_path)
    paths = write_report(report, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["counts"] == {"PASS": 1, "FAIL": 1, "ERROR": 0, "SKIPPED": 0}
    assert data["schema_version"] == 1 and data["environment"]["torch"]
    assert data["results"][0]["check"]["details"]["array"] == [0, 1, 2]
    assert (tmp_path / "figures" / "toy.png").stat().st_size > 0
    md = paths["md"].read_text()
    assert "## What failed and why" in md and "toy.bad" in md and "Reproduce" in md
    assert "forgot a factor 2" in md and "UNCONFIRMED: toy" in md and "![toy.mean](figures/toy.png)" in md
    assert not report.ok
    assert to_markdown(report) == md
    page = paths["html"].read_text()
    assert "<img src='figures/toy.png'" in page and "forgot a factor 2" in page and "class=FAIL" in page


def test_cli_list_and_run(tmp_path, capsys, monkeypatch) -> None:
    load_all()
    reg = Registry()
    reg.register(_claim())
    reg.register(_claim(id="toy.bad", check=lambda ctx: _mean_error(ctx, shift=0.2)))
    monkeypatch.setattr(cli, "load_all", lambda files=(): reg)
    assert cli.main(["list"]) == 0
    assert "toy.mean" in capsys.readouterr().out
    assert cli.main(["run", "--claims", "toy.mean", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["counts"]["PASS"] == 1
    assert cli.main(["run", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "reproduce: proofs-check run --claims toy.bad --profile quick --seed 3 --device cpu\n" in out
    assert cli.main(["run", "--claims", "nothing.*", "--out", str(tmp_path), "--no-progress"]) == 2
    assert cli.main(["run", "--claims", "toy.mean", "--seed", "-3", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 2


def test_every_registered_claim_is_complete() -> None:
    """Every claim of the suite has a paper reference, a tolerance reason and a negative control."""
    reg = load_all()
    assert len(reg) > 0
    for c in reg:
        assert c.control is not None and c.control_description.strip()
        assert c.tolerance.reason.strip() and c.reference.strip()
    assert len(REGISTRY) == len(reg)
