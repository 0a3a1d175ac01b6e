"""Tests of numerics.regression, numerics.models.vladymyrov and numerics.vladymyrov_training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.models import vladymyrov as vm
from numerics.regression import NoiseLaw, sample_regression
from numerics.vladymyrov_training import baseline_losses, train_point
from theory.vladymyrov import baselines as bl
from theory.vladymyrov.model import forward, omega

seeds = st.integers(0, 2**32 - 1)


def test_sampler_shapes_determinism_and_noiseless_query():
    law = NoiseLaw.uniform(3.0)
    a = sample_regression(5, law, rng=np.random.default_rng(0), n=7, d=3)
    b = sample_regression(5, law, rng=np.random.default_rng(0), n=7, d=3)
    assert a.x.shape == (5, 7, 3) and a.y.shape == (5, 7) and a.x_query.shape == (5, 3) and a.sigma.shape == (5,)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_allclose(a.y_query, (a.x_query * a.w).sum(-1))
    assert np.all((a.sigma >= 0) & (a.sigma <= 3.0))


def test_noise_laws_mc():
    rng = np.random.default_rng(1)
    cat = NoiseLaw.categorical([1, 3])
    s = cat.sample(20000, rng=rng)
    assert set(np.unique(s)) == {1.0, 3.0}
    assert abs((s == 3).mean() - 0.5) < 5 * math.sqrt(0.25 / s.size)
    b = sample_regression(20000, NoiseLaw.uniform(2.0), rng=rng, n=5, d=2)
    resid = b.y - (b.x @ b.w[..., None])[..., 0]
    sq = (resid**2).mean(-1) - b.sigma**2  # E[ξ²|σ] = σ²
    assert abs(sq.mean()) < 5 * sq.std(ddof=1) / math.sqrt(sq.size)
    assert NoiseLaw.uniform(3.0).mean_variance == pytest.approx(3.0)
    assert cat.mean_variance == pytest.approx(5.0)


def test_noise_law_parse_and_errors():
    assert NoiseLaw.parse("U5") == NoiseLaw.uniform(5.0)
    assert NoiseLaw.parse("S1,3,5").values == (1.0, 3.0, 5.0)
    assert NoiseLaw.parse("U5").label == "U5" and NoiseLaw.parse("S1,3").label == "S1,3"
    for bad in ("X5", "U", "Ua", 5):
        with pytest.raises(ValueError):
            NoiseLaw.parse(bad)
    with pytest.raises(ValueError, match="values"):
        NoiseLaw.categorical([-1.0])
    with pytest.raises(ValueError, match="batch"):
        sample_regression(0, NoiseLaw.uniform(1.0), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        sample_regression(2, NoiseLaw.uniform(1.0), rng=0)


@settings(deadline=None)
@given(seed=seeds, kind=st.sampled_from(vm.KINDS), L=st.integers(1, 3), H=st.integers(1, 2))
def test_torch_forward_matches_numpy_theory(seed, kind, L, H):
    n, d = 6, 3
    gen = torch.Generator().manual_seed(seed % (2**31))
    params = vm.init_params(kind, L, d=d, heads=H, scale=0.3 / math.sqrt(n), generator=gen)
    b = sample_regression(4, NoiseLaw.uniform(1.0), rng=np.random.default_rng(seed), n=n, d=d)
    t = b.to_torch()
    ours = vm.forward_readouts(kind, params, t["x"], t["y"], t["x_query"]).numpy()
    P, Q = (m.numpy() for m in vm.weight_matrices(kind, params, d))
    ref = np.stack(forward(b.x, b.y, b.x_query, P, Q).readouts)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(ref).max()))
    if kind != "full":
        p = {k: v.numpy() for k, v in params.items()}
        qy = p.get("q_y", np.zeros_like(p["q_x"]))
        np.testing.assert_allclose(vm.omegas(kind, params).numpy(), omega(p["p_x"], p["p_y"], p["q_x"], qy), rtol=1e-12)


def test_gdpp_has_no_y_query_channel():
    params = vm.init_params("gdpp", 2, d=3, generator=torch.Generator().manual_seed(0))
    P, Q = vm.weight_matrices("gdpp", params, 3)
    assert torch.all(Q[..., -1, -1] == 0)
    assert torch.all(vm.omegas("gdpp", params)[:, [1, 3]] == 0)


def test_evaluate_is_paired_with_the_oracle():
    b = sample_regression(3000, NoiseLaw.uniform(2.0), rng=np.random.default_rng(2))
    params = vm.init_params("diag", 1, generator=torch.Generator().manual_seed(1))
    m = vm.evaluate("diag", params, b, chunk=1000)
    assert m["adjusted"] == pytest.approx(m["loss"] - m["oracle"], rel=1e-9)
    oracle = bl.oracle_prediction(bl.ridge_spectrum(b.x, b.y, b.x_query), b.sigma)
    assert m["oracle"] == pytest.approx(bl.half_mse(oracle, b.y_query), rel=1e-12)
    assert len(m["adjusted_per_readout"]) == 1


def test_training_reduces_loss_and_train_point_is_json():
    res = train_point("diag", 1, "U1", seed=3, scale="quick", device="cpu",
                      overrides={"steps": 80, "batch": 64, "eval_sequences": 1000})
    json.dumps(res, allow_nan=False)
    assert res["noise_law"] == "U1" and res["layers"] == 1 and len(res["omegas"]) == 1
    # the untrained model predicts ~0 (loss ~ d/2 = 5); 80 Adam steps must get well below that
    assert res["loss"] < 3.0
    assert res["omegas"][0][2] < 0  # omega_yx < 0: a GD step under the readout −y_t


def test_bad_model_arguments():
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="kind"):
        vm.init_params("softmax", 1, generator=gen)
    with pytest.raises(ValueError, match="layers"):
        vm.init_params("diag", 0, generator=gen)
    params = vm.init_params("diag", 1, d=3, generator=gen)
    with pytest.raises(ValueError, match="params"):
        vm.weight_matrices("full", params, 3)
    with pytest.raises(ValueError, match="x, y, x_query"):
        vm.forward_readouts("diag", params, torch.zeros(2, 3), torch.zeros(2), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="scale"):
        train_point("diag", 1, "U1", 0, scale="huge")


def test_baseline_losses_small():
    out = baseline_losses(NoiseLaw.parse("S1,3"), tune_sequences=3000, eval_sequences=3000, seed=0)
    json.dumps(out, allow_nan=False)
    for k in ("constrr", "adarr", "tunedrr", "gd", "bayes"):
        assert out[k]["adjusted"] > -4 * out[k]["se"]  # nothing beats the oracle beyond MC error


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="paper scale needs a CUDA device (hours on a CPU)")
def test_paper_scale_point_on_available_device():
    """Paper scale (Sec. 6: 200k Adam steps, batch 2048, lr 1e-4): hours on a CPU; run on a GPU with -m gpu."""
    res = train_point("diag", 3, "U5", seed=0, scale="paper", device="cuda")
    assert res["adjusted"] < 0.2  # Table 1: DIAG L=3, U(0,5) = 0.118 (best of 5 seeds)


def test_all_restarts_diverging_raises_and_best_restart_is_kept():
    law = NoiseLaw.uniform(7.0)
    with pytest.raises(FloatingPointError, match="every restart diverged"):
        vm.train("diag", 3, law, steps=5, batch=32, lr=1e-2, seed=0, init_scale=1.0, dtype="float32", restarts=2,
                 validation=100)  # O(1) weights: a degree-27 polynomial of the data overflows float32
    res = vm.train("diag", 1, NoiseLaw.uniform(1.0), steps=30, batch=64, lr=1e-2, seed=0, restarts=3, validation=500)
    vals = [a["validation_loss"] for a in res.attempts]
    assert len(vals) == 3 and res.loss == min(vals)
