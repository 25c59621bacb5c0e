"""Integer sequence data: the one input every stage of the synthesizer learns from.

Formats (see README):
- ``.npz``: integer arrays ``x`` (N, T, d_in) and ``y`` (N, T, d_out); a 2-D array means
  dimension 1.
- ``.csv``: a header naming ``seq``, the input columns ``x`` or ``x0, x1, ...`` and the output
  columns ``y`` or ``y0, y1, ...``; one row per time step, rows of a sequence in order.
- ``.jsonl``: one sequence per line, ``{"x": [...], "y": [...]}``; each list holds one entry per
  step, an int (dimension 1) or a list of ints.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mips.io import write_atomic

FORMATS = (".npz", ".csv", ".jsonl")


class DataError(ValueError):
    """A data file that cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class SequenceData:
    """Input/output integer sequences: ``x`` (N, T, d_in) and ``y`` (N, T, d_out), both int64."""

    x: np.ndarray
    y: np.ndarray

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
            a = np.ascontiguousarray(a, dtype=np.int64)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if self.x.shape[:2] != self.y.shape[:2]:
            raise ValueError(
                f"x and y disagree on (N, T): x has {self.x.shape[:2]}, y has {self.y.shape[:2]}"
            )
        if self.x.shape[0] == 0 or self.x.shape[1] == 0:
            raise ValueError("no sequences (N = 0 or T = 0)")
        if self.x.shape[2] == 0 or self.y.shape[2] == 0:
            raise ValueError("x and y need at least one dimension each")

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def length(self) -> int:
        return int(self.x.shape[1])

    @property
    def d_in(self) -> int:
        return int(self.x.shape[2])

    @property
    def d_out(self) -> int:
        return int(self.y.shape[2])

    def __len__(self) -> int:
        return self.n

    def subset(self, index: np.ndarray | slice) -> SequenceData:
        """The sequences at ``index`` (any numpy index along the first axis)."""
        return SequenceData(self.x[index], self.y[index])

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
            x, y = reader(path)
            return cls(x, y)
        except DataError:
            raise
        except (ValueError, TypeError, OSError, KeyError, zipfile.BadZipFile, UnicodeError) as e:
            raise DataError(f"{path}: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:300]


def _as_int_array(value: object, what: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"{what} has ragged lengths") from e
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


# --- npz ------------------------------------------------------------------------------------------


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
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
    except DataError:
        raise
    except Exception as e:  # a damaged archive fails in zipfile, zlib or the .npy header parser
        raise DataError(f"{path}: damaged .npz archive ({_one_line(e)})") from None
    return _as_int_array(x, "x"), _as_int_array(y, "y")


def _write_npz(data: SequenceData, path: Path) -> None:
    with open(path, "wb") as f:
        np.savez_compressed(f, x=data.x, y=data.y)


# --- csv ------------------------------------------------------------------------------------------


def _columns(header: list[str], prefix: str) -> list[int]:
    if prefix in header:
        return [header.index(prefix)]
    cols, k = [], 0
    while f"{prefix}{k}" in header:
        cols.append(header.index(f"{prefix}{k}"))
        k += 1
    return cols


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
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
    seqs: dict[str, list[list[str]]] = {}
    for line, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(r)} fields, the header has {len(header)}"
            )
        seqs.setdefault(r[sc].strip(), []).append(r)
    lengths = {len(v) for v in seqs.values()}
    if len(lengths) > 1:
        raise DataError(f"{path}: ragged lengths, sequences have {sorted(lengths)} steps")

    def grab(cols: list[int], what: str) -> np.ndarray:
        out = []
        for rs in seqs.values():
            for r in rs:
                for c in cols:
                    v = r[c].strip()
                    try:
                        out.append(int(v))  # exact, where float() would round big values
                    except ValueError:
                        try:
                            out.append(float(v))
                        except ValueError:
                            raise DataError(f"{path}: {what} value {v!r} is not a number") from None
        a = _as_int_array(out, what)
        return a.reshape(len(seqs), -1, len(cols))

    return grab(xc, "x"), grab(yc, "y")


def _write_csv(data: SequenceData, path: Path) -> None:
    xs = ["x"] if data.d_in == 1 else [f"x{i}" for i in range(data.d_in)]
    ys = ["y"] if data.d_out == 1 else [f"y{i}" for i in range(data.d_out)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["seq", *xs, *ys])
        for i in range(data.n):
            for t in range(data.length):
                w.writerow([i, *data.x[i, t].tolist(), *data.y[i, t].tolist()])


# --- jsonl ----------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
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
            x = _as_int_array(rec["x"], f"line {line_no} x")
            y = _as_int_array(rec["y"], f"line {line_no} y")
            x = x[:, None] if x.ndim == 1 else x
            y = y[:, None] if y.ndim == 1 else y
            if x.ndim != 2 or y.ndim != 2:
                raise DataError(f"{path}: line {line_no} must hold one entry per step")
            if len(x) != len(y):
                raise DataError(f"{path}: line {line_no} has {len(x)} x steps but {len(y)} y steps")
            xs.append(x)
            ys.append(y)
    if not xs:
        raise DataError(f"{path}: empty file")
    for what, arrs in (("x", xs), ("y", ys)):
        shapes = {a.shape for a in arrs}
        if len(shapes) > 1:
            lengths = sorted({s[0] for s in shapes})
            problem = f"ragged lengths {lengths}" if len(lengths) > 1 else "differing dimensions"
            raise DataError(f"{path}: {what} has {problem} across sequences")
    return np.stack(xs), np.stack(ys)


def _write_jsonl(data: SequenceData, path: Path) -> None:
    def rows(a: np.ndarray) -> list:
        return a[:, 0].tolist() if a.shape[1] == 1 else a.tolist()

    with open(path, "w", encoding="utf-8") as f:
        for i in range(data.n):
            f.write(json.dumps({"x": rows(data.x[i]), "y": rows(data.y[i])}) + "\n")


_READERS: dict[str, Callable[[Path], tuple[np.ndarray, np.ndarray]]] = {
    ".npz": _read_npz,
    ".csv": _read_csv,
    ".jsonl": _read_jsonl,
}
_WRITERS: dict[str, Callable[[SequenceData, Path], None]] = {
    ".npz": _write_npz,
    ".csv": _write_csv,
    ".jsonl": _write_jsonl,
}
