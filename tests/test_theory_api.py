"""The public face of the closed forms: ``theory.sander`` / ``theory.vladymyrov`` exports, docstrings, doctests,
and the differentiable torch twin of the Lemma 4.3 recursion (``implicit_states_torch``)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from theory.arguments import ArgumentError

FACES = ("theory.sander", "theory.vladymyrov")
#: Every module of ``theory`` whose doctests run in the default test run (``docs/api.md`` points at them).
MODULES = ("theory.laurent", "theory.arguments", "theory.sander.augmented", "theory.sander.non_augmented",
           "theory.sander.pe_only", "theory.sander.softmax_pe", "theory.sander.haar", "theory.vladymyrov.model",
           "theory.vladymyrov.recursion", "theory.vladymyrov.second_order", "theory.vladymyrov.adaptive",
           "theory.vladymyrov.baselines")
#: Modules holding the papers' closed forms: each must carry examples (doctests), not only prose.
WITH_EXAMPLES = ("theory.sander.augmented", "theory.sander.non_augmented", "theory.sander.pe_only",
                 "theory.sander.softmax_pe", "theory.vladymyrov.model", "theory.vladymyrov.recursion",
                 "theory.vladymyrov.second_order", "theory.vladymyrov.adaptive", "theory.vladymyrov.baselines")


@pytest.mark.parametrize("face", FACES)
def test_face_exports_exist_public_and_documented(face: str) -> None:
    mod = importlib.import_module(face)
    names = mod.__all__
    assert len(names) == len(set(names)), "duplicate names in __all__"
    for name in names:
        assert not name.startswith("_"), name
        obj = getattr(mod, name)  # AttributeError if a re-export is missing
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{face}.{name} has no docstring"


@pytest.mark.parametrize("face", FACES)
def test_face_reexports_every_public_name_of_its_modules(face: str) -> None:
    """One public face: whatever a submodule lists in ``__all__`` is reachable from the package."""
    pkg = importlib.import_module(face)
    exported = {id(getattr(pkg, n)) for n in pkg.__all__}
    for module in [m for m in MODULES if m.startswith(face + ".")]:
        sub = importlib.import_module(module)
        missing = [n for n in sub.__all__ if id(getattr(sub, n)) not in exported]
        assert not missing, f"{face} does not re-export {missing} of {module}"


def test_faces_do_not_import_torch() -> None:
    code = "import sys, theory.sander, theory.vladymyrov; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_sympy_symbols() -> None:
    import theory.sander as S

    assert str(S.D) == "d" and str(S.T) == "t"
    assert S.optimal_step_expr("U").free_symbols == {S.D, S.T, S.M2, S.M4, S.M6}


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module: str) -> None:
    """``pytest --doctest-modules theory`` as part of the default run (one test per module)."""
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {module} (run pytest --doctest-modules theory)"
    if module in WITH_EXAMPLES:
        assert result.attempted > 0, f"{module} has no Examples (doctests)"


@pytest.mark.parametrize("face", FACES)
def test_every_exported_closed_form_has_examples(face: str) -> None:
    """Issue #16: every exported function/class carries an ``Examples`` section with doctests, in a module whose
    doctests run in :func:`test_doctests`."""
    mod = importlib.import_module(face)
    missing = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not (inspect.isroutine(obj) or inspect.isclass(obj) or hasattr(obj, "__wrapped__")):
            continue  # constants and sympy symbols
        doc = inspect.getdoc(obj) or ""
        if not re.search(r"^Examples\n-{8}", doc, re.M) or ">>> " not in doc:
            missing.append(name)
        assert obj.__module__ in MODULES, f"{face}.{name} lives in {obj.__module__}, whose doctests do not run"
    assert not missing, f"{face}: no Examples (doctests) in {missing}"


# --------------------------------------------------------------------------- torch twin of Lemma 4.3


def _problem(seed: int, batch: tuple[int, ...] = (), n: int = 5, d: int = 3, L: int = 3, H: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(batch + (n, d))
    y = rng.standard_normal(batch + (n,))
    P = 0.2 * rng.standard_normal((L, H, d + 1, d + 1))
    Q = 0.2 * rng.standard_normal((L, H, d + 1, d + 1))
    return x, y, P, Q


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_torch_recursion_equals_numpy(batch: tuple[int, ...]) -> None:
    from theory.vladymyrov import implicit_states, implicit_states_torch

    x, y, P, Q = _problem(1, batch)
    ref = implicit_states(x, y, P, Q)
    got = implicit_states_torch(*(torch.from_numpy(a) for a in (x, y, P, Q)))
    assert len(got) == len(ref) == P.shape[0] + 1
    for r, g in zip(ref, got):
        for field in ("M", "u", "a", "w"):
            want, have = getattr(r, field), getattr(g, field).numpy()
            assert have.shape == want.shape, field
            # same float64 operations in the same order up to BLAS blocking: agreement to a few ulps of the scale
            np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_torch_recursion_predicts_the_forward_pass_float32() -> None:
    """Independent route: the torch twin's ŷ = ⟨w^L, x_t⟩ against the numpy forward pass (Theorem 4.1)."""
    from theory.vladymyrov import forward, implicit_states_torch

    x, y, P, Q = _problem(2, (8,))
    xq = np.random.default_rng(3).standard_normal((8, 3))
    want = forward(x, y, xq, P, Q).prediction
    states = implicit_states_torch(*(torch.from_numpy(a).float() for a in (x, y, P, Q)))
    have = states[-1].predict(torch.from_numpy(xq).float()).numpy()
    # float32 round-off of L = 3 layers of O(1) products: a few hundred ulps of the largest prediction
    np.testing.assert_allclose(have, want, atol=1e-4 * np.abs(want).max())


