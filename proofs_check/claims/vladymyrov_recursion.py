"""Claims of Vladymyrov et al. (NeurIPS 2024, arXiv:2402.14180) on the forward pass and the implicit recursion,
checked against the independent torch forward pass of :mod:`numerics.models.vladymyrov` (ids ``vladymyrov.*``).

* ``vladymyrov.thm41.torch-recursion``: Theorem 4.1 / Lemma 4.3 — the read-out after every layer is
  ``⟨w^K, x_t⟩`` of the recursion (numpy :func:`~theory.vladymyrov.recursion.implicit_states` and its
  differentiable torch twin), and the twin's gradients in ``P, Q`` are those of the forward pass.
* ``vladymyrov.model.torch-forward``: the numpy forward pass (FULL), the DIAG and GD++ weight builders and the
  four ``ω`` update equations of Sec. 5 against the torch model on the same parameters.

Tolerance (both claims, origin ``round-off``): the compared values are multilinear polynomials in the data and
weights evaluated with ``+`` and ``×``; the float64 error of such an evaluation is at most ``γ_K·p(|·|)``, where
``p(|·|)`` is the same computation on the absolute values of every input (it bounds the sum of the absolute
values of all monomials) and ``K`` the depth of rounded operations on any path.  One layer rounds
``n`` (context sum of ``E``) ``+ 2(d+1)`` (``P E Q``) ``+ H`` (heads) ``+ (d+1)`` (``Z Bᵀ``) ``+ 4`` times, and a
token of layer ``l + 1`` is cubic in the tokens of layer ``l``, so relative errors grow at most threefold per
layer: ``K = (3^L − 1)/2 · (n + 3(d+1) + H + 4)``; two independent evaluations are compared, so the bound is
``2K·eps·p(|·|)``.  The measured error is the largest ratio to that bound (pass: ≤ 1).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.models import vladymyrov as vm
from numerics.regression import NoiseLaw, sample_regression
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.papers import VLADYMYROV
from proofs_check.registry import register
from theory.vladymyrov import model as th_model
from theory.vladymyrov import recursion as rec

_EPS = float(np.finfo(np.float64).eps)
#: Batch axes of distinct lengths: a batch shape taken from the wrong axes of ``x`` cannot broadcast by accident.
_GRID = (2, 3, 4)
_BATCH = int(np.prod(_GRID))

ROUND_OFF = Tolerance(
    1.0, "float64 round-off of a multilinear evaluation: |error| ≤ 2K·eps·p(|inputs|), p(|·|) the torch forward pass "
         "(or its autograd gradient) on the absolute values of data and weights, K = (3^L − 1)/2·(n + 3(d+1) + H + 4) "
         "rounded operations on a path (module docstring); error = max ratio to that bound", origin="round-off")


def _worst(*errors: float) -> float:
    """The largest error, a NaN (a broken evaluation, e.g. 0/0) counting as infinite: ``max`` would skip it."""
    return max(math.inf if math.isnan(e) else float(e) for e in errors)


def _depth(n: int, d: int, L: int, H: int) -> float:
    return (3**L - 1) / 2 * (n + 3 * (d + 1) + H + 4)


def _data(ctx: RunContext, stream: int, batch: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = sample_regression(batch, NoiseLaw.uniform(1.0), rng=ctx.rng(stream), n=n, d=d)
    return b.x, b.y, b.x_query


def _torch(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) for a in arrays]


def _readouts(kind: str, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, xq: np.ndarray,
              *, absolute: bool = False) -> np.ndarray:
    """``(L, B)`` read-outs of the torch model; ``absolute=True``: on ``|params|, |x|, |y|, |x_q|`` (the size
    ``p(|·|)``)."""
    f = np.abs if absolute else (lambda a: a)
    p = {k: t for k, t in zip(params, _torch(*(f(v) for v in params.values())))}
    with torch.no_grad():
        return vm.forward_readouts(kind, p, *_torch(f(x), f(y), f(xq))).numpy()


def _flat(readouts: list[np.ndarray]) -> np.ndarray:
    """``(L, *_GRID)`` read-outs of the theory forward passes as ``(L, B)``, the torch model's layout."""
    return np.stack(readouts).reshape(len(readouts), -1)


