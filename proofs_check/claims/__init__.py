"""One module per paper setting; each registers its claims with :func:`proofs_check.registry.register`."""
