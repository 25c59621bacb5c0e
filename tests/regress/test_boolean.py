"""Tests for Boolean regression: fitted formulas reproduce their truth tables and stay small."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.regress.boolean import KINDS, BooleanRegressor


def full_table(k: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=k)), dtype=np.int64)


def check_reproduces(model: BooleanRegressor, X: np.ndarray, y: np.ndarray) -> None:
    """The formula text, run as plain Python on ints, and predict() both give y on every row."""
    names = model.feature_names_
    code = compile(model.expression_, "<formula>", "eval")
    for row, want in zip(X, y, strict=True):
        got = eval(code, {}, dict(zip(names, map(int, row), strict=True)))
        assert type(got) is int and got == want, (model.expression_, row)
    np.testing.assert_array_equal(model.predict(X), y)
    assert model.score(X, y) == 1.0
    # The tree is the formula: it renders to the same text and reproduces the truth table.
    assert model.expr_.render(names) == model.expression_
    np.testing.assert_array_equal(model.expr_.evaluate(np.asarray(X, dtype=np.int64)), y)


@st.composite
def partial_tables(draw):
    """A random truth table on 1..6 inputs, some rows unobserved and some repeated."""
    k = draw(st.integers(1, 6))
    cells = st.sampled_from([None, 0, 1])
    outputs = draw(
        st.lists(cells, min_size=2**k, max_size=2**k).filter(
            lambda c: any(v is not None for v in c)
        )
    )
    rows = [(r, v) for r, v in zip(full_table(k), outputs, strict=True) if v is not None]
    repeats = draw(st.lists(st.integers(1, 2), min_size=len(rows), max_size=len(rows)))
    rows = [pair for pair, n in zip(rows, repeats, strict=True) for _ in range(n)]
    rows = draw(st.permutations(rows))
    return np.array([r for r, _ in rows]), np.array([v for _, v in rows])


@settings(max_examples=100, deadline=None)
@given(partial_tables())
def test_formula_reproduces_every_observed_row(table):
    X, y = table
    model = BooleanRegressor().fit(X, y)
    check_reproduces(model, X, y)
    assert model.kind_ in KINDS
    assert str(model) == model.formula_


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_parity_is_recognised(data):
    k = data.draw(st.integers(2, 6))
    support = data.draw(st.lists(st.integers(0, k - 1), min_size=2, max_size=k, unique=True))
    negated = data.draw(st.integers(0, 1))
    X = full_table(k)
    y = X[:, support].sum(axis=1) % 2 ^ negated
    model = BooleanRegressor().fit(X, y)
    assert model.kind_ == "parity"
    assert model.n_literals_ == len(support)
    check_reproduces(model, X, y)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_threshold_is_recognised(data):
    k = data.draw(st.integers(3, 6))
    support = data.draw(st.lists(st.integers(0, k - 1), min_size=3, max_size=k, unique=True))
    s = len(support)
    signs = np.array(data.draw(st.lists(st.integers(0, 1), min_size=s, max_size=s)))
    X = full_table(k)
    count = (X[:, support] ^ signs).sum(axis=1)
    # Only counts no SOP or parity of the same size expresses: not AND/OR/NOR, not XOR.
    if data.draw(st.booleans()):
        y = count >= data.draw(st.integers(2, s - 1))
    else:
        y = count == data.draw(st.integers(1, s - 1))
    y = y.astype(np.int64)
    model = BooleanRegressor().fit(X, y)
    assert model.kind_ == "threshold", model.expression_
    assert model.n_literals_ == len(support)
    check_reproduces(model, X, y)


@pytest.mark.parametrize(
    ("names", "function", "expected_kind", "expected"),
    [
        ("abc", lambda a, b, c: a ^ b, "parity", "a ^ b"),
        ("abc", lambda a, b, c: int(a + b + c >= 2), "threshold", "int(a + b + c >= 2)"),
        (("carry", "a", "b"), lambda c, a, b: int(a + b + c >= 2), "threshold", None),
        (("carry", "a", "b"), lambda c, a, b: a ^ b ^ c, "parity", "carry ^ a ^ b"),
        ("ab", lambda a, b: a & b, "sop", "a & b"),
        ("a", lambda a: 1 - a, "literal", "(1 - a)"),
        ("ab", lambda a, b: b, "literal", "b"),
        ("ab", lambda a, b: 0, "constant", "0"),
        ("ab", lambda a, b: 1, "constant", "1"),
    ],
)
def test_known_functions(names, function, expected_kind, expected):
    X = full_table(len(names))
    y = np.array([function(*row) for row in X])
    model = BooleanRegressor(feature_names=list(names)).fit(X, y)
    assert model.kind_ == expected_kind
    if expected is not None:
        assert model.expression_ == expected
    check_reproduces(model, X, y)


def test_inconsistent_table_names_the_row():
    X = np.array([[0, 1], [1, 1], [0, 1]])
    with pytest.raises(ValueError, match=r"a=0, b=1"):
        BooleanRegressor(feature_names=["a", "b"]).fit(X, [0, 1, 1])


def test_ten_inputs_half_dont_care():
    rng = np.random.default_rng(0)
    X = full_table(10)
    X = X[rng.random(len(X)) < 0.5]
    y = rng.integers(0, 2, len(X))
    model = BooleanRegressor().fit(X, y)
    assert model.kind_ == "sop"
    check_reproduces(model, X, y)


def test_sixteen_inputs_sparse():
    rng = np.random.default_rng(1)
    X = (rng.choice(2**16, size=300, replace=False)[:, None] >> np.arange(16)) & 1
    y = rng.integers(0, 2, len(X))
    check_reproduces(BooleanRegressor().fit(X, y), X, y)
    y = X[:, 3] ^ X[:, 11]
    model = BooleanRegressor().fit(X, y)
    assert model.expression_ == "x3 ^ x11"


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="0 and 1"):
        BooleanRegressor().fit([[0, 2]], [1])
    with pytest.raises(ValueError, match="rows"):
        BooleanRegressor().fit([[0, 1]], [1, 0])
    with pytest.raises(ValueError, match="Python variable"):
        BooleanRegressor(feature_names=["a", "int"]).fit([[0, 1]], [1])
    with pytest.raises(RuntimeError, match="not fitted"):
        BooleanRegressor().predict([[0, 1]])


def test_a_long_cover_is_split_into_halves_that_python_can_parse():
    rng = np.random.default_rng(2)
    X = full_table(12)
    X = X[rng.random(len(X)) < 0.7]
    y = rng.integers(0, 2, len(X))
    model = BooleanRegressor(max_exact_inputs=0).fit(X, y)
    assert model.kind_ == "sop" and ") | (" in model.expression_
    check_reproduces(model, X, y)


def test_size_counts_the_nodes_of_the_python_text():
    X = full_table(2)
    # (1 - a): a subtraction of a name from a constant, three nodes; the tree has two.
    model = BooleanRegressor(feature_names=["a", "b"]).fit(X, 1 - X[:, 0])
    assert model.expression_ == "(1 - a)" and model.size_ == 3 and model.expr_.size == 2
    model = BooleanRegressor(feature_names=["a", "b"]).fit(X, X[:, 0] & X[:, 1])
    assert model.expression_ == "a & b" and model.size_ == 3
