"""Closed-form baselines for mixed-noise linear regression (Vladymyrov et al. 2024, Sec. 6 "Baseline estimates").

Every baseline is ridge regression ``ŷ = ⟨(Σ + λ I)^{-1} α, x_t⟩`` (eq. (5), number UNCONFIRMED) with a different
choice of ``λ`` (the noise-variance guess):

* oracle: ``λ = σ_τ²`` (the true noise variance of the sequence).  With the prior ``w ~ N(0, I_d)`` this is the
  Bayes posterior mean given ``σ_τ`` — the "oracle" subtracted in the adjusted loss;
* CONSTRR: one ``λ = c`` for every sequence, ``c`` tuned per noise law (:func:`tune_constant`);
* ADARR: ``λ = σ̂² = RSS/(n − d)`` with the OLS residual sum of squares (Cherkassky & Ma 2003);
* TUNEDRR: ``λ = min(k σ̂², τ)`` with ``k`` (multiplier) and ``τ`` (cap) tuned per noise law.  The paper does not
  say in which order the two adjustments are applied (UNCONFIRMED); ``min(k σ̂², τ)`` is our choice.
* GD: ``K`` steps of gradient descent ``w ← w + η (α − Σ w)`` from ``w = 0`` (early stopping regularises), with
  ``(η, K)`` tuned per noise law — the iterative, inversion-free comparison the paper mentions;
* Bayes: the posterior mean under the *mixed* law, ``E[w | X, y] = Σ_j π_j (Σ + σ_j² I)^{-1} α`` with posterior
  weights ``π_j ∝ p_j N(y; 0, X X^T + σ_j² I)`` over quadrature nodes ``σ_j`` of the noise law (exact for a
  categorical law).  No σ-agnostic predictor can beat it in expected squared error.

All predictions go through :class:`RidgeSpectrum`: one eigendecomposition ``Σ = V diag(s) V^T`` per sequence
makes the ridge prediction for any ``λ`` a sum ``Σ_k (V^Tα)_k (V^T x_t)_k / (s_k + λ)``, so tuning over grids is
cheap.  :func:`ridge_weights` is the direct (linear-solve) form used to test it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.arguments import (
    ArgumentError,
    finite_array,
    instance,
    nonnegative_float,
    positive_float,
    positive_int,
    real_array,
)
from theory.vladymyrov.model import check_regression_inputs


__all__ = [
    "ridge_weights", "RidgeSpectrum", "ridge_spectrum", "oracle_prediction", "adaptive_prediction",
    "tuned_prediction", "half_mse", "tune_constant", "tune_tuned", "tune_gd", "uniform_sigma_quadrature",
    "log_evidence", "posterior_noise_weights", "bayes_prediction", "one_layer_optimal_loss",
]


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def ridge_weights(x: np.ndarray, y: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """``w_λ = (Σ + λ I)^{-1} α`` by a linear solve; ``lam`` scalar or one per sequence (``λ ≥ 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import ridge_weights
    >>> x, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 2.0])
    >>> ridge_weights(x, y, 0.0)  # OLS
    array([1., 1.])
    >>> ridge_weights(x, y, 1.0)  # (Σ + I)^{-1} α = (1/2, 4/5)
    array([0.5, 0.8])
    """
    x, y = real_array("x", x), real_array("y", y)
    if x.ndim < 2 or 0 in x.shape[-2:]:
        raise ArgumentError(f"x must have shape (..., n, d) with n, d >= 1, got {x.shape}")
    if y.shape != x.shape[:-1]:
        raise ArgumentError(f"y must have shape {x.shape[:-1]} (one label per context point), got {y.shape}")
    lam_arr = real_array("lam", lam)
    if np.any(lam_arr < 0):
        raise ArgumentError(f"lam must be non-negative, got {lam!r}")
    try:
        batch = np.broadcast_shapes(x.shape[:-2], lam_arr.shape)
    except ValueError as exc:
        raise ArgumentError(f"lam of shape {lam_arr.shape} does not broadcast against the batch {x.shape[:-2]}") from exc
    n, d = x.shape[-2:]
    # Σ + λI = AᵀA for A = [X; √λ I], so w_λ solves min ||A w − (y, 0)||: Householder QR of A is backward stable,
    # relative error O(u κ(A)) with κ(A)² = cond(Σ + λI); forming Σ and solving would give O(u κ(A)²).
    root = np.sqrt(lam_arr)[..., None, None] * np.eye(d)
    a = np.concatenate([np.broadcast_to(x, batch + (n, d)), np.broadcast_to(root, batch + (d, d))], axis=-2)
    b = np.concatenate([np.broadcast_to(y, batch + (n,)), np.zeros(batch + (d,))], axis=-1)
    q, r = np.linalg.qr(a)
    return np.linalg.solve(r, _swap(q) @ b[..., None])[..., 0]


@dataclass(frozen=True)
class RidgeSpectrum:
    """Per-sequence spectral data: eigenvalues ``s`` of ``Σ``, ``V^T α``, ``V^T x_t``, ``||y||²`` and ``n``.

    With ``Σ = V diag(s) V^T`` every ridge prediction ``⟨(Σ + λ I)^{-1} α, x_t⟩ = Σ_k (V^Tα)_k (V^T x_t)_k/(s_k + λ)``
    (Vladymyrov et al. (2024), Sec. 6 "Baseline estimates"); build it with :func:`ridge_spectrum`.

    Examples
    --------
    The spectral prediction agrees with the direct linear solve of :func:`ridge_weights` for every ``λ``:

    >>> import numpy as np
    >>> from theory.vladymyrov import ridge_spectrum, ridge_weights
    >>> x, y, x_q = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5]), np.array([1.0, 1.0])
    >>> spec = ridge_spectrum(x, y, x_q)
    >>> all(np.isclose(spec.predict(lam), ridge_weights(x, y, lam) @ x_q) for lam in (0.0, 0.3, 7.0))
    True
    """

    eigvals: np.ndarray
    v_alpha: np.ndarray
    v_query: np.ndarray
    y_sq: np.ndarray
    n: int

    @property
    def d(self) -> int:
        return self.eigvals.shape[-1]

    def predict(self, lam: np.ndarray | float) -> np.ndarray:
        """Ridge predictions ``⟨(Σ + λ I)^{-1} α, x_t⟩``; ``lam`` broadcasts against the batch shape."""
        lam = np.asarray(lam, dtype=float)
        return (self.v_alpha * self.v_query / (self.eigvals + lam[..., None])).sum(-1)

    def residual_variance(self) -> np.ndarray:
        """``σ̂² = RSS/(n − d)`` with ``RSS = ||y||² − α^T Σ^{-1} α`` (OLS residuals; needs ``n > d``)."""
        if self.n <= self.d:
            raise ArgumentError(f"the residual-variance estimate needs n > d, got n={self.n}, d={self.d}")
        rss = self.y_sq - (self.v_alpha**2 / self.eigvals).sum(-1)
        return np.maximum(rss, 0.0) / (self.n - self.d)

    def gd_path(self, eta: float, max_steps: int) -> np.ndarray:
        """``⟨w_K, x_t⟩`` for ``K = 0..max_steps`` GD steps ``w ← w + η(α − Σ w)`` from 0, shape ``(max_steps+1, batch)``.

        In the eigenbasis ``w_K = Σ_k (1 − (1 − η s_k)^K)/s_k (V^Tα)_k v_k``; the powers are accumulated step by step.
        """
        positive_float("eta", eta)
        max_steps = positive_int("max_steps", max_steps)
        ratio = 1.0 - eta * self.eigvals
        power = np.ones_like(ratio)
        coef = self.v_alpha * self.v_query / self.eigvals
        out = [np.zeros(ratio.shape[:-1])]
        for _ in range(max_steps):
            power = power * ratio
            out.append((coef * (1.0 - power)).sum(-1))
        return np.stack(out)


def ridge_spectrum(x: np.ndarray, y: np.ndarray, x_query: np.ndarray) -> RidgeSpectrum:
    """Eigendecompose ``Σ = Σ_i x_i x_i^T`` once per sequence (needs ``Σ`` positive definite, e.g. ``n ≥ d``).

    Uses the SVD ``X = U diag(√s) V^T``, so ``V^T α = √s ⊙ U^T y`` without forming ``Σ`` (Vladymyrov et al. (2024), Sec.
    6 "Baseline estimates").

    Parameters
    ----------
    x : ndarray, shape (..., n, d)
        Context inputs ``x_i``.
    y : ndarray, shape (..., n)
        Context labels ``y_i``.
    x_query : ndarray, shape (..., d)
        Query ``x_t``.

    Returns
    -------
    RidgeSpectrum

    Examples
    --------
    The eigenvalues are those of ``X^T X`` (here ``[[2, 1], [1, 5]]``, eigenvalues ``(7 ± √13)/2``):

    >>> import numpy as np
    >>> from theory.vladymyrov import ridge_spectrum
    >>> spec = ridge_spectrum(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5]), np.array([1.0, 1.0]))
    >>> bool(np.allclose(np.sort(spec.eigvals), [(7 - np.sqrt(13)) / 2, (7 + np.sqrt(13)) / 2])), spec.n, spec.d
    (True, 3, 2)
    """
    n, d = check_regression_inputs(x, y, x_query)
    # Σ = V diag(s) Vᵀ from the SVD X = U diag(√s) Vᵀ, and Vᵀα = √s ⊙ Uᵀy: never forming Σ keeps the relative
    # error of every prediction O(u κ(X)) = O(u cond(Σ)^{1/2}) instead of O(u cond(Σ)) (tests/test_ridge_accuracy.py).
    if n < d:
        raise ArgumentError(f"x must give a positive definite Σ = X^T X, which needs n >= d; got n={n}, d={d}")
    u, root, vt = np.linalg.svd(x, full_matrices=False)
    if np.any(root[..., -1] <= root[..., 0] * max(n, d) * np.finfo(float).eps):  # numpy's matrix_rank threshold
        raise ArgumentError("x must give a positive definite Σ = X^T X (n >= d and full rank)")
    v_alpha = root * (_swap(u) @ y[..., None])[..., 0]
    return RidgeSpectrum(eigvals=root**2, v_alpha=v_alpha, v_query=(vt @ x_query[..., None])[..., 0],
                         y_sq=(y * y).sum(-1), n=n)


def oracle_prediction(spec: RidgeSpectrum, sigma: np.ndarray) -> np.ndarray:
    """Ridge at the true noise variance, ``λ = σ_τ²`` (the oracle of the adjusted loss).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import oracle_prediction, ridge_spectrum, ridge_weights
    >>> x, y, xq = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> pred = oracle_prediction(ridge_spectrum(x, y, xq), np.array(1.0))  # λ = σ² = 1
    >>> bool(np.isclose(pred, ridge_weights(x, y, 1.0) @ xq))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    real_array("sigma", sigma)
    return spec.predict(np.asarray(sigma, dtype=float) ** 2)


