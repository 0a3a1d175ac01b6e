"""The augmented-token block family ``ŝ_{t+1} = V S_t M s_t`` trained on sampled sequences, with the sampling
covariance of the trained ``VM`` (sandwich estimator) and the tests of its predicted structure.

Training minimises the empirical loss ``L̂(V, M) = (1/N) Σ_n Σ_{t=0}^{T-1} ‖V S_t M s_t − s_{t+1}‖²`` over real
``V, M`` with float64 L-BFGS (restarted while it stays above the best *scalar* one-step loss, which every
general ``V, M`` can match).  The minimiser ``θ̂`` of an average of ``N`` i.i.d. losses satisfies
``√N (θ̂ − θ*) → N(0, H⁻¹ Σ_g H⁻¹)`` (``H`` the Hessian, ``Σ_g`` the covariance of per-sequence gradients); the
gauge ``(cV, M/c)`` is a null direction of ``H`` and is projected out (``VM`` does not move along it).  The
delta method carries the covariance to ``vec(VM)``.  Tests of a predicted structure:

* ``VM`` in a subspace ``𝒞`` (the law's commutant): ``χ² = rᵀ Σ_r⁺ r`` for the residual ``r`` of ``vec(VM)``
  off ``𝒞`` (asymptotically ``χ²`` with ``rank Σ_r`` degrees of freedom);
* the step: ``z = (tr(VM)/d − η*) / se``.

The Hessian spectrum is returned too: exactly one (gauge) null eigenvalue is the numerical evidence that the
optimum is unique up to the gauge (``docs/sander-haar.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from numerics.optimize import minimize_population
from theory import arguments as args

__all__ = ["BlockFit", "block_predictions", "fit_block_family", "StructureTest", "structure_test"]


def block_predictions(v: torch.Tensor, m: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """``V S_t M s_t`` for ``t = 0..T−1`` from ``states`` ``(n, T+1, d)``; returns ``(n, T, d)``.

    ``S_t = Σ_{i=1}^t s_i s_{i−1}ᵀ``, so ``S_t M s_t = Σ_{i≤t} s_i ⟨s_{i−1}, M s_t⟩`` (causal scores).
    """
    v, m = args.tensor("v", v, ndim=2, real=True), args.tensor("m", m, ndim=2, real=True)
    states = args.tensor("states", states, ndim=3, real=True)
    return _block_predictions(v, m, states)


def _block_predictions(v: torch.Tensor, m: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """:func:`block_predictions` on checked tensors (the loss and its per-sequence gradients call it unchecked)."""
    x = states[:, :-1]                                            # s_0..s_{T-1}
    q = x @ m.T                                                    # M s_t
    prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)   # s_{i-1} (s_{-1} = 0)
    scores = torch.tril(q @ prev.transpose(1, 2))                  # [t, i] = ⟨s_{i-1}, M s_t⟩, i ≤ t
    return (scores @ x) @ v.T


def _per_sequence(theta: torch.Tensor, states: torch.Tensor, d: int) -> torch.Tensor:
    v, m = theta[: d * d].reshape(d, d), theta[d * d:].reshape(d, d)
    return ((_block_predictions(v, m, states) - states[:, 1:]) ** 2).sum(dim=(-2, -1))


@dataclass(frozen=True)
class BlockFit:
    """A trained block family: ``vm`` (``d×d``), its sandwich covariance ``cov_vm`` (of ``vec(VM)``, row-major),
    the trained and best scalar empirical losses, and the Hessian eigenvalues (ascending; the first is the gauge)."""

    vm: np.ndarray
    cov_vm: np.ndarray
    loss: float
    scalar_loss: float
    hessian_eigenvalues: np.ndarray
    n: int


def _scalar_optimum(states: torch.Tensor, d: int) -> tuple[float, float]:
    """``(η̂, Σc − (ΣY)²/ΣX per sequence)``: the best empirical ``VM = ηI`` and its loss."""
    eye = torch.eye(d, dtype=states.dtype)
    g = _block_predictions(eye, eye, states)
    x, y = (g**2).sum(), (g * states[:, 1:]).sum()
    return float(y / x), float(((states[:, 1:] ** 2).sum() - y**2 / x) / states.shape[0])


def fit_block_family(states: np.ndarray, *, seed: int, init_scale: float = 0.3, restarts: int = 5,
                     grad_tol: float = 1e-9) -> BlockFit:
    """Train real ``V, M`` on the sequences ``states`` ``(N, T+1, d)`` and estimate ``Cov(vec VM)``.

    The start is ``V = M = √η̂ (I + σG)`` with independent Gaussian ``G`` (``σ = init_scale``) around the best
    empirical scalar step ``η̂`` (the zero start is a saddle); L-BFGS restarts (perturbation 0.1) while the loss
    stays above the best scalar loss.
    """
    s = args.real_array("states", states, ndim=3)
    seed = args.seed("seed", seed)
    sigma = args.positive_float("init_scale", init_scale)
    n, _, d = s.shape
    if n < 10 * (2 * d * d):
        raise args.ArgumentError(f"states must hold at least 20 d² = {20 * d * d} sequences for the covariance, got {n}")
    x = torch.as_tensor(s, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    eta, target = _scalar_optimum(x, d)
    eye = torch.eye(d, dtype=torch.float64).reshape(-1)
    noise = torch.randn(2, d * d, generator=gen, dtype=torch.float64)
    init = {"theta": abs(eta) ** 0.5 * torch.cat([eye + sigma * noise[0], eye + sigma * noise[1]])}
    res = minimize_population(lambda p: _per_sequence(p["theta"], x, d).mean(), init, target=target,
                              gap=1e-10, restarts=restarts, generator=gen, grad_tol=grad_tol, max_iter=500)
    theta = res.params["theta"]
    v, m = theta[: d * d].reshape(d, d), theta[d * d:].reshape(d, d)
    hess = torch.autograd.functional.hessian(lambda th: _per_sequence(th, x, d).mean(), theta).numpy()
    # per-sequence gradients (N, 2d²), one sequence at a time under vmap
    grads = torch.func.vmap(torch.func.grad(lambda th, one: _per_sequence(th, one[None], d)[0]),
                            in_dims=(None, 0))(theta, x).numpy()
    gauge = torch.cat([v.reshape(-1), -m.reshape(-1)]).numpy()
    gauge = gauge / np.linalg.norm(gauge)
    # orthonormal basis of the complement of the gauge direction
    basis = np.linalg.svd(np.eye(2 * d * d) - np.outer(gauge, gauge))[0][:, : 2 * d * d - 1]
    h_inv = basis @ np.linalg.inv(basis.T @ hess @ basis) @ basis.T
    cov_theta = h_inv @ (np.cov(grads, rowvar=False) / n) @ h_inv
    vn, mn = v.numpy(), m.numpy()
    # d vec(VM) = (I ⊗ Mᵀ) vec(dV) + (V ⊗ I) vec(dM) for row-major vec
    jac = np.concatenate([np.kron(np.eye(d), mn.T), np.kron(vn, np.eye(d))], axis=1)
    return BlockFit(vm=vn @ mn, cov_vm=jac @ cov_theta @ jac.T, loss=res.loss, scalar_loss=target,
                    hessian_eigenvalues=np.linalg.eigvalsh(hess), n=n)


@dataclass(frozen=True)
class StructureTest:
    """``chi2`` (residual of ``VM`` off the predicted subspace) against ``chi2_bound``; ``eta_z`` against ``z_bound``
    (``nan`` when no step is predicted); ``passed`` when both hold."""

    chi2: float
    dof: int
    chi2_bound: float
    eta_z: float
    z_bound: float
    step: float
    step_se: float

    @property
    def passed(self) -> bool:
        return self.chi2 <= self.chi2_bound and (np.isnan(self.eta_z) or self.eta_z <= self.z_bound)


def structure_test(fit: BlockFit, subspace: list[np.ndarray], eta: float | None, *, alpha: float = 1e-4) -> StructureTest:
    """Test ``VM ∈ span(subspace)`` (orthonormal Frobenius basis) and ``tr(VM)/d = eta`` at family-wise level ``alpha``.

    Bounds: the ``1 − α/2`` quantile of ``χ²_dof`` and the two-sided ``1 − α/4`` normal quantile (Bonferroni).
    """
    alpha = args.positive_float("alpha", alpha)
    d = fit.vm.shape[0]
    b = np.stack([args.finite_array(f"subspace[{i}]", s, ndim=2).reshape(-1) for i, s in enumerate(subspace)], axis=1)
    proj = np.eye(d * d) - b @ b.T
    r = proj @ fit.vm.reshape(-1)
    cov_r = proj @ fit.cov_vm @ proj
    evals = np.linalg.eigvalsh(cov_r)
    dof = int(np.sum(evals > 1e-10 * evals.max()))
    chi2 = float(r @ np.linalg.pinv(cov_r, rcond=1e-10, hermitian=True) @ r)
    tr_vec = np.eye(d).reshape(-1) / d
    step = float(tr_vec @ fit.vm.reshape(-1))
    se = float(np.sqrt(tr_vec @ fit.cov_vm @ tr_vec))
    eta_z = float("nan") if eta is None else abs(step - eta) / se
    return StructureTest(chi2=chi2, dof=dof, chi2_bound=float(stats.chi2.ppf(1 - alpha / 2, dof)), eta_z=eta_z,
                         z_bound=float(stats.norm.ppf(1 - alpha / 4)), step=step, step_se=se)
