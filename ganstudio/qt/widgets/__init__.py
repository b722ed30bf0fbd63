"""Reusable widgets of the studio window (plots, sample grid, hyperparameter form)."""