def _ratio(got: np.ndarray, want: np.ndarray, size: np.ndarray, depth: float, *, entrywise: bool = True) -> float:
    """``max |got − want| / (2K·eps·|p(|·|)|)`` per entry (``entrywise=False``: against the largest ``|p(|·|)|``, a
    weaker bound for arrays such as gradients with entries that vanish identically).  ``|·|`` of ``p``: a read-out is
    minus a label slot, so on non-negative inputs it is ``≤ 0``.  An entry of size 0 (a sum of no monomials, e.g.
    the query's label slot before layer 1) must agree exactly: ratio 0 if it does, inf otherwise."""
    size = np.abs(size) if entrywise else np.max(np.abs(size))
    diff = np.abs(got - want)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.where(diff == 0, 0.0, diff / (2 * depth * _EPS * size))))


def _weights(rng: np.random.Generator, shape: tuple[int, ...], n: int, d: int) -> np.ndarray:
    """``N(0, s²)`` weights with ``s = 0.2/((d+1)√n)``: one layer's ``|B| ≈ (d+1)² s² n`` stays ≈ 0.04 on the absolute
    values, so the size ``p(|·|)`` stays within a small factor of the values over the layers (the bound is sharp)."""
    return rng.standard_normal(shape) * 0.2 / ((d + 1) * np.sqrt(n))


# ------------------------------------------------------------------------------------------------ Theorem 4.1


def _recursion_measure(ctx: RunContext, *, shift: int) -> Measurement:
    """``shift = 0``: state ``K`` against read-out ``K``; ``shift = 1``: state ``K − 1`` (the off-by-one control)."""
    settings = [(12, 4, 4, 2), (7, 3, 3, 1)] + ([] if ctx.quick else [(20, 10, 5, 3)])
    worst, rows = 0.0, []
    for i, (n, d, L, H) in enumerate(settings):
        x, y, xq = _data(ctx, i, _BATCH, n, d)
        rng = ctx.rng(100 + i)
        P, Q = (_weights(rng, (L, H, d + 1, d + 1), n, d) for _ in range(2))
        depth = _depth(n, d, L, H)
        want = _readouts("full", {"P": P, "Q": Q}, x, y, xq)
        size = _readouts("full", {"P": P, "Q": Q}, x, y, xq, absolute=True)
        tx, ty, txq, tP, tQ = _torch(x, y, xq, P, Q)
        tP.requires_grad_(), tQ.requires_grad_()
        # the recursions run on the prompts arranged in three batch axes of distinct lengths (2, 3, 4)
        grid = (*_GRID, n, d)
        states_t = rec.implicit_states_torch(tx.reshape(grid), ty.reshape(grid[:-1]), tP, tQ)
        states_np = rec.implicit_states(x.reshape(grid), y.reshape(grid[:-1]), P, Q)
        layers = slice(1 - shift, L + 1 - shift)
        preds_t = torch.stack([s.predict(txq.reshape(*_GRID, d)).reshape(-1) for s in states_t[layers]])
        preds_np = np.stack([s.predict(xq.reshape(*_GRID, d)).reshape(-1) for s in states_np[layers]])
        err = {"numpy recursion": _ratio(preds_np, want, size, depth),
               "torch recursion": _ratio(preds_t.detach().numpy(), want, size, depth)}
        # gradients of Σ_b ŷ_b in (P, Q): the twin through autograd against the forward pass through autograd
        grads_t = torch.autograd.grad(preds_t[-1].sum(), (tP, tQ))
        fP, fQ = (t.clone().requires_grad_() for t in _torch(P, Q))
        grads_f = torch.autograd.grad(vm.forward_readouts("full", {"P": fP, "Q": fQ}, tx, ty, txq)[-1].sum(), (fP, fQ))
        aP, aQ = (t.clone().requires_grad_() for t in _torch(np.abs(P), np.abs(Q)))
        grads_abs = torch.autograd.grad(vm.forward_readouts("full", {"P": aP, "Q": aQ}, *_torch(np.abs(x), np.abs(y),
                                                            np.abs(xq)))[-1].sum(), (aP, aQ))
        err["gradient"] = max(_ratio(g.numpy(), f.numpy(), a.numpy(), depth, entrywise=False)
                              for g, f, a in zip(grads_t, grads_f, grads_abs))
        worst = _worst(worst, *err.values())
        rows.append({"n": n, "d": d, "L": L, "H": H, "batch": _GRID, **{k: round(v, 4) for k, v in err.items()}})
    label = "state K" if shift == 0 else "state K − 1"
    return Measurement(
        error=worst, expected="ratio to the round-off bound ≤ 1", observed=round(worst, 4),
        compared=(f"read-outs −y_t^K of the torch FULL forward pass (numerics.models.vladymyrov, {_BATCH} prompts, "
                  f"(n, d, L, H) in {settings}) against ⟨w^K, x_t⟩ of the Lemma 4.3 recursion at {label} (numpy "
                  f"implicit_states and the torch twin implicit_states_torch, on the prompts in batch axes {_GRID}), "
                  f"and the twin's autograd gradient of "
                  f"Σ ŷ in (P, Q) against the forward pass's"),
        details={"rows": rows})


