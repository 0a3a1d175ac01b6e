"""Sander, Giryes, Suzuki, Blondel, Peyré (ICML 2024, arXiv:2402.05787): the public face of the closed forms.

Everything a user needs is importable from here (``from theory.sander import optimal_step``); the submodules hold
the derivations in their docstrings.  The map from the paper's objects to these functions (sympy, numpy and torch
twins) is ``docs/api.md``.

* :mod:`theory.sander.augmented`: augmented tokens, one linear-attention layer = one GD step (η_t*, optimal loss).
* :mod:`theory.sander.non_augmented`: non-augmented tokens, losses of ``(C, P)`` in cases U and O, minima, structure.
* :mod:`theory.sander.softmax_pe`: case O with a softmax positional encoding (simplex rows).
* :mod:`theory.sander.haar`: augmented tokens for real laws of ``W`` (Haar on ``O(d)``, rotations, mixtures) by
  spectral quadrature; its ``moments``, ``optimal_step``, ``optimal_loss``, ``shared_optimum``, ``moments_sym``
  carry the prefix ``haar_`` here (``haar_optimal_step``).
* :mod:`theory.sander.pe_only`: the PE-only model; its names carry the prefix ``pe_only_`` here (``pe_only_loss``).

No torch at import time: the ``*_torch`` twins import torch when called.
"""

from __future__ import annotations

from theory.sander.augmented import (
    RadialMoments, TORUS, COMPLEX_GAUSSIAN, REAL_GAUSSIAN_BLOCKS, fixed_radius, D, T, M2, M4, M6, moment_exprs,
    optimal_step_expr, optimal_loss_expr, moments, optimal_step, loss_at_step, optimal_loss, shared_optimum,
    symbolic_moments, symbolic_sequence, context_matrix_sym, inner_objective_sym, inner_gradient_at_zero_sym,
    one_step_prediction_sym, block_parameters_sym, augmented_tokens_sym, attention_output_sym, context_matrix,
    inner_objective, inner_gradient, one_step_prediction, RestrictedTensors, restricted_tensors_u, restricted_loss,
    restricted_loss_torch, distance_to_identity,
)
from theory.sander.haar import (
    SPHERE, SpectralRule, gaussian_start, haar_rule, mixture_rule, power_sums, rotation_rule, trace_moment,
)
from theory.sander.haar import moments as haar_moments
from theory.sander.haar import moments_sym as haar_moments_sym
from theory.sander.haar import optimal_loss as haar_optimal_loss
from theory.sander.haar import optimal_step as haar_optimal_step
from theory.sander.haar import shared_optimum as haar_shared_optimum
from theory.sander.non_augmented import (
    used_mask, row_statistics, loss_u, loss_u_torch, loss_u_reference, loss_u_reference_torch, loss_u_minimum,
    loss_u_minimiser, loss_u_row_optimum, loss_o, loss_o_torch, loss_o_reference, loss_o_reference_torch,
    loss_o_coefficients, loss_o_minimum, loss_o_minimiser, loss_o_row_gram, loss_u_closed_sympy, loss_o_closed_sympy,
    loss_u_reference_sympy, loss_o_reference_sympy, loss_u_derivation, loss_o_derivation, symbolic_C, symbolic_P,
    heads_factorisation_sympy, cayley_hamilton_rotation, pe_ratio_from_cayley_hamilton, constant_term,
    laurent_coefficients, expectation_of_product, best_p_row_o, structure_u, structure_o, block_pattern,
    max_deviation, lambdified_loss,
)
from theory.sander.softmax_pe import (
    simplex_quadratic_minimum, loss_o_simplex_minimum, loss_o_softmax_infimum, softmax_minimiser,
)
from theory.sander.pe_only import (
    moment as pe_only_moment, moment_sympy as pe_only_moment_sympy, row_gram as pe_only_row_gram,
    loss as pe_only_loss, loss_rows as pe_only_loss_rows,
    exact_minimiser as pe_only_exact_minimiser, gd_from_zero as pe_only_gd_from_zero,
    row_features as pe_only_row_features,
)

__all__ = [
    "SPHERE", "SpectralRule", "gaussian_start", "haar_rule", "mixture_rule", "power_sums", "rotation_rule",
    "trace_moment", "haar_moments", "haar_moments_sym", "haar_optimal_loss", "haar_optimal_step",
    "haar_shared_optimum",
    "RadialMoments", "TORUS", "COMPLEX_GAUSSIAN", "REAL_GAUSSIAN_BLOCKS", "fixed_radius", "D", "T", "M2", "M4", "M6",
    "moment_exprs", "optimal_step_expr", "optimal_loss_expr", "moments", "optimal_step", "loss_at_step",
    "optimal_loss", "shared_optimum", "symbolic_moments", "symbolic_sequence", "context_matrix_sym",
    "inner_objective_sym", "inner_gradient_at_zero_sym", "one_step_prediction_sym", "block_parameters_sym",
    "augmented_tokens_sym", "attention_output_sym", "context_matrix", "inner_objective", "inner_gradient",
    "one_step_prediction", "RestrictedTensors", "restricted_tensors_u", "restricted_loss",
    "restricted_loss_torch", "distance_to_identity", "used_mask", "row_statistics", "loss_u", "loss_u_torch",
    "loss_u_reference", "loss_u_reference_torch", "loss_u_minimum", "loss_u_minimiser", "loss_u_row_optimum",
    "loss_o", "loss_o_torch", "loss_o_reference", "loss_o_reference_torch", "loss_o_coefficients", "loss_o_minimum",
    "loss_o_minimiser", "loss_o_row_gram", "loss_u_closed_sympy", "loss_o_closed_sympy", "loss_u_reference_sympy",
    "loss_o_reference_sympy", "loss_u_derivation", "loss_o_derivation", "symbolic_C", "symbolic_P",
    "heads_factorisation_sympy", "cayley_hamilton_rotation", "pe_ratio_from_cayley_hamilton", "constant_term",
    "laurent_coefficients", "expectation_of_product", "best_p_row_o", "structure_u", "structure_o", "block_pattern",
    "max_deviation", "lambdified_loss", "simplex_quadratic_minimum", "loss_o_simplex_minimum",
    "loss_o_softmax_infimum", "softmax_minimiser", "pe_only_moment", "pe_only_moment_sympy", "pe_only_row_gram",
    "pe_only_loss", "pe_only_loss_rows", "pe_only_exact_minimiser", "pe_only_gd_from_zero",
    "pe_only_row_features",
]
