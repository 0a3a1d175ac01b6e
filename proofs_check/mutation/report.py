"""The mutation report: ``mutation.json`` (strict JSON) and ``mutation.md`` rendered from the same numbers.

``score = (killed + crashed + timeout) / (total − equivalent − error)`` overall and per module (``null`` when
no selected mutant has a verdict).  ``error`` counts mutants the harness could not run (listed with the reason).  In the JSON, ``killed`` counts mutants a claim killed (crashes included),
``timeout`` those killed by their time limit, ``survived`` every survivor (``uncovered`` included, also counted
on its own), ``equivalent`` the catalogued ones.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from proofs_check.mutation.harness import MutantResult, MutationRun
from theory.arguments import ArgumentError

SCHEMA_VERSION = 1


def _counts(statuses: list[str]) -> dict[str, Any]:
    c = Counter(statuses)
    total = len(statuses)
    killed = c["killed"] + c["crashed"]
    live = total - c["equivalent"] - c["error"]
    return {"score": (killed + c["timeout"]) / live if live else None, "total": total, "killed": killed,
            "crashed": c["crashed"], "timeout": c["timeout"], "survived": c["survived"] + c["uncovered"],
            "uncovered": c["uncovered"], "equivalent": c["equivalent"], "error": c["error"]}


def _mutant_json(r: MutantResult, *, with_diff: bool) -> dict[str, Any]:
    m = r.mutant
    out: dict[str, Any] = {"id": m.id, "module": m.module, "function": m.function, "line": m.line,
                           "operator": m.operator, "before": m.before, "after": m.after, "status": r.status,
                           "killed_by": r.killed_by, "verdict": r.verdict, "reason": r.reason,
                           "seconds": round(r.seconds, 3), "limit": r.limit, "dependent_claims": r.dependent_claims}
    if with_diff:
        out["diff"] = m.diff
    return out


def to_json(run: MutationRun) -> dict[str, Any]:
    """The report as a JSON-ready dict (see the module docstring for the counts)."""
    by_module: dict[str, list[MutantResult]] = {}
    for r in run.results:
        by_module.setdefault(r.mutant.module, []).append(r)
    modules = {}
    for name, rs in sorted(by_module.items()):
        modules[name] = _counts([r.status for r in rs]) | {"seconds": round(sum(r.seconds for r in rs), 1)}
    kills = Counter(r.killed_by for r in run.results if r.killed_by)
    deps = run.dependencies
    return {
        "schema_version": SCHEMA_VERSION,
        **_counts([r.status for r in run.results]),
        "seconds": round(run.seconds, 1),
        "complete": run.complete,
        "trace_seconds": round(run.trace_seconds, 1),
        "started": run.started,
        "seed": run.selection["seed"],
        "selection": run.selection,
        "environment": run.environment,
        "modules": modules,
        "survivors": [_mutant_json(r, with_diff=True) for r in run.results if r.status in ("survived", "uncovered")],
        "equivalent_mutants": [_mutant_json(r, with_diff=True) for r in run.results if r.status == "equivalent"],
        "stale_equivalents": run.stale,
        "moved_equivalents": run.moved,
        "mutants": [_mutant_json(r, with_diff=False) for r in run.results],
        "kills_per_claim": dict(kills.most_common()),
        "dependencies": {"key": deps.key, "traces_reused": run.traces_reused, "profile": deps.profile,
                         "usable_claims": deps.usable(),
                         "unusable_claims": {cid: t.verdict for cid, t in deps.claims.items() if t.verdict != "PASS"},
                         "claim_seconds": {cid: round(t.seconds, 2) for cid, t in deps.claims.items()},
                         "import_time_units": deps.import_time_units},
    }


def _pct(score: float | None) -> str:
    return "—" if score is None else f"{100 * score:.1f} %"


def to_markdown(data: dict[str, Any]) -> str:
    """The Markdown report rendered from :func:`to_json`'s dict."""
    lines = ["# Mutation report", ""]
    if not data["complete"]:
        lines += ["**Partial report: the run was still going (or was stopped) when this was written.**", ""]
    lines += [
             f"Score **{_pct(data['score'])}** = (killed + timeout) / (total − equivalent − errors) over {data['total']} "
             f"mutants: killed {data['killed']} (crashed {data['crashed']}), timeout {data['timeout']}, "
             f"survived {data['survived']} (uncovered {data['uncovered']}), equivalent {data['equivalent']}, "
             f"harness errors {data['error']}.  ",
             f"{data['seconds']:.0f} s (dependency trace {data['trace_seconds']:.0f} s), started {data['started']}, "
             f"seed {data['seed']}, profile {data['selection']['profile']}, "
             f"{data['selection']['workers']} workers; "
             + ", ".join(f"{k} {v}" for k, v in data["environment"].items()) + ".", "",
             "## Score per module", "",
             "| module | score | total | killed | timeout | survived | uncovered | equivalent | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, c in data["modules"].items():
        lines.append(f"| `{name}` | {_pct(c['score'])} | {c['total']} | {c['killed']} | {c['timeout']} | "
                     f"{c['survived']} | {c['uncovered']} | {c['equivalent']} | {c['seconds']} |")
    sel = data["selection"]
    lines += ["", f"Selection: modules {sel['modules'] or 'all'}, functions {sel['functions'] or 'all'}, "
              f"operators {', '.join(sel['operators'])}, claims {sel['claims'] or 'all'}, sample {sel['sample']}, "
              f"max {sel['max_mutants']}; {sel['generated']} mutants generated.", ""]
    if sel.get("shard"):
        lines += [f"Shard {sel['shard']} of the selection (join the shards' reports with `--merge`).", ""]
    for f in data.get("folded", []):
        lines += [f"Folded in: a re-run of {f['mutants']} of these mutants started {f['started']} ({f['seconds']:.0f} s); "
                  "its results replace the earlier ones (`--fold`).", ""]
    if sel.get("shards"):
        whole = "together the whole selection" if sel["shards"]["whole_selection"] else "NOT the whole selection"
        lines += [f"Joined from {len(sel['shards']['present'])} parts (shards "
                  f"{', '.join(str(s) for s in sel['shards']['present'])}: {whole}); seconds are the sum of the "
                  "parts' wall times.", ""]
    if sel.get("missing_ids"):
        lines += ["Requested ids that no generated mutant has any more (the code changed): "
                  + ", ".join(f"`{i}`" for i in sel["missing_ids"]) + ".", ""]
    survivors = [s for s in data["survivors"] if s["status"] == "survived"]
    uncovered = [s for s in data["survivors"] if s["status"] == "uncovered"]
    lines += ["## Survivors", "",
              "Each must be killed by a new or sharper claim, or shown equivalent (no observable change) with a "
              "reason in `proofs_check/mutation/equivalent.py`.", ""]
    if not survivors:
        lines += ["None.", ""]
    for s in survivors:
        lines += [f"### `{s['id']}`", "", "Status: survived; dependent claims (all PASS): "
                  + ", ".join(f"`{c}`" for c in s["dependent_claims"]), "", "```diff", s["diff"].rstrip(), "```", ""]
    lines += ["## Uncovered (no claim of the profile calls the function)", ""]
    if not uncovered:
        lines += ["None.", ""]
    by_fn: dict[str, list[dict[str, Any]]] = {}
    for s in uncovered:
        by_fn.setdefault(f"{s['module']}:{s['function']}", []).append(s)
    for fn, items in by_fn.items():
        lines += [f"<details><summary><code>{fn}</code>: {len(items)} mutants</summary>", ""]
        for s in items:
            lines += [f"`{s['id']}`", "", "```diff", s["diff"].rstrip(), "```", ""]
        lines += ["</details>", ""]
    errors = [m for m in data["mutants"] if m["status"] == "error"]
    if errors:
        lines += ["## Harness errors (not a verdict on the mutant; left out of the score)", ""]
        lines += [f"- `{m['id']}`: {m['reason'].splitlines()[0]}" for m in errors] + [""]
    lines += ["## Equivalent mutants", ""]
    lines += [f"- `{e['id']}`: {e['reason']}" for e in data["equivalent_mutants"]] or ["None selected."]
    lines += ["", "## Stale catalogue entries (match no generated mutant: re-check them)", ""]
    lines += [f"- `{k}`: {v}" for k, v in data["stale_equivalents"].items()] or ["None."]
    if data["moved_equivalents"]:
        lines += ["", "Catalogue entries found at another line (still applied; update their ids):", ""]
        lines += [f"- `{k}` → `{v}`" for k, v in data["moved_equivalents"].items()]
    killers = data["kills_per_claim"]
    lines += ["", "## Kills per claim", "", "| claim | mutants killed |", "|---|---|"]
    lines += [f"| `{cid}` | {n} |" for cid, n in killers.items()]
    deps = data["dependencies"]
    lines += ["", f"Dependency map `{deps['key']}` ({deps['traces_reused']} claim traces reused from the cache, "
              f"the others traced for this run in {data['trace_seconds']:.0f} s): "
              f"{len(deps['usable_claims'])} claims PASS unmutated and may kill mutants."]
    if deps["unusable_claims"]:
        lines.append("Not used (not PASS unmutated): " + ", ".join(f"`{c}` {v}" for c, v in deps["unusable_claims"].items()) + ".")
    if deps["import_time_units"]:
        lines.append("Called at import time (a value computed then would not see a mutant): "
                     + ", ".join(f"`{u}`" for u in deps["import_time_units"]) + ".")
    return "\n".join(lines) + "\n"


def _check_joinable(verb: str, parts: list[dict[str, Any]]) -> None:
    """``ArgumentError`` unless every part is a mutation.json of this schema and all share profile and operators."""
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or part.get("schema_version") != SCHEMA_VERSION or "mutants" not in part:
            raise ArgumentError(f"{verb}: part {i + 1} is not a mutation.json of schema version {SCHEMA_VERSION}")
    for key in ("profile", "operators"):
        values = {json.dumps(p["selection"][key]) for p in parts}
        if len(values) > 1:
            raise ArgumentError(f"{verb}: the parts differ in {key} ({sorted(values)}); only runs of one profile "
                                "and one operator set can be joined")


def _module_counts(mutants: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per module of the mutant records: :func:`_counts` of their statuses and their summed seconds."""
    by_module: dict[str, list[dict[str, Any]]] = {}
    for m in mutants:
        by_module.setdefault(m["module"], []).append(m)
    return {name: _counts([m["status"] for m in ms]) | {"seconds": round(sum(m["seconds"] for m in ms), 1)}
            for name, ms in sorted(by_module.items())}


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Join the :func:`to_json` dicts of disjoint runs (typically shards ``1/N … N/N`` run on several machines)
    into one report dict; the counts and per-module scores are recomputed from the mutants.

    The parts must share the schema version, profile and operators, and no mutant may occur in two parts
    (``ArgumentError`` otherwise).  ``seconds`` is the sum of the parts' wall times (the time one machine would
    have taken running them one after another); ``selection["shards"]`` says which shards are present and
    whether they make the whole selection.
    """
    if not parts:
        raise ArgumentError("merge: no mutation.json given")
    _check_joinable("merge", parts)
    seen: dict[str, int] = {}
    for i, part in enumerate(parts):
        for m in part["mutants"]:
            if m["id"] in seen:
                raise ArgumentError(f"merge: mutant {m['id']!r} is in part {seen[m['id']] + 1} and part {i + 1}; "
                                    "the parts must be disjoint (different shards)")
            seen[m["id"]] = i
    mutants = [m for p in parts for m in p["mutants"]]
    shards = [p["selection"].get("shard") for p in parts]
    sizes = {s.split("/")[1] for s in shards if s}
    whole = (all(shards) and len(sizes) == 1
             and sorted(int(s.split("/")[0]) for s in shards) == list(range(1, int(next(iter(sizes))) + 1)))
    kills: Counter[str] = Counter()
    for p in parts:
        kills.update(p["kills_per_claim"])
    deps = parts[0]["dependencies"]
    selection = dict(parts[0]["selection"])
    selection.update(shard=None, shards={"present": shards, "whole_selection": whole},
                     workers=sum(p["selection"]["workers"] for p in parts))
    return {
        "schema_version": SCHEMA_VERSION,
        **_counts([m["status"] for m in mutants]),
        "seconds": round(sum(p["seconds"] for p in parts), 1),
        "complete": all(p["complete"] for p in parts),
        "trace_seconds": round(sum(p["trace_seconds"] for p in parts), 1),
        "started": min(p["started"] for p in parts),
        "seed": parts[0]["seed"],
        "selection": selection,
        "environment": parts[0]["environment"],
        "environments": [p["environment"] for p in parts],
        "modules": _module_counts(mutants),
        "survivors": [s for p in parts for s in p["survivors"]],
        "equivalent_mutants": [e for p in parts for e in p["equivalent_mutants"]],
        "stale_equivalents": {k: v for p in parts for k, v in p["stale_equivalents"].items()},
        "moved_equivalents": {k: v for p in parts for k, v in p["moved_equivalents"].items()},
        "mutants": mutants,
        "kills_per_claim": dict(kills.most_common()),
        "dependencies": {**deps, "traces_reused": sum(p["dependencies"]["traces_reused"] for p in parts),
                         "usable_claims": sorted({c for p in parts for c in p["dependencies"]["usable_claims"]}),
                         "unusable_claims": {k: v for p in parts
                                             for k, v in p["dependencies"]["unusable_claims"].items()},
                         "claim_seconds": {k: v for p in parts for k, v in p["dependencies"]["claim_seconds"].items()}},
    }


def fold(base: dict[str, Any], reruns: list[dict[str, Any]]) -> dict[str, Any]:
    """The report ``base`` with later re-runs of some of its mutants (``--survivors-of``) folded in.

    Each re-run's records replace ``base``'s records of the same mutant ids (later re-runs win); counts, per-module
    scores, survivors, equivalents and kills per claim are recomputed from the folded records.  Every re-run mutant
    must be in ``base``: a mutant id names the module, function, line and code it mutates, so an unknown id means
    ``theory`` changed since ``base`` and the whole catalogue must be run again (``ArgumentError``).  Fold only
    re-runs made after the claims were *strengthened* (the usual loop: survivors, sharper claims or equivalence
    proofs, re-run): a mutant killed in ``base`` is not run again.  ``folded`` lists each re-run's start, size and
    environment.
    """
    _check_joinable("fold", [base, *reruns])
    if not reruns:
        raise ArgumentError("fold: give the earlier report and at least one re-run of its mutants")
    records = {m["id"]: m for m in base["mutants"]}
    detailed = {m["id"]: m for m in (*base["survivors"], *base["equivalent_mutants"])}
    for i, rerun in enumerate(reruns):
        unknown = [m["id"] for m in rerun["mutants"] if m["id"] not in records]
        if unknown:
            raise ArgumentError(f"fold: re-run {i + 1} has {len(unknown)} mutant(s) the earlier report does not, e.g. "
                                f"{unknown[0]!r}: theory changed since; run the whole catalogue again")
        records.update({m["id"]: m for m in rerun["mutants"]})
        detailed.update({m["id"]: m for m in (*rerun["survivors"], *rerun["equivalent_mutants"])})
    mutants = list(records.values())
    kills = Counter(m["killed_by"] for m in mutants if m["killed_by"])
    last = reruns[-1]
    return {
        **base,
        **_counts([m["status"] for m in mutants]),
        "seconds": round(base["seconds"] + sum(r["seconds"] for r in reruns), 1),
        "complete": base["complete"] and all(r["complete"] for r in reruns),
        "modules": _module_counts(mutants),
        "survivors": [detailed.get(m["id"], m) for m in mutants if m["status"] in ("survived", "uncovered")],
        "equivalent_mutants": [detailed.get(m["id"], m) for m in mutants if m["status"] == "equivalent"],
        "stale_equivalents": last["stale_equivalents"],
        "moved_equivalents": last["moved_equivalents"],
        "mutants": mutants,
        "kills_per_claim": dict(kills.most_common()),
        "folded": [{"started": r["started"], "mutants": len(r["mutants"]), "seconds": r["seconds"],
                    "environment": r["environment"]} for r in reruns],
    }


def write(run: MutationRun, out_dir: Path) -> dict[str, Path]:
    """Write ``mutation.json`` and ``mutation.md`` under ``out_dir``; return their paths."""
    return write_data(to_json(run), out_dir)


def write_data(data: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write the report dict ``data`` (:func:`to_json` or :func:`merge`) as ``mutation.json`` and ``mutation.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "mutation.json", "md": out_dir / "mutation.md"}
    paths["json"].write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    paths["md"].write_text(to_markdown(data), encoding="utf-8")
    return paths
