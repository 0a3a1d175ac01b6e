"""Noisy linear-regression prompts with a mixed noise level per sequence (Vladymyrov et al. 2024, Sec. 2 and 6).

For every sequence ``τ``: ``w_τ ~ N(0, I_d)``, ``x_i ~ N(0, I_d)`` for ``i = 1..n``, ``σ_τ ~ p`` (the noise law),
``y_i = ⟨w_τ, x_i⟩ + ξ_i`` with ``ξ_i ~ N(0, σ_τ²)``; the query ``x_t ~ N(0, I_d)`` has the **noiseless** target
``y_t = ⟨w_τ, x_t⟩``.  ``σ_τ`` is a standard deviation.  Noise laws of the paper (Sec. 6):

* ``uniform``: ``σ_τ ~ U(0, σ_max)``, ``σ_max ∈ {0, …, 7}`` (``σ_max = 0`` is noiseless);
* ``categorical``: ``σ_τ`` uniform on a finite set ``S`` (``{1, 3}``, ``{1, 3, 5}``; equal probabilities are our
  reading, UNCONFIRMED).

The paper's sizes are ``n = N = 20`` and ``d = D = 10``.  Data are drawn in float64 on the CPU from a
``numpy.random.Generator`` and cast/moved afterwards, so one seed gives the same prompts on every device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from numerics.samplers import to_torch
from theory.arguments import ArgumentError, nonnegative_float, one_of, positive_float, positive_int, real_array
from theory.arguments import rng as check_rng
from theory.vladymyrov.baselines import uniform_sigma_quadrature

PAPER_N = 20
PAPER_D = 10


@dataclass(frozen=True)
class NoiseLaw:
    """The law of the per-sequence noise standard deviation ``σ_τ``."""

    kind: Literal["uniform", "categorical"]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        one_of("kind", self.kind, ("uniform", "categorical"))
        if not isinstance(self.values, tuple) or not self.values:
            raise ArgumentError(f"values must be a non-empty tuple: sigma_max (uniform) or the noise levels "
                                f"(categorical), got {self.values!r}")
        if self.kind == "uniform" and len(self.values) != 1:
            raise ArgumentError(f"values of a uniform law must be one number (sigma_max), got {self.values}")
        object.__setattr__(self, "values", tuple(nonnegative_float("values", v) for v in self.values))

    @classmethod
    def uniform(cls, sigma_max: float) -> "NoiseLaw":
        return cls("uniform", (nonnegative_float("sigma_max", sigma_max),))

    @classmethod
    def categorical(cls, values: tuple[float, ...] | list[float]) -> "NoiseLaw":
        if isinstance(values, str) or not isinstance(values, tuple | list | np.ndarray):
            raise ArgumentError(f"values must be a sequence of noise levels, got {values!r}")
        return cls("categorical", tuple(nonnegative_float("values", v) for v in values))

    @classmethod
    def parse(cls, label: str) -> "NoiseLaw":
        """``"U5"`` → U(0, 5); ``"S1,3"`` → categorical {1, 3}; ``"F2"`` → fixed σ = 2."""
        if not isinstance(label, str) or len(label) < 2 or label[0] not in "USF":
            raise ArgumentError(f"noise law label must look like 'U5', 'S1,3' or 'F2', got {label!r}")
        try:
            numbers = [float(v) for v in label[1:].split(",")]
        except ValueError as exc:
            raise ArgumentError(f"noise law label must look like 'U5', 'S1,3' or 'F2', got {label!r}") from exc
        return cls.uniform(numbers[0]) if label[0] == "U" and len(numbers) == 1 else cls.categorical(numbers)

    @property
    def label(self) -> str:
        fmt = ",".join(f"{v:g}" for v in self.values)
        return f"U{fmt}" if self.kind == "uniform" else f"S{fmt}"

    @property
    def mean_variance(self) -> float:
        """``E[σ_τ²]``: ``σ_max²/3`` (uniform) or the mean of the squares (categorical)."""
        if self.kind == "uniform":
            return self.values[0] ** 2 / 3.0
        return float(np.mean(np.square(self.values)))

    def sample(self, size: int, *, rng: np.random.Generator) -> np.ndarray:
        size = positive_int("size", size)
        check_rng("rng", rng)
        if self.kind == "uniform":
            return rng.uniform(0.0, self.values[0], size=size)
        return np.asarray(self.values)[rng.integers(0, len(self.values), size=size)]

    def quadrature(self, nodes: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and prior weights of ``σ_τ`` for the Bayes baseline (exact for categorical laws)."""
        nodes = positive_int("nodes", nodes)
        if self.kind == "uniform":
            return uniform_sigma_quadrature(positive_float("sigma_max", self.values[0]), nodes)
        vals = np.asarray(self.values)
        return vals, np.full(vals.shape, 1.0 / len(vals))


@dataclass(frozen=True)
class RegressionBatch:
    """A batch of prompts: ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``, ``y_query (B,)``, ``w (B, d)``, ``sigma (B,)``."""

    x: np.ndarray
    y: np.ndarray
    x_query: np.ndarray
    y_query: np.ndarray
    w: np.ndarray
    sigma: np.ndarray

    def to_torch(self, *, dtype: str | torch.dtype = "float64", device: str | torch.device | None = "cpu") -> dict[str, torch.Tensor]:
        return {k: to_torch(getattr(self, k), dtype=dtype, device=device)
                for k in ("x", "y", "x_query", "y_query", "sigma")}


def sample_regression(batch: int, law: NoiseLaw, *, rng: np.random.Generator, n: int = PAPER_N, d: int = PAPER_D,
                      sigma: np.ndarray | None = None) -> RegressionBatch:
    """Draw ``batch`` prompts; ``sigma`` (optional, ``(batch,)``) fixes the noise levels (per-σ profiles)."""
    batch, n, d = positive_int("batch", batch), positive_int("n", n), positive_int("d", d)
    if not isinstance(law, NoiseLaw):
        raise ArgumentError(f"law must be a NoiseLaw, got {type(law).__name__}")
    check_rng("rng", rng)
    w = rng.standard_normal((batch, d))
    x = rng.standard_normal((batch, n, d))
    x_query = rng.standard_normal((batch, d))
    if sigma is None:
        s = law.sample(batch, rng=rng)
    else:
        s = real_array("sigma", sigma)
        if s.shape != (batch,) or np.any(s < 0):
            raise ArgumentError(f"sigma must be {batch} non-negative finite noise levels, got shape {s.shape}")
    y = (x @ w[:, :, None])[..., 0] + s[:, None] * rng.standard_normal((batch, n))
    return RegressionBatch(x=x, y=y, x_query=x_query, y_query=(x_query * w).sum(-1), w=w, sigma=s)
