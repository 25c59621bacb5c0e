"""Mealy tasks: the minimality and reachability checks, random machines fixed by their seed."""

import numpy as np
import pytest

from mips.tasks.mealy import MealyTask, explore, random_mealy


def _machine(transition, output):
    n, k = np.shape(transition)
    return MealyTask(
        "M", tuple(f"a{i}" for i in range(k)), ("x", "y"), tuple(f"s{s}" for s in range(n)),
        np.array(transition), np.array(output), "test machine", "random", ("a0",),
    )  # fmt: skip


def test_minimality_and_reachability_checks_can_fail():
    # s1 and s2 answer alike and go alike: one state twice.
    twins = _machine([[1, 2], [0, 1], [0, 2]], [[0, 0], [1, 0], [1, 0]])
    assert twins.reachable().all() and not twins.is_minimal()
    assert twins.equivalence_classes()[1] == twins.equivalence_classes()[2]
    # s2 differs from s1 only two steps later: refinement must look past the outputs.
    deep = _machine([[1, 0], [2, 1], [2, 2]], [[0, 0], [0, 0], [1, 0]])
    assert deep.is_minimal()
    lonely = _machine([[0, 0], [1, 1]], [[0, 1], [1, 0]])  # nothing leads to s1
    assert lonely.reachable().tolist() == [True, False]


def test_random_machines_are_deterministic_for_their_seed():
    a, b, c = random_mealy(30, 6, 4, 5), random_mealy(30, 6, 4, 5), random_mealy(30, 6, 4, 6)
    np.testing.assert_array_equal(a.transition, b.transition)
    np.testing.assert_array_equal(a.output, b.output)
    assert not np.array_equal(a.transition, c.transition)
    assert a.is_minimal() and a.reachable().all()
    with pytest.raises(ValueError, match="cannot all occur"):
        random_mealy(2, 2, 5, 0)


def test_the_machine_of_a_step_function_numbers_its_reachable_states_breadth_first():
    # A counter mod 3 that says "tick" on its wrap: states reached from 0 only.
    machine = explore(
        "Count3", "a counter", ("inc", "hold"), 0,
        lambda s, w: ((s + 1) % 3, "tick" if s == 2 else "-") if w == "inc" else (s, "-"),
        ("inc",),
    )  # fmt: skip
    assert machine.states == ("0", "1", "2")
    assert machine.outputs == ("-", "tick")
    assert machine.transition.tolist() == [[1, 0], [2, 1], [0, 2]]
    assert machine.respond(["inc", "inc", "hold", "inc"]) == ["-", "-", "-", "tick"]
    assert machine.is_minimal() and machine.reachable().all()
