"""SequenceData: round-trips in every format, the seeded split, and one clear error per bad file."""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mips.data import FORMATS, DataError, SequenceData

INT64 = (int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max))


@st.composite
def sequence_data(draw: st.DrawFn) -> SequenceData:
    """Small data sets; values from a bit, a small signed range, or anywhere in int64."""
    n, t = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    d_in, d_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    low, high = draw(st.sampled_from([(0, 1), (-10, 10), (-1000, 0), INT64]))
    values = st.integers(low, high)
    x = draw(hnp.arrays(np.int64, (n, t, d_in), elements=values))
    y = draw(hnp.arrays(np.int64, (n, t, d_out), elements=values))
    return SequenceData(x, y)


def _round_trip(data: SequenceData, suffix: str) -> SequenceData:
    with tempfile.TemporaryDirectory() as tmp:
        return SequenceData.load(data.save(Path(tmp) / f"data{suffix}"))


@pytest.mark.parametrize("suffix", FORMATS)
@settings(max_examples=40, deadline=None)
@given(data=sequence_data())
def test_save_load_round_trips(suffix: str, data: SequenceData) -> None:
    back = _round_trip(data, suffix)
    assert back.x.dtype == back.y.dtype == np.int64
    np.testing.assert_array_equal(back.x, data.x)
    np.testing.assert_array_equal(back.y, data.y)


@settings(max_examples=20, deadline=None)
@given(x=hnp.arrays(np.int32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5)))
def test_two_dimensional_npz_arrays_mean_dimension_one(x: np.ndarray) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.npz"
        np.savez(path, x=x, y=-x)
        data = SequenceData.load(path)
    assert (data.d_in, data.d_out) == (1, 1)
    np.testing.assert_array_equal(data.x[:, :, 0], x)
    np.testing.assert_array_equal(data.y[:, :, 0], -x)


def test_csv_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("seq,x,y\n0,1,0\n0,0,1\n1,1,1\n1,1,0\n", encoding="utf-8-sig")
    data = SequenceData.load(path)
    np.testing.assert_array_equal(data.x[:, :, 0], [[1, 0], [1, 1]])
    np.testing.assert_array_equal(data.y[:, :, 0], [[0, 1], [1, 0]])


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(2, 300),
    fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_seeded_disjoint_and_covers_everything(n: int, fraction: float, seed: int) -> None:
    ids = np.arange(n)
    data = SequenceData(ids[:, None, None], (ids % 2)[:, None, None])
    train, test = data.split(fraction, seed)
    again_train, again_test = data.split(fraction, seed)
    np.testing.assert_array_equal(train.x, again_train.x)
    np.testing.assert_array_equal(test.x, again_test.x)
    a, b = set(train.x[:, 0, 0].tolist()), set(test.x[:, 0, 0].tolist())
    assert not a & b
    assert a | b == set(range(n))
    assert len(a) >= 1 and len(b) >= 1
    assert len(b) == min(max(1, round(n * fraction)), n - 1)
    np.testing.assert_array_equal(train.y[:, 0, 0], train.x[:, 0, 0] % 2)  # rows stay paired


# --- bad files: each writer makes one kind of broken file ---------------------------------------


def _npz(**arrays: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as f:  # np.savez would append .npz to other suffixes
            np.savez(f, **arrays)

    return write


def _text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content, encoding="utf-8")


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _valid_npz_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        x = np.arange(60).reshape(6, 10, 1) % 3
        path = SequenceData(x, x).save(Path(tmp) / "ok.npz")
        return path.read_bytes()


