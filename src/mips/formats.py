"""The data file formats: .npz, .csv and .jsonl readers and writers of :class:`SequenceData`.

See :mod:`mips.data` for what each format holds. Readers raise ``DataError`` (or a ``ValueError``
that :meth:`SequenceData.load` turns into one) with a one-line message naming the problem.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mips.data import MAX_VOCABULARY, DataError, SequenceData, Vocabularies, Vocabulary


def one_line(e: BaseException) -> str:
    """An exception's message on one line, at most 300 characters."""
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
    return SequenceData(arrays[0], arrays[1], lengths=lengths, x_vocab=vocabs[0], y_vocab=vocabs[1])


def from_rows(
    seqs: Sequence[tuple[list[list[object]], list[list[object]]]], source: str = "<rows>"
) -> SequenceData:
    """Data from per-sequence (input rows, output rows) of cells, ints or words, assembled exactly
    as the CSV and JSON Lines readers assemble a file's rows; ``source`` names them in errors."""
    return _assemble(Path(source), seqs)


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
        raise DataError(f"{path}: damaged .npz archive ({one_line(e)})") from None
    x, y = _as_int_array(x, "x"), _as_int_array(y, "y")
    if lengths is not None:
        lengths = _as_int_array(lengths, "lengths")
        if lengths.ndim != 1:
            raise DataError(f"{path}: lengths must be one-dimensional, got shape {lengths.shape}")

    def vocabs(name: str, a: np.ndarray) -> Vocabularies | None:
        d = a.shape[2] if a.ndim == 3 else 1
        found = [vocab.get(f"{name}_vocab{j}") for j in range(d)]
        return tuple(None if w is None else Vocabulary(tuple(w.tolist())) for w in found)

    return SequenceData(x, y, lengths=lengths, x_vocab=vocabs("x", x), y_vocab=vocabs("y", y))


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


READERS: dict[str, Callable[[Path], SequenceData]] = {
    ".npz": _read_npz,
    ".csv": _read_csv,
    ".jsonl": _read_jsonl,
}
WRITERS: dict[str, Callable[[SequenceData, Path], None]] = {
    ".npz": _write_npz,
    ".csv": _write_csv,
    ".jsonl": _write_jsonl,
}
