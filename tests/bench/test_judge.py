"""The judge: right programs pass, wrong ones are caught with a counterexample, crashes count."""

import functools
import json

import numpy as np
import pytest

from mips.bench.judge import N_FRESH, N_LONGER, adversarial_inputs, extremes, judge
from mips.tasks import get_task

# Parity_Last3 is a 1-bit task: exhaustive lengths 1..14, since 2 + 4 + ... + 2^14 = 32,766 and
# adding 2^15 would exceed 65,000. Its adversarial sequences: runs of 0 and of 1 (2 extremes x
# 10 run lengths x 4 contexts), 0s and 1s alternating in blocks of 1..4 (2 x 4), and the 4
# pairs repeated; at length 50, 400 runs and the same 12.
TASK = get_task("Parity_Last3")
FRESH = N_FRESH + 80 + 8 + 4
LONGER = N_LONGER + 400 + 8 + 4


def reference_program(task):
    """The task's reference wrapped as a per-sequence program."""
    return lambda seq: task.reference(np.array(seq)[None])[0].tolist()


def parity_last3(seq, wrong=lambda t, n: False):
    """An independent plain-Python Parity_Last3, off by one at the steps where wrong(t, n)."""
    bits = [0, 0] + [b for (b,) in seq]
    return [[(sum(bits[t : t + 3]) + wrong(t, len(seq))) % 2] for t in range(len(seq))]


@pytest.fixture(scope="module")
def right():
    return judge(TASK, reference_program(TASK), seed=0)


def test_reference_program_is_correct_on_every_check(right):
    assert right.correct
    assert [(c.n_checked, c.n_wrong, c.length) for c in right.checks] == [
        (FRESH, 0, 10),
        (LONGER, 0, 50),
        (32_766, 0, 14),
    ]
    assert all(c.counterexample is None for c in right.checks)
    assert "CORRECT" in right.summary() and "\n" not in right.summary()


def test_record_is_json_ready(right):
    record = json.loads(json.dumps(right.to_dict()))
    assert record["correct"] is True and record["exhaustive"]["n_checked"] == 32_766


def newton_magnetic(seq):
    """An independent plain-Python Newton_Magnetic."""
    (v1, v2), (p1, p2), out = (0, 0), (0, 0), []
    for f1, f2 in seq:
        v1, v2 = v1 + f1 - v2, v2 + f2 + v1
        p1, p2 = p1 + v1, p2 + v2
        out.append([p1, p2])
    return out


def test_independent_programs_are_correct_for_two_dimensional_tasks():
    xor = judge(get_task("Bitwise_Xor"), lambda seq: [[a ^ b] for a, b in seq], seed=1)
    magnetic = judge(get_task("Newton_Magnetic"), newton_magnetic, seed=1)
    assert xor.correct and magnetic.correct
    assert xor.exhaustive.n_checked == sum(4**n for n in range(1, 8)) == 21_844
    assert magnetic.exhaustive.n_checked == 21**2  # 21^2 + 21^4 would exceed 65,000


def test_error_at_one_step_is_caught_with_the_shortest_counterexample():
    verdict = judge(TASK, lambda seq: parity_last3(seq, lambda t, n: t == 7), seed=0)
    assert not verdict.correct
    assert verdict.fresh.n_wrong == FRESH and verdict.longer.n_wrong == LONGER
    first = verdict.exhaustive.counterexample
    assert len(first.input) == 8 and first.reason == "wrong values"
    assert first.got[7][0] == first.expected[7][0] + 1


def test_program_right_only_up_to_the_task_length_is_caught():
    def late(seq):
        return parity_last3(seq, lambda t, n: n > 10 and t == n - 1)

    verdict = judge(TASK, late, seed=0)
    assert not verdict.correct
    assert verdict.fresh.n_wrong == 0
    assert verdict.longer.n_wrong == LONGER
    assert verdict.exhaustive.n_wrong == sum(2**n for n in range(11, 15))
    assert "WRONG" in verdict.summary()


def test_raising_or_malformed_program_is_wrong_not_a_crash():
    def flaky(seq):
        if len(seq) == 3:
            raise ZeroDivisionError("boom")
        return parity_last3(seq)

    verdict = judge(TASK, flaky, seed=0)
    assert verdict.exhaustive.n_wrong == 8 and verdict.fresh.n_wrong == 0
    assert verdict.exhaustive.counterexample.reason == "raised ZeroDivisionError: boom"
    assert verdict.exhaustive.counterexample.got is None

    flat = judge(TASK, lambda seq: [0] * len(seq), seed=0)
    assert flat.fresh.n_wrong == FRESH
    assert flat.fresh.counterexample.reason == "output shape (10,), expected (10, 1)"
    json.dumps(flat.to_dict())


