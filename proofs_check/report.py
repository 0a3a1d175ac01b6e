"""Write a run's ``report.json`` (the record), ``report.md`` and ``report.html`` (both rendered from it)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from proofs_check.runner import ClaimResult, RunReport


def jsonable(obj: Any) -> Any:
    """``json.dumps`` default: numpy scalars/arrays, complex numbers, paths and tensors to plain JSON."""
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


def clean_floats(obj: Any) -> Any:
    """Replace NaN/inf by strings so the JSON is strict (readable by any parser)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_floats(v) for v in obj]
    return obj


def strict_json(data: Any) -> str:
    """Indented JSON that any parser reads: numpy/torch values converted, NaN/inf written as strings."""
    raw = json.loads(json.dumps(data, default=jsonable))
    return json.dumps(clean_floats(raw), indent=2, allow_nan=False)


def to_json(report: RunReport) -> str:
    return strict_json(report.to_dict())


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


_CSS = ("body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}.PASS{color:#080}.FAIL{color:#c00}"
        ".ERROR{color:#a0a}.SKIPPED{color:#a80}img{max-width:100%}pre{background:#f6f6f6;overflow:auto}")


def to_html(report: RunReport) -> str:
    """A self-contained HTML page (figures linked from ``figures/``) with the same content as the Markdown."""
    e = html.escape
    c = report.counts()
    parts = [f"<!doctype html><meta charset=utf-8><title>icl-verify report</title><style>{_CSS}</style>",
             "<h1>icl-verify report</h1>",
             f"<p>Profile <b>{e(report.profile)}</b>, device <b>{e(str(report.environment.get('device')))}</b>, "
             f"started {e(report.started)}, {report.seconds:.1f} s. PASS {c['PASS']} · FAIL {c['FAIL']} · "
             f"ERROR {c['ERROR']} · SKIPPED {c['SKIPPED']}.</p>",
             "<p>" + e(", ".join(f"{k} {v}" for k, v in report.environment.items())) + "</p>",
             "<table><tr><th>claim<th>reference<th>kind<th>verdict<th>error<th>tolerance<th>control error<th>s</tr>"]
    for r in report.results:
        err = f"{r.check['error']:.3g}" if r.check else "—"
        cerr = f"{r.control['error']:.3g}" if r.control else "—"
        parts.append(f"<tr><td><a href='#{e(r.id)}'>{e(r.id)}</a><td>{e(r.reference)}<td>{e(r.kind)}"
                     f"<td class={r.verdict}><b>{r.verdict}</b><td>{err}<td>{r.tolerance['bound']:.3g}<td>{cerr}"
                     f"<td>{r.seconds:.2f}</tr>")
    parts.append("</table>")
    findings = [r for r in report.results if r.finding]
    if findings:
        parts.append("<h2>Findings</h2><ul>" + "".join(
            f"<li><code>{e(r.id)}</code> ({e(r.reference)}): {e(r.finding)}" for r in findings) + "</ul>")
    for r in report.results:
        parts.append(f"<h3 id='{e(r.id)}'>{e(r.id)} — <span class={r.verdict}>{r.verdict}</span></h3>"
                     f"<p><i>{e(r.paper)}</i>, {e(r.reference)}. Seed {r.seed}.</p><p><b>Claim.</b> {e(r.statement)}</p>"
                     f"<p><b>Verdict.</b> {e(r.reason)}</p><p><b>Tolerance.</b> {e(r.tolerance['reason'])}</p>")
        if r.check:
            parts.append(f"<p><b>Compared.</b> {e(r.check['compared'])}: expected <code>{e(_fmt(r.check['expected']))}"
                         f"</code>, observed <code>{e(_fmt(r.check['observed']))}</code></p>")
        if r.control:
            parts.append(f"<p><b>Negative control</b> ({e(r.control_description)}): error {r.control['error']:.3g}</p>")
        parts.extend(f"<img src='{e(f)}' alt='{e(r.id)}'>" for f in r.figures)
        if r.traceback:
            parts.append(f"<pre>{e(r.traceback)}</pre>")
    return "\n".join(parts) + "\n"


def write_report(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out_dir`` (figures are under ``figures/``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["md"].write_text(to_markdown(report), encoding="utf-8")
    paths["html"].write_text(to_html(report), encoding="utf-8")
    return paths
