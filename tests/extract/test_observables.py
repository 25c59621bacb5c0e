"""Finite states named by observables: the last k inputs, the output they emit."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.emit import emit_python
from mips.extract import extract
from mips.network import Architecture, TrainedNetwork
from mips.regress import regress
from mips.verify import verify


def test_states_named_by_their_outputs_give_a_formula(running_max):
    net, data = running_max
    named = [m for m in extract(net, data) if m.reading.encoding == "output"]
    assert named and named[0].reading.reader == "output"
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 1
    assert "max" in emit_python(program)
    assert verify(emit_python(program), program, named[0], data).verified


def test_a_network_whose_state_is_never_read_again_is_stateless(stateless_abs):
    net, data = stateless_abs
    window = [m for m in extract(net, data) if m.reading.encoding == "window"]
    assert window and window[0].n_vars == 0 and window[0].reading.window == 0
    assert "abs(x)" in emit_python(regress(window[0]))


@pytest.mark.parametrize("low", [-20, 1])
def test_window_machine_is_completed_by_probing_the_network(low):
    # h_t = (x_t, x_{t-1}); y_t = relu(h0 - h1) + relu(h1 - h0) = |x_t - x_{t-1}|: the output is
    # no affine map of the state, so unseen (state, input) pairs are read from the network.
    w = {
        "f.0.weight": np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]),
        "f.0.bias": np.zeros(2),
        "g.0.weight": np.array([[1.0, -1.0], [-1.0, 1.0]]),
        "g.0.bias": np.zeros(2),
        "g.1.weight": np.array([[1.0], [1.0]]),
        "g.1.bias": np.zeros(1),
    }
    net = TrainedNetwork(Architecture(2, 1, 0, 2, 2), 1, 1, w)

    def abs_diff(x: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(x, axis=1, prepend=0))

    x = np.random.default_rng(0).integers(low, low + 40, (200, 6, 1))
    window = [m for m in extract(net, SequenceData(x, abs_diff(x))) if m.reading.probed]
    assert window and window[0].n_vars == 1
    # Every (x_{t-1}, x_t), and (zero pad, x_0) where 0 is not a symbol.
    assert window[0].n_rows == 40 * 40 + (40 if low > 0 else 0)
    fresh = np.random.default_rng(1).integers(low, low + 40, (200, 15, 1))
    out, known = window[0].replay(fresh)
    assert known.all() and np.array_equal(out, abs_diff(fresh))
