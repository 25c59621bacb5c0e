"""Hand-built networks whose state machines are known, for the readers' tests."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.network import Architecture, TrainedNetwork


def relu_net(f_layers, g_layers, hidden: int) -> TrainedNetwork:
    """A one-input, one-output network from (weight, bias) lists of f and g."""
    w = {}
    for name, layers in (("f", f_layers), ("g", g_layers)):
        for j, (weight, bias) in enumerate(layers):
            w[f"{name}.{j}.weight"] = np.array(weight, dtype=float)
            w[f"{name}.{j}.bias"] = np.array(bias, dtype=float)
    width = len(f_layers[0][1]) if len(f_layers) > 1 else 0
    return TrainedNetwork(
        arch=Architecture(hidden, hidden_depth=len(f_layers), hidden_width=width),
        d_in=1,
        d_out=1,
        weights=w,
    )


@pytest.fixture
def counter_with_offset() -> tuple[TrainedNetwork, SequenceData]:
    """h_t = h_{t-1} + 0.7 x_t + 1.4 (a lattice step of 0.7 and a per-step offset of 2 steps);
    y_t = h_t / 0.7 = sum of x + 2 (t + 1)."""
    w = {
        "f.0.weight": np.array([[1.0], [0.7]]),
        "f.0.bias": np.array([1.4]),
        "g.0.weight": np.array([[1 / 0.7]]),
        "g.0.bias": np.array([0.0]),
    }
    net = TrainedNetwork(arch=Architecture(1), d_in=1, d_out=1, weights=w)
    x = np.random.default_rng(0).integers(0, 5, (300, 6, 1))
    y = np.cumsum(x, axis=1) + 2 * np.arange(1, 7)[None, :, None]
    return net, SequenceData(x, y)


@pytest.fixture
def running_max() -> tuple[TrainedNetwork, SequenceData]:
    """h' = relu(x - h) + relu(h) = max(h, x) for h, x >= 0; y = h."""
    net = relu_net(
        [([[-1.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), ([[1.0], [1.0]], [0.0])],
        [([[1.0]], [0.0])],
        hidden=1,
    )
    x = np.random.default_rng(0).integers(0, 10, (500, 8, 1))
    return net, SequenceData(x, np.maximum.accumulate(x, axis=1))


@pytest.fixture
def stateless_abs() -> tuple[TrainedNetwork, SequenceData]:
    """h = relu(x) + relu(-x) = |x|, whatever h was: the output reads the current input only."""
    net = relu_net(
        [([[0.0, 0.0], [1.0, -1.0]], [0.0, 0.0]), ([[1.0], [1.0]], [0.5])],
        [([[1.0]], [-0.5])],
        hidden=1,
    )
    x = np.random.default_rng(0).integers(-100, 100, (300, 6, 1))
    return net, SequenceData(x, np.abs(x))


@pytest.fixture
def parity_network() -> tuple[TrainedNetwork, SequenceData]:
    """Running parity of bits, h' = |h - x| = relu(h - x) + relu(x - h), y = h: two states."""
    net = relu_net(
        [([[1.0, -1.0], [-1.0, 1.0]], [0.0, 0.0]), ([[1.0], [1.0]], [0.0])],
        [([[1.0]], [0.0])],
        hidden=1,
    )
    x = np.random.default_rng(0).integers(0, 2, (400, 9, 1))
    return net, SequenceData(x, np.cumsum(x, axis=1) % 2)
