"""SequenceData: round-trips in every format, the seeded split, and one clear error per bad file."""

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mips.data import (
    FORMATS,
    DataError,
    SequenceData,
    Vocabulary,
    contradictions,
    show_values,
)

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


# --- bad files (the kinds and their writers are in conftest.py) -------------------------------


def test_bad_file_raises_one_line_data_error_naming_the_file(
    tmp_path: Path, bad_file_kind: str, make_bad_file, bad_file_message
) -> None:
    path = make_bad_file(tmp_path, bad_file_kind)
    with pytest.raises(DataError) as info:
        SequenceData.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert bad_file_message(bad_file_kind) in message


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 10**6), flip=st.integers(1, 255), cut=st.booleans())
def test_damaged_npz_is_a_data_error_or_the_original(
    valid_npz_bytes: bytes, position: int, flip: int, cut: bool
) -> None:
    raw = bytearray(valid_npz_bytes)
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
    x = np.zeros((3, 4, 1), dtype=np.int64)
    data = SequenceData(x, x)
    with pytest.raises(DataError, match="unknown format"):
        data.save(tmp_path / "out.parquet")
    assert os.listdir(tmp_path) == []


def test_jsonl_writer_uses_plain_ints_for_dimension_one(tmp_path: Path) -> None:
    data = SequenceData(np.array([[[1], [2]]]), np.array([[[3, 4], [5, 6]]]))
    line = data.save(tmp_path / "d.jsonl").read_text().strip()
    assert json.loads(line) == {"x": [1, 2], "y": [[3, 4], [5, 6]]}


# --- sequences of different lengths, words, contradictions ----------------------------------------


@st.composite
def ragged_data(draw: st.DrawFn) -> SequenceData:
    """Small data sets whose sequences have lengths 1..T, some with word columns."""
    n, t = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    lengths = np.array(draw(st.lists(st.integers(1, t), min_size=n, max_size=n)))
    x = draw(hnp.arrays(np.int64, (n, t, 2), elements=st.integers(0, 2)))
    y = draw(hnp.arrays(np.int64, (n, t, 1), elements=st.integers(-5, 5)))
    words = Vocabulary(("button", "clean", "coin"))
    x_vocab = (words, None) if draw(st.booleans()) else None
    return SequenceData(x, y, lengths=lengths, x_vocab=x_vocab)


@pytest.mark.parametrize("suffix", FORMATS)
@settings(max_examples=30, deadline=None)
@given(data=ragged_data())
def test_ragged_data_and_words_round_trip(suffix: str, data: SequenceData) -> None:
    back = _round_trip(data, suffix)  # the padding may shrink to the longest sequence
    assert _as_written(back) == _as_written(data)
    assert (back.x_vocab is None) == (data.x_vocab is None) and back.y_vocab is None


def _as_written(data: SequenceData) -> list[list[str]]:
    # Words where a column has them; a file keeps only the words it uses, so codes may differ.
    return [
        [
            show_values(data, "x", xr) + show_values(data, "y", yr)
            for xr, yr in zip(x, y, strict=True)
        ]
        for x, y in data.sequences()
    ]


def test_padding_is_zeroed_and_full_lengths_are_none() -> None:
    x = np.arange(12).reshape(2, 6, 1)
    data = SequenceData(x, x, lengths=np.array([2, 6]))
    assert data.x[0, 2:].sum() == 0 and data.steps == 8
    assert data.sequences()[0] == ([[0], [1]], [[0], [1]])
    assert SequenceData(x, x, lengths=np.array([6, 6])).lengths is None


def test_jsonl_of_different_lengths_and_words(tmp_path: Path) -> None:
    path = tmp_path / "coffee.jsonl"
    path.write_text(
        '{"x": ["coin", "button"], "y": ["nothing", "coffee"]}\n'
        '{"x": ["button"], "y": ["nothing"]}\n'
    )
    data = SequenceData.load(path)
    assert data.seq_lengths.tolist() == [2, 1]
    assert data.x_vocab[0].words == ("button", "coin")
    assert data.y_vocab[0].words == ("coffee", "nothing")
    assert data.x[:, :, 0].tolist() == [[1, 0], [0, 0]]


def test_csv_groups_rows_by_seq_whatever_their_lengths(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("seq,x,y\na,1,1\na,2,3\nb,5,5\nc,1,1\nc,1,2\nc,1,3\n")
    data = SequenceData.load(path)
    assert data.seq_lengths.tolist() == [2, 1, 3]
    assert data.y[:, :, 0].tolist() == [[1, 3, 0], [5, 0, 0], [1, 2, 3]]


def test_integer_columns_stay_integers_beside_words(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("seq,x0,x1,y\n0,up,3,7\n0,down,4,8\n")
    data = SequenceData.load(path)
    assert data.x_vocab[0].words == ("down", "up") and data.x_vocab[1] is None
    assert data.y_vocab is None and data.x[0].tolist() == [[1, 3], [0, 4]]


def test_contradictions_name_the_two_sequences_and_the_step() -> None:
    x = np.array([[1, 2, 3], [1, 2, 4], [1, 2, 3], [2, 2, 3]])[:, :, None]
    y = np.array([[0, 1, 1], [0, 1, 2], [0, 5, 1], [0, 0, 0]])[:, :, None]
    found = contradictions(SequenceData(x, y))
    assert found.min_wrong == 1 and found.steps == 12
    assert found.examples == ((0, 2, 1),)
    assert "sequences 0 and 2" in found.describe() and "step 1" in found.describe()


def test_contradictions_respect_lengths() -> None:
    x = np.array([[1, 2], [1, 2]])[:, :, None]
    y = np.array([[0, 1], [0, 7]])[:, :, None]
    assert contradictions(SequenceData(x, y)).min_wrong == 1
    assert contradictions(SequenceData(x, y, lengths=np.array([2, 1]))).min_wrong == 0


@settings(max_examples=40, deadline=None)
@given(data=ragged_data())
def test_data_from_a_function_has_no_contradictions(data: SequenceData) -> None:
    y = np.cumsum(data.x.sum(axis=2, keepdims=True), axis=1) % 3  # a function of the prefix
    assert contradictions(SequenceData(data.x, y, lengths=data.lengths)).min_wrong == 0


def test_words_out_and_all_words_say_which_columns_hold_words() -> None:
    x = np.zeros((2, 3, 2), dtype=np.int64)
    y = np.zeros((2, 3, 2), dtype=np.int64)
    words = Vocabulary(("off", "on"))
    numbers = SequenceData(x, y)
    some = SequenceData(x, y, y_vocab=(None, words))
    every = SequenceData(x, y, x_vocab=(words, words), y_vocab=(words, words))
    assert [d.words_out for d in (numbers, some, every)] == [False, True, True]
    assert [d.all_words for d in (numbers, some, every)] == [False, False, True]
