"""Closed-form linear networks: the minimal hidden size, exactness, and declining nonlinear data."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.network.realize import realize


def windows(k: int, offset: int = 0, n: int = 400, length: int = 12) -> SequenceData:
    """y_t = x_t + x_{t-1} + ... + x_{t-k+1} + offset."""
    x = np.random.default_rng(k).integers(0, 50, (n, length, 1))
    y = sum(np.pad(x, ((0, 0), (j, 0), (0, 0)))[:, :length] for j in range(k)) + offset
    return SequenceData(x, y)


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("offset", [0, 7])
def test_closed_form_finds_the_minimal_linear_network(k: int, offset: int):
    # The sum of the last k inputs needs exactly k states (and no more with an output bias).
    train, test = windows(k, offset).split(0.2, 0)
    net = realize(train, test, 8)
    assert net.hidden == k
    for part in (train, test):
        assert np.array_equal(net.predict(part.x), part.y)
    assert realize(train, test, k - 1) is None


def test_closed_form_has_no_hidden_bias_when_the_data_need_none():
    # Without a bias in f, the states of a linear network stay on a lattice through h = 0.
    net = realize(*windows(3).split(0.2, 0), 8)
    assert not net.arch.hidden_bias
    assert np.all(net.weights["f.0.bias"] == 0)


def test_closed_form_of_a_running_sum_is_one_unit(running_sum):
    train, test = running_sum.split(0.2, 0)
    net = realize(train, test, 4)
    assert net.hidden == 1 and net.is_exact(running_sum)


def test_closed_form_declines_a_nonlinear_task(parity):
    train, test = parity.split(0.2, 0)
    assert realize(train, test, 8) is None


def test_a_few_large_wrong_labels_are_trimmed_from_the_fit(running_sum):
    y = running_sum.y.copy()
    y[[3, 200, 450], [1, 4, 5], 0] += [500, -300, 900]  # 3 of 3,600 steps
    train, test = SequenceData(running_sum.x, y).split(0.2, 0)
    assert realize(train, test, 4) is None
    net = realize(train, test, 4, max_errors=0.01)  # per split: 3 may fall in 720 held-out
    assert net is not None and net.hidden == 1
    assert net.is_exact(running_sum)
