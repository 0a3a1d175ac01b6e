"""The mutation operators: one-token edits of the closed forms in ``theory/`` that a plausible bug would make.

Operators (names as they appear in mutant ids)

``const``
    a numeric constant ``c`` (a negative literal ``-c`` counts as one constant) becomes ``c + 1``, ``c − 1`` and
    ``2c`` (duplicates and no-ops such as ``2·0`` are dropped);
``arith``
    ``a + b`` ↔ ``a − b``;
``drop-term``
    a dropped additive term: ``a + b`` → ``a`` and → ``b``; ``a − b`` → ``a`` and → ``−b``
    (the planted bug "drop the ``(n − d) log σ²`` term of the Bayes evidence" is one of these);
``swap``
    a swapped axis or index: the last two plain indices of a subscript (``A[i, j]`` → ``A[j, i]``), the two axis
    arguments of ``moveaxis``/``transpose``/``permute`` (``axis1=``/``axis2=`` or the last two positional
    integers; ``swapaxes`` and ``diagonal``/``trace`` are symmetric in their axes, so not swapped);
``shift``
    an index shifted by one: a read of one of :data:`SHIFTED_NAMES` (``t``, ``T``) becomes
    ``name + 1`` (the ``t → t + 1`` off-by-one).

What is never mutated: docstrings and other strings (f-strings included), argument validation (any call into
:mod:`theory.arguments`, any ``raise``/``assert`` and an ``if`` whose body only raises, and whole functions named
``check_*``/``_check*``), ``__all__``, imports, type hints, default argument values, decorators and module-level
statements.  The module :mod:`theory.arguments` itself is not mutated.  Every function body of every other
module of ``theory`` is: module functions, methods of module classes, and (through their enclosing function)
nested functions — the private helpers included, because that is where most closed forms live (``loss_u`` is
one line that calls ``_u_rows``).

Each mutant is spliced into the original text (only the mutated expression changes, parenthesised), checked to
parse to exactly the intended tree, and carries a unified diff and a stable id
``module:function:L<line>:<operator>:<before> → <after>`` (``#2``, ``#3`` … appended when the same text edit
occurs twice on one line).
"""

from __future__ import annotations

import ast
import copy
import difflib
import functools
import importlib.util
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

OPERATORS: tuple[str, ...] = ("const", "arith", "drop-term", "swap", "shift")
#: Names whose reads the ``shift`` operator replaces by ``name + 1``: the time index ``t`` and the length ``T``.
SHIFTED_NAMES: frozenset[str] = frozenset({"t", "T"})
#: Calls whose last two positional integer arguments (or ``axis1``/``axis2`` keywords) are two axes whose order
#: matters.  ``swapaxes``, and ``diagonal``/``trace`` at offset 0, are symmetric in their two axes: swapping them
#: is equivalent by construction, so those calls are not swapped.
AXIS_PAIR_CALLS: frozenset[str] = frozenset({"moveaxis", "transpose", "permute"})
#: Packages and modules of ``theory`` that are not mutated (argument validation, package markers).
SKIPPED_MODULES: frozenset[str] = frozenset({"theory", "theory.arguments"})
#: The module that holds argument validation; calls into it are never mutated.
VALIDATION_MODULE = "theory.arguments"

_ID_PATTERN = re.compile(
    r"^theory(?:\.\w+)+:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?:L\d+:(?:const|arith|drop-term|swap|shift):.+ → .+?(?:#\d+)?$")


def is_mutant_id(text: str) -> bool:
    """Whether ``text`` has the shape of a mutant id (``module:function:L<line>:<operator>:<before> → <after>``)."""
    return bool(_ID_PATTERN.match(text))


@dataclass(frozen=True)
class Mutant:
    """One mutated version of one module of ``theory``.

    ``function`` is the top-level function or ``Class.method`` whose body holds the edit (the unit that is
    swapped in when the mutant runs); ``source`` is the whole mutated module text; ``diff`` a unified diff
    against the original file.
    """

    id: str
    module: str
    function: str
    line: int
    operator: str
    before: str
    after: str
    source: str
    diff: str
    path: str


# ----------------------------------------------------------------------------------------------------------------
# Which nodes may be mutated
# ----------------------------------------------------------------------------------------------------------------


