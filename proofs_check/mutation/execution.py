"""Running one mutant: swap the mutated function into the live module, then run its dependent claims.

In the forked child, the mutated module text is compiled (under the original file name) and the code object of
the mutated unit replaces the ``__code__`` of the original function object (defaults are not mutated, so they stay).  Every reference
to that function — ``from theory.x import f`` in a claim, a model or another closed form — is the same object, so
all of them run the mutant; the rest of the module keeps its identity (classes, constants).  Every
``functools.lru_cache`` in ``theory`` is cleared first, so no value computed before the swap survives.

A mutant is *killed* when one dependent claim's verdict is FAIL or ERROR (a crashing claim counts); the claims
run fastest-and-most-lethal first and stop at the first kill.  It *survives* when every dependent claim PASSes
(or, with no dependent claim, when no claim calls the function at all: *uncovered*).
"""

from __future__ import annotations

import importlib
import inspect
import types
import warnings
from typing import Any

from proofs_check.mutation.forking import progress
from proofs_check.mutation.operators import Mutant, module_path, theory_modules


def _find_code(code: types.CodeType, path: list[str]) -> types.CodeType:
    """The code object named by ``path`` (e.g. ``["Class", "method"]``) inside a module's code object."""
    for part in path:
        found = [c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == part]
        if not found:
            raise LookupError(f"no code object {part!r} in {code.co_name!r}")
        code = found[-1]  # a redefinition wins, as it does at run time
    return code


def _function_object(module: types.ModuleType, unit: str) -> types.FunctionType:
    """The live function object of ``unit`` (``name`` or ``Class.method``), unwrapping caches and descriptors."""
    parts = unit.split(".")
    obj: Any = getattr(module, parts[0])
    if len(parts) == 2:
        obj = inspect.getattr_static(obj, parts[1])
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    elif isinstance(obj, property):
        obj = obj.fget
    while not isinstance(obj, types.FunctionType) and hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    if not isinstance(obj, types.FunctionType):
        raise TypeError(f"{module.__name__}:{unit} is a {type(obj).__name__}, not a Python function")
    return obj


def clear_theory_caches() -> None:
    """Clear every ``lru_cache`` held at module level in ``theory`` (values computed by unmutated code)."""
    for name in theory_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def apply_mutant(mutant: Mutant) -> None:
    """Swap ``mutant`` into the running interpreter (irreversible: call it in a throw-away process)."""
    module = importlib.import_module(mutant.module)
    compiled = compile(mutant.source, str(module_path(mutant.module)), "exec")
    new_code = _find_code(compiled, mutant.function.split("."))
    target = _function_object(module, mutant.function)
    if new_code.co_freevars != target.__code__.co_freevars:
        raise RuntimeError(f"{mutant.id}: the mutated code has other free variables; cannot swap it in")
    target.__code__ = new_code
    clear_theory_caches()


def run_mutant(task: tuple[Mutant, list[str], str, str]) -> dict[str, Any]:
    """In a forked child: apply the mutant, run the claims in order, stop at the first FAIL or ERROR."""
    from proofs_check.registry import REGISTRY
    from proofs_check.runner import run_claim

    mutant, claim_ids, profile, device = task
    apply_mutant(mutant)
    ran = []
    warnings.simplefilter("ignore")
    for cid in claim_ids:
        progress(cid)
        result = run_claim(REGISTRY.get(cid), profile=profile, device=device)
        ran.append({"id": cid, "verdict": result.verdict, "seconds": round(result.seconds, 3)})
        if result.verdict in ("FAIL", "ERROR"):
            return {"status": "killed", "by": cid, "verdict": result.verdict, "reason": result.reason[:400],
                    "claims": ran}
    return {"status": "survived", "by": None, "verdict": None, "reason": "", "claims": ran}
