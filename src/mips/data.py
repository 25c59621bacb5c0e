"""Sequence data: the one input every stage of the synthesizer learns from.

Formats (see README):
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

import csv
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
        return SequenceData(self.x[index], self.y[index], lengths, self.x_vocab, self.y_vocab)

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[SequenceData, SequenceData]:
        """A seeded random (train, test) split; both parts keep at least one sequence."""
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        if self.n < 2:
            raise ValueError("need at least 2 sequences to split")
        order = np.random.default_rng(seed).permutation(self.n)
        n_test = min(max(1, round(self.n * test_fraction)), self.n - 1)
        return self.subset(np.sort(order[n_test:])), self.subset(np.sort(order[:n_test]))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path`` in the format its suffix names, atomically (no half-written file)."""
        path = Path(path)
        writer = _WRITERS.get(path.suffix.lower())
        if writer is None:
            raise DataError(
                f"{path}: unknown format {path.suffix!r} (use one of {', '.join(FORMATS)})"
            )
        return write_atomic(path, lambda tmp: writer(self, tmp))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceData:
        """Read a data file; any problem raises :class:`DataError` with a one-line message."""
        path = Path(path)
        reader = _READERS.get(path.suffix.lower())
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
            raise DataError(f"{path}: {_one_line(e)}") from None


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


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:300]


def _as_int_array(value: object, what: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"{what} has ragged dimensions") from e
    if a.dtype == object:  # numpy raises on ragged lists; object means None, huge ints, ...
        raise ValueError(f"{what} contains values that are not 64-bit integers")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{what} contains NaN or infinite values")
        if not np.all(a == np.round(a)):
            raise ValueError(f"{what} contains non-integer values")
        if a.size and np.abs(a).max() >= 2.0**63:
            raise ValueError(f"{what} contains values outside the 64-bit integer range")
        return a.astype(np.int64)
    if a.dtype.kind not in "iub":
        raise ValueError(f"{what} contains non-numeric values")
    if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{what} contains values outside the 64-bit integer range")
    return a.astype(np.int64)


def _column_names(prefix: str, d: int) -> list[str]:
    return [prefix] if d == 1 else [f"{prefix}{i}" for i in range(d)]


def _assemble(
    path: Path, seqs: Sequence[tuple[list[list[object]], list[list[object]]]]
) -> SequenceData:
    """Padded arrays, lengths and vocabularies from per-sequence rows of cells (int or word).

    Each column is all numbers (kept as integers) or all words (coded by a sorted vocabulary).
    """
    lengths = np.array([len(x) for x, _ in seqs], dtype=np.int64)
    t_len = int(lengths.max())
    arrays, vocabs = [], []
    for side, name in ((0, "x"), (1, "y")):
        rows = [r for s in seqs for r in s[side]]
        d = len(rows[0])
        a = np.zeros((len(seqs), t_len, d), dtype=np.int64)
        mask = np.arange(t_len)[None, :] < lengths[:, None]
        vocab: list[Vocabulary | None] = []
        for j, col in enumerate(_column_names(name, d)):
            cells = [r[j] for r in rows]
            words = [c for c in cells if isinstance(c, str)]
            if not words:
                a[:, :, j][mask] = _as_int_array(cells, col)
                vocab.append(None)
                continue
            if len(words) < len(cells):
                number = next(c for c in cells if not isinstance(c, str))
                raise DataError(
                    f"{path}: column {col} mixes words and numbers "
                    f"(e.g. {words[0]!r} and {number!r})"
                )
            v = Vocabulary(tuple(sorted(set(words))))
            if len(v) > MAX_VOCABULARY:
                raise DataError(
                    f"{path}: column {col} has {len(v)} distinct words, more than the "
                    f"{MAX_VOCABULARY} the network stage handles"
                )
            a[:, :, j][mask] = np.searchsorted(np.array(v.words), np.array(words))
            vocab.append(v)
        arrays.append(a)
        vocabs.append(tuple(vocab))
    return SequenceData(arrays[0], arrays[1], lengths, vocabs[0], vocabs[1])


def _cells(data: SequenceData, name: str, i: int) -> list[list[object]]:
    """Sequence i's rows of ``x`` or ``y`` with words in place of codes."""
    a = (data.x if name == "x" else data.y)[i, : data.seq_lengths[i]]
    vocab = data.x_vocab if name == "x" else data.y_vocab
    rows = a.tolist()
    if vocab is None:
        return rows
    return [
        [v if vocab[j] is None else vocab[j].words[v] for j, v in enumerate(row)] for row in rows
    ]


# --- npz ------------------------------------------------------------------------------------------


def _read_npz(path: Path) -> SequenceData:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # zip local header / empty archive
        raise DataError(f"{path}: not an .npz archive (no zip header)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing array {missing[0]!r} (found {sorted(z.files)})")
            x, y = z["x"], z["y"]
            lengths = z["lengths"] if "lengths" in z.files else None
            vocab = {k: z[k] for k in z.files if k.startswith(("x_vocab", "y_vocab"))}
    except DataError:
        raise
    except Exception as e:  # a damaged archive fails in zipfile, zlib or the .npy header parser
        raise DataError(f"{path}: damaged .npz archive ({_one_line(e)})") from None
    x, y = _as_int_array(x, "x"), _as_int_array(y, "y")
    if lengths is not None:
        lengths = _as_int_array(lengths, "lengths")
        if lengths.ndim != 1:
            raise DataError(f"{path}: lengths must be one-dimensional, got shape {lengths.shape}")

    def vocabs(name: str, a: np.ndarray) -> Vocabularies | None:
        d = a.shape[2] if a.ndim == 3 else 1
        found = [vocab.get(f"{name}_vocab{j}") for j in range(d)]
        return tuple(None if w is None else Vocabulary(tuple(w.tolist())) for w in found)

    return SequenceData(x, y, lengths, vocabs("x", x), vocabs("y", y))


