"""What every top-level config shares: stage seeds spawned from one seed, and a digest."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

import numpy as np

from mips.io import dumps

__all__ = ["config_digest", "spawn_seeds"]


def spawn_seeds(seed: int, n: int) -> tuple[int, ...]:
    """``n`` independent seeds spawned from ``seed`` by ``numpy.random.SeedSequence``."""
    return tuple(int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(n))


def config_digest(config: Any) -> str:
    """A short hash of a dataclass config's every setting: equal digests, equal settings."""
    return hashlib.sha256(dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:12]
