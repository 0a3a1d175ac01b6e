"""Write a run's ``report.json`` (the record), ``report.md`` and ``report.html``.

Markdown and HTML come from **one** renderer: :func:`report_context` turns a :class:`RunReport` (plus, optionally,
a mutation report) into plain data — the summary, what failed with the worst cell of each failure and its
reproduce command, the verdict table, the verdict-strength table, the mutation score, findings, hypotheses and
every claim's details — and the Jinja2 templates ``templates/report.md.j2`` and ``templates/report.html.j2``
only lay that data out.  So the two files cannot disagree on content; ``tests/test_report.py`` checks that
every fact of the Markdown is in the HTML.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from proofs_check.claim import WEAK_CONTROL_MARGIN
from proofs_check.runner import RunReport

#: How many differing entries a failure lists (the worst first).
MAX_DIFFERING = 8
#: How to produce the mutation report the "Verdict strength" section shows (issue #12).
MUTATION_HINT = ("no mutation report was given: run `proofs-check mutate` (writes reports/mutation/mutation.json) "
                 "and pass that file to the report (`write_report(..., mutation=path)`)")


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
    """The run's record, ``report.json`` (strict JSON, see :func:`strict_json`)."""
    return strict_json(report.to_dict())


# ----------------------------------------------------------------------------------------------- formatting


def fmt(x: Any) -> str:
    """A value as a reader wants it: 4 significant digits, long lists elided, NaN/inf spelt out."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict) and set(x) == {"re", "im"}:
        return f"{fmt(x['re'])}{'+' if not str(fmt(x['im'])).startswith('-') else ''}{fmt(x['im'])}j"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        items = [fmt(v) for v in x[:8]]
        return "[" + ", ".join(items) + (", …]" if len(x) > 8 else "]")
    return str(x)


def _number(x: Any) -> float | None:
    """``x`` as a float if it is a (possibly stringified non-finite or complex-as-dict) number, else ``None``."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return None


def _flatten(value: Any, prefix: tuple = ()) -> dict[tuple, Any] | None:
    """Leaves of nested lists/dicts keyed by their index path; ``None`` for a scalar."""
    if isinstance(value, dict) and set(value) != {"re", "im"}:
        out: dict[tuple, Any] = {}
        for k, v in value.items():
            sub = _flatten(v, prefix + (k,))
            out.update(sub if sub is not None else {prefix + (k,): v})
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            sub = _flatten(v, prefix + (i,))
            out.update(sub if sub is not None else {prefix + (i,): v})
        return out
    return None


