"""What a network's training says of it: a frozen training report, and its scores on a split.

Every family the search runs reports in the same form, so that the search, the console, the
synthesis record and a saved network read one type; a network mips did not train has none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from mips.data import SequenceData

Net = TypeVar("Net")


@dataclass(frozen=True, kw_only=True)
class TrainingReport:
    """How the search trained a network: its family, whether it is exact on both splits, after
    how many steps, and its shares right of held-out sequences and steps. The fields after
    those say where it came from and what the search had spent when it was handed out; a field
    at its default does not apply (it is left out of the saved form)."""

    family: str
    exact: bool
    steps: int
    sequence_accuracy: float
    heldout_accuracy: float
    # False for a candidate handed out while it trains on.
    final: bool = True
    # Whether it fits its training split, as measured by the families that hand out a candidate
    # for that alone (scale-up, automaton); the others leave it False.
    fits_training: bool = False
    # The candidate's own seed (scale-up, automaton).
    seed: int | None = None
    # A packed candidate: the pack's seed (None for the closed form) and its place in the pack.
    pack_seed: int | None = None
    place_in_pack: int | None = None
    # The search's work when it handed the network out: candidates trained by the families
    # finished before, their steps (the longest of each pack, summed), and its seconds so far.
    candidates_trained: int | None = None
    search_steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= self.sequence_accuracy <= 1.0 and 0.0 <= self.heldout_accuracy <= 1.0):
            raise ValueError(f"accuracies must lie in [0, 1]: {self}")
        if self.exact and not self.final:
            raise ValueError("an exact network's training is over (final)")

    def to_dict(self) -> dict[str, Any]:
        """The saved form (a network's ``metrics``): every field that applies."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default
        }

    @classmethod
    def from_dict(cls, metrics: dict[str, Any]) -> TrainingReport | None:
        """The report in saved ``metrics``; None when they hold none (a network mips did not
        train), and keys of other records are ignored."""
        names = {f.name for f in fields(cls)}
        if "family" not in metrics:
            return None
        return cls(**{k: v for k, v in metrics.items() if k in names})


def scores(wrong: np.ndarray, data: SequenceData) -> tuple[float, float]:
    """From ``wrong`` (N, T), where a network misses ``data``'s labels: the share of sequences
    right at every labelled step, and the share of labelled steps missed."""
    return float(1.0 - wrong.any(-1).mean()), float(wrong.sum() / data.mask.sum())


def mark(
    net: Net,
    family: str,
    seed: int,
    step: int,
    exact: bool,
    share: float,
    accuracy: float,
    final: bool = True,
    fits: bool = False,
) -> Net:
    """``net`` (a frozen network with a ``report``) with its training report: exact on both
    splits or not, at which step, its share of held-out sequences right and of held-out steps
    right, whether training is over (``final``) and whether it fits the training split."""
    report = TrainingReport(
        family=family,
        exact=exact,
        steps=step,
        sequence_accuracy=share,
        heldout_accuracy=accuracy,
        final=final,
        fits_training=exact or fits,
        seed=seed,
    )
    return replace(net, report=report)


def since(start: float) -> str:
    """Seconds since ``start`` (a ``time.perf_counter()``), for the stage log."""
    return f"{time.perf_counter() - start:.1f} s"