def _validation_names(tree: ast.Module) -> set[str]:
    """Names imported from :mod:`theory.arguments` (calls to them are argument validation)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == VALIDATION_MODULE:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _is_validation_function(name: str) -> bool:
    return name.startswith(("check_", "_check"))


def _only_raises(body: list[ast.stmt]) -> bool:
    return all(isinstance(s, (ast.Raise, ast.Assert)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in body)


def _excluded_nodes(func: ast.AST, validation: set[str]) -> set[int]:
    """ids of every node inside ``func`` that must not be mutated (validation, strings, hints, defaults...)."""
    out: set[int] = set()

    def exclude(node: ast.AST) -> None:
        for sub in ast.walk(node):
            out.add(id(sub))

    for node in ast.walk(func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
                exclude(default)
            for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                if a is not None and a.annotation is not None:
                    exclude(a.annotation)
            if not isinstance(node, ast.Lambda):
                if node.returns is not None:
                    exclude(node.returns)
                for dec in node.decorator_list:
                    exclude(dec)
        elif isinstance(node, ast.AnnAssign):
            exclude(node.annotation)
        elif isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr, ast.Import, ast.ImportFrom)):
            exclude(node)
        elif isinstance(node, ast.If) and _only_raises(node.body) and not node.orelse:
            exclude(node)
        elif isinstance(node, ast.Call) and _call_name(node) in validation and isinstance(node.func, ast.Name):
            exclude(node)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            exclude(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            exclude(node)
    return out


def _units(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """``(name, node)`` of every top-level function and every method of a top-level class."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not _is_validation_function(node.name):
                yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_validation_function(item.name):
                    yield f"{node.name}.{item.name}", item


def unit_line_ranges(source: str) -> list[tuple[str, int, int]]:
    """``(name, first line, last line)`` of every mutated unit of ``source`` (decorators included).

    The dependency tracer maps a traced code object (by its first line) to the unit that contains it.
    """
    tree = ast.parse(source)
    out = []
    for node in tree.body:
        items = [(node.name, node)] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(node, ast.ClassDef):
            items = [(f"{node.name}.{i.name}", i) for i in node.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for name, fn in items:
            first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
            out.append((name, first, fn.end_lineno or fn.lineno))
    return out


# ----------------------------------------------------------------------------------------------------------------
# The operators: each yields (operator, node to replace, replacement node)
# ----------------------------------------------------------------------------------------------------------------


def _numeric(node: ast.AST) -> float | int | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        return -node.operand.value
    return None


def _literal(value: float | int) -> ast.expr:
    if value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def _const_mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    value = _numeric(node)
    if value is None:
        return
    seen = {value}
    for new in (value + 1, value - 1, value * 2):
        if new not in seen:
            seen.add(new)
            yield "const", node, _literal(new)


def _is_stringy(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _binop_mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Add, ast.Sub)):
        return
    if _is_stringy(node.left) or _is_stringy(node.right):
        return
    flipped = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
    yield "arith", node, ast.BinOp(left=copy.deepcopy(node.left), op=flipped, right=copy.deepcopy(node.right))
    yield "drop-term", node, copy.deepcopy(node.left)
    right = copy.deepcopy(node.right)
    yield "drop-term", node, (right if isinstance(node.op, ast.Add) else ast.UnaryOp(op=ast.USub(), operand=right))


def _plain_index(node: ast.AST) -> bool:
    return not isinstance(node, (ast.Slice, ast.Starred)) and not (isinstance(node, ast.Constant) and node.value is Ellipsis)


def _swap_mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) >= 2:
        a, b = node.slice.elts[-2:]
        if _plain_index(a) and _plain_index(b) and ast.dump(a) != ast.dump(b):
            new = copy.deepcopy(node)
            new.slice.elts[-2], new.slice.elts[-1] = new.slice.elts[-1], new.slice.elts[-2]
            yield "swap", node, new
    elif isinstance(node, ast.Call) and _call_name(node) in AXIS_PAIR_CALLS:
        kw = {k.arg: i for i, k in enumerate(node.keywords)}
        if "axis1" in kw and "axis2" in kw:
            new = copy.deepcopy(node)
            i, j = kw["axis1"], kw["axis2"]
            new.keywords[i].value, new.keywords[j].value = new.keywords[j].value, new.keywords[i].value
            yield "swap", node, new
        elif len(node.args) >= 2 and all(_numeric(a) is not None for a in node.args[-2:]) \
                and _numeric(node.args[-1]) != _numeric(node.args[-2]):
            new = copy.deepcopy(node)
            new.args[-2], new.args[-1] = new.args[-1], new.args[-2]
            yield "swap", node, new


