"""Optimisers shared by every setting: exact population-loss minimisation and sampled-data training.

* :func:`minimize_population` — deterministic float64 L-BFGS (strong-Wolfe line search) on a closed-form
  population loss, with bounded random-perturbation restarts to leave saddles.  Every attempt is recorded.
* :func:`train_sampled` — Adam on freshly sampled mini-batches with a cosine learning-rate decay (a constant
  rate stalls at the mini-batch noise floor).

Parameters are a ``dict[str, torch.Tensor]`` so that models stay functional (``torch.func``-friendly).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from numerics.arguments import params as check_params
from numerics.arguments import tensor
from theory.arguments import (ArgumentError, function, nonnegative_float, nonnegative_int, positive_float,
                              positive_int)

Params = dict[str, torch.Tensor]


@dataclass
class OptResult:
    """The outcome of an optimisation: final parameters (detached), final loss, and a trace."""

    params: Params
    loss: float
    iterations: int
    seconds: float
    history: list[float] = field(default_factory=list)
    #: ``time.perf_counter()`` at each ``history`` entry (L-BFGS evaluations), e.g. for time-to-gap measurements.
    history_clock: list[float] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _clone(params: Params) -> Params:
    return {k: v.detach().clone() for k, v in params.items()}


def _lbfgs(loss_fn: Callable[[Params], torch.Tensor], params: Params, max_iter: int, tol: float,
           clock: list[float], stall: tuple[int, float, float, float] | None = None) -> tuple[Params, float, int, list[float]]:
    """L-BFGS until convergence or ``max_iter`` iterations.

    ``stall = (window, ratio, floor, gap)``: run in chunks of ``window`` iterations (the curvature history carries
    over) and stop early when a chunk fails to shrink ``loss − floor`` below ``ratio`` times its value at the
    chunk's start — a saddle plateau, which the caller leaves by a perturbation instead of waiting it out — or
    once ``loss − floor <= gap``.
    """
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    window = stall[0] if stall is not None else max_iter
    opt = torch.optim.LBFGS(list(leaves.values()), lr=1.0, max_iter=window, tolerance_grad=tol,
                            tolerance_change=tol * 1e-3, history_size=50, line_search_fn="strong_wolfe")
    history: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn(leaves)
        loss.backward()
        history.append(float(loss.detach()))
        clock.append(time.perf_counter())
        return loss

    done = 0
    while done < max_iter:
        before, iters_before = len(history), opt.state[opt._params[0]].get("n_iter", 0)
        opt.step(closure)
        iters = opt.state[opt._params[0]].get("n_iter", 0) - iters_before
        done += window
        if stall is None or iters < window:            # no stall rule, or L-BFGS stopped by its own tolerances
            break
        start, end = history[before] - stall[2], min(history[before:]) - stall[2]
        if end <= stall[3] or end > stall[1] * start:   # reached the target, or stalled on a plateau
            break
    with torch.no_grad():
        final = float(loss_fn(leaves))
    return {k: v.detach() for k, v in leaves.items()}, final, len(history), history


def minimize_population(loss_fn: Callable[[Params], torch.Tensor], init: Params, *, target: float | None = None,
                        gap: float = 1e-8, max_iter: int = 2000, grad_tol: float = 1e-12, restarts: int = 5,
                        perturb_scale: float = 0.1, generator: torch.Generator | None = None,
                        stall_window: int | None = None, stall_ratio: float = 0.5,
                        rebalance: Callable[[Params], Params] | None = None) -> OptResult:
    """Minimise an exact (closed-form) loss with float64 L-BFGS.

    If ``target`` (the known minimum) is given and the loss ends more than ``gap·max(1, |target|)`` above it,
    the best point is perturbed by ``perturb_scale·N(0, 1)`` (drawn from ``generator``) and L-BFGS restarted,
    at most ``restarts`` times: plain L-BFGS can stop on a saddle.  Every attempt is kept in ``attempts``.

    ``stall_window`` (needs ``target``): an attempt also ends when ``stall_window`` L-BFGS iterations fail to
    shrink ``loss − target`` by the factor ``stall_ratio`` — a saddle plateau is left by the next perturbation
    at once rather than after up to ``max_iter`` iterations on it.

    ``rebalance`` (optional): a map that leaves the loss unchanged but moves along a symmetry of the model (e.g.
    equalising the scales of factors).  An attempt that ended above the target is first continued from
    ``rebalance(best)`` — a fresh L-BFGS memory on a better-conditioned point of the same level set — and only an
    attempt after that is perturbed; ``attempts`` records each start's ``kind``.
    """
    function("loss_fn", loss_fn)
    check_params("init", init, tuple(init) if isinstance(init, dict) else (), real=False)
    max_iter = positive_int("max_iter", max_iter)
    restarts = nonnegative_int("restarts", restarts)
    positive_float("gap", gap)
    nonnegative_float("perturb_scale", perturb_scale)
    stall = None
    if stall_window is not None:
        if target is None:
            raise ArgumentError("stall_window needs target (stalling is measured as loss − target)")
        ratio = positive_float("stall_ratio", stall_ratio)
        if ratio >= 1:
            raise ArgumentError(f"stall_ratio must be below 1, got {stall_ratio}")
        stall = (positive_int("stall_window", stall_window), ratio, float(target), gap * max(1.0, abs(float(target))))
    t0 = time.perf_counter()
    clock: list[float] = []
    best, best_loss, iters, history = _lbfgs(loss_fn, init, max_iter, grad_tol, clock, stall)
    attempts = [{"attempt": 0, "loss": best_loss, "iterations": iters, "kind": "init"}]
    total = iters
    for attempt in range(1, restarts + 1):
        if target is None or best_loss - target <= gap * max(1.0, abs(target)):
            break
        if rebalance is not None and attempts[-1]["kind"] != "rebalance":
            kind, start = "rebalance", rebalance(best)
        else:
            kind = "perturb"
            start = {k: v + perturb_scale * torch.randn(v.shape, generator=generator, dtype=v.dtype).to(v.device)
                     for k, v in best.items()}
        params, loss, iters, hist = _lbfgs(loss_fn, start, max_iter, grad_tol, clock, stall)
        total += iters
        history.extend(hist)
        attempts.append({"attempt": attempt, "loss": loss, "iterations": iters, "kind": kind})
        if loss < best_loss:
            best, best_loss = params, loss
    return OptResult(params=_clone(best), loss=best_loss, iterations=total, seconds=time.perf_counter() - t0,
                     history=history, history_clock=clock, attempts=attempts)


def cosine_lr(step: int, steps: int, lr: float, final_fraction: float = 1e-2) -> float:
    """Cosine decay from ``lr`` to ``final_fraction·lr`` over ``steps`` (``step`` past ``steps`` stays at the end)."""
    return _cosine_lr(nonnegative_int("step", step), positive_int("steps", steps), positive_float("lr", lr),
                      nonnegative_float("final_fraction", final_fraction))


def _cosine_lr(step: int, steps: int, lr: float, final_fraction: float) -> float:
    """:func:`cosine_lr` on checked arguments (called on every training step)."""
    frac = min(max(step / max(steps, 1), 0.0), 1.0)
    return lr * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * frac)))


def chunked_model_sum(loss_fn: Callable[[Params, torch.Tensor], torch.Tensor], params: Params, batch: torch.Tensor,
                      chunk: int) -> torch.Tensor:
    """``Σ_m loss_fn(params_m, batch_m)`` over the leading model axis, evaluated ``chunk`` models at a time.

    ``loss_fn`` takes parameters and data with a leading model axis and returns one loss per model.  Chunks are
    as equal as possible, so a compiled ``loss_fn`` sees at most two shapes.  Chunking changes only the order of
    evaluation: the sum and its gradient are those of one batched call.
    """
    function("loss_fn", loss_fn)
    check_params("params", params, tuple(params) if isinstance(params, dict) else (), real=False)
    chunk = positive_int("chunk", chunk)
    count = tensor("batch", batch).shape[0]
    if any(v.shape[:1] != (count,) for v in params.values()):
        raise ArgumentError(f"batch and every params tensor must share the leading model axis of {count}, got "
                            f"{ {k: tuple(v.shape) for k, v in params.items()} }")
    parts = -(-count // chunk)
    bounds = [count * i // parts for i in range(parts + 1)]          # equal sizes up to one
    losses = [loss_fn({k: v[lo:hi] for k, v in params.items()}, batch[lo:hi]).sum()
              for lo, hi in zip(bounds[:-1], bounds[1:])]
    return torch.stack(losses).sum()


def train_sampled(loss_fn: Callable[[Params, Any], torch.Tensor], init: Params, sample_batch: Callable[[int], Any], *,
                  steps: int, lr: float, final_lr_fraction: float = 1e-2, log_every: int = 50,
                  per_model: bool = False, clip_norm: float | None = None, name: str = "model") -> OptResult:
    """Adam on fresh mini-batches ``sample_batch(step)`` with cosine decay; returns the last parameters.

    Default: ``loss_fn(params, batch)`` returns a scalar (a sum over independent models is fine: their gradients
    do not interact, so one call trains them all at once); a non-finite loss raises ``FloatingPointError``.

    ``per_model=True``: every parameter carries a leading axis of ``M`` independent models and ``loss_fn`` returns
    their ``M`` losses.  A model whose loss turns non-finite is frozen from that step on (its gradient is zeroed
    and its parameters are restored after every Adam step, since Adam's momentum would still move them) and
    marked ``diverged`` in ``attempts``; only when every model has diverged is ``FloatingPointError`` raised.
    ``clip_norm`` rescales each model's gradient (all its parameters together) to a norm of at most
    ``clip_norm``.  ``history`` and ``loss`` are then the lowest loss among the live models; ``name`` is what
    the models are called in messages (e.g. ``"restart"``).
    """
    function("loss_fn", loss_fn)
    check_params("init", init, tuple(init) if isinstance(init, dict) else (), real=False)
    function("sample_batch", sample_batch)
    steps = positive_int("steps", steps)
    lr = positive_float("lr", lr)
    final_lr_fraction = nonnegative_float("final_lr_fraction", final_lr_fraction)
    log_every = positive_int("log_every", log_every)
    if clip_norm is not None:
        clip_norm = positive_float("clip_norm", clip_norm)
        if not per_model:
            raise ValueError("clip_norm is per model: it needs per_model=True")
    t0 = time.perf_counter()
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in init.items()}
    opt = torch.optim.Adam(list(leaves.values()), lr=lr)
    models = next(iter(leaves.values())).shape[0] if per_model else 1
    alive = torch.ones(models, dtype=torch.bool, device=next(iter(leaves.values())).device)
    history: list[float] = []
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _cosine_lr(step, steps, lr, final_lr_fraction)
        batch = sample_batch(step)
        opt.zero_grad()
        losses = loss_fn(leaves, batch).reshape(-1)
        alive &= torch.isfinite(losses.detach())
        if not bool(alive.any()):
            what = f"every {name} diverged by step {step}" if per_model else f"training diverged at step {step}"
            raise FloatingPointError(f"{what}: loss {losses.detach().tolist()}; lower lr (now {lr})"
                                     + (" or clip_norm" if clip_norm is not None else ""))
        losses[alive].sum().backward()
        frozen: Params = {}
        if per_model:
            _freeze_and_clip(leaves, alive, clip_norm)
            if not bool(alive.all()):  # a zero gradient alone does not stop Adam: its momentum still moves the model
                frozen = {k: v.detach()[~alive].clone() for k, v in leaves.items()}
        opt.step()
        if frozen:
            with torch.no_grad():
                for k, v in leaves.items():
                    v[~alive] = frozen[k]
        loss = losses.detach()[alive].min()
        if step % log_every == 0 or step == steps - 1:
            history.append(float(loss))
    attempts = ([{name: i, "diverged": not bool(ok)} for i, ok in enumerate(alive.tolist())] if per_model else [])
    return OptResult(params=_clone(leaves), loss=float(loss), iterations=steps,
                     seconds=time.perf_counter() - t0, history=history, attempts=attempts)


def _freeze_and_clip(leaves: Params, alive: torch.Tensor, clip_norm: float | None) -> None:
    """Zero the gradients of diverged models; rescale each model's gradient norm to at most ``clip_norm``."""
    with torch.no_grad():
        for v in leaves.values():
            v.grad[~alive] = 0.0
        if clip_norm is not None:
            m = alive.shape[0]
            norms = torch.sqrt(sum((v.grad.reshape(m, -1) ** 2).sum(-1) for v in leaves.values()))
            factor = torch.clamp(clip_norm / (norms + 1e-12), max=1.0)
            for v in leaves.values():
                v.grad.mul_(factor.reshape((m,) + (1,) * (v.ndim - 1)))
