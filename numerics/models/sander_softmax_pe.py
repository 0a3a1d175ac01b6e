"""The non-augmented model of Sander et al. with a softmax positional encoding (shared notes, S-P3).

Parameters ``{"A": (H, d), "B": (H, d), "Z": (T, T)}``: the model of
:mod:`numerics.models.sander_non_augmented` with ``P = softmax_positional(Z)``, a row softmax over the keys each
row sees (``j ≤ r+1``; the unused last row is 0).  Its exact case-O loss is that closed form at
``(BᵀA, softmax_positional(Z))``; the infimum and the derivation are in :mod:`theory.sander.softmax_pe`.
"""

from __future__ import annotations

import torch

from numerics.models import sander_non_augmented as product
from numerics.optimize import OptResult, minimize_population
from numerics import arguments as targ
from theory.arguments import ArgumentError, positive_int
from theory.arguments import seed as check_seed
from theory.sander import non_augmented as theory

Params = dict[str, torch.Tensor]


def softmax_positional(Z: torch.Tensor) -> torch.Tensor:
    """``P[r, :] = softmax(Z[r, j ≤ r+1])`` for the used rows ``r ≤ T−2``; the other entries are 0."""
    if targ.tensor("Z", Z, ndim=2, real=True).shape[0] != Z.shape[1] or Z.shape[1] < 2:
        raise ArgumentError(f"Z must be a square (T, T) matrix with T >= 2, got shape {tuple(Z.shape)}")
    T = Z.shape[-1]
    used = torch.as_tensor(theory.used_mask(T)[: T - 1], device=Z.device)
    rows = torch.softmax(Z[: T - 1].masked_fill(~used, float("-inf")), dim=-1)
    return torch.cat([rows, torch.zeros_like(Z[T - 1:])], dim=0)


def exact_loss(params: Params, *, radius_sq: float = 2.0) -> torch.Tensor:
    """Exact case-O population loss of the softmax-PE model."""
    targ.params("params", params, ("A", "B", "Z"))
    C = product.attention_product(params)
    return theory.loss_o_torch(C, softmax_positional(params["Z"]), radius_sq=radius_sq)


def fit_exact(d: int, H: int, T: int, *, seed: int, starts: int = 4, scale: float = 0.5,
              max_iter: int = 3000) -> OptResult:
    """Float64 L-BFGS on the exact loss from ``starts`` seeded ``scale·N(0, 1)`` starts; the best is returned and
    every start's final loss is in ``attempts``.  There is no attained minimum to aim for (the infimum needs
    one-hot rows, ``Z → ∞``), so each start runs to L-BFGS's own tolerance."""
    starts = positive_int("starts", starts)
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    best: OptResult | None = None
    attempts = []
    for k in range(starts):
        init = product.init_params(H, d, T, scale=scale, generator=g)
        init["Z"] = init.pop("P")
        res = minimize_population(exact_loss, init, max_iter=max_iter, restarts=0)
        attempts.append({"start": k, "loss": res.loss, "iterations": res.iterations})
        if best is None or res.loss < best.loss:
            best = res
    assert best is not None
    best.attempts = attempts
    return best