def _shift_mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in SHIFTED_NAMES:
        yield "shift", node, ast.BinOp(left=ast.Name(id=node.id, ctx=ast.Load()), op=ast.Add(), right=ast.Constant(1))


_GENERATORS = {"const": _const_mutations, "arith": _binop_mutations, "swap": _swap_mutations, "shift": _shift_mutations}


def _candidate_edits(unit: ast.AST, excluded: set[int], operators: tuple[str, ...]) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    negated_literals = {id(n.operand) for n in ast.walk(unit) if _numeric(n) is not None and isinstance(n, ast.UnaryOp)}
    body = unit.body if isinstance(unit, (ast.FunctionDef, ast.AsyncFunctionDef)) else [unit]
    for stmt in body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):  # docstring
            continue
        for node in ast.walk(stmt):
            if id(node) in excluded or id(node) in negated_literals:
                continue
            for op in operators:
                gen = _GENERATORS["arith" if op == "drop-term" else op]
                for edit in gen(node):
                    if edit[0] == op:
                        yield edit


# ----------------------------------------------------------------------------------------------------------------
# Splicing an edit into the source text
# ----------------------------------------------------------------------------------------------------------------


def _offsets(lines: list[str]) -> list[int]:
    out, pos = [0], 0
    for line in lines:
        pos += len(line.encode("utf-8"))
        out.append(pos)
    return out


def _splice(source: str, starts: list[int], node: ast.AST, text: str) -> str:
    """Replace the source of ``node`` by ``text`` (positions are UTF-8 byte offsets, as ``ast`` gives them;
    ``starts`` are the byte offsets of the lines)."""
    raw = source.encode("utf-8")
    a = starts[node.lineno - 1] + node.col_offset
    b = starts[node.end_lineno - 1] + node.end_col_offset
    return (raw[:a] + text.encode("utf-8") + raw[b:]).decode("utf-8")


def _statement_of(unit: ast.AST) -> dict[int, ast.stmt]:
    """``{id(node): the innermost statement whose own expressions hold the node}`` for every node of ``unit``."""
    owner: dict[int, ast.stmt] = {}
    for stmt in ast.walk(unit):
        if not isinstance(stmt, ast.stmt):
            continue
        stack = [child for child in ast.iter_child_nodes(stmt) if not isinstance(child, ast.stmt)]
        while stack:
            node = stack.pop()
            owner[id(node)] = stmt
            stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.stmt))
    return owner


def _replaced(stmt: ast.stmt, target: ast.AST, new: ast.expr) -> ast.stmt:
    """A copy of ``stmt`` with ``target`` (found by identity) replaced by ``new``."""
    memo: dict[int, object] = {}
    clone = copy.deepcopy(stmt, memo)  # the memo maps id(original node) -> its copy
    twin = memo[id(target)]

    class Replace(ast.NodeTransformer):
        def generic_visit(self, node: ast.AST) -> ast.AST:
            return new if node is twin else super().generic_visit(node)

    return Replace().visit(clone)


def _parses_as(mutated: str, stmt: ast.stmt, target: ast.AST, expected: ast.stmt) -> bool:
    """Whether the statement's text in ``mutated`` parses to exactly ``expected``.

    The edit puts the target on one line, so the statement ends ``target.end_lineno - target.lineno`` lines
    earlier; a compound statement (the target in its header) is compared whole.
    """
    lines = mutated.splitlines(keepends=True)
    last = stmt.end_lineno - (target.end_lineno - target.lineno)
    first_line = lines[stmt.lineno - 1].encode("utf-8")[stmt.col_offset:].decode("utf-8")
    text = first_line + "".join(lines[stmt.lineno:last])
    if isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.FunctionDef, ast.ClassDef)):
        text = textwrap.dedent(" " * stmt.col_offset + text)
    try:
        got = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return False
    return ast.dump(got) == ast.dump(expected)


def _diff(old: list[str], new: list[str], target: ast.AST, name: str) -> str:
    """The unified diff (one line of context) of a one-line splice of ``target`` (``difflib`` on a small window)."""
    lo = max(target.lineno - 2, 0)
    hi_old = min(target.end_lineno + 1, len(old))
    hi_new = hi_old - (target.end_lineno - target.lineno)
    body = list(difflib.unified_diff(old[lo:hi_old], new[lo:hi_new], n=1, lineterm="\n"))[2:]
    header = re.sub(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@",
                    lambda g: f"@@ -{int(g[1]) + lo}{g[2] or ''} +{int(g[3]) + lo}{g[4] or ''} @@", body[0])
    return f"--- a/{name}\n+++ b/{name}\n" + header + "".join(body[1:])