def _write_npz(data: SequenceData, path: Path) -> None:
    arrays = {"x": data.x, "y": data.y}
    if data.lengths is not None:
        arrays["lengths"] = data.lengths
    for name, vocab in (("x", data.x_vocab), ("y", data.y_vocab)):
        for j, v in enumerate(vocab or ()):
            if v is not None:
                arrays[f"{name}_vocab{j}"] = np.array(v.words)  # unicode, not pickled
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


# --- csv ------------------------------------------------------------------------------------------


def _columns(header: list[str], prefix: str) -> list[int]:
    if prefix in header:
        return [header.index(prefix)]
    cols, k = [], 0
    while f"{prefix}{k}" in header:
        cols.append(header.index(f"{prefix}{k}"))
        k += 1
    return cols


def _csv_cell(v: str) -> object:
    """An int (exact, where float() would round big values), a float, or the word itself."""
    v = v.strip()
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def _read_csv(path: Path) -> SequenceData:
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: spreadsheets write a BOM
        rows = list(csv.reader(f))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty file")
    header = [c.strip() for c in rows[0]]
    if "seq" not in header:
        raise DataError(f"{path}: header has no 'seq' column (got {','.join(header)})")
    xc, yc = _columns(header, "x"), _columns(header, "y")
    if not xc:
        raise DataError(f"{path}: header has no input column 'x' or 'x0'")
    if not yc:
        raise DataError(f"{path}: header has no output column 'y' or 'y0'")
    if len(rows) == 1:
        raise DataError(f"{path}: header only, no data rows")
    sc = header.index("seq")
    seqs: dict[str, tuple[list[list[object]], list[list[object]]]] = {}
    for line, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(r)} fields, the header has {len(header)}"
            )
        xs, ys = seqs.setdefault(r[sc].strip(), ([], []))
        xs.append([_csv_cell(r[c]) for c in xc])
        ys.append([_csv_cell(r[c]) for c in yc])
    return _assemble(path, list(seqs.values()))


def _write_csv(data: SequenceData, path: Path) -> None:
    xs, ys = _column_names("x", data.d_in), _column_names("y", data.d_out)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["seq", *xs, *ys])
        for i in range(data.n):
            for xr, yr in zip(_cells(data, "x", i), _cells(data, "y", i), strict=True):
                w.writerow([i, *xr, *yr])


# --- jsonl ----------------------------------------------------------------------------------------


def _json_steps(value: object, what: str) -> list[list[object]]:
    """One row of cells per step: a step is a value (dimension 1) or a list of values."""
    if not isinstance(value, list):
        raise DataError(f"{what} must be a list with one entry per step")
    if not value:
        raise DataError(f"{what} is an empty sequence (a sequence needs at least 1 step)")
    rows = [v if isinstance(v, list) else [v] for v in value]
    if len({len(r) for r in rows}) > 1:
        raise DataError(f"{what} has ragged dimensions: steps of {sorted({len(r) for r in rows})}")
    for r in rows:
        for c in r:
            if isinstance(c, list | dict) or c is None:
                raise DataError(f"{what} contains values that are not 64-bit integers or words")
    return rows


def _read_jsonl(path: Path) -> SequenceData:
    seqs = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}: line {line_no} is not valid JSON ({e.msg})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{path}: line {line_no} is not an object with 'x' and 'y'")
            for k in ("x", "y"):
                if k not in rec:
                    raise DataError(f"{path}: line {line_no} has no {k!r}")
            x = _json_steps(rec["x"], f"{path}: line {line_no} x")
            y = _json_steps(rec["y"], f"{path}: line {line_no} y")
            if len(x) != len(y):
                raise DataError(f"{path}: line {line_no} has {len(x)} x steps but {len(y)} y steps")
            seqs.append((x, y))
    if not seqs:
        raise DataError(f"{path}: empty file")
    for side, what in ((0, "x"), (1, "y")):
        dims = sorted({len(s[side][0]) for s in seqs})
        if len(dims) > 1:
            raise DataError(f"{path}: {what} has differing dimensions {dims} across sequences")
    return _assemble(path, seqs)


def _write_jsonl(data: SequenceData, path: Path) -> None:
    def rows(r: list[list[object]]) -> list:
        return [v[0] for v in r] if len(r[0]) == 1 else r

    with open(path, "w", encoding="utf-8") as f:
        for i in range(data.n):
            rec = {"x": rows(_cells(data, "x", i)), "y": rows(_cells(data, "y", i))}
            f.write(json.dumps(rec) + "\n")


_READERS: dict[str, Callable[[Path], SequenceData]] = {
    ".npz": _read_npz,
    ".csv": _read_csv,
    ".jsonl": _read_jsonl,
}
_WRITERS: dict[str, Callable[[SequenceData, Path], None]] = {
    ".npz": _write_npz,
    ".csv": _write_csv,
    ".jsonl": _write_jsonl,
}
