"""The enumeration: smallest exact formulas by size, restarts on counterexamples, budgets kept."""

import itertools

import numpy as np
import pytest

from mips.regress.enumeration import MAX_ROUNDS, Search


def grid(*ranges) -> np.ndarray:
    return np.array(list(itertools.product(*ranges)), dtype=np.int64)


def search(X, y, rows=None, max_size=7, budget=300_000_000, seed=0) -> Search:
    rows = np.arange(len(X)) if rows is None else rows
    return Search(X, y, rows, max_size, budget, np.random.default_rng(seed))


SMALL = grid(range(-6, 7), range(-6, 7))
NAMES = ["a", "b"]


@pytest.mark.parametrize(
    ("f", "text"),
    [
        (lambda a, b: np.maximum(a, b), "max(a, b)"),
        (lambda a, b: np.abs(a) - np.abs(b), "abs(a) - abs(b)"),
        (lambda a, b: (a < b).astype(int) * a, "int(a < b) * a"),
        (lambda a, b: (a + b) % 4, "(a + b) % 4"),
        (lambda a, b: np.where(a < b, b, 3), "(b if a < b else 3)"),
    ],
)
def test_finds_the_smallest_formula(f, text):
    # Each of these has 3 or 5 nodes; nothing smaller fits, so the text is the one expected.
    y = f(*SMALL.T)
    s = search(SMALL, y)
    best = s.run()
    assert best is not None and best.evaluate(SMALL).tolist() == y.tolist()
    assert best.render(NAMES) == text


def test_completions_add_an_affine_tail_and_a_threshold():
    X = grid(range(10), range(10), range(4))
    y = 3 * (X[:, 0] % 3) + 2 * X[:, 2] - 1
    best = search(X, y).run()
    assert best is not None and best.evaluate(X).tolist() == y.tolist()
    y = (np.abs(X[:, 0] - X[:, 1]) >= 4).astype(int)
    best = search(X, y).run()
    assert best is not None and best.evaluate(X).tolist() == y.tolist()


def test_a_formula_wrong_outside_the_sample_restarts_with_its_misses():
    X = grid(range(300))
    y = X[:, 0] // 3 % 4
    s = search(X, y, rows=np.array([0, 1, 2, 3, 299]), max_size=5)
    best = s.run()
    assert best is not None and best.evaluate(X).tolist() == y.tolist()
    assert len(s.rows) > 5  # counterexamples joined the sample


def test_the_last_round_keeps_what_fits_the_sample_to_itself():
    # Rows it cannot tell apart in the sample: each round adds counterexamples, and the
    # enumeration stops after MAX_ROUNDS without raising.
    X = grid(range(60))
    y = np.random.default_rng(0).integers(0, 3, 60)
    s = search(X, y, rows=np.arange(4), max_size=4)
    best = s.run()
    assert best is None or best.evaluate(X).tolist() == y.tolist()
    assert len(s.rows) <= 4 + 8 * (MAX_ROUNDS - 1)


def test_a_spent_budget_stops_the_search_with_what_it_has():
    X = grid(range(6), range(6))
    y = np.random.default_rng(0).integers(0, 10, len(X))
    s = search(X, y, max_size=9, budget=6_000_000)
    assert s.run() is None
    assert s.exhausted and 0 < s.cells <= 6_000_000
    # The most accurate expression of each size enumerated is kept as a candidate.
    assert s.candidates and all(e.size <= 9 for e in s.candidates)


def test_the_budget_counts_work_so_a_search_ends_the_same_however_long_it_takes(monkeypatch):
    """Cells, not seconds: a search slowed down (a loaded machine) evaluates the same cells and
    keeps the same candidates as one at full speed."""
    import mips.regress.enumeration as enumeration

    X = grid(range(6), range(6))
    y = np.random.default_rng(1).integers(0, 10, len(X))
    fast = search(X, y, max_size=9, budget=6_000_000)
    fast.run()
    consider = enumeration._Round._consider

    def slow(self, *args):
        for _ in range(20_000):  # busy work in the same thread, as another process would cost
            pass
        return consider(self, *args)

    monkeypatch.setattr(enumeration._Round, "_consider", slow)
    slowed = search(X, y, max_size=9, budget=6_000_000)
    slowed.run()
    assert fast.exhausted and slowed.exhausted and fast.cells == slowed.cells
    assert [e.render(NAMES) for e in fast.candidates] == [
        e.render(NAMES) for e in slowed.candidates
    ]


def test_a_budget_of_no_cells_checks_only_the_leaves():
    X = grid(range(6), range(6))
    s = search(X, X[:, 0], budget=0)
    assert s.run().render(NAMES) == "a" and s.cells == 0
    s = search(X, np.abs(X[:, 0] - 3), budget=0)
    assert s.run() is None and s.exhausted and s.cells == 0
    with pytest.raises(ValueError, match="work budget"):
        search(X, X[:, 0], budget=-1)


def test_the_same_seed_gives_the_same_formula():
    X = grid(range(8), range(8), range(3))
    y = (X[:, 0] * X[:, 2] + X[:, 1]) % 5
    a = search(X, y, rows=np.arange(0, len(X), 4), seed=3).run()
    b = search(X, y, rows=np.arange(0, len(X), 4), seed=3).run()
    assert a == b and a is not None
