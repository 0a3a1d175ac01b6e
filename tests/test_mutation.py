"""The mutation harness: operators on small snippets, the planted bugs, the catalogue, and a small end-to-end run."""

from __future__ import annotations

import argparse
import ast
import json
import os
import time

import pytest

from proofs_check.mutation import harness, report
from proofs_check.mutation.cli import add_arguments, entry
from proofs_check.mutation.equivalent import EQUIVALENT, resolve
from proofs_check.mutation.execution import apply_mutant
from proofs_check.mutation.forking import progress, run_forked
from proofs_check.mutation.operators import Mutant, is_mutant_id, mutants_of_module, mutants_of_source


def _edits(source: str, op: str | None = None) -> set[tuple[str, str, str]]:
    return {(m.operator, m.before, m.after) for m in mutants_of_source(source, "theory.snippet")
            if op is None or m.operator == op}


def _minus(mutant: Mutant) -> str:
    return next(line for line in mutant.diff.splitlines()[2:] if line.startswith("-"))


def _plus(mutant: Mutant) -> str:
    return next(line for line in mutant.diff.splitlines()[2:] if line.startswith("+"))


def _eval(mutant: Mutant, name: str, *args: object) -> object:
    namespace: dict[str, object] = {}
    exec(compile(mutant.source, "<mutant>", "exec"), namespace)
    return namespace[name](*args)  # type: ignore[operator]


# --------------------------------------------------------------------------------------------------------------
# Operators on snippets
# --------------------------------------------------------------------------------------------------------------


def test_constants_plus_minus_one_and_doubled() -> None:
    assert _edits("def f(x):\n    return x * 3\n", "const") == {("const", "3", "4"), ("const", "3", "2"),
                                                                ("const", "3", "6")}
    # a negative literal is one constant; duplicates (1 + 1 = 2 * 1) and no-ops (2 * 0 = 0) are dropped
    assert _edits("def f(x):\n    return x.sum(-1)\n", "const") == {("const", "-1", "0"), ("const", "-1", "-2")}
    assert _edits("def f(x):\n    return x + 0.0\n", "const") == {("const", "0.0", "1.0"), ("const", "0.0", "-1.0")}


def test_plus_minus_and_dropped_terms() -> None:
    edits = _edits("def f(a, b):\n    return a - b\n")
    assert {("arith", "a - b", "a + b"), ("drop-term", "a - b", "a"), ("drop-term", "a - b", "-b")} <= edits
    edits = _edits("def f(a, b, c):\n    return a + b + c\n")
    assert ("drop-term", "a + b + c", "a + b") in edits and ("drop-term", "a + b", "a") in edits


def test_precedence_is_kept_when_a_mutant_is_spliced() -> None:
    src = "def f(a, t):\n    return 2 * t\n"
    shifted = [m for m in mutants_of_source(src, "theory.snippet") if m.operator == "shift"]
    assert len(shifted) == 1 and _eval(shifted[0], "f", 0, 3) == 8  # 2 * (t + 1), not 2 * t + 1
    dropped = [m for m in mutants_of_source("def f(a, b, c):\n    return c * (a - b)\n", "theory.snippet")
               if m.operator == "drop-term" and m.after == "-b"]
    assert _eval(dropped[0], "f", 5, 2, 3) == -6


def test_swapped_indices_and_axes() -> None:
    edits = _edits("def f(A, i, j):\n    return A[i, j] + np.moveaxis(A, 0, 1) + A.transpose(axis1=0, axis2=1)\n",
                   "swap")
    assert edits == {("swap", "A[i, j]", "A[j, i]"), ("swap", "np.moveaxis(A, 0, 1)", "np.moveaxis(A, 1, 0)"),
                     ("swap", "A.transpose(axis1=0, axis2=1)", "A.transpose(axis1=1, axis2=0)")}
    # symmetric in their two axes: swapping them could never be observed
    assert not _edits("def f(A):\n    return A.diagonal(0, -2, -1) + np.swapaxes(A, -1, -2)\n", "swap")
    assert not _edits("def f(A):\n    return A[..., 0] + A[:, 1:]\n", "swap")  # a slice or ellipsis is not swapped


def test_time_index_shift() -> None:
    assert _edits("def f(s, t, T):\n    return s[t] * T\n", "shift") == {("shift", "t", "t + 1"),
                                                                          ("shift", "T", "T + 1")}


