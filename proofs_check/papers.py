"""What the suite cites: one record per paper (citation string) and the paper's own published numbers.

Every claim and sweep takes its ``paper=`` string from here, so a paper is spelled one way in every report.
Published tables that the suite compares with live here too (one copy), next to their citation.
"""

from __future__ import annotations

SANDER = "Sander, Giryes, Suzuki, Blondel, Peyré 2024 (ICML, arXiv:2402.05787)"
VLADYMYROV = "Vladymyrov, von Oswald, Sandler, Ge 2024 (NeurIPS, arXiv:2402.14180)"

# Vladymyrov et al. Table 1 (Appendix B): adjusted evaluation loss (½-MSE minus the ridge oracle's on the same
# 100,000 evaluation sequences), best of 5 seeds.  Columns: σ_τ ~ U(0, σ_max) for σ_max = 0..7, then σ_τ uniform
# on {1, 3} and {1, 3, 5}; labels as numerics.regression.NoiseLaw.parse reads them.  Transcribed from the text
# copy of the NeurIPS version (see ../shared/vladymyrov.md §6).
VLADYMYROV_NOISE_LAWS: tuple[str, ...] = ("U0", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "S1,3", "S1,3,5")


def _row(*values: float) -> dict[str, float]:
    return dict(zip(VLADYMYROV_NOISE_LAWS, values, strict=True))


#: ``(layers, parameterisation) -> {noise law: adjusted loss}``; parameterisations ``gdpp``, ``diag``, ``full``.
VLADYMYROV_TABLE1: dict[tuple[int, str], dict[str, float]] = {
    (1, "gdpp"): _row(1.768, 1.639, 1.396, 1.175, 1.015, 0.907, 0.841, 0.806, 1.007, 0.819),
    (1, "diag"): _row(1.767, 1.639, 1.396, 1.175, 1.015, 0.906, 0.841, 0.806, 1.007, 0.819),
    (1, "full"): _row(1.768, 1.640, 1.397, 1.176, 1.016, 0.907, 0.842, 0.806, 1.008, 0.820),
    (2, "gdpp"): _row(0.341, 0.295, 0.243, 0.265, 0.347, 0.366, 0.440, 0.530, 0.305, 0.427),
    (2, "diag"): _row(0.265, 0.214, 0.173, 0.188, 0.219, 0.242, 0.254, 0.259, 0.201, 0.246),
    (2, "full"): _row(0.264, 0.215, 0.173, 0.188, 0.220, 0.245, 0.259, 0.263, 0.202, 0.276),
    (3, "gdpp"): _row(0.019, 0.021, 0.071, 0.161, 0.259, 0.344, 0.454, 0.530, 0.222, 0.422),
    (3, "diag"): _row(0.013, 0.015, 0.048, 0.087, 0.109, 0.118, 0.121, 0.123, 0.098, 0.119),
    (3, "full"): _row(0.012, 0.015, 0.049, 0.075, 0.101, 0.117, 0.124, 0.127, 0.076, 0.113),
    (4, "gdpp"): _row(9.91e-05, 0.014, 0.066, 0.160, 0.258, 0.344, 0.454, 0.530, 0.222, 0.422),
    (4, "diag"): _row(1.19e-04, 0.006, 0.024, 0.041, 0.050, 0.059, 0.065, 0.073, 0.043, 0.062),
    (4, "full"): _row(1.63e-04, 0.005, 0.021, 0.038, 0.052, 0.065, 0.068, 0.076, 0.032, 0.061),
    (5, "gdpp"): _row(1.14e-07, 0.014, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (5, "diag"): _row(1.81e-07, 0.004, 0.016, 0.029, 0.041, 0.051, 0.058, 0.062, 0.026, 0.051),
    (5, "full"): _row(1.79e-07, 0.002, 0.015, 0.026, 0.038, 0.048, 0.059, 0.065, 0.016, 0.048),
    (6, "gdpp"): _row(2.37e-10, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (6, "diag"): _row(2.57e-10, 0.003, 0.014, 0.028, 0.040, 0.048, 0.054, 0.059, 0.020, 0.047),
    (6, "full"): _row(2.71e-10, 0.002, 0.014, 0.025, 0.036, 0.044, 0.052, 0.059, 0.011, 0.043),
    (7, "gdpp"): _row(2.65e-12, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422),
    (7, "diag"): _row(2.50e-12, 0.002, 0.014, 0.027, 0.040, 0.047, 0.052, 0.059, 0.018, 0.046),
    (7, "full"): _row(2.50e-12, 0.002, 0.010, 0.025, 0.035, 0.047, 0.050, 0.057, 0.010, 0.035),
}
#: The table's baseline rows (closed-form ridge variants), ``{baseline: {noise law: adjusted loss}}``.
VLADYMYROV_BASELINES: dict[str, dict[str, float]] = {
    "constrr": _row(0.0, 0.009, 0.066, 0.161, 0.265, 0.365, 0.454, 0.530, 0.222, 0.422),
    "adarr": _row(0.0, 0.003, 0.016, 0.034, 0.053, 0.068, 0.081, 0.092, 0.051, 0.084),
    "tunedrr": _row(0.0, 0.002, 0.010, 0.023, 0.037, 0.049, 0.060, 0.068, 0.021, 0.054),
}

__all__ = ["SANDER", "VLADYMYROV", "VLADYMYROV_BASELINES", "VLADYMYROV_NOISE_LAWS", "VLADYMYROV_TABLE1"]
