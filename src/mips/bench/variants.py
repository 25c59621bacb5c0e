"""Variants of the benchmark: the same tasks and judge, with each job's data changed first.

A variant alters the data a job generates before the synthesizer sees them, seeded by the job's
seed, and may set the config it synthesizes with; the judge is the plain benchmark's, on fresh
clean full-length data. The alterations live here, on the benchmark side: the synthesizer gets
the altered data as a user's file would give them, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mips.data import SequenceData

if TYPE_CHECKING:
    from mips.synthesis import SynthConfig

__all__ = ["NOISY", "RAGGED", "VARIANTS", "Altered", "Variant", "cut", "get_variant", "mislabel"]

SHORTEST, LONGEST = 3, 10  # the ragged variant's sequence lengths
MISLABELLED = 0.001  # the noisy variant's share of labelled steps given a wrong output
ALLOWED = 0.002  # the max_label_errors the noisy variant synthesizes with


@dataclass(frozen=True)
class Altered:
    """A variant's data, and the (sequence, step) of each label it changed (None where it
    changes no labels)."""

    data: SequenceData
    changed: frozenset[tuple[int, int]] | None = None


@dataclass(frozen=True)
class Variant:
    """How a variant changes a job: ``alter(data, seed)`` gives the data to synthesize from, and
    ``max_label_errors`` is the config's."""

    name: str
    summary: str  # one line, for --help and the report's headline
    alter: Callable[[SequenceData, int], Altered]
    max_label_errors: float = 0.0

    def config(self, seed: int) -> SynthConfig:
        from mips.synthesis import SynthConfig

        return SynthConfig(seed=seed, max_label_errors=self.max_label_errors)


def cut(data: SequenceData, seed: int) -> Altered:
    """``data`` with each sequence cut to a random length in SHORTEST..LONGEST steps (never
    longer than it was)."""
    rng = np.random.default_rng([seed, 16])
    lengths = np.minimum(rng.integers(SHORTEST, LONGEST + 1, data.n), data.seq_lengths)
    short = SequenceData(
        data.x, data.y, lengths=lengths, x_vocab=data.x_vocab, y_vocab=data.y_vocab
    )
    if short.x_vocab is None and short.y_vocab is None:
        return Altered(short)
    # Word columns hold the sorted words that occur, as a reader codes a log file: words that
    # occurred only in the steps cut away must not stay behind in the vocabulary.
    from mips.formats import from_rows

    rows = [(_words(short, "x", i), _words(short, "y", i)) for i in range(short.n)]
    return Altered(from_rows(rows, "<cut traces>"))


def _words(data: SequenceData, name: str, i: int) -> list[list[object]]:
    """Sequence ``i``'s rows of ``x`` or ``y``, words in place of codes."""
    vocab = data.x_vocab if name == "x" else data.y_vocab
    rows = (data.x if name == "x" else data.y)[i, : data.seq_lengths[i]].tolist()
    if vocab is None:
        return rows
    return [
        [c if v is None else v.words[c] for c, v in zip(row, vocab, strict=True)] for row in rows
    ]


def mislabel(data: SequenceData, seed: int) -> Altered:
    """``data`` with MISLABELLED of its labelled steps (at least one) given a wrong output: one
    output value moved to another value of its column's range, or up by one when the range is a
    single value."""
    rng = np.random.default_rng([seed, 3])
    real = np.flatnonzero(data.mask)  # steps that hold data, as indices into (N * T)
    count = max(1, round(MISLABELLED * data.steps))
    cells = real[rng.choice(real.size, count, replace=False)]
    y = data.y.copy()
    labelled = y[data.mask]  # (steps, d_out)
    lo, hi = labelled.min(axis=0), labelled.max(axis=0)
    for c in cells.tolist():
        i, t = divmod(c, data.length)
        j = int(rng.integers(data.d_out))
        old = int(y[i, t, j])
        choices = [v for v in range(int(lo[j]), int(hi[j]) + 1) if v != old][:1000]
        y[i, t, j] = int(rng.choice(choices)) if choices else old + 1
    changed = frozenset(divmod(c, data.length) for c in cells.tolist())
    return Altered(
        SequenceData(data.x, y, lengths=data.lengths, x_vocab=data.x_vocab, y_vocab=data.y_vocab),
        changed,
    )


RAGGED = Variant(
    "ragged",
    f"each sequence cut to a random length of {SHORTEST}..{LONGEST} steps",
    cut,
)
NOISY = Variant(
    "noisy",
    f"{MISLABELLED:.1%} of the labels changed, synthesized with max_label_errors {ALLOWED}",
    mislabel,
    max_label_errors=ALLOWED,
)
VARIANTS: dict[str, Variant] = {v.name: v for v in (RAGGED, NOISY)}


def get_variant(name: str) -> Variant:
    """The variant ``name``; a ValueError naming the known ones for any other."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}") from None
