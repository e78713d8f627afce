"""The local weights store (ARCHITECTURE §7): a catalog of known files, verified imports, fail-fast lookups."""

from vton.weights.catalog import CATALOG, WeightsEntry
from vton.weights.errors import MissingWeightsError, WeightsCheckError, WeightsError
from vton.weights.store import EntryStatus, WeightsStore

__all__ = [
    "CATALOG",
    "EntryStatus",
    "MissingWeightsError",
    "WeightsCheckError",
    "WeightsEntry",
    "WeightsError",
    "WeightsStore",
]
