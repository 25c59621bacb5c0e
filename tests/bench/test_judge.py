"""The judge: right programs pass, wrong ones are caught with a counterexample, crashes count."""

import json

import numpy as np
import pytest

from mips.bench.judge import judge
from mips.tasks import get_task

# Parity_Last3 is a 1-bit task: exhaustive lengths 1..14, since 2 + 4 + ... + 2^14 = 32,766 and
# adding 2^15 would exceed 65,000.
TASK = get_task("Parity_Last3")


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
        (10_000, 0, 10),
        (1_000, 0, 50),
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
    assert verdict.fresh.n_wrong == 10_000 and verdict.longer.n_wrong == 1_000
    first = verdict.exhaustive.counterexample
    assert len(first.input) == 8 and first.reason == "wrong values"
    assert first.got[7][0] == first.expected[7][0] + 1


def test_program_right_only_up_to_the_task_length_is_caught():
    def late(seq):
        return parity_last3(seq, lambda t, n: n > 10 and t == n - 1)

    verdict = judge(TASK, late, seed=0)
    assert not verdict.correct
    assert verdict.fresh.n_wrong == 0
    assert verdict.longer.n_wrong == 1_000
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
    assert flat.fresh.n_wrong == 10_000
    assert flat.fresh.counterexample.reason == "output shape (10,), expected (10, 1)"
    json.dumps(flat.to_dict())


def test_same_seed_same_verdict():
    task = get_task("Bitwise_Xor")

    def program(seq):
        return [[(a ^ b) + (t == 9)] for t, (a, b) in enumerate(seq)]

    a, b = judge(task, program, seed=5), judge(task, program, seed=5)
    assert a == b and not a.correct and a.exhaustive.n_wrong == 0
    assert judge(task, program, seed=6).fresh.counterexample != a.fresh.counterexample