def _corrupt_npz(path: Path) -> None:
    raw = bytearray(_valid_npz_bytes())
    raw[len(raw) // 3 : len(raw) // 3 + 8] = b"\xff" * 8  # inside the compressed x stream
    path.write_bytes(bytes(raw))


_GOOD_X = np.zeros((3, 4, 1), dtype=np.int64)

# name -> (file name, writer, a word the message must contain)
BAD_FILES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "npz missing x": ("no_x.npz", _npz(y=_GOOD_X), "missing array 'x'"),
    "npz missing y": ("no_y.npz", _npz(x=_GOOD_X), "missing array 'y'"),
    "npz non-integer": ("frac.npz", _npz(x=_GOOD_X + 0.5, y=_GOOD_X), "non-integer"),
    "npz NaN": ("nan.npz", _npz(x=np.full((3, 4, 1), np.nan), y=_GOOD_X), "NaN"),
    "npz strings": ("str.npz", _npz(x=np.full((3, 4, 1), "a"), y=_GOOD_X), "non-numeric"),
    "npz shape mismatch": ("shape.npz", _npz(x=_GOOD_X, y=np.zeros((3, 5, 1))), "disagree"),
    "npz one-dimensional": ("flat.npz", _npz(x=np.zeros(4), y=np.zeros(4)), "shape"),
    "npz empty": ("empty.npz", _bytes(b""), "empty"),
    "npz random bytes": ("noise.npz", _bytes(bytes(range(256)) * 3), "not an .npz"),
    "npz is .npy": ("array.npz", lambda p: np.save(open(p, "wb"), _GOOD_X), "not an .npz"),
    "npz truncated": ("cut.npz", lambda p: p.write_bytes(_valid_npz_bytes()[:200]), ".npz"),
    "npz corrupted": ("bad.npz", _corrupt_npz, "damaged"),
    "csv non-integer": ("frac.csv", _text("seq,x,y\n0,1.5,0\n1,1,1\n"), "non-integer"),
    "csv NaN": ("nan.csv", _text("seq,x,y\n0,nan,0\n1,1,1\n"), "NaN"),
    "csv not a number": ("word.csv", _text("seq,x,y\n0,one,0\n1,1,1\n"), "not a number"),
    "csv ragged": ("ragged.csv", _text("seq,x,y\n0,1,0\n0,1,0\n1,1,1\n"), "ragged"),
    "csv missing y": ("no_y.csv", _text("seq,x\n0,1\n"), "'y'"),
    "csv missing seq": ("no_seq.csv", _text("x,y\n0,1\n"), "'seq'"),
    "csv short row": ("short.csv", _text("seq,x,y\n0,1\n"), "fields"),
    "csv header only": ("header.csv", _text("seq,x,y\n"), "header only"),
    "csv empty": ("empty.csv", _bytes(b""), "empty"),
    "csv blank lines": ("blank.csv", _text("\n \n"), "empty"),
    "csv out of int64": ("huge.csv", _text(f"seq,x,y\n0,{2**63},0\n"), "64-bit"),
    "csv binary": ("noise.csv", _bytes(b"\xff\xfe\x00" * 50), "codec"),
    "jsonl non-integer": ("frac.jsonl", _text('{"x": [1.5], "y": [0]}\n'), "non-integer"),
    "jsonl NaN": ("nan.jsonl", _text('{"x": [NaN], "y": [0]}\n'), "NaN"),
    "jsonl ragged": (
        "ragged.jsonl",
        _text('{"x": [1, 2], "y": [1, 2]}\n{"x": [1], "y": [1]}\n'),
        "ragged",
    ),
    "jsonl ragged dims": ("dims.jsonl", _text('{"x": [1, [2, 3]], "y": [1, 2]}\n'), "ragged"),
    "jsonl x/y mismatch": ("xy.jsonl", _text('{"x": [1, 2], "y": [1]}\n'), "steps"),
    "jsonl invalid JSON": ("broken.jsonl", _text('{"x": [1], "y": [1]}\n{"x": [1\n'), "JSON"),
    "jsonl not an object": ("list.jsonl", _text("[1, 2]\n"), "object"),
    "jsonl missing y": ("no_y.jsonl", _text('{"x": [1]}\n'), "'y'"),
    "jsonl null": ("null.jsonl", _text('{"x": [null], "y": [1]}\n'), "64-bit"),
    "jsonl out of int64": ("huge.jsonl", _text(f'{{"x": [{2**63}], "y": [1]}}\n'), "64-bit"),
    "jsonl empty": ("empty.jsonl", _bytes(b""), "empty"),
    "jsonl whitespace": ("space.jsonl", _text("\n\n  \n"), "empty"),
    "jsonl no steps": ("nosteps.jsonl", _text('{"x": [], "y": []}\n'), "T = 0"),
    "directory": ("folder.npz", lambda p: p.mkdir(), "directory"),
    "missing file": ("absent.csv", lambda p: None, "no such file"),
    "unknown suffix": ("data.txt", _text("seq,x,y\n0,1,0\n"), "unknown format"),
}


def make_bad_file(directory: Path, kind: str) -> Path:
    """Write the bad file of ``kind`` into ``directory`` and return its path."""
    name, write, _ = BAD_FILES[kind]
    path = directory / name
    write(path)
    return path


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_raises_one_line_data_error_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = make_bad_file(tmp_path, kind)
    with pytest.raises(DataError) as info:
        SequenceData.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert BAD_FILES[kind][2] in message


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 10**6), flip=st.integers(1, 255), cut=st.booleans())
def test_damaged_npz_is_a_data_error_or_the_original(position: int, flip: int, cut: bool) -> None:
    raw = bytearray(_valid_npz_bytes())
    position %= len(raw)
    raw = raw[:position] if cut else raw
    if not cut:
        raw[position] ^= flip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.npz"
        path.write_bytes(bytes(raw))
        try:
            data = SequenceData.load(path)
        except DataError as e:
            assert "\n" not in str(e) and str(path) in str(e)
        else:  # zip metadata the reader ignores (e.g. timestamps) may change harmlessly
            x = np.arange(60).reshape(6, 10, 1) % 3
            np.testing.assert_array_equal(data.x, x)


def test_unknown_suffix_on_save_raises_before_writing(tmp_path: Path) -> None:
    data = SequenceData(_GOOD_X, _GOOD_X)
    with pytest.raises(DataError, match="unknown format"):
        data.save(tmp_path / "out.parquet")
    assert os.listdir(tmp_path) == []


def test_jsonl_writer_uses_plain_ints_for_dimension_one(tmp_path: Path) -> None:
    data = SequenceData(np.array([[[1], [2]]]), np.array([[[3, 4], [5, 6]]]))
    line = data.save(tmp_path / "d.jsonl").read_text().strip()
    assert json.loads(line) == {"x": [1, 2], "y": [[3, 4], [5, 6]]}
