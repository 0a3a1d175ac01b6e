"""Vladymyrov, von Oswald, Sandler, Ge (NeurIPS 2024, arXiv:2402.14180)."""