def test_validation_docstrings_hints_defaults_and_strings_are_not_mutated() -> None:
    src = '''
from theory.arguments import positive_int

__all__ = ["f", "g"]


def f(n: int = 3, *, label: str = "x") -> float:
    """Return 2 n (docstring: 1 + 1)."""
    n = positive_int("n", n + 1)
    if n > 10:
        raise ValueError(f"n = {n + 1} too large")
    assert n >= 0
    return 2 * n


def check_inputs(n):
    return n + 1
'''
    edits = _edits(src)
    assert edits == {("const", "2", "3"), ("const", "2", "1"), ("const", "2", "4")}


def test_methods_are_units_and_ids_are_well_formed_and_unique() -> None:
    src = "class K:\n    def g(self, x):\n        return x + 1 + 1\n"
    ms = mutants_of_source(src, "theory.snippet")
    assert {m.function for m in ms} == {"K.g"}
    ids = [m.id for m in ms]
    assert len(ids) == len(set(ids)) and all(is_mutant_id(i) for i in ids)
    assert any(i.endswith("#2") for i in ids)  # the same edit of the second `1` on the same line
    assert not is_mutant_id("theory.x:f:12:const:1 → 2")  # no `L` before the line


def test_every_mutant_is_one_spliced_line_with_a_diff() -> None:
    src = "def f(a, b):\n    x = (a +\n         b)\n    return x - 1\n"
    for m in mutants_of_source(src, "theory.snippet", "theory/snippet.py"):
        ast.parse(m.source)
        assert m.diff.startswith("--- a/theory/snippet.py\n+++ b/theory/snippet.py\n")
        assert sum(line.startswith("+") and not line.startswith("+++") for line in m.diff.splitlines()) == 1


def test_unknown_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="operators"):
        mutants_of_source("def f():\n    return 1\n", "theory.snippet", operators=("negate",))


# --------------------------------------------------------------------------------------------------------------
# The planted bugs of issue #12 are generated, and a swapped-in mutant really runs
# --------------------------------------------------------------------------------------------------------------


def _one(module: str, function: str, operator: str, before: str, after: str, line_has: str) -> Mutant:
    found = [m for m in mutants_of_module(module) if (m.function, m.operator, m.before, m.after) ==
             (function, operator, before, after) and line_has in _minus(m)]
    assert len(found) == 1, [m.id for m in found]
    return found[0]


def test_planted_bug_bayes_evidence_without_the_n_minus_d_log_sigma2_term() -> None:
    ms = [m for m in mutants_of_module("theory.vladymyrov.baselines")
          if m.function == "log_evidence" and m.operator == "drop-term" and "(spec.n - spec.d)" in _minus(m)
          and "spec.n" not in _plus(m) and "spec.d" not in _plus(m) and "quad + np.log" in _plus(m)]
    assert len(ms) == 1, [m.id for m in ms]


def _eta_in_child(mutant: Mutant) -> float:
    apply_mutant(mutant)
    from theory.vladymyrov.baselines import one_layer_optimal_loss

    return one_layer_optimal_loss(10, 5, 0.5)[0]


def test_planted_bug_one_layer_step_off_by_one_is_generated_and_runs_in_a_fresh_process() -> None:
    m = _one("theory.vladymyrov.baselines", "one_layer_optimal_loss", "drop-term", "n + d + 1", "n + d", "eta =")
    (_task, outcome), = run_forked(_eta_in_child, [m], workers=1, limit=lambda _m, _step: 60)
    assert outcome.status == "done" and outcome.value == pytest.approx(1 / (10 + 5 + 0.5), rel=1e-15)
    from theory.vladymyrov.baselines import one_layer_optimal_loss

    assert one_layer_optimal_loss(10, 5, 0.5)[0] == pytest.approx(1 / (10 + 5 + 1 + 0.5), rel=1e-15)  # parent intact


# --------------------------------------------------------------------------------------------------------------
# Forked runner: time limits and crashes are reported, not raised
# --------------------------------------------------------------------------------------------------------------


def _behave(kind: str) -> str:
    if kind == "sleep":
        time.sleep(30)
    if kind == "steps":  # three steps of 1.5 s each: within a 2-s limit per step, past it in total
        for step in range(3):
            progress(step)
            time.sleep(1.5)
    if kind == "exit":
        os._exit(3)
    if kind == "raise":
        raise RuntimeError("boom")
    return kind


