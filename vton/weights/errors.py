"""Errors of the weights store. Each str() is one line that names the file and what the user does next."""

from __future__ import annotations


class WeightsError(Exception):
    """A weights problem the user can fix (unknown name, wrong file, failed check)."""


class MissingWeightsError(WeightsError):
    """A component needs a file the store does not hold: says what, who needs it and how to import it."""


class WeightsCheckError(WeightsError):
    """A file failed its hash, size or loadability check; nothing was installed or it is not trusted."""
