"""Torch models, one module per token layout, with the papers' exact parameterisations."""
