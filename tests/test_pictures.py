"""Pictures: the hidden states as a PNG, a finite machine as a DOT graph."""

import numpy as np

from mips.data import SequenceData
from mips.extract import extract
from mips.network import Architecture, TrainedNetwork
from mips.pictures import hidden_states_png, state_graph_dot


def test_pictures(tmp_path):
    # Running parity: h' = |h - x|, y = h; two states, one picture and one graph.
    w = {
        "f.0.weight": np.array([[1.0, -1.0], [-1.0, 1.0]]),
        "f.0.bias": np.zeros(2),
        "f.1.weight": np.array([[1.0], [1.0]]),
        "f.1.bias": np.zeros(1),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.zeros(1),
    }
    net = TrainedNetwork(
        arch=Architecture(1, hidden_depth=2, hidden_width=2), d_in=1, d_out=1, weights=w
    )
    x = np.random.default_rng(0).integers(0, 2, (200, 8, 1))
    data = SequenceData(x, np.cumsum(x, axis=1) % 2)
    machine = [m for m in extract(net, data) if m.kind == "finite"][0]
    png = hidden_states_png(net, data, machine, tmp_path / "states.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = state_graph_dot(machine)
    assert dot is not None and dot.startswith("digraph") and "->" in dot
    assert dot.count("doublecircle") == 1 and dot.count("shape=circle") == 1


def test_padding_is_not_drawn_as_states(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    net = TrainedNetwork(
        arch=Architecture(1),
        d_in=1,
        d_out=1,
        weights={
            "f.0.weight": np.array([[1.0], [1.0]]),
            "f.0.bias": np.zeros(1),
            "g.0.weight": np.array([[1.0]]),
            "g.0.bias": np.zeros(1),
        },
    )
    x = np.random.default_rng(0).integers(0, 3, (50, 6, 1))
    lengths = np.random.default_rng(1).integers(1, 7, 50)
    data = SequenceData(x, np.cumsum(x, axis=1), lengths=lengths)
    drawn = []
    scatter = Axes.scatter
    monkeypatch.setattr(
        Axes,
        "scatter",
        lambda ax, a, b, **kw: drawn.append(len(np.atleast_1d(a))) or scatter(ax, a, b, **kw),
    )
    hidden_states_png(net, data, None, tmp_path / "states.png")
    assert drawn[0] == data.steps < data.n * data.length
