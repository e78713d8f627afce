"""Errors a reader raises for a whole dataset, as opposed to the per-sample quarantine rows it returns."""

from __future__ import annotations


class LayoutError(ValueError):
    """The dataset root matches no known layout, or not the one asked for: the message says what to do."""
