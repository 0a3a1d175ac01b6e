"""Write a run's ``report.json`` (the record) and ``report.md`` (rendered from the same data)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from proofs_check.runner import ClaimResult, RunReport


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, complex):
        return {"re": obj.real, "im": obj.imag}
    if isinstance(obj, Path):
        return obj.as_posix()
    if hasattr(obj, "tolist"):  # torch tensors
        return obj.tolist()
    return str(obj)


def _clean_floats(obj: Any) -> Any:
    """Replace NaN/inf by strings so the JSON is strict (readable by any parser)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_floats(v) for v in obj]
    return obj


def to_json(report: RunReport) -> str:
    raw = json.loads(json.dumps(report.to_dict(), default=_jsonable))
    return json.dumps(_clean_floats(raw), indent=2, allow_nan=False)


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, (list, tuple)) and len(x) > 8:
        return "[" + ", ".join(_fmt(v) for v in x[:8]) + ", …]"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _claim_section(r: ClaimResult) -> list[str]:
    out = [f"### `{r.id}` — {r.verdict}", "",
           f"*{r.paper}*, {r.reference}. Kind: {r.kind}. Seed {r.seed}, {r.seconds:.2f} s.", "",
           f"**Claim.** {r.statement}", "",
           f"**Verdict.** {r.reason}", "",
           f"**Tolerance.** {r.tolerance['bound']:.3g} — {r.tolerance['reason']}", ""]
    if r.check:
        out += [f"**Compared.** {r.check['compared']}", "",
                f"- expected: `{_fmt(r.check['expected'])}`", f"- observed: `{_fmt(r.check['observed'])}`",
                f"- error: {r.check['error']:.3g}"]
        for k, v in r.check.get("details", {}).items():
            out.append(f"- {k}: `{_fmt(v)}`")
        out.append("")
    if r.control:
        out += [f"**Negative control** ({r.control_description}): error {r.control['error']:.3g} "
                f"({'failed, as required' if r.control['error'] > r.tolerance['bound'] else 'DID NOT FAIL'}); "
                f"observed `{_fmt(r.control['observed'])}`.", ""]
    if r.rests_on:
        out += ["**Rests on:** " + "; ".join(r.rests_on), ""]
    if r.finding:
        out += [f"**Finding.** {r.finding}", ""]
    for fig in r.figures:
        out += [f"![{r.id}]({fig})", ""]
    if r.traceback:
        out += ["```", r.traceback.rstrip(), "```", ""]
    if r.verdict in ("FAIL", "ERROR"):
        out += [f"Reproduce: `{r.reproduce}`", ""]
    return out


def to_markdown(report: RunReport) -> str:
    c = report.counts()
    env = report.environment
    lines = [
        "# icl-verify report", "",
        f"Profile **{report.profile}**, device **{env.get('device', report.device)}**, started {report.started}, "
        f"{report.seconds:.1f} s.  PASS {c['PASS']} · FAIL {c['FAIL']} · ERROR {c['ERROR']} · SKIPPED {c['SKIPPED']}.", "",
        "Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), "",
    ]
    if report.command:
        lines += [f"Command: `{report.command}`", ""]
    lines += ["| claim | paper | reference | kind | verdict | error | tolerance | control error | seconds |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in report.results:
        err = f"{r.check['error']:.3g}" if r.check else "—"
        cerr = f"{r.control['error']:.3g}" if r.control else "—"
        lines.append(f"| `{r.id}` | {_md_escape(r.paper)} | {_md_escape(r.reference)} | {r.kind} | **{r.verdict}** | "
                     f"{err} | {r.tolerance['bound']:.3g} | {cerr} | {r.seconds:.2f} |")
    lines.append("")
    bad = [r for r in report.results if r.verdict in ("FAIL", "ERROR")]
    if bad:
        lines += ["## What failed and why", ""]
        for r in bad:
            lines += [f"- `{r.id}`: {r.verdict}: {r.reason}. Reproduce: `{r.reproduce}`"]
        lines.append("")
    findings = [r for r in report.results if r.finding]
    if findings:
        lines += ["## Findings (discrepancies with the papers or their public code)", ""]
        for r in findings:
            lines.append(f"- `{r.id}` ({r.reference}): {r.finding}")
        lines.append("")
    unconfirmed = sorted({h for r in report.results for h in r.rests_on})
    if unconfirmed:
        lines += ["## Hypotheses the claims rest on (UNCONFIRMED in the paper text available)", ""]
        lines += [f"- {h}" for h in unconfirmed] + [""]
    lines += ["## Claims", ""]
    for r in report.results:
        lines += _claim_section(r)
    return "\n".join(lines) + "\n"


def write_report(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write ``report.json`` and ``report.md`` into ``out_dir`` (figures are already under ``figures/``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md"}
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["md"].write_text(to_markdown(report), encoding="utf-8")
    return paths
