"""Rules a whole table obeys: integer affine maps, maps mod m."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.extract.rules import affine_rule, from_rows, modular_rule
from mips.machine import Reading, StateMachine

TEST = Reading("test", "test")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
def test_affine_rule_is_recovered_exactly_or_refused(seed, n_features, n_targets):
    rng = np.random.default_rng(seed)
    m = rng.integers(-5, 6, (n_features + 1, n_targets))
    f = rng.integers(-50, 50, (60, n_features))
    target = np.concatenate([f, np.ones((60, 1), dtype=np.int64)], axis=1) @ m
    assert np.array_equal(affine_rule(f, target), m)
    # One row off the map, or a feature that never varies: no rule.
    bent = target.copy()
    bent[7, 0] += 1
    assert affine_rule(f, bent) is None
    f[:, 0] = 3
    assert affine_rule(f, target) is None


def test_affine_rule_needs_three_rows_per_unknown():
    f = np.array([[0], [1], [2], [3], [4]])
    assert affine_rule(f, 2 * f + 1) is None  # 5 rows for 2 unknowns: could be chance
    f = np.arange(6)[:, None]
    assert affine_rule(f, 2 * f + 1).tolist() == [[2], [1]]


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9), st.integers(0, 1000))
def test_modular_rule_recovers_a_running_sum_mod_m(m, seed):
    rng = np.random.default_rng(seed)
    a, c = int(rng.integers(1, m)), int(rng.integers(0, m))
    z, x = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    features = np.column_stack([z.ravel(), x.ravel()])
    target = ((z.ravel() + a * x.ravel() + c) % m)[:, None]
    rule = modular_rule(features, target, m)
    assert rule is not None
    ones = np.ones((len(features), 1), dtype=np.int64)
    assert np.array_equal(np.concatenate([features, ones], axis=1) @ rule % m, target)


def test_a_running_sum_mod_m_is_an_integer_mod_m():
    z, x = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    z, x = z.reshape(-1, 1), x.reshape(-1, 1)
    rows = np.concatenate([z, x, (z + x) % 5, (z + x) % 5], axis=1)
    m = from_rows("finite", (0,), rows, 1, TEST)
    assert m.modulus == 5 and m.next_rule[:, 0].tolist() == [1, 1, 0]
    seqs = np.random.default_rng(0).integers(0, 5, (20, 40, 1))
    assert np.array_equal(StateMachine.from_dict(m.to_dict()).run(seqs), np.cumsum(seqs, 1) % 5)
    # A state that is no map mod m (the larger of two inputs) gets no rule.
    rows[:, 2] = rows[:, 3] = np.maximum(z, x)[:, 0]
    assert from_rows("finite", (0,), rows, 1, TEST).modulus is None


def test_an_incomplete_table_gets_no_modular_rule():
    z, x = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    z, x = z.reshape(-1, 1), x.reshape(-1, 1)
    rows = np.concatenate([z, x, (z + x) % 5, (z + x) % 5], axis=1)[:-1]
    assert from_rows("finite", (0,), rows, 1, TEST).modulus is None