register(Claim(
    id="vladymyrov.thm41.torch-recursion", paper=VLADYMYROV, reference="Theorem 4.1 and Lemma 4.3 (Sec. 4)",
    statement=("After every layer K the read-out of the FULL multi-head linear Transformer is ⟨w^K, x_t⟩ with w^K "
               "from the Lemma 4.3 recursion (M' = (I+A)M − b wᵀ, u' = (I+A)u + a b, a' = (1+d)a + ⟨c, u⟩, "
               "w' = (1+d)w − Mᵀc, E^l = T^l E^0 T^lᵀ); the differentiable torch twin gives the same values and "
               "the same gradients in the weights, on batches of prompts."),
    kind="identity", check=lambda ctx: _recursion_measure(ctx, shift=0),
    control=lambda ctx: _recursion_measure(ctx, shift=1),
    control_description=("the recursion's state K − 1 for the read-out of layer K (the off-by-one of aligning "
                         "states l = 0..L with read-outs K = 1..L)"),
    tolerance=ROUND_OFF, seed=41003,
    route=("the torch forward pass of numerics.models.vladymyrov (its own token and weight code, autograd for the "
           "gradients) on sampled prompts, against the recursion, which never runs the forward pass")))


# ------------------------------------------------------------------------------------------------ forward, DIAG, ω