def _cell_name(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "value"


def differing_entries(expected: Any, observed: Any) -> dict[str, Any] | None:
    """Which entries of ``observed`` differ from ``expected``, worst first (the failure's *worst cell* is the first).

    Works on scalars, nested lists (arrays) and dicts of the same structure; a scalar ``expected`` is compared
    with every entry of an array ``observed`` (e.g. expected 0, observed residuals).  Numbers are ranked by
    ``|observed − expected|``; other entries (sympy expressions as strings) are listed where they differ.
    Returns ``None`` when the two cannot be matched entry by entry.
    """
    e_leaves, o_leaves = _flatten(expected), _flatten(observed)
    if e_leaves is None and o_leaves is None:
        pairs = {(): (expected, observed)}
    elif e_leaves is None:
        pairs = {k: (expected, v) for k, v in o_leaves.items()}
    elif o_leaves is None or set(e_leaves) != set(o_leaves):
        return None
    else:
        pairs = {k: (e_leaves[k], o_leaves[k]) for k in e_leaves}
    rows = []
    for path, (e, o) in pairs.items():
        en, on = _number(e), _number(o)
        if en is not None and on is not None:
            gap = 0.0 if on == en else abs(on - en)  # nan if either is nan (inf − inf never reaches here)
            if gap > 0 or math.isnan(gap):
                rows.append({"cell": _cell_name(path), "expected": fmt(e), "observed": fmt(o), "gap": fmt(gap),
                             "_rank": gap if not math.isnan(gap) else math.inf})
        elif e != o:
            rows.append({"cell": _cell_name(path), "expected": fmt(e), "observed": fmt(o), "gap": "differs",
                         "_rank": math.inf})
    rows.sort(key=lambda r: -r["_rank"])
    for r in rows:
        del r["_rank"]
    return {"count": len(rows), "total": len(pairs), "rows": rows[:MAX_DIFFERING]}


def _margin(result: dict[str, Any]) -> str:
    m = result.get("control_margin")
    if m is None:
        return "—"
    v = _number(m)
    return "∞" if v is not None and math.isinf(v) else fmt(v if v is not None else m)


# ----------------------------------------------------------------------------------------------- one data model


def _claim_view(r: dict[str, Any], index: int) -> dict[str, Any]:
    tol = r["tolerance"]
    check, control = r.get("check"), r.get("control")
    view = {
        "id": r["id"], "anchor": f"claim-{index}", "paper": r["paper"], "reference": r["reference"],
        "kind": r["kind"], "verdict": r["verdict"], "reason": r["reason"], "statement": r["statement"],
        "route": r.get("route") or "", "seed": r["seed"], "seconds": f"{float(r['seconds']):.2f}",
        "tolerance": {"bound": fmt(tol["bound"]), "reason": tol["reason"], "origin": tol.get("origin", "unspecified")},
        "control_description": r["control_description"], "margin": _margin(r), "weak": bool(r.get("weak")),
        "rests_on": list(r.get("rests_on") or []), "finding": r.get("finding"), "traceback": r.get("traceback"),
        "reproduce": r.get("reproduce", ""), "failed": r["verdict"] in ("FAIL", "ERROR"),
        "check": None, "control": None, "figures": [],
    }
    if check:
        view["check"] = {"compared": check["compared"], "expected": fmt(check["expected"]),
                         "observed": fmt(check["observed"]), "error": fmt(check["error"]),
                         "details": [(k, fmt(v)) for k, v in (check.get("details") or {}).items()],
                         "differing": differing_entries(check["expected"], check["observed"])}
    if control:
        failed = _number(control["error"]) is not None and _number(control["error"]) > tol["bound"]
        view["control"] = {"error": fmt(control["error"]), "observed": fmt(control["observed"]),
                           "failed": failed}
    for part in (check, control):
        for fig in (part or {}).get("figures", []):
            view["figures"].append(fig)
    view["error"] = view["check"]["error"] if check else "—"
    view["control_error"] = view["control"]["error"] if control else "—"
    return view


def _summary(report: dict[str, Any], claims: list[dict[str, Any]]) -> dict[str, Any]:
    c = report["counts"]
    total = len(claims)
    bad = [v for v in claims if v["failed"]]
    weak = [v for v in claims if v["weak"] and v["verdict"] == "PASS"]
    load_errors = report.get("load_errors") or []
    if bad or load_errors:
        headline = (f"{len(bad)} of {total} claims did not pass ({c['FAIL']} FAIL, {c['ERROR']} ERROR)"
                    + (f"; {len(load_errors)} claims module(s) failed to load" if load_errors else ""))
        status = "FAIL"
    else:
        headline = f"All {c['PASS']} claims that ran passed" + (f" ({c['SKIPPED']} skipped)" if c["SKIPPED"] else "")
        status = "PASS"
    return {"status": status, "headline": headline, "counts": c, "total": total, "weak": len(weak),
            "findings": sum(1 for v in claims if v["finding"]),
            "figures": sum(len(v["figures"]) for v in claims)}


def load_mutation(path: Path | str) -> dict[str, Any]:
    """Read a mutation report (``mutation.json``: ``score, total, killed, survived, equivalent, timeout, seconds,
    modules, survivors``); a missing key or an unreadable file raises ``ValueError`` naming the path."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"mutation report {path} could not be read: {exc}") from exc
    missing = [k for k in ("score", "total", "killed", "survived", "equivalent", "timeout", "seconds", "modules",
                           "survivors") if k not in data]
    if missing:
        raise ValueError(f"mutation report {path} lacks {missing}")
    return data


def _percent(score: Any) -> str:
    """A mutation score (a fraction, or ``None`` when every mutant is equivalent) as a percentage."""
    return "—" if score is None else f"{100 * float(score):.1f} %"


def _survivor(s: Any) -> str:
    """One surviving mutant in a line: id, status, where, and the change (``before → after``)."""
    if not isinstance(s, dict):
        return str(s)
    where = f"{s.get('module', '?')}:{s.get('function', '?')} line {s.get('line', '?')}"
    change = f"`{s['before']}` → `{s['after']}`" if "before" in s and "after" in s else ""
    return f"`{s.get('id', '?')}` ({s.get('status', 'survived')}) {where} {change}".rstrip()


def _mutation_view(data: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """The mutation report (``proofs_check.mutation.report.to_json``) as the report shows it."""
    modules = data["modules"]
    if isinstance(modules, dict):
        modules = [{"module": k, **(v if isinstance(v, dict) else {"score": v})} for k, v in modules.items()]
    rows = [{k: (_percent(v) if k == "score" else fmt(v)) for k, v in m.items()} for m in modules]
    order = ("module", "score", "total", "killed", "crashed", "timeout", "survived", "uncovered", "equivalent", "seconds")
    columns = [c for c in order if any(c in r for r in rows)] + sorted({k for r in rows for k in r} - set(order))
    return {"path": Path(path).as_posix(), "score": _percent(data["score"]), "total": data["total"],
            "killed": data["killed"], "survived": data["survived"], "equivalent": data["equivalent"],
            "timeout": data["timeout"], "seconds": fmt(float(data["seconds"])), "columns": columns,
            "modules": rows, "survivors": [_survivor(s) for s in data["survivors"]]}


def report_context(report: RunReport, *, mutation: Path | str | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data (the one input of both templates)."""
    data = json.loads(to_json(report))
    claims = [_claim_view(r, i) for i, r in enumerate(data["results"])]
    env = data["environment"]
    return {
        "profile": data["profile"], "device": env.get("device", data["device"]), "started": data["started"],
        "seconds": f"{float(data['seconds']):.1f}", "command": data.get("command") or "",
        "executor": data.get("executor"), "environment": list(env.items()),
        "load_errors": data.get("load_errors") or [],
        "summary": _summary(data, claims), "claims": claims,
        "failures": [v for v in claims if v["failed"]],
        "findings": [v for v in claims if v["finding"]],
        "hypotheses": sorted({h for v in claims for h in v["rests_on"]}),
        "figures": [(v, f) for v in claims for f in v["figures"]],
        "weak_threshold": fmt(WEAK_CONTROL_MARGIN),
        "mutation": _mutation_view(load_mutation(mutation), mutation) if mutation is not None else None,
        "mutation_hint": MUTATION_HINT if mutation is None else None,
    }


# ----------------------------------------------------------------------------------------------- rendering


def _md_cell(text: Any) -> str:
    """Text for one Markdown table cell: pipes escaped, newlines folded."""
    return str(text).replace("|", "\\|").replace("\n", " ")


@lru_cache(maxsize=None)
def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("proofs_check", "templates"), autoescape=autoescape,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["cell"] = _md_cell
    return env


def to_markdown(report: RunReport, *, mutation: Path | str | None = None) -> str:
    """``report.md``: the report as Markdown (template ``templates/report.md.j2``)."""
    return _environment(False).get_template("report.md.j2").render(**report_context(report, mutation=mutation))


def to_html(report: RunReport, *, mutation: Path | str | None = None) -> str:
    """``report.html``: the same content as the Markdown, summary and failures first, figures shown in place
    (linked from ``figures/`` next to the page), long tables and claim details collapsible."""
    return _environment(True).get_template("report.html.j2").render(**report_context(report, mutation=mutation))


def write_report(report: RunReport, out_dir: Path, *, mutation: Path | str | None = None) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out_dir`` (figures are under ``figures/``).

    ``mutation``: path of a mutation report (``mutation.json`` of ``proofs-check mutate``) for the "Verdict
    strength" section; without it the section says how to produce one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["md"].write_text(to_markdown(report, mutation=mutation), encoding="utf-8")
    paths["html"].write_text(to_html(report, mutation=mutation), encoding="utf-8")
    return paths