def test_same_seed_same_verdict():
    task = get_task("Bitwise_Xor")

    def program(seq):
        return [[(a ^ b) + (t == 9)] for t, (a, b) in enumerate(seq)]

    a, b = judge(task, program, seed=5), judge(task, program, seed=5)
    assert a == b and not a.correct and a.exhaustive.n_wrong == 0
    assert judge(task, program, seed=6).fresh.counterexample != a.fresh.counterexample


def sum_all(seq, wrong_after_three_99s=False):
    """An independent plain-Python Sum_All; optionally off by one after three 99s in a row."""
    out, total = [], 0
    for t, (x,) in enumerate(seq):
        total += x
        run = t >= 2 and seq[t - 2][0] == seq[t - 1][0] == x == 99
        out.append([total + (wrong_after_three_99s and run)])
    return out


def test_a_program_wrong_only_after_three_99s_in_a_row_is_judged_wrong():
    task = get_task("Sum_All")
    wrong = functools.partial(sum_all, wrong_after_three_99s=True)
    # Random sequences alone miss it (three 99s in a row: about 1 in 10^5 sequences), and the
    # exhaustive check reaches only length 2 over 100 symbols.
    fresh_seed, longer_seed, _ = np.random.SeedSequence(0).generate_state(3).tolist()
    fresh, longer = task.generate(10_000, fresh_seed).x, task.generate(1_000, longer_seed, 50).x
    assert all(wrong(s) == sum_all(s) for x in (fresh, longer) for s in x.tolist())
    verdict = judge(task, wrong, seed=0)
    assert not verdict.correct and verdict.exhaustive.n_wrong == 0
    assert verdict.fresh.n_wrong > 0 and verdict.longer.n_wrong > 0
    steps = [x for (x,) in verdict.fresh.counterexample.input]
    assert any(steps[t : t + 3] == [99, 99, 99] for t in range(len(steps) - 2))
    assert judge(task, sum_all, seed=0).correct


def test_adversarial_sequences_hold_runs_alternations_and_pairs_of_symbols():
    task = get_task("Sum_All")
    x = adversarial_inputs(task, 10, max_pairs=10_000, seed=1)
    assert x.shape[1:] == (10, 1) and x.min() >= 0 and x.max() <= 99
    rows = {tuple(s) for s in x[..., 0].tolist()}
    assert (99,) * 10 in rows and (0,) * 10 in rows and (0, 99) * 5 in rows
    assert (0, 0, 99, 99) * 2 + (0, 0) in rows  # extremes in blocks of two
    assert {(a, b) * 5 for a in range(100) for b in range(100)} <= rows  # every pair: 10,000
    assert np.array_equal(x, adversarial_inputs(task, 10, max_pairs=10_000, seed=1))
    # Too many pairs: the pairs of extremes, then a sample of the others up to the cap.
    wide = adversarial_inputs(get_task("Newton_Magnetic"), 8, max_pairs=300, seed=1)
    corners = extremes(get_task("Newton_Magnetic"))
    assert corners.tolist() == [[-10, -10], [-10, 10], [10, -10], [10, 10]]
    pairs = wide[-300:]
    assert np.array_equal(pairs[:16, 0], np.repeat(corners, 4, axis=0))
    assert np.array_equal(pairs[:16, 1], np.tile(corners, (4, 1)))
    assert len({p.tobytes() for p in pairs}) == 300


@pytest.mark.parametrize(
    "wrap",
    [
        np.array,  # one array
        lambda out: [np.array(row) for row in out],  # a list of rows of two: no single truth
        lambda out: [[float(v) for v in row] for row in out],
        lambda out: [tuple(row) for row in out],
    ],
)
def test_outputs_equal_as_arrays_are_right_whatever_their_container(wrap):
    from mips.bench.judge import _check

    task = get_task("Newton_Magnetic")
    x = task.generate(50, 0).x
    assert _check("fresh", task, lambda seq: wrap(newton_magnetic(seq)), [x]).n_wrong == 0
    late = _check("fresh", task, lambda seq: wrap(newton_magnetic(seq)[:1]), [x])
    assert late.n_wrong == 50
    assert late.counterexample.reason == "output shape (1, 2), expected (10, 2)"


@pytest.mark.parametrize("enabled", [True, False])
def test_programs_run_with_the_cyclic_collector_paused_and_its_state_restored(enabled):
    import gc

    seen = set()

    def program(seq):
        seen.add(gc.isenabled())
        if len(seq) == 2:
            raise RuntimeError("a raising program leaves the collector as it was")
        return parity_last3(seq)

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        verdict = judge(get_task("Parity_Last2"), program, seed=0)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == {False} and not verdict.correct
