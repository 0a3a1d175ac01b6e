"""Closed forms of the in-context-learning theory (sympy expressions with numpy/torch twins).

Imports nothing from ``numerics`` or ``proofs_check``.
"""
