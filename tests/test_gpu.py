"""CUDA path: the same seeds give the same data and the same training on CPU and GPU.

Marked ``gpu`` (deselected by default); run ``python3 -m pytest -q -m gpu`` on a machine with a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics.device import resolve_device
from numerics.models import sander_non_augmented as na
from numerics.samplers import sequences, to_torch, unitary_diagonal
from proofs_check.registry import load_all
from proofs_check.runner import run_claim

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_same_seed_same_data_on_cuda() -> None:
    lam, w = unitary_diagonal(4, 3, rng=np.random.default_rng(0))
    s = sequences(w, np.ones((4, 3), dtype=complex), 5)
    assert torch.equal(to_torch(s, device="cuda").cpu(), to_torch(s, device="cpu"))
    assert resolve_device("auto").type == "cuda"


def test_exact_fit_and_sampled_training_agree_across_devices() -> None:
    cpu = na.fit_exact("unitary", 4, 4, 6, seed=1, device="cpu")
    gpu = na.fit_exact("unitary", 4, 4, 6, seed=1, device="cuda")
    assert abs(cpu.loss - gpu.loss) < 1e-8
    a = na.fit_sampled("orthogonal", 4, 2, 6, seed=2, steps=30, batch=64, lr=1e-2, device="cpu")
    b = na.fit_sampled("orthogonal", 4, 2, 6, seed=2, steps=30, batch=64, lr=1e-2, device="cuda")
    # same data and initialisation; float64 kernels differ only in summation order
    assert abs(a.loss - b.loss) <= 1e-6 * max(1.0, abs(a.loss))


def test_batched_and_compiled_sampled_training_on_cuda() -> None:
    """Many models at once (one chunk on CUDA, cache-sized chunks on the CPU) and the torch.compile path
    (Triton kernels on CUDA) train the same models as the CPU eager pass."""
    kw = dict(steps=20, batch=32, lr=1e-2, models=6)
    cpu = na.fit_sampled("orthogonal", 6, 3, 5, seed=3, device="cpu", **kw)
    for compiled in (False, True):
        gpu = na.fit_sampled("orthogonal", 6, 3, 5, seed=3, device="cuda", compile_loss=compiled, **kw)
        for k in cpu.params:
            assert torch.allclose(gpu.params[k].cpu(), cpu.params[k], atol=1e-8, rtol=0), (k, compiled)


@pytest.mark.parametrize("claim", load_all().select(profile="quick"), ids=lambda c: c.id)
def test_quick_claims_on_cuda(claim, tmp_path) -> None:
    result = run_claim(claim, profile="quick", device="cuda", out_dir=tmp_path)
    assert result.verdict in ("PASS", "SKIPPED"), result.explain()
