"""What a candidate's training says of it: its scores on a split and the metrics it carries.

Shared by the families that train one candidate at a time and hand it out as they go (scale-up,
automaton), so that the search reads the same metrics from each.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:
    from mips.data import SequenceData


class _Measured(Protocol):
    metrics: dict[str, Any]


Net = TypeVar("Net", bound=_Measured)


def scores(wrong: np.ndarray, data: SequenceData) -> tuple[float, float]:
    """From ``wrong`` (N, T), where a network misses ``data``'s labels: the share of sequences
    right at every labelled step, and the share of labelled steps missed."""
    return float(1.0 - wrong.any(-1).mean()), float(wrong.sum() / data.mask.sum())


def mark(
    net: Net,
    step: int,
    exact: bool,
    share: float,
    accuracy: float,
    final: bool = True,
    fits: bool = False,
) -> Net:
    """``net`` with its training metrics: exact on both splits or not, at which step, its share
    of held-out sequences right and of held-out steps right, whether training is over
    (``final``) and whether it fits the training split."""
    net.metrics.update(
        exact=exact,
        steps=step,
        sequence_accuracy=share,
        heldout_accuracy=accuracy,
        final=final,
        fits_training=exact or fits,
    )
    return net


def since(start: float) -> str:
    """Seconds since ``start`` (a ``time.perf_counter()``), for the stage log."""
    return f"{time.perf_counter() - start:.1f} s"
