"""Vladymyrov, von Oswald, Sandler, Ge (NeurIPS 2024, arXiv:2402.14180): the public face of the closed forms.

Everything a user needs is importable from here (``from theory.vladymyrov import implicit_states``); the submodules
hold the derivations in their docstrings.  The map from the paper's objects (Theorems 4.1, 4.2, 5.1, 5.2, Lemmas
4.3, 4.4, A.2, A.3, Sections 5.2-5.3, the Table-1 baselines) to these functions is ``docs/api.md``.

* :mod:`theory.vladymyrov.model`: the multi-layer linear self-attention forward pass (FULL, DIAG, GD++).
* :mod:`theory.vladymyrov.recursion`: Theorem 4.1 / Lemma 4.3 (numpy and differentiable torch twin), Lemma 4.4.
* :mod:`theory.vladymyrov.second_order`: Theorem 5.1, Lemmas A.2-A.3 (GD++ is second order).
* :mod:`theory.vladymyrov.adaptive`: Theorem 4.2, Sections 5.2-5.3, Theorem 5.2 (noise adaptivity).
* :mod:`theory.vladymyrov.baselines`: ridge baselines of Table 1 (oracle, CONSTRR, ADARR, TUNEDRR, GD, Bayes).

No torch at import time: the ``*_torch`` twins import torch when called.
"""

from __future__ import annotations

from theory.vladymyrov.model import (
    OMEGA_NAMES, check_regression_inputs, check_weights, tokens, context_gram, head_sum, ForwardPass, forward,
    diag_matrices, gdpp_matrices, omega, omega_forward,
)
from theory.vladymyrov.recursion import (
    ImplicitState, initial_state, blocks, lemma43_step, implicit_states, implicit_states_torch,
    theorem41_relative_error, symbolic_theorem41_residual, OLSData, ols_data, lemma44_alpha, lemma44_step,
    lemma44_step_printed, gdpp_preconditioned_gd,
)
from theory.vladymyrov.second_order import (
    GAMMA_NU, CONTRACTION, PHASE_SWITCH, eigenvalue_map, kappa_map, kappa_map_delta, mapped_condition_number,
    kappa_map_sympy, LemmaA3Exact, lemma_a3_exact, gdpp_kappa_trajectory, gdpp_layers_needed, theorem51_layer_bound,
    plain_gd_rate, plain_gd_layers_needed, GDPPRun, gdpp_run, theorem51_construction, plain_gd_construction,
)
from theory.vladymyrov.adaptive import (
    omega_layers, omega_layer_weights, label_energy, inner, thm42_target, sup_cosine, label_cosine,
    thm42_cos2_approximation, thm42_cosine_approximation, thm42_generic_cos2, thm42_leading_moments,
    sec52_rescaling_factor, sec52_ridge_shrinkage, sec53_step_exact, sec53_step_paper, sec53_prediction,
    TwoNoiseConstants, thm52_constants, thm52_constants_as_printed, thm52_constants_symbolic,
    thm52_two_layer_weights, thm52_two_layer_prediction, two_layer_forward, thm52_ridge_weights,
    thm52_relative_error_scale, one_layer_limit_relative_error, symbolic_sec52_residuals, symbolic_sec53_residuals,
    symbolic_thm52_residuals,
)
from theory.vladymyrov.baselines import (
    ridge_weights, RidgeSpectrum, ridge_spectrum, oracle_prediction, adaptive_prediction, tuned_prediction, half_mse,
    tune_constant, tune_tuned, tune_gd, uniform_sigma_quadrature, log_evidence, posterior_noise_weights,
    bayes_prediction, one_layer_optimal_loss,
)

__all__ = [
    "OMEGA_NAMES", "check_regression_inputs", "check_weights", "tokens", "context_gram", "head_sum", "ForwardPass",
    "forward", "diag_matrices", "gdpp_matrices", "omega", "omega_forward", "ImplicitState", "initial_state",
    "blocks", "lemma43_step", "implicit_states", "implicit_states_torch", "theorem41_relative_error",
    "symbolic_theorem41_residual", "OLSData", "ols_data", "lemma44_alpha", "lemma44_step", "lemma44_step_printed",
    "gdpp_preconditioned_gd", "GAMMA_NU", "CONTRACTION", "PHASE_SWITCH", "eigenvalue_map", "kappa_map",
    "kappa_map_delta", "mapped_condition_number", "kappa_map_sympy", "LemmaA3Exact", "lemma_a3_exact",
    "gdpp_kappa_trajectory", "gdpp_layers_needed", "theorem51_layer_bound", "plain_gd_rate",
    "plain_gd_layers_needed", "GDPPRun", "gdpp_run", "theorem51_construction", "plain_gd_construction",
    "omega_layers", "omega_layer_weights", "label_energy", "inner", "thm42_target", "sup_cosine", "label_cosine",
    "thm42_cos2_approximation", "thm42_cosine_approximation", "thm42_generic_cos2", "thm42_leading_moments",
    "sec52_rescaling_factor", "sec52_ridge_shrinkage", "sec53_step_exact", "sec53_step_paper", "sec53_prediction",
    "TwoNoiseConstants", "thm52_constants", "thm52_constants_as_printed", "thm52_constants_symbolic",
    "thm52_two_layer_weights", "thm52_two_layer_prediction", "two_layer_forward", "thm52_ridge_weights",
    "thm52_relative_error_scale", "one_layer_limit_relative_error", "symbolic_sec52_residuals",
    "symbolic_sec53_residuals", "symbolic_thm52_residuals", "ridge_weights", "RidgeSpectrum", "ridge_spectrum",
    "oracle_prediction", "adaptive_prediction", "tuned_prediction", "half_mse", "tune_constant", "tune_tuned",
    "tune_gd", "uniform_sigma_quadrature", "log_evidence", "posterior_noise_weights", "bayes_prediction",
    "one_layer_optimal_loss",
]