def test_torch_recursion_gradcheck() -> None:
    from theory.vladymyrov import implicit_states_torch

    x, y, P, Q = (torch.from_numpy(a).requires_grad_() for a in _problem(4, (), n=4, d=2, L=2, H=1))
    xq = torch.tensor([0.3, -1.2], dtype=torch.float64)

    def prediction(x, y, P, Q):
        return implicit_states_torch(x, y, P, Q)[-1].predict(xq)

    assert torch.autograd.gradcheck(prediction, (x, y, P, Q))


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.zeros((5, 3))), "x must be a floating-point torch.Tensor"),
    (dict(P=torch.zeros(2, 1, 3, 3, dtype=torch.float64)), "P must have shape"),
    (dict(y=torch.zeros(4, dtype=torch.float64)), "y must have shape"),
    (dict(Q=torch.full((3, 2, 4, 4), float("nan"), dtype=torch.float64)), "Q contains NaN"),
    (dict(x=torch.zeros(5, 3, dtype=torch.int64)), "x must be a floating-point"),
])
def test_torch_recursion_rejects_bad_arguments(bad: dict, match: str) -> None:
    from theory.vladymyrov import implicit_states_torch

    args = dict(zip("x y P Q".split(), (torch.from_numpy(a) for a in _problem(0))))
    args.update(bad)
    with pytest.raises(ArgumentError, match=match):
        implicit_states_torch(**args)


# --------------------------------------------------------------------------- docs/api.md


API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_api_page_names_exist() -> None:
    """Every function the API page names in its tables is importable from the face it belongs to."""
    import theory.laurent
    import theory.sander as S
    import theory.vladymyrov as V

    text = API_PAGE.read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        if line.startswith("|"):  # the sympy / numpy / torch columns (the first one names the paper's object)
            for cell in line.split("|")[2:]:
                names |= set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)(?:\(|`)", cell))
    missing = sorted(n for n in names if not any(hasattr(m, n) for m in (S, V, theory.laurent)))
    assert len(names) > 100 and not missing, missing


def test_api_page_example_runs() -> None:
    """The page's usage example runs as written (numbers, sympy, torch gradients)."""
    code = re.search(r"## Three ways to use a closed form\n\n```python\n(.*?)```", API_PAGE.read_text(encoding="utf-8"),
                     re.S).group(1)
    scope: dict = {}
    exec(compile(code, str(API_PAGE), "exec"), scope)  # noqa: S102 - the documentation's own example
    assert scope["C"].grad is not None and scope["Pw"].grad is not None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_recursion_on_cuda_matches_cpu() -> None:
    """The torch twin follows its inputs' device: on CUDA (float64) it gives the CPU numbers."""
    from numerics.device import resolve_device
    from theory.vladymyrov import implicit_states_torch

    args = [torch.from_numpy(a) for a in _problem(5, (16,))]
    cpu = implicit_states_torch(*args)[-1].w
    dev = resolve_device("cuda")
    gpu = implicit_states_torch(*(a.to(dev) for a in args))[-1].w
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-12)
