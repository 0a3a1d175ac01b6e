"""Optimisers shared by every setting: exact population-loss minimisation and sampled-data training.

* :func:`minimize_population` — deterministic float64 L-BFGS (strong-Wolfe line search) on a closed-form
  population loss, optionally followed by exact-Hessian trust-region Newton steps (:func:`newton_trust_region`),
  with bounded random-perturbation restarts to leave saddles.  Every attempt is recorded.
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
                              positive_int, real_float)

Params = dict[str, torch.Tensor]


@dataclass
class OptResult:
    """The outcome of an optimisation: final parameters (detached), final loss, and a trace."""

    params: Params
    loss: float
    iterations: int
    seconds: float
    history: list[float] = field(default_factory=list)
    #: ``time.perf_counter()`` at each ``history`` entry (L-BFGS and Newton evaluations), e.g. for time-to-gap
    #: measurements.
    history_clock: list[float] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    #: Exact Hessians computed (trust-region Newton steps); each costs several ``history`` evaluations.
    hessians: int = 0


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


def _trust_region_step(w: torch.Tensor, gv: torch.Tensor, radius: float) -> torch.Tensor:
    """The minimiser of ``m(s) = gvᵀs + ½ Σ w_i s_i²`` over ``‖s‖ ≤ radius`` in the Hessian's eigenbasis.

    ``w`` (ascending) are the eigenvalues, ``gv`` the gradient's coordinates (``w_i = 0`` entries carry ``gv_i = 0``,
    see :func:`_newton`).  The solution is ``s = −gv/(w + λ)`` with ``λ ≥ max(0, −w_min)`` and ``λ = 0`` or
    ``‖s‖ = radius`` (Moré & Sorensen 1983); ``λ`` is found by bisection in ``log(λ − max(0, −w_min))`` since
    ``‖s(λ)‖`` falls monotonically.  Hard case (negative curvature orthogonal to the gradient, e.g. exactly at a saddle): the
    remaining length goes along the most negative eigenvector, which is how the step leaves a saddle.
    """
    w_min = float(w[0])
    low = max(0.0, -w_min)
    shifted = w + low                                              # ≥ 0, exactly 0 on the lowest eigenvalue if < 0

    def step(delta: float) -> torch.Tensor:                        # s(λ) at λ = low + delta
        den = shifted + delta
        return torch.where(den > 0, -gv / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(gv))

    if w_min >= 0:
        s = step(0.0)
        if float(s.norm()) <= radius:
            return s
    bottom = shifted == 0
    if w_min < 0 and not bool((gv[bottom] != 0).any()) and float(step(0.0).norm()) <= radius:
        s = step(0.0)                                              # the hard case
        s[int(torch.nonzero(bottom)[0])] = math.sqrt(max(radius ** 2 - float(s.norm()) ** 2, 0.0))
        return s
    lo, hi = -745.0, math.log(float(gv.norm()) / radius + 1e-300)   # ‖s(low + e^hi)‖ ≤ radius
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(step(math.exp(mid)).norm()) > radius else (lo, mid)
    return step(math.exp(hi))


def _flatten(params: Params) -> tuple[torch.Tensor, Callable[[torch.Tensor], Params]]:
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]
    flat = torch.cat([params[k].detach().reshape(-1) for k in names])

    def unflatten(x: torch.Tensor) -> Params:
        return {k: part.reshape(shape) for k, part, shape in zip(names, torch.split(x, sizes), shapes)}

    return flat, unflatten


def _newton(loss_fn: Callable[[Params], torch.Tensor], params: Params, steps: int, stop_at: float | None,
            clock: list[float], radius: float = 1.0,
            hessian_of: Callable[[Params], torch.Tensor] | None = None) -> tuple[Params, float, list[float], int]:
    """Trust-region Newton on the exact Hessian (``torch.func.hessian`` of the flattened ``hessian_of``, default
    ``loss_fn``).

    At most ``steps`` Hessians; a rejected trial step (actual/predicted decrease below 10⁻⁴) shrinks the radius
    and reuses the Hessian.  Eigenvalues below ``10⁻¹²·max|w|`` in magnitude are treated as exactly flat
    (symmetry directions of the model: the gradient is orthogonal to them, up to round-off, which is dropped).
    Stops once ``loss <= stop_at``, when the quadratic model predicts no decrease (a minimum to round-off), when
    the Hessian is not finite, or when the radius falls below ``10⁻¹⁴(1 + ‖x‖)``.  Returns the parameters, loss, the loss of every evaluation
    (each is loss + gradient, appended to ``clock`` like L-BFGS's) and the number of Hessians.
    """
    from torch.func import hessian

    x, unflatten = _flatten(params)
    flat_loss = lambda v: loss_fn(unflatten(v)).reshape(())  # noqa: E731  (a one-element loss is a scalar)
    second = hessian_of or loss_fn
    flat_second = lambda v: second(unflatten(v)).reshape(())  # noqa: E731
    history: list[float] = []

    def evaluate(v: torch.Tensor) -> tuple[float, torch.Tensor]:
        leaf = v.detach().clone().requires_grad_(True)
        loss = flat_loss(leaf)
        (grad,) = torch.autograd.grad(loss, leaf)
        history.append(float(loss.detach()))
        clock.append(time.perf_counter())
        return history[-1], grad

    f, g = evaluate(x)
    hessians, fresh = 0, True
    while stop_at is None or f > stop_at:
        if fresh:
            if hessians == steps:
                break
            hess = hessian(flat_second)(x.detach())
            hessians += 1
            if not bool(torch.isfinite(hess).all()):           # e.g. a non-smooth point: leave it to the caller
                break
            w, V = torch.linalg.eigh(hess)
            gv = V.mT @ g
            flat = w.abs() <= 1e-12 * float(w.abs().max())
            w, gv = torch.where(flat, 0.0, w), torch.where(flat, 0.0, gv)
        s_eig = _trust_region_step(w, gv, radius)
        predicted = float(gv @ s_eig + 0.5 * (w * s_eig ** 2).sum())
        if not predicted < 0:
            break
        s = V @ s_eig
        f_new, g_new = evaluate(x + s)
        ratio = (f_new - f) / predicted                    # NaN for a non-finite trial loss: shrink and reject
        if not ratio >= 0.25:
            radius = 0.25 * float(s.norm())
        elif ratio > 0.75 and float(s.norm()) >= 0.99 * radius:
            radius *= 2.0
        fresh = ratio > 1e-4
        if fresh:
            x, f, g = x + s, f_new, g_new
        elif radius < 1e-14 * (1.0 + float(x.norm())):
            break
    return {k: v.detach().clone() for k, v in unflatten(x).items()}, f, history, hessians


def newton_trust_region(loss_fn: Callable[[Params], torch.Tensor], init: Params, *, steps: int = 50,
                        target: float | None = None, gap: float = 1e-8, radius: float = 1.0,
                        hessian_of: Callable[[Params], torch.Tensor] | None = None) -> OptResult:
    """Minimise a smooth loss by trust-region Newton steps on its exact Hessian (eigendecomposed).

    Second order where L-BFGS is slow: at a strict saddle the step follows the most negative curvature (even with
    a zero gradient), and near a degenerate minimum (a loss quartic along some directions, as when a model has
    more heads than the minimiser's rank) a Newton step shrinks the distance to 2/3 and the loss about 5x,
    where first-order progress stalls.  The Hessian costs about ``n`` gradient evaluations for ``n`` parameters
    (vectorised by ``torch.func``): meant for a few hundred parameters.

    Parameters
    ----------
    loss_fn : callable
        ``Params → scalar tensor``, twice differentiable, composable with ``torch.func`` (no data-dependent
        Python control flow on tensor values).
    init : dict of str to torch.Tensor
        Starting parameters (float64 recommended).
    steps : int
        Most Hessians to compute.
    target, gap : float, optional
        Stop once ``loss − target <= gap·max(1, |target|)``.
    radius : float
        Initial trust radius (Euclidean, over all parameters flattened).
    hessian_of : callable, optional
        The function whose Hessian is taken (default ``loss_fn``).  It must equal ``loss_fn`` in value and gradient;
        e.g. ``loss_fn`` may evaluate an inner exact minimiser without gradient tracking (its gradient is still
        exact, by the envelope theorem) while ``hessian_of`` differentiates through it, which the Hessian needs.

    Returns
    -------
    OptResult
        ``history`` holds every loss + gradient evaluation, ``hessians`` the Hessians computed.
    """
    function("loss_fn", loss_fn)
    if hessian_of is not None:
        function("hessian_of", hessian_of)
    check_params("init", init, tuple(init) if isinstance(init, dict) else (), real=True)
    steps, gap, radius = positive_int("steps", steps), positive_float("gap", gap), positive_float("radius", radius)
    target = None if target is None else real_float("target", target)
    stop_at = None if target is None else target + gap * max(1.0, abs(target))
    t0 = time.perf_counter()
    clock: list[float] = []
    params, loss, history, hessians = _newton(loss_fn, init, steps, stop_at, clock, radius, hessian_of)
    return OptResult(params=params, loss=loss, iterations=len(history), seconds=time.perf_counter() - t0,
                     history=history, history_clock=clock, hessians=hessians,
                     attempts=[{"attempt": 0, "loss": loss, "iterations": len(history), "kind": "newton",
                                "hessians": hessians}])


def minimize_population(loss_fn: Callable[[Params], torch.Tensor], init: Params, *, target: float | None = None,
                        gap: float = 1e-8, max_iter: int = 2000, grad_tol: float = 1e-12, restarts: int = 5,
                        perturb_scale: float = 0.1, generator: torch.Generator | None = None,
                        stall_window: int | None = None, stall_ratio: float = 0.5,
                        rebalance: Callable[[Params], Params] | None = None, newton_steps: int = 0,
                        hessian_of: Callable[[Params], torch.Tensor] | None = None) -> OptResult:
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

    ``newton_steps`` (needs ``target``; default 0: off): an L-BFGS run that ends above the target is continued by
    at most ``newton_steps`` trust-region Newton steps (:func:`newton_trust_region`) before any rebalance or
    perturbation — the second-order finish for saddles and degenerate minima where L-BFGS crawls.  Each attempt
    records its ``hessians``; ``hessian_of`` is passed on (see :func:`newton_trust_region`).
    """
    function("loss_fn", loss_fn)
    check_params("init", init, tuple(init) if isinstance(init, dict) else (), real=False)
    max_iter = positive_int("max_iter", max_iter)
    restarts = nonnegative_int("restarts", restarts)
    positive_float("gap", gap)
    nonnegative_float("perturb_scale", perturb_scale)
    newton_steps = nonnegative_int("newton_steps", newton_steps)
    if newton_steps and target is None:
        raise ArgumentError("newton_steps needs target (Newton steps continue a run that ended above it)")
    if hessian_of is not None:
        function("hessian_of", hessian_of)
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
    reached = lambda loss: target is not None and loss - target <= gap * max(1.0, abs(target))  # noqa: E731

    def descend(start: Params) -> tuple[Params, float, int, list[float], int]:
        params, loss, iters, hist = _lbfgs(loss_fn, start, max_iter, grad_tol, clock, stall)
        if newton_steps == 0 or reached(loss):
            return params, loss, iters, hist, 0
        stop_at = float(target) + gap * max(1.0, abs(float(target)))
        polished, polished_loss, more, hessians = _newton(loss_fn, params, newton_steps, stop_at, clock,
                                                          hessian_of=hessian_of)
        if polished_loss < loss:
            params, loss = polished, polished_loss
        return params, loss, iters + len(more), hist + more, hessians

    best, best_loss, iters, history, hessians = descend(init)
    attempts = [{"attempt": 0, "loss": best_loss, "iterations": iters, "kind": "init", "hessians": hessians}]
    total, total_hessians = iters, hessians
    for attempt in range(1, restarts + 1):
        if target is None or reached(best_loss):
            break
        if rebalance is not None and attempts[-1]["kind"] != "rebalance":
            kind, start = "rebalance", rebalance(best)
        else:
            kind = "perturb"
            start = {k: v + perturb_scale * torch.randn(v.shape, generator=generator, dtype=v.dtype).to(v.device)
                     for k, v in best.items()}
        params, loss, iters, hist, hessians = descend(start)
        total, total_hessians = total + iters, total_hessians + hessians
        history.extend(hist)
        attempts.append({"attempt": attempt, "loss": loss, "iterations": iters, "kind": kind, "hessians": hessians})
        if loss < best_loss:
            best, best_loss = params, loss
    return OptResult(params=_clone(best), loss=best_loss, iterations=total, seconds=time.perf_counter() - t0,
                     history=history, history_clock=clock, attempts=attempts, hessians=total_hessians)


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
