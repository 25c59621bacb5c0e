"""The task registry: conformance with the authors' datasets, generation, causality, examples."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.tasks import Task, all_tasks, get_task

CONFORMANCE = Path(__file__).parents[1] / "data" / "conformance"

# Row order of TASKS.md table 1a.
NAMES = (
    "Binary_Addition Base_3_Addition Base_4_Addition Base_5_Addition Base_6_Addition "
    "Base_7_Addition Bitwise_Xor Bitwise_Or Bitwise_And Bitwise_Not Parity_Last2 Parity_Last3 "
    "Parity_Last4 Parity_All Parity_Zeros Evens_Counter Sum_All Sum_Last2 Sum_Last3 Sum_Last4 "
    "Sum_Last5 Sum_Last6 Sum_Last7 Current_Number Prev1 Prev2 Prev3 Prev4 Prev5 "
    "Previous_Equals_Current Diff_Last2 Abs_Diff Abs_Current Diff_Abs_Values Min_Seen Max_Seen "
    "Majority_0_1 Majority_0_2 Majority_0_3 Evens_Detector Perfect_Square_Detector Bit_Palindrome "
    "Balanced_Parenthesis Parity_Bits_Mod2 Alternating_Last3 Alternating_Last4 Bit_Shift_Right "
    "Bit_Dot_Prod_Mod2 Div_3 Div_5 Div_7 Add_Mod_3 Add_Mod_4 Add_Mod_5 Add_Mod_6 Add_Mod_7 "
    "Add_Mod_8 Dithering Newton_Freebody Newton_Gravity Newton_Spring Newton_Magnetic"
).split()


def _as_3d(a: np.ndarray) -> np.ndarray:
    return a[:, :, None] if a.ndim == 2 else a


def test_registry_has_the_62_tasks_in_table_order():
    assert [t.name for t in all_tasks()] == NAMES
    assert len(set(NAMES)) == 62
    assert all_tasks() == all_tasks()


@pytest.mark.parametrize("name", NAMES)
def test_reference_reproduces_the_authors_data(name):
    task = get_task(name)
    with np.load(CONFORMANCE / f"{name}.npz", allow_pickle=False) as z:
        for split in ("train", "test"):
            x, y = _as_3d(z[f"x_{split}"]), _as_3d(z[f"y_{split}"])
            got = task.reference(x)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, y, err_msg=f"{name} {split}")


def test_declared_shapes_and_ranges_match_the_manifest():
    manifest = json.loads((CONFORMANCE / "manifest.json").read_text())
    assert set(manifest) == set(NAMES)
    for task in all_tasks():
        m = manifest[task.name]
        declared = (task.d_in, task.d_out, task.length, task.low, task.high)
        assert declared == (m["input_dim"], m["output_dim"], m["seq_len"], m["x_min"], m["x_max"])
        assert task.alphabet_size == m["x_max"] - m["x_min"] + 1


@pytest.mark.parametrize("task", all_tasks(), ids=lambda t: t.name)
def test_worked_example_holds_and_is_documented(task):
    x = np.array(task.example_x)[None]
    assert task.reference(x)[0].tolist() == [list(s) for s in task.example_y]
    assert task.name in task.doc and "Example" in task.doc


@pytest.mark.parametrize("length", [1, 37, None])
def test_generate_is_seeded_in_range_and_labelled(length):
    for task in all_tasks():
        a, b = task.generate(40, seed=3, length=length), task.generate(40, seed=3, length=length)
        want = task.length if length is None else length
        assert a.x.shape == (40, want, task.d_in) and a.y.shape == (40, want, task.d_out)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, task.reference(a.x))
        assert a.x.min() >= task.low and a.x.max() <= task.high
        if length != 1:
            assert not np.array_equal(a.x, task.generate(40, seed=4, length=length).x), task.name


def test_bit_palindrome_inputs_start_with_a_palindrome_of_length_2_to_t():
    task = get_task("Bit_Palindrome")
    for length in (10, 37):
        y = task.generate(2000, seed=0, length=length).y[:, :, 0]
        longest = length - np.argmax(y[:, ::-1], axis=1)  # longest palindromic prefix
        assert longest.min() >= 2
        assert longest.max() == length  # prefix lengths reach T, not just the authors' 10


def test_reference_accepts_2d_input_and_rejects_wrong_shapes():
    task = get_task("Parity_All")
    np.testing.assert_array_equal(task.reference(np.array([[1, 1, 0]])), [[[1], [0], [0]]])
    with pytest.raises(ValueError, match="shape"):
        get_task("Binary_Addition").reference(np.zeros((2, 5, 1), dtype=int))
    with pytest.raises(ValueError, match="integers"):
        task.reference(np.zeros((2, 5, 1)))


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, len(NAMES) - 1),
    length=st.integers(1, 40),
    cut=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_reference_is_causal_at_any_length(index, length, cut, seed):
    task = all_tasks()[index]
    x = task.generate(3, seed, length=length).x
    y = task.reference(x)
    cut = min(cut, length)
    np.testing.assert_array_equal(task.reference(x[:, :cut]), y[:, :cut])


def test_unknown_name_suggests_close_names():
    with pytest.raises(KeyError, match="Parity_Last3"):
        get_task("parity_last3")
    with pytest.raises(KeyError, match="unknown task 'Nope'"):
        get_task("Nope")


def test_task_rejects_an_inconsistent_declaration():
    def make(**kw):
        fields = dict(
            name="T", d_in=1, d_out=1, low=0, high=1, length=10, rule=lambda x: x,
            summary="identity", example_x=[0, 1], example_y=[0, 1], source="none",
        )  # fmt: skip
        return Task(**{**fields, **kw})

    assert make().example_x == ((0,), (1,))
    for bad in ({"example_x": [0, 2]}, {"example_y": [0]}, {"low": 2}, {"example_x": [(0, 1)]}):
        with pytest.raises(ValueError):
            make(**bad)
