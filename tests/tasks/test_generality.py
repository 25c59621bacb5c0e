"""The generality suite: worked examples, causality, ranges, families and the suite registry."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.bench.report import write_report
from mips.tasks import SUITES, all_tasks, get_task, suite_task_names, suite_tasks
from mips.tasks.generality import FAMILIES

GENERALITY = suite_tasks("generality")


def test_suite_is_at_least_66_tasks_over_at_least_12_families():
    assert len(GENERALITY) >= 66
    families = {t.family for t in GENERALITY}
    assert families == set(FAMILIES) and len(families) >= 12
    assert {"history", "paired", "sets", "product"} <= families
    for family in families:
        assert sum(t.family == family for t in GENERALITY) >= 4, family
    assert all(t.family is None for t in all_tasks())


def test_names_are_new_identifiers_and_the_benchmark_stays_the_62():
    names = [t.name for t in GENERALITY]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() and n.startswith("G_") for n in names)
    benchmark = [t.name for t in all_tasks()]
    assert len(benchmark) == 62 and not set(names) & set(benchmark)
    assert [t.name for t in suite_tasks("benchmark")] == benchmark
    assert list(SUITES) == ["benchmark", "generality", "protocols"]


def test_the_named_hard_cases_are_in_the_suite():
    x = np.array([[8, 4, 6, 0, 7, 3]])
    np.testing.assert_array_equal(get_task("G_Sum_Mod_9").reference(x)[0, :, 0], [8, 3, 0, 0, 7, 1])
    x = np.array([[5, 7, 2, 0, 9, 4]])
    assert get_task("G_Alternating_Sum").reference(x)[0, :, 0].tolist() == [5, -2, 0, 0, 9, 5]
    x = np.array([[1, 0, 0, 1, 1, 1, 0]])
    assert get_task("G_Bit_Balance_Positive").reference(x)[0, :, 0].tolist() == [
        1,
        0,
        0,
        0,
        1,
        1,
        1,
    ]


@pytest.mark.parametrize("task", GENERALITY, ids=lambda t: t.name)
def test_worked_example_holds_and_is_documented(task):
    x = np.array(task.example_x)[None]
    assert task.reference(x)[0].tolist() == [list(s) for s in task.example_y]
    assert len(task.example_x) >= 3
    assert task.name in task.doc and "Example" in task.doc and task.family in task.doc
    assert get_task(task.name) is task


@pytest.mark.parametrize("task", GENERALITY, ids=lambda t: t.name)
def test_outputs_are_causal(task):
    """Changing the inputs after step t never changes y_0..y_t."""
    x = task.generate(64, seed=1, length=3 * task.length).x
    y = task.reference(x)
    other = task.generate(64, seed=2, length=3 * task.length).x
    for t in range(x.shape[1]):
        changed = np.concatenate([x[:, : t + 1], other[:, t + 1 :]], axis=1)
        np.testing.assert_array_equal(task.reference(changed)[:, : t + 1], y[:, : t + 1])


@settings(max_examples=100, deadline=None)
@given(
    index=st.integers(0, len(GENERALITY) - 1),
    length=st.integers(1, 40),
    cut=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_reference_of_a_prefix_is_the_prefix_of_the_reference(index, length, cut, seed):
    task = GENERALITY[index]
    x = task.generate(3, seed, length=length).x
    cut = min(cut, length)
    np.testing.assert_array_equal(task.reference(x[:, :cut]), task.reference(x)[:, :cut])


@pytest.mark.parametrize("task", GENERALITY, ids=lambda t: t.name)
def test_generated_data_is_integer_small_and_row_independent(task):
    for length in (None, 5 * task.length):  # the judge checks 5x the length too
        data = task.generate(300, seed=0, length=length)
        assert data.x.shape[1:] == (length or task.length, task.d_in)
        assert data.y.shape[2] == task.d_out and data.y.dtype == np.int64
        assert data.x.min() >= task.low and data.x.max() <= task.high
        assert np.abs(data.y).max() < 2000
        assert len(np.unique(data.y)) > 1, "a constant output teaches nothing"
    for i in range(3):  # each row's outputs depend on that row alone
        np.testing.assert_array_equal(task.reference(data.x[i : i + 1])[0], data.y[i])


def test_suite_task_names_check_names_against_the_suite():
    assert suite_task_names("generality") == [t.name for t in GENERALITY]
    assert suite_task_names("benchmark") == [t.name for t in all_tasks()]
    assert suite_task_names("generality", "G_Sum_Mod_9, G_Tomita_1") == [
        "G_Sum_Mod_9",
        "G_Tomita_1",
    ]
    with pytest.raises(ValueError, match="in suite 'generality'"):
        suite_task_names("benchmark", "G_Sum_Mod_9")
    with pytest.raises(ValueError, match="did you mean G_Sum_Mod_9"):
        suite_task_names("generality", "G_Sum_Mod9")
    with pytest.raises(ValueError, match="no task names"):
        suite_task_names("generality", " , ")
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        suite_task_names("nope")
    with pytest.raises(ValueError, match="unknown suite"):
        suite_tasks("nope")
    with pytest.raises(KeyError, match="G_Sum_Mod_9"):
        get_task("G_Sum_Mod9")


def test_report_of_a_generality_run_has_families_and_no_peers(tmp_path):
    solved = {"seed": 0, "n": 9, "correct": True, "ok": True, "form": "formula"}
    records = [
        {"task": "G_Sum_Mod_9", "seed": 0, "n": 9, "failed_stage": "extract"},
        {"task": "G_Tomita_1", **solved},
        {"task": "G_Clock_Mod_3", **solved},
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    md_path, html_path = write_report(tmp_path)
    md = md_path.read_text()
    assert "Judged correct: 2 of 3 tasks" in md
    assert "Solved by family: modular 1/2, regular 1/1" in md
    assert "Peers: none ran these tasks" in md and "GPT-4 solves" not in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "G_" in line]
    assert [r.split(" | ")[1] for r in rows] == ["G_Sum_Mod_9", "G_Clock_Mod_3", "G_Tomita_1"]
    assert all(r.split(" | ")[10:12] == ["-", "-"] for r in rows)
    assert "G_Tomita_1" in html_path.read_text()


# Slow, obviously correct per-sequence loops for the families added for issue 31: each takes one
# sequence (a list of ints) and returns its outputs (ints, or tuples when d_out = 2).


def _since_zero_and_twos(xs):
    out = []
    for t in range(len(xs)):
        last_zero = max([i for i in range(t + 1) if xs[i] == 0], default=-1)
        out.append((t - last_zero, xs[last_zero + 1 : t + 1].count(2)))
    return out


def _clamped_depth_max(xs):
    depth, depths = 0, []
    for v in xs:
        depth = max(depth + (1 if v == 1 else -1), 0)
        depths.append(depth)
    return [(d, max(depths[: t + 1])) for t, d in enumerate(depths)]


def _anbn(prefix):
    k = len(prefix) - len("".join(map(str, prefix)).lstrip("0"))
    rest = prefix[k:]
    return int(all(v == 1 for v in rest) and len(rest) <= k)


def _last_different(xs, t):
    padded = [0] + xs  # x before the start is 0, which differs from every symbol 1..4
    return next(padded[j] for j in range(t, -1, -1) if padded[j] != xs[t])


PREFIX_RULES = {  # name -> function of the prefix x_0..x_t alone
    "G_Min_Of_Last3": lambda p: min(p[-3:]),
    "G_Median_Of_Last3": lambda p: sorted(([0, 0] + p)[-3:])[1],
    "G_Prev_And_Running_Min": lambda p: (p[-2] if len(p) > 1 else 0, min(p)),
    "G_Second_Largest": lambda p: sorted(p)[-2] if len(p) > 1 else 0,
    "G_AnBn_Prefix": _anbn,
    "G_Max_Of_Running_Sum": lambda p: max(sum(v - 1 for v in p[: i + 1]) for i in range(len(p))),
    "G_Seen_All_Three": lambda p: int({0, 1, 2} <= set(p)),
    "G_Distinct_Of_4": lambda p: len(set(p)),
    "G_Seen_Before": lambda p: int(p[-1] in p[:-1]),
    "G_Smallest_Unseen": lambda p: min(set(range(5)) - set(p)),
    "G_Binary_Mod_7": lambda p: int("".join(map(str, p)), 2) % 7,
    "G_Phase_Weighted_Sum": lambda p: sum(v * (i % 3) for i, v in enumerate(p)),
    "G_Sign_Flip_Sum": lambda p: sum(v * (-1) ** p[: i + 1].count(0) for i, v in enumerate(p)),
    "G_Product_Mod_7": lambda p: math.prod(p) % 7,
}
SEQUENCE_RULES = {  # name -> function of the whole sequence
    "G_Last_Different": lambda xs: [_last_different(xs, t) for t in range(len(xs))],
    "G_Clamped_Depth_Max": _clamped_depth_max,
    "G_Since_Zero_And_Twos": _since_zero_and_twos,
}


def _slow(name, xs):
    if name in SEQUENCE_RULES:
        return SEQUENCE_RULES[name](xs)
    return [PREFIX_RULES[name](xs[: t + 1]) for t in range(len(xs))]


@pytest.mark.parametrize("name", [*PREFIX_RULES, *SEQUENCE_RULES])
def test_new_families_match_a_slow_loop(name):
    """The vectorised rule equals a per-sequence Python loop, on random and on sorted inputs (the
    sorted rows reach what random rows seldom do: a^k b^j, long runs, every symbol late)."""
    task = get_task(name)
    assert task.family in {"history", "paired", "sets", "product"}
    x = task.generate(12, seed=7, length=25).x
    x = np.concatenate([x, np.sort(x, axis=1), np.sort(x, axis=1)[:, ::-1]])
    y = task.reference(x)
    for row, out in zip(x[..., 0].tolist(), y.tolist(), strict=True):
        want = [list(v) if isinstance(v, tuple) else [v] for v in _slow(name, row)]
        assert out == want, (row, out, want)


def test_every_task_of_the_new_families_has_a_slow_loop():
    new = {t.name for t in GENERALITY if t.family in {"history", "paired", "sets", "product"}}
    assert new == set(PREFIX_RULES) | set(SEQUENCE_RULES)
