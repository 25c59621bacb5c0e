"""Affine solving: exact integer (or small-denominator) formulas, and the hints and constants the
enumeration starts from."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.regress.affine import affine_formula, constants, hints, solve_mod


def grid(*ranges) -> np.ndarray:
    return np.array(list(itertools.product(*ranges)), dtype=np.int64)


X3 = grid(range(-4, 5), range(0, 6), range(-3, 4))
ALL = np.arange(len(X3))


@settings(max_examples=40, deadline=None)
@given(coefs=st.lists(st.integers(-6, 6), min_size=3, max_size=3), intercept=st.integers(-9, 9))
def test_integer_affine_functions_are_solved_exactly_with_their_support(coefs, intercept):
    y = X3 @ np.array(coefs) + intercept
    expr = affine_formula(X3, y, ALL)
    assert expr is not None and expr.evaluate(X3).tolist() == y.tolist()
    assert expr.variables() == {j for j, c in enumerate(coefs) if c}


def test_a_common_denominator_becomes_floor_division():
    X = grid(range(0, 20, 2), range(-3, 4))  # the first column is always even
    y = X[:, 0] // 2 - X[:, 1]
    expr = affine_formula(X, y, np.arange(len(X)))
    assert expr is not None and expr.op == "floordiv" and expr.args[1].value == 2
    assert expr.evaluate(X).tolist() == y.tolist()


def test_a_step_function_is_not_affine():
    y = (X3[:, 0] + 2 * X3[:, 2] + 1) // 3
    assert affine_formula(X3, y, ALL) is None


def test_a_product_is_not_affine():
    assert affine_formula(X3, X3[:, 0] * X3[:, 1], ALL) is None


def test_fitting_the_sample_is_not_enough():
    y = X3[:, 0] + X3[:, 1]
    y[-1] += 1  # one row off the plane, outside the sample
    assert affine_formula(X3, y, ALL[:50]) is None


def test_a_residue_gets_a_modular_hint():
    X = grid(range(6), range(6), range(6))
    y = (2 * X[:, 0] + 3 * X[:, 1] + 4 * X[:, 2] + 1) % 15
    found, _ = hints(X, y, np.arange(len(X)))
    assert any(((e.evaluate(X)) % 15 == y).all() for e in found)


def test_a_floor_division_gets_its_direction_and_divisor():
    X = grid(range(20), range(20))
    y = (X[:, 0] + 2 * X[:, 1]) // 4
    found, divisors = hints(X, y, np.arange(len(X)))
    assert 4 in divisors
    assert any(e.evaluate(X).tolist() == (X[:, 0] + 2 * X[:, 1]).tolist() for e in found)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_solutions_mod_p_solve_the_system(data):
    p = data.draw(st.sampled_from([2, 3, 5, 7, 11]))
    n, k = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 5))
    A = np.array(data.draw(st.lists(st.integers(0, p - 1), min_size=n * k, max_size=n * k)))
    A = A.reshape(n, k)
    w_true = np.array(data.draw(st.lists(st.integers(0, p - 1), min_size=k, max_size=k)))
    b = A @ w_true % p
    w = solve_mod(A, b, p)
    assert w is not None and np.array_equal(A @ w % p, b)


def test_an_inconsistent_system_mod_p_has_no_solution():
    A = np.array([[1, 1], [2, 2]])
    assert solve_mod(A, np.array([1, 1]), 5) is None


def test_constants_include_ranges_moduli_and_grid_steps():
    X = grid(range(7), range(3))
    y = 2 * (X[:, 0] % 5) + 10
    found = constants(X, y)
    assert {-1, 0, 1, 2, 3, 10, 18, 19, 7} <= set(found)  # small, y's range, column max + 1
    assert 5 in found  # the number of levels of y on its grid of step 2
    assert found == sorted(found, key=lambda c: (abs(c), c < 0))
    with pytest.raises(ValueError):
        constants(X[:0], y[:0])
