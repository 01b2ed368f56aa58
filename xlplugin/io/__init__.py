"""Adapters between files and the neutral grid of values."""
