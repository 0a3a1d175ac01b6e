"""Monte-Carlo estimates with their standard errors: the one place claims and training compute them.

Every Monte-Carlo verdict in the suite is "estimate within k standard errors of the closed form", so the estimate,
its standard error and the z-score must be computed one way everywhere.  ``scipy.stats.sem`` gives the standard
error of a mean (``ddof=1``); the ratio of two means uses the delta method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from theory.arguments import ArgumentError, real_array

__all__ = ["Estimate", "mean_estimate", "paired_difference", "ratio_estimate", "z_score"]


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo mean ``value`` with its standard error ``se`` from ``n`` independent samples."""

    value: float
    se: float
    n: int

    def z(self, expected: float) -> float:
        """``|value − expected| / se`` (``inf`` when ``se`` is 0 and the two differ, 0 when they agree)."""
        gap = abs(self.value - float(expected))
        if self.se == 0:
            return 0.0 if gap == 0 else math.inf
        return gap / self.se


def _samples(name: str, samples: object) -> np.ndarray:
    x = real_array(name, samples).ravel()  # text, objects, NaN/inf and complex (not cut to the real part) refused
    if x.size < 2:
        raise ArgumentError(f"{name} must hold at least 2 samples for a standard error, got {x.size}")
    return x


def mean_estimate(samples: object) -> Estimate:
    """Mean of i.i.d. ``samples`` with its standard error ``std(ddof=1)/sqrt(n)``.

    Examples
    --------
    >>> e = mean_estimate([1.0, 2.0, 3.0, 4.0])
    >>> e.value, round(e.se, 6), e.n
    (2.5, 0.645497, 4)
    """
    x = _samples("samples", samples)
    return Estimate(float(x.mean()), float(stats.sem(x)), int(x.size))


def z_score(samples: object, expected: float) -> float:
    """How many standard errors the mean of ``samples`` lies from ``expected``.

    >>> z_score([1.0, 2.0, 3.0, 4.0], 2.5)
    0.0
    """
    return mean_estimate(samples).z(expected)


def paired_difference(a: object, b: object) -> Estimate:
    """Mean of ``a − b`` over paired samples (same draws), with the paired standard error.

    >>> paired_difference([1.0, 2.0, 3.0], [0.5, 1.5, 2.0]).value
    0.6666666666666666
    """
    x, y = _samples("a", a), _samples("b", b)
    if x.shape != y.shape:
        raise ArgumentError(f"a and b must be paired samples of one size, got {x.size} and {y.size}")
    return mean_estimate(x - y)


def ratio_estimate(num: object, den: object) -> Estimate:
    """``mean(num) / mean(den)`` over paired samples, with the delta-method standard error.

    ``se² ≈ (var(num) − 2 r cov(num, den) + r² var(den)) / (n mean(den)²)`` with ``r`` the ratio.

    >>> round(ratio_estimate([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]).value, 12)
    2.0
    """
    x, y = _samples("num", num), _samples("den", den)
    if x.shape != y.shape:
        raise ArgumentError(f"num and den must be paired samples of one size, got {x.size} and {y.size}")
    my = float(y.mean())
    if my == 0:
        raise ArgumentError("den has mean 0: the ratio is undefined")
    r = float(x.mean()) / my
    cov = np.cov(x, y, ddof=1)
    var = max(float(cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]), 0.0)
    return Estimate(r, math.sqrt(var / (x.size * my * my)), int(x.size))
