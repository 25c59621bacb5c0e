"""Sequence data: the one input every stage of the synthesizer learns from.

Formats (read and written by :mod:`mips.formats`; see README):
- ``.npz``: integer arrays ``x`` (N, T, d_in) and ``y`` (N, T, d_out), a 2-D array meaning
  dimension 1; optionally ``lengths`` (N,): sequence i is its first ``lengths[i]`` steps, the
  rest padding.
- ``.csv``: a header naming ``seq``, the input columns ``x`` or ``x0, x1, ...`` and the output
  columns ``y`` or ``y0, y1, ...``; one row per time step, rows of a sequence in order.
- ``.jsonl``: one sequence per line, ``{"x": [...], "y": [...]}``; each list holds one entry per
  step, a value (dimension 1) or a list of values.

Sequences may differ in length (padded to the longest; padding is zero and read by nothing). A
CSV or JSON Lines column may hold words instead of integers: it then gets a :class:`Vocabulary`
and is stored as the words' codes, their places in the sorted vocabulary.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

import numpy as np

from mips.io import write_atomic

FORMATS = (".npz", ".csv", ".jsonl")
# Words one column may hold: the state readers probe every input symbol, and a finite machine
# over more symbols than this is not read (ExtractConfig.max_probe_symbols).
MAX_VOCABULARY = 256


class DataError(ValueError):
    """A data file that cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Vocabulary:
    """The words of one column, sorted; a word is stored as its code, its index here."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        words = tuple(self.words)
        if not words:
            raise ValueError("a vocabulary needs at least one word")
        if any(not isinstance(w, str) for w in words):
            raise ValueError("vocabulary entries must be strings")
        if list(words) != sorted(set(words)):
            raise ValueError("vocabulary words must be distinct and sorted")
        object.__setattr__(self, "words", words)

    def __len__(self) -> int:
        return len(self.words)

    def code(self, word: str) -> int:
        """The code of ``word``; KeyError for a word not in the vocabulary."""
        i = int(np.searchsorted(self.words, word))
        if i == len(self.words) or self.words[i] != word:
            raise KeyError(word)
        return i


Vocabularies = tuple[Vocabulary | None, ...]


@dataclass(frozen=True)
class SequenceData:
    """Input/output integer sequences: ``x`` (N, T, d_in) and ``y`` (N, T, d_out), both int64.

    ``lengths`` (N,): sequence i is its first ``lengths[i]`` steps; None means every sequence
    has all T steps (lengths that are all T are stored as None, so full data have one form).
    Padding steps are set to 0. ``x_vocab`` / ``y_vocab``: one :class:`Vocabulary` or None per
    column (None for an integer column); None for all-integer data.
    """

    x: np.ndarray
    y: np.ndarray
    _: KW_ONLY
    lengths: np.ndarray | None = None
    x_vocab: Vocabularies | None = None
    y_vocab: Vocabularies | None = None

    def __post_init__(self) -> None:
        x, y = np.asarray(self.x), np.asarray(self.y)
        for name, a in (("x", x), ("y", y)):
            if a.ndim == 2:
                a = a[:, :, None]
            if a.ndim != 3:
                raise ValueError(f"{name} must have shape (N, T, dim), got {a.shape}")
            if a.dtype.kind == "f":
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{name} contains NaN or infinite values")
                if not np.all(a == np.round(a)):
                    raise ValueError(f"{name} contains non-integer values")
            elif a.dtype.kind not in "iub":
                raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
            object.__setattr__(self, name, np.array(a, dtype=np.int64))
        if self.x.shape[:2] != self.y.shape[:2]:
            raise ValueError(
                f"x and y disagree on (N, T): x has {self.x.shape[:2]}, y has {self.y.shape[:2]}"
            )
        if self.x.shape[0] == 0 or self.x.shape[1] == 0:
            raise ValueError("no sequences (N = 0 or T = 0)")
        if self.x.shape[2] == 0 or self.y.shape[2] == 0:
            raise ValueError("x and y need at least one dimension each")
        self._check_lengths()
        for name, vocab, a in (("x", self.x_vocab, self.x), ("y", self.y_vocab, self.y)):
            self._check_vocab(name, vocab, a)
        for a in (self.x, self.y):
            a.setflags(write=False)

    def _check_lengths(self) -> None:
        if self.lengths is None:
            return
        lengths = np.asarray(self.lengths)
        if lengths.shape != (self.n,):
            raise ValueError(f"lengths must have shape ({self.n},), got {lengths.shape}")
        if lengths.dtype.kind not in "iu":
            raise ValueError(f"lengths must hold integers, got dtype {lengths.dtype}")
        lengths = lengths.astype(np.int64)
        if lengths.min() < 1:
            i = int(np.argmin(lengths))
            raise ValueError(f"lengths[{i}] is {lengths[i]}: a sequence needs at least 1 step")
        if lengths.max() > self.length:
            i = int(np.argmax(lengths))
            raise ValueError(
                f"lengths[{i}] is {lengths[i]}, longer than the {self.length} steps of padding"
            )
        if (lengths == self.length).all():
            object.__setattr__(self, "lengths", None)
            return
        lengths.setflags(write=False)
        object.__setattr__(self, "lengths", lengths)
        pad = ~self.mask
        self.x[pad] = 0
        self.y[pad] = 0

    def _check_vocab(self, name: str, vocab: Vocabularies | None, a: np.ndarray) -> None:
        if vocab is None:
            return
        vocab = tuple(vocab)
        if len(vocab) != a.shape[2]:
            raise ValueError(f"{name}_vocab has {len(vocab)} entries for {a.shape[2]} columns")
        for j, v in enumerate(vocab):
            if v is None:
                continue
            if not isinstance(v, Vocabulary):
                raise ValueError(f"{name}_vocab[{j}] must be a Vocabulary or None")
            col = a[:, :, j][self.mask]
            if col.min() < 0 or col.max() >= len(v):
                raise ValueError(f"{name} column {j} holds codes outside its {len(v)} words")
        object.__setattr__(self, f"{name}_vocab", None if all(v is None for v in vocab) else vocab)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def length(self) -> int:
        """T, the longest sequence's length (the padded length)."""
        return int(self.x.shape[1])

    @property
    def d_in(self) -> int:
        return int(self.x.shape[2])

    @property
    def d_out(self) -> int:
        return int(self.y.shape[2])

    @property
    def all_words(self) -> bool:
        """Whether every input and output column holds words (logs of a system over words)."""
        vocabs = (*(self.x_vocab or (None,)), *(self.y_vocab or (None,)))
        return all(v is not None for v in vocabs)

    @property
    def words_out(self) -> bool:
        """Whether some output column holds words, whose codes have no order."""
        return any(v is not None for v in self.y_vocab or ())

    @property
    def seq_lengths(self) -> np.ndarray:
        """(N,) each sequence's length, T for all when ``lengths`` is None."""
        if self.lengths is None:
            return np.full(self.n, self.length, dtype=np.int64)
        return self.lengths

    @property
    def mask(self) -> np.ndarray:
        """(N, T) True at the steps that hold data, False at padding."""
        return np.arange(self.length)[None, :] < self.seq_lengths[:, None]

    @property
    def steps(self) -> int:
        """The number of steps that hold data (N * T when no sequence is padded)."""
        return int(self.seq_lengths.sum())

    def __len__(self) -> int:
        return self.n

    def sequences(self) -> list[tuple[list[list[int]], list[list[int]]]]:
        """Each sequence as (inputs, outputs) lists of its own length, integer codes."""
        xs, ys, lengths = self.x.tolist(), self.y.tolist(), self.seq_lengths.tolist()
        return [(x[:k], y[:k]) for x, y, k in zip(xs, ys, lengths, strict=True)]

    def subset(self, index: np.ndarray | slice) -> SequenceData:
        """The sequences at ``index`` (any numpy index along the first axis)."""
        lengths = None if self.lengths is None else self.lengths[index]
        return SequenceData(
            self.x[index],
            self.y[index],
            lengths=lengths,
            x_vocab=self.x_vocab,
            y_vocab=self.y_vocab,
        )

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[SequenceData, SequenceData]:
        """A seeded random (train, test) split; both parts keep at least one sequence."""
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        if self.n < 2:
            raise ValueError("need at least 2 sequences to split")
        order = np.random.default_rng(seed).permutation(self.n)
        n_test = min(max(1, round(self.n * test_fraction)), self.n - 1)
        return self.subset(np.sort(order[n_test:])), self.subset(np.sort(order[:n_test]))

    def in_words_of(self, other: SequenceData) -> SequenceData:
        """These sequences coded in ``other``'s vocabularies (a file read on its own codes its
        words by its own sorted vocabulary). ValueError, naming the column, when the columns do
        not match or a word is not in ``other``'s vocabulary."""
        codes = {}
        for name in ("x", "y"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine.shape[2] != theirs.shape[2]:
                raise ValueError(
                    f"{mine.shape[2]} {name} columns where the data have {theirs.shape[2]}"
                )
            mine_v = getattr(self, f"{name}_vocab") or (None,) * mine.shape[2]
            theirs_v = getattr(other, f"{name}_vocab") or (None,) * mine.shape[2]
            a = mine.copy()
            for j, (v, w) in enumerate(zip(mine_v, theirs_v, strict=True)):
                if (v is None) != (w is None):
                    raise ValueError(f"{name} column {j} holds words in one file and not the other")
                if v is None or w is None:
                    continue
                missing = sorted(set(v.words) - set(w.words))
                if missing:
                    raise ValueError(f"{name} column {j}: word {missing[0]!r} not in the data")
                a[:, :, j] = np.array([w.code(word) for word in v.words])[mine[:, :, j]]
            codes[name] = a
        return SequenceData(
            codes["x"],
            codes["y"],
            lengths=self.lengths,
            x_vocab=other.x_vocab,
            y_vocab=other.y_vocab,
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path`` in the format its suffix names, atomically (no half-written file)."""
        path = Path(path)
        from mips.formats import WRITERS

        writer = WRITERS.get(path.suffix.lower())
        if writer is None:
            raise DataError(
                f"{path}: unknown format {path.suffix!r} (use one of {', '.join(FORMATS)})"
            )
        return write_atomic(path, lambda tmp: writer(self, tmp))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceData:
        """Read a data file; any problem raises :class:`DataError` with a one-line message."""
        path = Path(path)
        from mips.formats import READERS, one_line

        reader = READERS.get(path.suffix.lower())
        if reader is None:
            raise DataError(
                f"{path}: unknown format {path.suffix!r} (use one of {', '.join(FORMATS)})"
            )
        if path.is_dir():
            raise DataError(f"{path}: is a directory, not a data file")
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file")
        try:
            return reader(path)
        except DataError:
            raise
        except (ValueError, TypeError, OSError, KeyError, zipfile.BadZipFile, UnicodeError) as e:
            raise DataError(f"{path}: {one_line(e)}") from None


@dataclass(frozen=True)
class Contradictions:
    """Labels no program can give: sequences with the same inputs up to a step, different outputs
    there. ``min_wrong`` is the fewest labels that must be wrong (per step and input prefix, all
    but the most common output); ``examples`` are (sequence, other sequence, step), first steps
    first."""

    min_wrong: int
    steps: int
    examples: tuple[tuple[int, int, int], ...] = ()

    @property
    def fraction(self) -> float:
        return self.min_wrong / max(self.steps, 1)

    def describe(self, data: SequenceData | None = None) -> str:
        """One line: how many, and the first pair of sequences that disagree."""
        if not self.examples:
            return "no contradictory labels"
        a, b, t = self.examples[0]
        first = (
            f"sequences {a} and {b} have the same inputs up to step {t} but different outputs there"
        )
        if data is not None:
            first += f" ({show_values(data, 'y', data.y[a, t])} vs {show_values(data, 'y', data.y[b, t])})"
        return (
            f"{self.min_wrong} of {self.steps} labelled steps ({self.fraction:.3%}) contradict "
            f"others: {first}"
        )


def contradictions(data: SequenceData, max_examples: int = 5) -> Contradictions:
    """Steps where two sequences share their inputs up to and including the step, but not the
    output there: no program (a function of the inputs so far) gives both.

    Vectorised over sequences: each step's input prefix gets an id from the previous step's id
    and the step's input, so equal prefixes have equal ids.
    """
    lengths = data.seq_lengths
    prefix = np.zeros(data.n, dtype=np.int64)
    wrong, examples = 0, []
    for t in range(data.length):
        alive = np.flatnonzero(lengths > t)
        if len(alive) < 2:
            break
        keys = np.concatenate([prefix[alive, None], data.x[alive, t]], axis=1)
        ids = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
        prefix[alive] = ids
        y_ids = np.unique(data.y[alive, t], axis=0, return_inverse=True)[1].reshape(-1)
        pairs, counts = np.unique(ids * (int(y_ids.max()) + 1) + y_ids, return_counts=True)
        group = pairs // (int(y_ids.max()) + 1)
        if len(np.unique(group)) == len(group):
            continue  # every prefix has one output
        most = np.zeros(int(ids.max()) + 1, dtype=np.int64)
        np.maximum.at(most, group, counts)
        wrong += int(len(alive) - most.sum())
        for g in np.unique(group[np.diff(group, prepend=-1) == 0]):
            if len(examples) >= max_examples:
                break
            members = alive[ids == g]
            first = y_ids[ids == g]
            other = members[first != first[0]][0]
            examples.append((int(members[0]), int(other), t))
    return Contradictions(wrong, data.steps, tuple(examples))


def show_values(data: SequenceData, name: str, row: Sequence[int] | np.ndarray) -> str:
    """One step's values of ``x`` or ``y`` as the user wrote them (words for a vocabulary), JSON."""
    vocab = data.x_vocab if name == "x" else data.y_vocab
    values = [
        v if vocab is None or vocab[j] is None else vocab[j].words[v]
        for j, v in enumerate(np.asarray(row).tolist())
    ]
    return json.dumps(values[0] if len(values) == 1 else values)