def adaptive_prediction(spec: RidgeSpectrum) -> np.ndarray:
    """ADARR: ``λ = RSS/(n − d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import adaptive_prediction, ridge_spectrum, ridge_weights
    >>> x, y, xq = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5]), np.array([1.0, 1.0])
    >>> w_ols = np.linalg.lstsq(x, y, rcond=None)[0]
    >>> sigma2_hat = float(((y - x @ w_ols) ** 2).sum() / (3 - 2))  # RSS/(n − d)
    >>> bool(np.isclose(adaptive_prediction(ridge_spectrum(x, y, xq)), ridge_weights(x, y, sigma2_hat) @ xq))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    return spec.predict(spec.residual_variance())


def tuned_prediction(spec: RidgeSpectrum, factor: float, cap: float) -> np.ndarray:
    """TUNEDRR: ``λ = min(k σ̂², τ)`` (order of the two adjustments UNCONFIRMED), ``σ̂² = RSS/(n − d)`` (Vladymyrov et
    al. (2024), Sec. 6 "Baseline estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
    factor : float
        Multiplier ``k ≥ 0`` on the residual variance.
    cap : float
        Cap ``τ ≥ 0`` (``np.inf``: no cap).

    Returns
    -------
    ndarray
        ``⟨(Σ + λ I)^{-1} α, x_t⟩`` per sequence.

    Examples
    --------
    ``k = 1`` without cap is ADARR; ``τ = 0`` is OLS:

    >>> import numpy as np
    >>> from theory.vladymyrov import adaptive_prediction, ridge_spectrum, tuned_prediction
    >>> x, y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> spec = ridge_spectrum(x, y, np.array([1.0, 1.0]))
    >>> bool(np.isclose(tuned_prediction(spec, 1.0, np.inf), adaptive_prediction(spec)))
    True
    >>> bool(np.isclose(tuned_prediction(spec, 5.0, 0.0), np.linalg.lstsq(x, y, rcond=None)[0] @ [1.0, 1.0]))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    nonnegative_float("factor", factor)
    if not cap >= 0:  # np.inf allowed: no cap
        raise ArgumentError(f"cap must be non-negative (np.inf for no cap), got {cap!r}")
    return spec.predict(np.minimum(factor * spec.residual_variance(), cap))


def half_mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """The paper's loss convention ``½ E(ŷ − y_t)²`` (Table 1 numbers are ½·MSE, see docs/vladymyrov.md).

    Examples
    --------
    >>> import numpy as np
    >>> from theory.vladymyrov import half_mse
    >>> half_mse(np.array([1.0, 2.0]), np.array([0.0, 2.0]))  # mean of ½ (ŷ − y)²
    0.25
    """
    prediction, target = real_array("prediction", prediction), real_array("target", target)
    return float(0.5 * np.mean((np.asarray(prediction) - np.asarray(target)) ** 2))


def tune_constant(spec: RidgeSpectrum, y_query: np.ndarray, grid: np.ndarray) -> tuple[float, np.ndarray]:
    """CONSTRR: the ``c`` in ``grid`` minimising the ½-MSE on the given (tuning) sequences; returns ``(c*, losses)``.

    ``ŷ = ⟨(Σ + c I)^{-1} α, x_t⟩`` with one ``c`` for every sequence (Vladymyrov et al. (2024), Sec. 6 "Baseline
    estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
        Tuning sequences.
    y_query : ndarray
        Their noiseless query targets ``y_t``.
    grid : ndarray, shape (G,)
        Candidate ``c ≥ 0``.

    Returns
    -------
    tuple
        ``(c*, losses)`` with ``losses[g]`` the ½-MSE at ``grid[g]``.

    Examples
    --------
    With ``w ~ N(0, I)`` and every ``σ_τ = 1``, ridge at ``c = σ² = 1`` is the Bayes posterior mean, so on many
    sequences the grid optimum is ``c = 1``:

    >>> import numpy as np
    >>> from theory.vladymyrov import ridge_spectrum, tune_constant
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((20_000, 5, 2)), rng.standard_normal((20_000, 2))
    >>> y = (x @ w[..., None])[..., 0] + rng.standard_normal((20_000, 5))  # σ_τ = 1 for every sequence
    >>> x_q = rng.standard_normal((20_000, 2))
    >>> spec, y_q = ridge_spectrum(x, y, x_q), (x_q * w).sum(-1)
    >>> tune_constant(spec, y_q, np.array([0.25, 0.5, 1.0, 2.0, 4.0]))[0]
    1.0
    """
    instance("spec", spec, RidgeSpectrum)
    y_query = real_array("y_query", y_query)
    grid = real_array("grid", grid, ndim=1)
    losses = np.array([half_mse(spec.predict(c), y_query) for c in grid])
    return float(grid[int(np.argmin(losses))]), losses


def tune_tuned(spec: RidgeSpectrum, y_query: np.ndarray, factors: np.ndarray, caps: np.ndarray) -> tuple[float, float, np.ndarray]:
    """TUNEDRR: the ``(k, τ)`` on the grid minimising the ½-MSE; returns ``(k*, τ*, losses[k, τ])``.

    ``λ = min(k σ̂², τ)`` as in :func:`tuned_prediction` (Vladymyrov et al. (2024), Sec. 6 "Baseline estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
        Tuning sequences.
    y_query : ndarray
        Their noiseless query targets.
    factors, caps : ndarray, shape (K,), (T,)
        Candidate multipliers ``k`` and caps ``τ`` (``np.inf`` allowed).

    Returns
    -------
    tuple
        ``(k*, τ*, losses)`` with ``losses[i, j]`` at ``(factors[i], caps[j])``.

    Examples
    --------
    ``(k, τ) = (1, ∞)`` is ADARR; with every ``σ_τ = 1`` no grid point beats the Bayes ridge ``λ = 1``:

    >>> import numpy as np
    >>> from theory.vladymyrov import adaptive_prediction, half_mse, ridge_spectrum, tune_tuned
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((20_000, 5, 2)), rng.standard_normal((20_000, 2))
    >>> y = (x @ w[..., None])[..., 0] + rng.standard_normal((20_000, 5))  # σ_τ = 1 for every sequence
    >>> x_q = rng.standard_normal((20_000, 2))
    >>> spec, y_q = ridge_spectrum(x, y, x_q), (x_q * w).sum(-1)
    >>> k, tau, losses = tune_tuned(spec, y_q, np.array([0.5, 1.0, 2.0]), np.array([0.5, 1.0, np.inf]))
    >>> bool(np.isclose(losses[1, 2], half_mse(adaptive_prediction(spec), y_q)))
    True
    >>> bool(losses.min() >= half_mse(spec.predict(1.0), y_q))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    y_query = real_array("y_query", y_query)
    factors = real_array("factors", factors, ndim=1)
    caps = np.asarray(caps, dtype=float)
    if caps.ndim != 1 or np.any(np.isnan(caps)):
        raise ArgumentError("caps must be a 1-d array (np.inf allowed: no cap)")
    s2 = spec.residual_variance()
    losses = np.array([[half_mse(spec.predict(np.minimum(k * s2, t)), y_query) for t in caps] for k in factors])
    i, j = np.unravel_index(int(np.argmin(losses)), losses.shape)
    return float(factors[i]), float(caps[j]), losses


def tune_gd(spec: RidgeSpectrum, y_query: np.ndarray, etas: np.ndarray, max_steps: int) -> tuple[float, int, np.ndarray]:
    """Tuned GD: ``(η*, K*)`` over ``etas × {0..max_steps}``; returns ``(η*, K*, losses[η, K])``.

    ``K`` steps ``w ← w + η (α − Σ w)`` from ``w = 0``, early stopping as regulariser (Vladymyrov et al. (2024), Sec. 6
    "Baseline estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
        Tuning sequences.
    y_query : ndarray
        Their noiseless query targets.
    etas : ndarray, shape (E,)
        Candidate step sizes.
    max_steps : int
        Largest ``K``.

    Returns
    -------
    tuple
        ``(η*, K*, losses)`` with ``losses[i, K]`` the ½-MSE after ``K`` steps of size ``etas[i]``.

    Examples
    --------
    The losses agree with an explicit GD loop, and ``K = 0`` predicts 0:

    >>> import numpy as np
    >>> from theory.vladymyrov import half_mse, ridge_spectrum, tune_gd
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((20_000, 5, 2)), rng.standard_normal((20_000, 2))
    >>> y = (x @ w[..., None])[..., 0] + rng.standard_normal((20_000, 5))  # σ_τ = 1 for every sequence
    >>> x_q = rng.standard_normal((20_000, 2))
    >>> spec, y_q = ridge_spectrum(x, y, x_q), (x_q * w).sum(-1)
    >>> eta, k, losses = tune_gd(spec, y_q, np.array([0.05, 0.1]), 10)
    >>> w_gd = np.zeros((20_000, 2))
    >>> alpha, sigma = (x * y[..., None]).sum(1), np.swapaxes(x, 1, 2) @ x
    >>> for _ in range(3):
    ...     w_gd = w_gd + 0.1 * (alpha - (sigma @ w_gd[..., None])[..., 0])
    >>> bool(np.isclose(losses[1, 3], half_mse((w_gd * x_q).sum(1), y_q)) and np.isclose(losses[0, 0], half_mse(0 * y_q, y_q)))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    y_query = real_array("y_query", y_query)
    etas = real_array("etas", etas, ndim=1)
    losses = np.array([0.5 * np.mean((spec.gd_path(eta, max_steps) - y_query) ** 2, axis=-1) for eta in etas])
    i, j = np.unravel_index(int(np.argmin(losses)), losses.shape)
    return float(etas[i]), int(j), losses


def uniform_sigma_quadrature(sigma_max: float, nodes: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights for ``σ ~ U(0, σ_max)`` (weights sum to 1).

    Examples
    --------
    >>> from theory.vladymyrov import uniform_sigma_quadrature
    >>> nodes, weights = uniform_sigma_quadrature(1.0, 4)  # Gauss-Legendre on [0, σ_max]
    >>> round(float(weights.sum()), 12), round(float(nodes @ weights), 12)
    (1.0, 0.5)
    """
    sigma_max = positive_float("sigma_max", sigma_max)
    t, w = np.polynomial.legendre.leggauss(positive_int("nodes", nodes))
    return 0.5 * sigma_max * (t + 1.0), 0.5 * w


def log_evidence(spec: RidgeSpectrum, sigma: np.ndarray) -> np.ndarray:
    """``log N(y; 0, X X^T + σ² I_n)`` up to a σ-free constant, shape ``batch + (len(sigma),)``.

    From the SVD ``X = U diag(√s) V^T``: with ``u_k = (V^T α)_k / √s_k`` and ``r = ||y||² − Σ_k u_k²``,
    ``−½[Σ_k u_k²/(s_k + σ²) + r/σ² + Σ_k log(s_k + σ²) + (n − d) log σ²]``.  Needs ``σ > 0``.
    The marginal likelihood of the Bayes baseline (Vladymyrov et al. (2024), Sec. 6 "Baseline estimates").

    Examples
    --------
    Differences over ``σ`` agree with the Gaussian log-density of ``y`` computed directly from ``K = X X^T + σ² I``:

    >>> import numpy as np
    >>> from theory.vladymyrov import log_evidence, ridge_spectrum
    >>> x, y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> spec = ridge_spectrum(x, y, np.array([1.0, 1.0]))
    >>> def direct(s):
    ...     k = x @ x.T + s**2 * np.eye(3)
    ...     return -0.5 * (y @ np.linalg.solve(k, y) + np.linalg.slogdet(k)[1])
    >>> le = log_evidence(spec, np.array([0.5, 2.0]))
    >>> bool(np.isclose(le[1] - le[0], direct(2.0) - direct(0.5)))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    real_array("sigma", sigma)
    sig2 = np.asarray(sigma, dtype=float) ** 2
    if sig2.ndim != 1 or np.any(sig2 <= 0):
        raise ArgumentError("sigma must be a 1-d array of positive noise levels")
    u2 = spec.v_alpha**2 / spec.eigvals
    r = np.maximum(spec.y_sq - u2.sum(-1), 0.0)
    den = spec.eigvals[..., None, :] + sig2[:, None]
    quad = (u2[..., None, :] / den).sum(-1) + r[..., None] / sig2
    return -0.5 * (quad + np.log(np.prod(den, axis=-1)) + (spec.n - spec.d) * np.log(sig2))


def posterior_noise_weights(spec: RidgeSpectrum, sigma: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``π(σ_j | X, y) ∝ p_j N(y; 0, X X^T + σ_j² I)``, normalised over ``j`` (Bayes rule; Vladymyrov et al. (2024),
    Sec. 6 "Baseline estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
    sigma : ndarray, shape (J,)
        Noise-level nodes ``σ_j > 0``.
    prior : ndarray, shape (J,)
        Prior weights ``p_j ≥ 0``.

    Returns
    -------
    ndarray, shape batch + (J,)

    Examples
    --------
    Agreement with Bayes' rule on the densities computed directly from ``K = X X^T + σ² I``:

    >>> import numpy as np
    >>> from theory.vladymyrov import posterior_noise_weights, ridge_spectrum
    >>> x, y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> spec = ridge_spectrum(x, y, np.array([1.0, 1.0]))
    >>> def dens(s):
    ...     k = x @ x.T + s**2 * np.eye(3)
    ...     return np.exp(-0.5 * y @ np.linalg.solve(k, y)) / np.sqrt(np.linalg.det(k))
    >>> p = np.array([0.3 * dens(0.5), 0.7 * dens(2.0)])
    >>> bool(np.allclose(posterior_noise_weights(spec, np.array([0.5, 2.0]), np.array([0.3, 0.7])), p / p.sum()))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    real_array("sigma", sigma)
    prior = real_array("prior", prior, ndim=1)
    if prior.shape != np.shape(sigma) or np.any(prior < 0) or prior.sum() <= 0:
        raise ArgumentError("prior must be non-negative weights, one per sigma node")
    with np.errstate(divide="ignore"):  # log 0 = -inf: a node without prior mass gets posterior weight exactly 0
        logp = log_evidence(spec, sigma) + np.log(prior)
    logp -= logp.max(-1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(-1, keepdims=True)


def bayes_prediction(spec: RidgeSpectrum, sigma: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Posterior-mean prediction under a mixed noise law with nodes ``sigma`` and prior weights ``prior``.

    ``E[w | X, y] = Σ_j π_j (Σ + σ_j² I)^{-1} α`` with ``π_j`` from :func:`posterior_noise_weights` (Vladymyrov et al.
    (2024), Sec. 6 "Baseline estimates").

    Parameters
    ----------
    spec : RidgeSpectrum
    sigma : ndarray, shape (J,)
        Noise-level nodes ``σ_j > 0``.
    prior : ndarray, shape (J,)
        Prior weights ``p_j ≥ 0``.

    Returns
    -------
    ndarray
        ``⟨E[w | X, y], x_t⟩`` per sequence.

    Examples
    --------
    A one-point law is the oracle ridge at that ``σ``; a two-point law is the ``π``-weighted mix of the two ridges:

    >>> import numpy as np
    >>> from theory.vladymyrov import bayes_prediction, posterior_noise_weights, ridge_spectrum, ridge_weights
    >>> x, y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> spec = ridge_spectrum(x, y, np.array([1.0, 1.0]))
    >>> x_q = np.array([1.0, 1.0])
    >>> bool(np.isclose(bayes_prediction(spec, np.array([2.0]), np.array([1.0])), ridge_weights(x, y, 4.0) @ x_q))
    True
    >>> sig, prior = np.array([0.5, 2.0]), np.array([0.3, 0.7])
    >>> mix = posterior_noise_weights(spec, sig, prior) @ [ridge_weights(x, y, s**2) @ x_q for s in sig]
    >>> bool(np.isclose(bayes_prediction(spec, sig, prior), mix))
    True
    """
    instance("spec", spec, RidgeSpectrum)
    pi = posterior_noise_weights(spec, sigma, prior)
    sig2 = np.asarray(sigma, dtype=float) ** 2
    ridge = spec.predict(sig2.reshape(sig2.shape + (1,) * (spec.eigvals.ndim - 1)))  # (nodes, batch...)
    return (pi * np.moveaxis(ridge, 0, -1)).sum(-1)


def one_layer_optimal_loss(n: int, d: int, mean_noise_variance: float) -> tuple[float, float]:
    """Best one-layer model ``ŷ = η ⟨α, x_t⟩`` for ``x, x_t, w ~ N(0, I)``, noiseless query (our derivation).

    ``E||ηα − w||² = η² E||α||² − 2η E⟨α, w⟩ + d`` with ``E||α||² = n d (n + d + 1 + Eσ²)`` (from
    ``E[(X^TX)²] = n(n+d+1) I``) and ``E⟨α, w⟩ = n d`` gives ``η* = 1/(n + d + 1 + Eσ²)`` and the ½-MSE
    ``½ d (d + 1 + Eσ²)/(n + d + 1 + Eσ²)``.  Returns ``(η*, loss*)``.

    Examples
    --------
    >>> from theory.vladymyrov import one_layer_optimal_loss
    >>> eta, loss = one_layer_optimal_loss(20, 5, 0.0)
    >>> eta == 1 / 26, loss == 0.5 * 5 * 6 / 26
    (True, True)
    """
    n, d = positive_int("n", n), positive_int("d", d)
    s2 = nonnegative_float("mean_noise_variance", mean_noise_variance)
    eta = 1.0 / (n + d + 1 + s2)
    return eta, 0.5 * d * (d + 1 + s2) / (n + d + 1 + s2)
