"""The report: one data model (``report_context``) rendered to Markdown and HTML by templates; failures show the
worst cell and an unwrapped reproduce command; the verdict-strength section shows route, tolerance origin,
control margin and the mutation score."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.report import differing_entries, fmt, load_mutation, report_context, to_html, to_markdown, write_report
from proofs_check.runner import RunReport, run_claims

EXPECTED = [[1.0, 2.0], [3.0, 4.0]]


def _figure_check(ctx: RunContext) -> Measurement:
    from proofs_check.figures import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    return Measurement(error=0.0, expected=1.0, observed=1.0, compared="toy identity", figures=[
        p for p in [ctx.save_figure(fig, f"toy-{ctx.role}")] if p])


def _array_check(ctx: RunContext) -> Measurement:
    observed = np.array(EXPECTED)
    observed[1, 0] += 0.5  # the worst cell
    observed[0, 1] += 0.01
    return Measurement(error=0.5, expected=EXPECTED, observed=observed, compared="closed form vs Monte Carlo")


def _symbolic_check(ctx: RunContext) -> Measurement:
    return Measurement(error=1.0, expected=["d*m2", "d*m4*t"], observed=["d*m2", "d*m4*t/2"],
                       compared="sympy entries of (c, b_t)")


def _control(ctx: RunContext) -> Measurement:
    return Measurement(error=10.0, expected=0.0, observed=10.0, compared="control")


def _claim(cid: str, check: Any, **kw: Any) -> Claim:
    base = dict(id=cid, paper="Toy et al.", reference="Eq. (1)", statement=f"statement of {cid}", kind="identity",
                check=check, tolerance=Tolerance(0.1, f"round-off bound of {cid}", origin="round-off"),
                control=_control, control_description="the printed formula", route=f"route of {cid}")
    base.update(kw)
    return Claim(**base)


def _raise(ctx: RunContext) -> Measurement:
    raise RuntimeError("the check crashed")


@pytest.fixture(scope="module")
def toy_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunReport, Path]:
    out = tmp_path_factory.mktemp("report")
    claims = [_claim("toy.pass", _figure_check, finding="the paper prints a sign slip"),
              _claim("toy.array", _array_check, rests_on=("UNCONFIRMED: toy hypothesis",)),
              _claim("toy.symbolic", _symbolic_check, kind="symbolic",
                     tolerance=Tolerance(0.0, "exact symbolic equality", origin="exact")),
              _claim("toy.weak", _figure_check, control=lambda ctx: Measurement(
                  error=0.2, expected=0.0, observed=0.2, compared="control")),
              _claim("toy.error", _raise)]
    return run_claims(claims, out_dir=out, command="proofs-check run --claims 'toy.*'"), out


def test_worst_cell_and_unwrapped_reproduce(toy_report: tuple[RunReport, Path]) -> None:
    report, _ = toy_report
    md = to_markdown(report)
    assert "## What failed and why" in md
    failed = md.split("## What failed and why")[1].split("## Claims")[0]
    # the worst cell comes first, with expected and observed side by side
    assert "2 of 4 entries differ; worst first" in failed
    rows = [line for line in failed.splitlines() if line.startswith("| `[")]
    assert rows[0] == "| `[1][0]` | 3 | 3.5 | 0.5 |" and rows[1].startswith("| `[0][1]` | 2 | 2.01 |")
    # symbolic entries: which one differs and both values
    assert "| `[1]` | d*m4*t | d*m4*t/2 | differs |" in failed
    # each reproduce command on a line of its own inside a fenced block (pasting it cannot break)
    for r in report.results:
        if r.verdict in ("FAIL", "ERROR"):
            assert f"```bash\n{r.reproduce}\n```" in md
    assert "toy.pass" not in failed


def test_verdict_strength_section(toy_report: tuple[RunReport, Path], tmp_path: Path) -> None:
    report, _ = toy_report
    md = to_markdown(report)
    section = md.split("## Verdict strength")[1].split("\n## ")[0]
    assert "| `toy.array` | route of toy.array | round-off | 0.1 | 10 | 100 |" in section
    assert "| `toy.symbolic` | route of toy.symbolic | exact | 0 | 10 | ∞ |" in section
    assert "| `toy.weak` | route of toy.weak | round-off | 0.1 | 0.2 | 2 **weak** |" in section
    assert "proofs-check mutate" in section  # no mutation report: says how to make one
    # the layout of proofs_check.mutation.report.to_json (fields the report does not show left out)
    survivor = {"id": "theory.sander.augmented:optimal_step:3:binop", "module": "theory.sander.augmented",
                "function": "optimal_step", "line": 120, "operator": "binop", "before": "b / a", "after": "b * a",
                "status": "survived", "dependent_claims": ["sander.aug.optimum-u.mc"], "diff": "--- a\n+++ b\n"}
    mutation = {"score": 0.9, "total": 20, "killed": 18, "survived": 1, "equivalent": 1, "timeout": 0,
                "seconds": 12.5, "modules": {"theory.sander.augmented": {
                    "score": 0.9, "total": 20, "killed": 18, "timeout": 0, "survived": 1, "uncovered": 0,
                    "equivalent": 1, "seconds": 12.5}}, "survivors": [survivor]}
    path = tmp_path / "mutation.json"
    path.write_text(json.dumps(mutation))
    md = to_markdown(report, mutation=path)
    assert "**Mutation score 90.0 %**: 18 of 20 mutants killed, 1 survived, 1 equivalent, 0 timed out" in md
    assert "| module | score | total | killed | timeout | survived | uncovered | equivalent | seconds |" in md
    assert "| theory.sander.augmented | 90.0 % | 20 | 18 | 0 | 1 | 0 | 1 | 12.5 |" in md
    assert ("- `theory.sander.augmented:optimal_step:3:binop` (survived) theory.sander.augmented:optimal_step "
            "line 120 `b / a` → `b * a`") in md
    assert "Mutation score 90.0 %" in html.unescape(to_html(report, mutation=path))
    mutation["score"] = None  # every mutant equivalent
    path.write_text(json.dumps(mutation))
    assert "**Mutation score —**" in to_markdown(report, mutation=path)


def test_mutation_report_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mutation.json"
    bad.write_text(json.dumps({"score": 1.0}))
    with pytest.raises(ValueError, match="mutation.json lacks"):
        load_mutation(bad)
    with pytest.raises(ValueError, match="could not be read"):
        load_mutation(tmp_path / "missing.json")


def _strings(obj: Any, key: str = "") -> list[str]:
    """Every text the report shows: the string leaves of the context (anchors are HTML-only link targets)."""
    if isinstance(obj, dict):
        return [s for k, v in obj.items() if k != "anchor" for s in _strings(v, k)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v, key)]
    return [str(obj).strip()] if isinstance(obj, str) and obj.strip() else []


def test_html_carries_everything_the_markdown_does(toy_report: tuple[RunReport, Path], tmp_path: Path) -> None:
    report, out = toy_report
    path = tmp_path / "mutation.json"
    path.write_text(json.dumps({"score": 0.5, "total": 2, "killed": 1, "survived": 1, "equivalent": 0,
                                "timeout": 0, "seconds": 1.0, "modules": [], "survivors": ["x.py:1 + -> -"]}))
    ctx = report_context(report, mutation=path)
    md, page = to_markdown(report, mutation=path), html.unescape(to_html(report, mutation=path))
    texts = set(_strings(ctx))
    assert len(texts) > 60
    missing_md = sorted(t for t in texts if t not in md)
    missing_html = sorted(t for t in texts if t not in page)
    assert not missing_md and not missing_html, (missing_md, missing_html)
    # summary first: the HTML's first heading after the title is the summary box, then what failed
    assert page.index('id="summary"') < page.index('id="what-failed"') < page.index('id="claims"')
    assert ctx["summary"]["status"] == "FAIL" and ctx["summary"]["weak"] == 1
    assert "3 of 5 claims did not pass (2 FAIL, 1 ERROR)" in md
    fig = "figures/toy-check.png"
    assert (out / fig).stat().st_size > 0 and f"src='{fig}'" in page and f"]({fig})" in md


def test_write_report_files_and_strict_json(toy_report: tuple[RunReport, Path], tmp_path: Path) -> None:
    report, _ = toy_report
    paths = write_report(report, tmp_path)
    data = json.loads(paths["json"].read_text())  # strict JSON (inf margin written as a string)
    assert data["results"][2]["control_margin"] == "inf"
    assert paths["md"].read_text() == to_markdown(report)
    assert paths["html"].read_text().startswith("<!doctype html>")


def test_differing_entries() -> None:
    assert differing_entries(1.0, 1.0) == {"count": 0, "total": 1, "rows": []}
    d = differing_entries({"a": [1, 2], "b": 3.0}, {"a": [1, 5], "b": 3.5})
    assert [r["cell"] for r in d["rows"]] == ["a[1]", "b"] and d["rows"][0]["gap"] == "3"
    d = differing_entries(0.0, [0.0, -2e-3, 1e-3])  # a scalar expected against every observed entry
    assert d["count"] == 2 and d["rows"][0] == {"cell": "[1]", "expected": "0", "observed": "-0.002", "gap": "0.002"}
    assert differing_entries([1, 2], [1, 2, 3]) is None  # no entry-by-entry match
    assert differing_entries(1.0, "nan")["rows"][0]["gap"] == "nan"
    assert differing_entries(1.0, "inf")["rows"][0]["gap"] == "inf"


def test_fmt() -> None:
    assert fmt(1 / 3) == "0.3333" and fmt(math.inf) == "inf" and fmt({"re": 1.0, "im": -2.0}) == "1-2j"
    assert fmt(list(range(10))) == "[0, 1, 2, 3, 4, 5, 6, 7, …]" and fmt(True) == "True"
