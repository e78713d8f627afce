"""Seeds for reproducible training: one run seed, derived seeds per epoch, rank and loader worker.

Derived seeds come from a hash of their parts (not Python's salted `hash`), so every process of every
restart derives the same numbers; seeding at each epoch start makes an epoch's data order, augmentation and
dropout the same whether the run went straight through or resumed from the previous epoch's checkpoint.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from the parts (ints, strings), the same in every process."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**63)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
