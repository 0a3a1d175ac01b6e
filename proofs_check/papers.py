"""What the suite cites: one record per paper (citation string) and the paper's own published numbers.

Every claim and sweep takes its ``paper=`` string from here, so a paper is spelled one way in every report.
Published tables that the suite compares with live here too (one copy), next to their citation.
"""

from __future__ import annotations

SANDER = "Sander, Giryes, Suzuki, Blondel, Peyré 2024 (ICML, arXiv:2402.05787)"
VLADYMYROV = "Vladymyrov, von Oswald, Sandler, Ge 2024 (NeurIPS, arXiv:2402.14180)"

__all__ = ["SANDER", "VLADYMYROV"]
