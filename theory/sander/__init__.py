"""Sander, Giryes, Suzuki, Blondel, Peyré (ICML 2024, arXiv:2402.05787)."""