def test_forked_runner_reports_timeouts_and_crashes() -> None:
    t0 = time.perf_counter()
    out = dict(run_forked(_behave, ["ok", "sleep", "exit", "raise", "steps"], workers=2,
                          limit=lambda _k, _step: 2.0))
    assert time.perf_counter() - t0 < 20
    assert (out["ok"].status, out["ok"].value) == ("done", "ok")
    assert (out["steps"].status, out["steps"].step) == ("done", 2) and out["steps"].seconds > 4
    assert out["sleep"].status == "timeout"
    assert out["exit"].status == "crashed" and "code 3" in out["exit"].value
    assert out["raise"].status == "raised" and "RuntimeError: boom" in out["raise"].value


# --------------------------------------------------------------------------------------------------------------
# The equivalent catalogue
# --------------------------------------------------------------------------------------------------------------


def test_equivalent_catalogue_ids_are_well_formed_with_reasons() -> None:
    for mid, reason in EQUIVALENT.items():
        assert is_mutant_id(mid), mid
        assert isinstance(reason, str) and len(reason.split()) >= 5, (mid, reason)


def test_equivalent_catalogue_has_no_stale_entries() -> None:
    modules = sorted({mid.split(":", 1)[0] for mid in EQUIVALENT})
    _covered, _moved, stale = resolve(EQUIVALENT, [m.id for name in modules for m in mutants_of_module(name)])
    assert not stale, f"re-check these catalogue entries against `python3 -m proofs_check.mutation --list`: {stale}"


def test_catalogue_entries_follow_a_moved_line_and_go_stale_when_the_edit_changes() -> None:
    ids = ["theory.m:f:L12:const:1 → 2", "theory.m:f:L12:const:1 → 0", "theory.m:g:L30:drop-term:a + b → a"]
    catalogue = {"theory.m:f:L10:const:1 → 2": "moved by two lines", "theory.m:f:L12:const:1 → 0": "in place",
                 "theory.m:g:L30:drop-term:a - b → a": "the code changed", "theory.m:h:L1:const:1 → 2": "gone"}
    covered, moved, stale = resolve(catalogue, ids)
    assert covered == {"theory.m:f:L12:const:1 → 2": "moved by two lines", "theory.m:f:L12:const:1 → 0": "in place"}
    assert moved == {"theory.m:f:L10:const:1 → 2": "theory.m:f:L12:const:1 → 2"}
    assert stale == ["theory.m:g:L30:drop-term:a - b → a", "theory.m:h:L1:const:1 → 2"]


# --------------------------------------------------------------------------------------------------------------
# End to end: a fixed sample of one fast function, one fast claim (seconds)
# --------------------------------------------------------------------------------------------------------------


