"""Integer symbolic regression: found formulas reproduce every row, numpy agrees with Python."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mips.regress.integer import IntegerRegressor

SCOPE = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}


def python_eval(expression: str, names, X) -> list[int]:
    """The oracle: Python itself evaluating the formula text row by row on plain ints."""
    code = compile(expression, "<formula>", "eval")
    out = [eval(code, SCOPE, dict(zip(names, map(int, row), strict=True))) for row in X]
    assert all(type(v) is int for v in out)
    return out


def grid(*ranges) -> np.ndarray:
    return np.array(list(itertools.product(*ranges)))


def assert_exact(reg: IntegerRegressor, X, y, names) -> None:
    assert reg.exact_, reg.pareto_
    assert python_eval(reg.expression_, names, X) == list(y)
    assert reg.predict(X).tolist() == list(y)
    assert reg.score(X, y) == 1.0
    assert str(reg) == reg.expression_
    assert reg.pareto_[-1] == (reg.size_, 0.0, reg.expression_)
    assert reg.expr_.render(names) == reg.expression_ and reg.expr_.size == reg.size_
    assert reg.expr_.evaluate(np.asarray(X)).tolist() == list(y)


RNG = np.random.default_rng(7)
SMALL = grid(range(-6, 7), range(-6, 7))
DIGITS = grid(range(2), range(10), range(10))  # carry, a, b of base-10 addition
WIDE = RNG.integers(0, 10, (3000, 5))
LINEAR8 = RNG.integers(-20, 21, (2000, 8))
EXAMPLES = {
    "sum": (SMALL, lambda x, z: x + z, None, 3),
    "difference plus 3": (SMALL, lambda x, z: x - z + 3, None, 5),
    "mod counter": (grid(range(5), range(10)), lambda z, x: (z + x) % 5, ["z", "x"], 5),
    "carry": (DIGITS, lambda c, a, b: (c + a + b) // 10, ["c", "a", "b"], 7),
    "digit": (DIGITS, lambda c, a, b: (c + a + b) % 10, ["c", "a", "b"], 7),
    "max": (SMALL, np.maximum, ["z", "x"], 3),
    "min": (SMALL, np.minimum, ["z", "x"], 3),
    "abs": (SMALL[:13, 1:], np.abs, ["x"], 2),
    "difference of abs": (SMALL, lambda a, b: np.abs(a) - np.abs(b), None, 5),
    "previous equals current": (SMALL, lambda z, x: (z == x).astype(int), ["z", "x"], 3),
    "threshold": (grid(range(10), range(10)), lambda z, x: (z + x >= 15).astype(int), None, 5),
    "nine nodes": (WIDE, lambda a, b, c, d, e: (a + b + c) % 3 * d, None, 9),
    "eight features": (
        LINEAR8,
        lambda *x: 3 * x[0] - 2 * x[1] + x[2] + 5 * x[4] - x[5] + 2 * x[6] + 4 * x[7] - 7,
        None,
        25,
    ),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_finds_the_example_exactly(name):
    X, f, names, max_size = EXAMPLES[name]
    y = f(*X.T)
    reg = IntegerRegressor(feature_names=names).fit(X, y)
    assert_exact(reg, X, y, names or [f"x{j}" for j in range(X.shape[1])])
    assert reg.size_ <= max_size


def test_eleven_node_formula_with_an_affine_tail():
    X = WIDE
    y = (X[:, 0] + X[:, 1] + X[:, 2]) % 3 * X[:, 3] - X[:, 4]
    reg = IntegerRegressor().fit(X, y)
    assert_exact(reg, X, y, [f"x{j}" for j in range(5)])
    assert reg.size_ <= 11


def test_searches_a_sample_and_verifies_on_all_rows():
    X = grid(range(0, 300))
    y = X[:, 0] // 3 % 4  # 8 sample rows admit wrong formulas; the rows they miss are added
    reg = IntegerRegressor(max_rows=8).fit(X, y)
    assert_exact(reg, X, y, ["x0"])


def test_case_split_too_large_to_enumerate_becomes_a_short_decision_tree():
    # Which of three counts is largest, ties to the first: from a = n0 - n1 and b = n0 - n2.
    X = grid(range(-6, 7), range(-6, 7))
    a, b = X[:, 0], X[:, 1]
    y = np.where((a >= 0) & (b >= 0), 0, np.where(b >= a, 1, 2))
    reg = IntegerRegressor(work_budget=60_000_000).fit(X, y)
    assert_exact(reg, X, y, ["x0", "x1"])
    assert " if " in reg.expression_ and reg.size_ <= 25
    # It holds beyond the rows it was fitted on.
    far = grid(range(-40, 41, 7), range(-40, 41, 7))
    want = np.where((far[:, 0] >= 0) & (far[:, 1] >= 0), 0, np.where(far[:, 1] >= far[:, 0], 1, 2))
    assert np.array_equal(reg.predict(far), want)


def test_a_mode_column_selects_a_formula_for_each_of_its_values():
    # A sum mod 5 whose input counts with a sign set by a phase: one formula for both phases is
    # beyond the enumeration, a formula for each is small.
    X = grid(range(2), range(5), range(5))
    p, z, x = X.T
    y = (z + x * (1 - 2 * p)) % 5
    reg = IntegerRegressor(feature_names=["p", "z", "x"], work_budget=60_000_000).fit(X, y)
    assert_exact(reg, X, y, ["p", "z", "x"])
    assert reg.expression_ == "((z + x) % 5 if p == 0 else (z - x) % 5)"


def test_random_table_gives_a_pareto_front_within_its_work_budget():
    X = grid(range(6), range(6))
    y = np.random.default_rng(0).integers(0, 10, len(X))
    reg = IntegerRegressor(work_budget=30_000_000).fit(X, y)
    assert not reg.exact_ and reg.expression_ is None and reg.size_ is None and reg.expr_ is None
    sizes, errors, texts = zip(*reg.pareto_, strict=True)
    assert list(sizes) == sorted(set(sizes)) and list(errors) == sorted(errors, reverse=True)
    assert len(set(errors)) == len(errors)
    # predict falls back to the most accurate formula found, and says so through score.
    assert str(reg) == texts[-1]
    assert reg.score(X, y) == pytest.approx(1 - errors[-1])
    assert python_eval(texts[-1], ["x0", "x1"], X) == reg.predict(X).tolist()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    coefs=st.lists(st.integers(-5, 5), min_size=1, max_size=4),
    intercept=st.integers(-10, 10),
    seed=st.integers(0, 2**16),
)
def test_small_linear_functions_are_found_exactly(coefs, intercept, seed):
    X = np.random.default_rng(seed).integers(-9, 10, (40, len(coefs)))
    y = X @ np.array(coefs) + intercept
    reg = IntegerRegressor(work_budget=60_000_000).fit(X, y)
    assert_exact(reg, X, y, [f"x{j}" for j in range(len(coefs))])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_predict_matches_python_eval_of_the_fitted_formula(expressions, data):
    expr = data.draw(expressions(2, depth=2))
    X = grid(range(-5, 6), range(-5, 6))
    y = expr.evaluate(X)
    reg = IntegerRegressor(feature_names=["u", "v"], work_budget=30_000_000).fit(X, y)
    assert reg.predict(X).tolist() == python_eval(str(reg), ["u", "v"], X)
    if reg.exact_:
        assert reg.predict(X).tolist() == y.tolist()


def test_a_scaled_product_led_by_a_modulus_keeps_its_parentheses_in_the_text():
    """A completion 2 * e of e = u // 2 * u must read 2 * (u // 2 * u): without the
    parentheses Python computes (2 * u) // 2 * u, and the text disagrees with predict(), which
    evaluates the tree. The first target is the draw of the property above that found it."""
    X = grid(range(-5, 6), range(-5, 6))
    u, v = X.T
    targets = ((u + u) * (u // 2), 2 * (u % 3 * (v % 2)) + 1, 2 * (v // 2 * (u % 3)) + v)
    for y in targets:
        reg = IntegerRegressor(feature_names=["u", "v"], work_budget=30_000_000).fit(X, y)
        assert_exact(reg, X, y, ["u", "v"])


def test_inconsistent_table_and_bad_input_raise():
    with pytest.raises(ValueError, match="inconsistent"):
        IntegerRegressor().fit([[1, 2], [1, 2]], [3, 4])
    with pytest.raises(ValueError, match="feature name"):
        IntegerRegressor(feature_names=["a", "int"]).fit([[1, 2]], [3])
    with pytest.raises(RuntimeError, match="not fitted"):
        IntegerRegressor().predict([[1]])
    reg = IntegerRegressor().fit([[1, 2], [1, 2], [2, 2]], [3, 3, 4])
    with pytest.raises(ValueError, match="columns"):
        reg.predict([[1, 2, 3]])


def test_copied_columns_are_one_feature_named_by_the_first():
    ab = grid(range(5), range(5))
    X = np.column_stack([ab[:, 0], ab[:, 0], ab[:, 1]])
    y = X[:, 1] + X[:, 2]
    reg = IntegerRegressor(feature_names=["a", "a2", "b"]).fit(X, y)
    assert reg.expression_ == "a + b" and reg.expr_.variables() == {0, 2}
    assert_exact(reg, X, y, ["a", "a2", "b"])


def test_parameters_are_keyword_only_and_stored_as_given():
    names = ("p",)
    reg = IntegerRegressor(
        feature_names=names, max_size=5, work_budget=15_000_000, max_rows=10, seed=3, tolerance=0.01
    )
    assert reg.feature_names is names
    assert (reg.max_size, reg.work_budget, reg.max_rows, reg.seed) == (5, 15_000_000, 10, 3)
    assert reg.tolerance == 0.01
    assert (
        str(reg)
        == repr(reg)
        == (
            "IntegerRegressor(feature_names=('p',), max_size=5, work_budget=15000000, max_rows=10, "
            "seed=3, tolerance=0.01)"
        )
    )
    with pytest.raises(TypeError):
        IntegerRegressor(names)
    assert reg.fit([[1], [2]], [2, 4]) is reg and reg.feature_names is names


def test_a_sign_is_not_read_as_a_quotient_by_a_divisor_past_the_data():
    """Within -9..9, s // 10 is the sign test -(s < 0); beyond it steps again. The formula
    chosen must keep agreeing with the sign outside the observed range."""
    s = np.arange(-9, 10)
    X = np.column_stack([s, np.arange(19) % 2])
    r = IntegerRegressor(feature_names=["s", "x"], max_size=9, work_budget=120_000_000).fit(
        X, 2 * (s < 0)
    )
    wide = np.arange(-40, 41)
    assert r.exact_
    assert np.array_equal(r.expr_.evaluate(np.column_stack([wide, wide % 2])), 2 * (wide < 0))


def test_within_a_tolerance_the_smallest_formula_wins_over_the_rows_wrong_labels_made():
    """abs(x) everywhere but three rows, each taken once where the others are taken ten times:
    exact, the formula must spell the three rows out; within 1% of the weight it is abs(x)."""
    X = np.arange(-40, 41).reshape(-1, 1)
    y = np.abs(X[:, 0])
    y[[40, 41, 45]] += 1
    weight = np.full(len(y), 10)
    weight[[40, 41, 45]] = 1
    exact = IntegerRegressor(max_size=5, work_budget=30_000_000).fit(X, y, sample_weight=weight)
    assert exact.expression_ != "abs(x0)"
    tolerant = IntegerRegressor(max_size=5, work_budget=30_000_000, tolerance=0.01)
    tolerant.fit(X, y, sample_weight=weight)
    assert tolerant.expression_ == "abs(x0)" and not tolerant.exact_
    assert tolerant.error_ == pytest.approx(3 / weight.sum())
    # The same rows, taken as often as the rest, are more than the tolerance allows.
    even = IntegerRegressor(max_size=5, work_budget=30_000_000, tolerance=0.01).fit(X, y)
    assert even.expression_ != "abs(x0)"


def test_sample_weight_needs_one_non_negative_weight_per_row():
    reg = IntegerRegressor()
    with pytest.raises(ValueError, match="sample_weight"):
        reg.fit([[1], [2]], [1, 2], sample_weight=[1])
    with pytest.raises(ValueError, match="sample_weight"):
        reg.fit([[1], [2]], [1, 2], sample_weight=[1, -1])