def _describe(before: ast.AST, after: ast.AST, limit: int = 60, context: int = 15) -> tuple[str, str]:
    """The ``before`` and ``after`` texts of an id: whole when short, else the window around the change."""
    b, a = (" ".join(ast.unparse(node).split()) for node in (before, after))
    if len(b) <= limit and len(a) <= limit:
        return b, a
    p = 0
    while p < min(len(b), len(a)) and b[p] == a[p]:
        p += 1
    q = 0
    while q < min(len(b), len(a)) - p and b[-1 - q] == a[-1 - q]:
        q += 1
    lo = max(0, p - context)

    def window(text: str) -> str:
        hi = min(len(text), len(text) - q + context)
        out = ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")
        return out if len(out) <= 2 * limit else out[: 2 * limit - 1] + "…"

    return window(b), window(a)


def module_path(module: str) -> Path:
    """The source file of ``module`` (a dotted name under ``theory``)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"module {module!r} not found")
    return Path(spec.origin)


def theory_modules() -> list[str]:
    """Every module of the ``theory`` package that is mutated, sorted (``theory.arguments`` is skipped)."""
    root = module_path("theory").parent
    names = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name not in SKIPPED_MODULES and not path.name == "__init__.py":
            names.append(name)
    return names


def mutants_of_source(source: str, module: str, path: str = "", *,
                      operators: tuple[str, ...] = OPERATORS) -> list[Mutant]:
    """Every mutant of the module text ``source`` (named ``module``), in source order (see :func:`_mutants`).

    Parameters
    ----------
    source : str
        The module's source text.
    module : str
        Its dotted name (first part of every mutant id).
    path : str
        The file name shown in the diffs.
    operators : tuple of str
        A subset of :data:`OPERATORS`.
    """
    bad = [op for op in operators if op not in OPERATORS]
    if bad:
        raise ValueError(f"operators must be a subset of {OPERATORS}, got {bad}")
    return list(_mutants(source, module, path, tuple(operators)))


@functools.lru_cache(maxsize=64)
def _mutants(source: str, module: str, path: str, operators: tuple[str, ...]) -> tuple[Mutant, ...]:
    """The mutants of :func:`mutants_of_source`, cached per source text (generation takes seconds per module)."""
    tree = ast.parse(source)
    validation = _validation_names(tree)
    original_lines = source.splitlines(keepends=True)
    starts = _offsets(original_lines)
    out: list[Mutant] = []
    seen_ids: dict[str, int] = {}
    seen_sources: set[str] = set()
    for name, unit in _units(tree):
        excluded = _excluded_nodes(unit, validation)
        owner = _statement_of(unit)
        for op, target, new in _candidate_edits(unit, excluded, operators):
            text = ast.unparse(new)
            if not isinstance(new, (ast.Constant, ast.Name, ast.Subscript, ast.Call, ast.Attribute)):
                text = f"({text})"
            mutated = _splice(source, starts, target, text)
            if mutated == source or mutated in seen_sources:
                continue
            stmt = owner[id(target)]
            if not _parses_as(mutated, stmt, target, _replaced(stmt, target, new)):
                continue
            seen_sources.add(mutated)
            before, after = _describe(target, new)
            base = f"{module}:{name}:L{target.lineno}:{op}:{before} → {after}"
            seen_ids[base] = seen_ids.get(base, 0) + 1
            mid = base if seen_ids[base] == 1 else f"{base}#{seen_ids[base]}"
            diff = _diff(original_lines, mutated.splitlines(keepends=True), target, path or module)
            out.append(Mutant(id=mid, module=module, function=name, line=target.lineno, operator=op,
                              before=before, after=after, source=mutated, diff=diff, path=path))
    return tuple(out)


def mutants_of_module(module: str, *, operators: tuple[str, ...] = OPERATORS) -> list[Mutant]:
    """Every mutant of the ``theory`` module ``module`` (see :func:`mutants_of_source`)."""
    path = module_path(module)
    root = module_path("theory").parent.parent
    return mutants_of_source(path.read_text(encoding="utf-8"), module, str(path.relative_to(root)), operators=operators)