def test_small_fixed_sample_end_to_end(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    """Three mutants of the DIAG forward pass killed by the Ω-form claim, one catalogued, one it never calls."""
    module, claim = "theory.vladymyrov.model", "vladymyrov.diag.omega-form"
    ms = mutants_of_module(module)
    picked = [next(m for m in ms if m.function == "head_sum" and m.operator == "arith"),
              next(m for m in ms if m.function == "forward" and m.operator == "drop-term"),
              next(m for m in ms if m.function == "omega" and m.operator == "const")]
    uncovered = next(m for m in ms if m.function == "ForwardPass.prediction")
    equivalent = {picked[2].id: "declared equivalent here only to test the catalogue path (not a real entry)"}
    run = harness.run_mutation(modules=[module], ids=[m.id for m in picked] + [uncovered.id],
                               claims=[claim], workers=2, cache_dir=tmp_path / "cache",
                               equivalent=equivalent | {f"{module}:gone:L1:const:1 → 2": "a stale entry"})
    status = {r.mutant.id: r.status for r in run.results}
    assert status == {picked[0].id: "killed", picked[1].id: "killed", picked[2].id: "equivalent",
                      uncovered.id: "uncovered"}
    assert all(r.killed_by == claim for r in run.results if r.status == "killed")
    assert list(run.stale) == [f"{module}:gone:L1:const:1 → 2"]
    paths = report.write(run, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert (data["total"], data["killed"], data["timeout"], data["survived"], data["equivalent"]) == (4, 2, 0, 1, 1)
    assert data["score"] == pytest.approx(2 / 3) and data["modules"][module]["score"] == pytest.approx(2 / 3)
    assert [s["id"] for s in data["survivors"]] == [uncovered.id] and data["survivors"][0]["diff"].startswith("---")
    assert isinstance(data["seconds"], float) and data["complete"] is True
    md = paths["md"].read_text()
    assert "Score per module" in md and uncovered.id in md and "stale" in md.lower()
    # the second run reuses the claim's trace; it is retraced once a file it ran changes
    again = harness.run_mutation(modules=[module], ids=[uncovered.id], claims=[claim],
                                 workers=1, cache_dir=tmp_path / "cache", equivalent={})
    assert again.traces_reused == 1 and again.dependencies.claims[claim].units == run.dependencies.claims[claim].units
    assert "theory/vladymyrov/model.py" in again.dependencies.claims[claim].files
    (trace_file,) = (tmp_path / "cache").glob(f"*/{claim}.json")
    stored = json.loads(trace_file.read_text())
    stored["files"]["theory/vladymyrov/model.py"] = "0" * 64  # as if model.py had changed since
    trace_file.write_text(json.dumps(stored))
    third = harness.run_mutation(modules=[module], ids=[uncovered.id], claims=[claim],
                                 workers=1, cache_dir=tmp_path / "cache", equivalent={})
    assert third.traces_reused == 0


def test_cli_reruns_the_survivors_of_an_earlier_report(tmp_path, capsys) -> None:  # noqa: ANN001 - fixtures
    killed = next(m for m in mutants_of_module("theory.vladymyrov.model") if m.function == "head_sum")
    gone = "theory.vladymyrov.model:head_sum:L1:const:1 → 2"
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps({"survivors": [{"id": killed.id}, {"id": gone}]}))
    out = tmp_path / "out"
    status = entry(["--survivors-of", str(previous), "--claims", "vladymyrov.diag.omega-form", "--out", str(out),
                    "--cache-dir", str(tmp_path / "cache"), "--quiet"])
    data = json.loads((out / "mutation.json").read_text())
    assert status == 0 and (data["total"], data["killed"]) == (1, 1)
    assert data["selection"]["missing_ids"] == [gone] and gone in (out / "mutation.md").read_text()
    assert "killed 1" in capsys.readouterr().out
    previous.write_text("{}")
    assert entry(["--survivors-of", str(previous)]) == 2


def test_cli_lists_mutants_and_refuses_bad_modules(capsys) -> None:  # noqa: ANN001 - pytest fixture
    assert entry(["--list", "--modules", "theory.laurent", "--max-mutants", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(is_mutant_id(line) for line in lines)
    assert entry(["--list", "--modules", "theory.nothing"]) == 2
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--sample", "5", "--seed", "3"])
    assert (args.sample, args.seed, args.workers, args.profile) == (5, 3, 2, "quick")


def test_shards_partition_the_selection_and_bad_shards_are_refused() -> None:
    everything = mutants_of_module("theory.vladymyrov.model")
    shards = [harness.select(everything, shard=(k, 3)) for k in (1, 2, 3)]
    ids = [m.id for part in shards for m in part]
    assert sorted(ids) == sorted(m.id for m in everything) and len(set(ids)) == len(ids)
    assert [len(p) for p in shards] == [len(everything[k::3]) for k in range(3)]
    assert harness.parse_shard("2/5") == (2, 5) and harness.parse_shard(None) is None
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2"):
        with pytest.raises(ValueError, match="shard must be K/N"):
            harness.parse_shard(bad)


def test_two_shards_merge_into_the_report_of_one_run(tmp_path, capsys) -> None:  # noqa: ANN001 - fixtures
    """Shards 1/2 and 2/2 of four mutants, run apart and merged, give the counts of the four run at once."""
    module, claim = "theory.vladymyrov.model", "vladymyrov.diag.omega-form"
    ms = mutants_of_module(module)
    picked = [next(m for m in ms if m.function == "head_sum" and m.operator == "arith"),
              next(m for m in ms if m.function == "forward" and m.operator == "drop-term"),
              next(m for m in ms if m.function == "ForwardPass.prediction")]
    common = ["--claims", claim, "--cache-dir", str(tmp_path / "cache"), "--quiet", "--workers", "1", "--mutants",
              *[m.id for m in picked]]
    for k in (1, 2):
        entry([*common, "--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}")])
    parts = [tmp_path / f"s{k}" / "mutation.json" for k in (1, 2)]
    assert [json.loads(p.read_text())["selection"]["shard"] for p in parts] == ["1/2", "2/2"]
    status = entry(["--merge", *map(str, parts), "--out", str(tmp_path / "merged")])
    data = json.loads((tmp_path / "merged" / "mutation.json").read_text())
    assert status == 1  # the uncovered mutant survives
    assert (data["total"], data["killed"], data["survived"], data["uncovered"]) == (3, 2, 1, 1)
    assert data["score"] == pytest.approx(2 / 3) and data["modules"][module]["total"] == 3
    assert data["selection"]["shards"] == {"present": ["1/2", "2/2"], "whole_selection": True}
    assert data["kills_per_claim"] == {claim: 2}
    assert "together the whole selection" in (tmp_path / "merged" / "mutation.md").read_text()
    assert "killed 2" in capsys.readouterr().out
    # a part given twice overlaps; half of the shards is not the whole selection
    assert entry(["--merge", str(parts[0]), str(parts[0]), "--out", str(tmp_path / "bad")]) == 2
    assert "must be disjoint" in capsys.readouterr().err
    entry(["--merge", str(parts[0]), "--out", str(tmp_path / "half")])
    assert json.loads((tmp_path / "half" / "mutation.json").read_text())["selection"]["shards"]["whole_selection"] \
        is False
    (tmp_path / "junk.json").write_text("{}")
    assert entry(["--merge", str(tmp_path / "junk.json")]) == 2


def test_a_survivor_rerun_folds_into_the_earlier_report(tmp_path, capsys) -> None:  # noqa: ANN001 - fixtures
    """Three mutants against one claim leave one survivor; re-run (``--survivors-of``) against a claim that calls
    its function it is killed, and ``--fold`` gives one report of all three with nothing surviving."""
    module = "theory.vladymyrov.model"
    ms = mutants_of_module(module)
    picked = [next(m for m in ms if m.function == "head_sum" and m.operator == "arith"),
              next(m for m in ms if m.function == "forward" and m.operator == "drop-term"),
              next(m for m in ms if m.function == "ForwardPass.prediction")]
    common = ["--cache-dir", str(tmp_path / "cache"), "--quiet", "--workers", "1"]
    assert entry([*common, "--claims", "vladymyrov.diag.omega-form", "--mutants", *[m.id for m in picked],
                  "--out", str(tmp_path / "base")]) == 1
    base = tmp_path / "base" / "mutation.json"
    assert [s["id"] for s in json.loads(base.read_text())["survivors"]] == [picked[2].id]
    assert entry([*common, "--claims", "vladymyrov.sec53.step-size", "--survivors-of", str(base),
                  "--out", str(tmp_path / "rerun")]) == 0
    rerun = tmp_path / "rerun" / "mutation.json"
    capsys.readouterr()
    assert entry(["--fold", str(base), str(rerun), "--out", str(tmp_path / "folded")]) == 0
    data = json.loads((tmp_path / "folded" / "mutation.json").read_text())
    assert (data["total"], data["killed"], data["survived"], data["score"]) == (3, 3, 0, 1.0)
    assert data["kills_per_claim"] == {"vladymyrov.diag.omega-form": 2, "vladymyrov.sec53.step-size": 1}
    assert data["modules"][module]["killed"] == 3 and len(data["folded"]) == 1 and data["folded"][0]["mutants"] == 1
    assert "Folded in: a re-run of 1 of these mutants" in (tmp_path / "folded" / "mutation.md").read_text()
    # a re-run of a mutant the earlier report never had means theory changed: refused, naming the id
    other = json.loads(rerun.read_text())
    other["mutants"][0]["id"] = "theory.vladymyrov.model:nowhere:L1:const:0 → 1"
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert entry(["--fold", str(base), str(tmp_path / "other.json"), "--out", str(tmp_path / "bad")]) == 2
    assert "theory changed since" in capsys.readouterr().err
    assert entry(["--fold", str(base), "--out", str(tmp_path / "alone")]) == 2
    assert entry(["--fold", str(base), str(rerun), "--merge", str(base), "--out", str(tmp_path / "both")]) == 2


@pytest.mark.slow
def test_whole_catalogue_of_one_module_runs(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    """The whole catalogue of the smallest module against every quick claim (minutes: the dependency trace)."""
    run = harness.run_mutation(modules=["theory.laurent"], workers=2, cache_dir=tmp_path / "cache")
    assert len(run.results) == len(mutants_of_module("theory.laurent"))
    assert all(r.status in harness.STATUSES for r in run.results)