def _model_measure(ctx: RunContext, *, include_query: bool) -> Measurement:
    """The theory forward passes against the torch model; ``include_query=True`` runs the numpy FULL forward with
    the query inside ``E`` (the neighbouring model: the control)."""
    settings = [(12, 4, 4, 2), (7, 3, 3, 3)] + ([] if ctx.quick else [(20, 10, 5, 2)])
    worst, rows = 0.0, []
    for i, (n, d, L, H) in enumerate(settings):
        x, y, xq = _data(ctx, i, _BATCH, n, d)
        gx, gy, gq = x.reshape(*_GRID, n, d), y.reshape(*_GRID, n), xq.reshape(*_GRID, d)  # three batch axes
        rng = ctx.rng(200 + i)
        depth = _depth(n, d, L, H)
        P, Q = (_weights(rng, (L, H, d + 1, d + 1), n, d) for _ in range(2))
        full = {"P": P, "Q": Q}
        run = th_model.forward(gx, gy, gq, P, Q, include_query=include_query)
        want, size = _readouts("full", full, x, y, xq), _readouts("full", full, x, y, xq, absolute=True)
        err = {"FULL forward": _ratio(_flat(run.readouts), want, size, depth),
               "FULL prediction": _ratio(run.prediction.reshape(-1), want[-1], size[-1], depth)}
        px, py, qx, qy = (rng.uniform(0.5, 1.0, (L, H)) * rng.choice([-1.0, 1.0], (L, H)) * 0.3 / np.sqrt(n)
                          for _ in range(4))  # |ω| ≈ 0.05·H/n: every ω term of the same order, none vanishing
        diag = {"p_x": px, "p_y": py, "q_x": qx, "q_y": qy}
        want, size = _readouts("diag", diag, x, y, xq), _readouts("diag", diag, x, y, xq, absolute=True)
        Pd, Qd = th_model.diag_matrices(px, py, qx, qy, d)
        err["DIAG matrices"] = _ratio(_flat(th_model.forward(gx, gy, gq, Pd, Qd).readouts), want, size, depth)
        omega_run = th_model.omega_forward(gx, gy, gq, th_model.omega(px, py, qx, qy))
        err["omega equations"] = _ratio(_flat(omega_run.readouts), want, size, depth)
        # the context tokens of the ω equations against the matrix forward's (every entry, every layer)
        tok_size = np.stack(th_model.forward(*(np.abs(v) for v in (gx, gy, gq, Pd, Qd))).tokens)
        err["omega tokens"] = _ratio(np.stack(omega_run.tokens), np.stack(th_model.forward(gx, gy, gq, Pd, Qd).tokens),
                                     tok_size, depth)
        gdpp = {"p_x": px, "p_y": py, "q_x": qx}
        Pg, Qg = th_model.gdpp_matrices(px, py, qx, d)
        err["GD++ matrices"] = _ratio(_flat(th_model.forward(gx, gy, gq, Pg, Qg).readouts),
                                      _readouts("gdpp", gdpp, x, y, xq),
                                      _readouts("gdpp", gdpp, x, y, xq, absolute=True), depth)
        worst = _worst(worst, *err.values())
        rows.append({"n": n, "d": d, "L": L, "H": H, "batch": _GRID, **{k: round(v, 4) for k, v in err.items()}})
    return Measurement(
        error=worst, expected="ratio to the round-off bound ≤ 1", observed=round(worst, 4),
        compared=(f"read-outs after every layer and the prediction ŷ of theory.vladymyrov.model.forward (FULL"
                  f"{', query inside E' if include_query else ''}; DIAG and GD++ through diag_matrices / "
                  f"gdpp_matrices) "
                  f"and of omega_forward(omega(p, q)) against the torch model numerics.models.vladymyrov on the same "
                  f"parameters, {_BATCH} prompts in batch axes {_GRID}, (n, d, L, H) in {settings}; the ω equations' "
                  f"tokens against the "
                  f"matrix forward's"),
        details={"rows": rows})


register(Claim(
    id="vladymyrov.model.torch-forward", paper=VLADYMYROV, reference="Sec. 3 eq. (3) and Sec. 5 (FULL, DIAG, GD++)",
    statement=("The numpy forward pass e_i ← e_i + Σ_k P_k E Q_k e_i (query masked out of E, ŷ = −y_t^L), the DIAG "
               "weights P_k = diag(p_x I, p_y), Q_k = diag(q_x I, q_y), GD++ (q_y = 0) and the four ω update "
               "equations x ← x + ω_xx Σ x + ω_xy y α, y ← y + ω_yx ⟨α, x⟩ + ω_yy λ y (ω_ab = Σ_k p_a q_b) give the "
               "read-outs of the torch model on the same parameters, after every layer, with several heads."),
    kind="identity", check=lambda ctx: _model_measure(ctx, include_query=False),
    control=lambda ctx: _model_measure(ctx, include_query=True),
    control_description=("the FULL forward pass with the query token inside E (von Oswald et al.'s include_query "
                         "option)"),
    tolerance=ROUND_OFF, seed=41004,
    route=("the torch model numerics.models.vladymyrov (its own parameter-to-weight map, token layout and layer loop) "
           "on sampled prompts")))
