"""Finding the nine tables in a grid of values."""
