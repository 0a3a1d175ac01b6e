"""Randomness and torch: samplers, models exactly as the papers parameterise them, optimisers."""
