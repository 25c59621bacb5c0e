"""mips.explain on networks trained outside mips (tests/explanation/data/make_networks.py)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mips.data import SequenceData
from mips.explanation import ExplainConfig, ExplainError, FidelityConfig, explain
from mips.network.foreign import ForeignNetwork, load_foreign
from mips.verify import load_program

DATA = Path(__file__).parent / "data"
QUICK = ExplainConfig(fidelity=FidelityConfig(fresh=500, long=200, exhaustive_budget=4096))


def parity_data(n=400, length=10, seed=1) -> SequenceData:
    x = np.random.default_rng(seed).integers(0, 2, (n, length, 1))
    return SequenceData(x, np.cumsum(x, axis=1) % 2)


def pairs_data(n=400, seed=1) -> SequenceData:
    x = np.random.default_rng(seed).integers(0, 3, (n, 8, 1))
    return SequenceData(x, x + np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1))


@pytest.fixture(scope="module")
def gru() -> ForeignNetwork:
    return load_foreign(DATA / "gru_parity.safetensors")


@pytest.fixture(scope="module")
def gru_explained(gru):
    return explain(gru, parity_data(), config=QUICK)


def test_a_gru_trained_on_parity_reads_as_two_states_and_a_xor(gru_explained) -> None:
    e = gru_explained
    assert e.ok and e.machine.kind == "finite" and e.machine.reading.n_states == 2
    assert e.chosen.program.form == "formula"
    run = load_program(e.source)
    for x, y in parity_data(50, 30, seed=7).sequences():
        assert run(x) == y  # the program is parity, at any length
    fresh = {c.name: c for c in e.fidelity.checks}["fresh sequences"]
    assert fresh.disagreeing == 0
    assert e.label_misses == ()


def test_where_the_network_breaks_past_its_training_length_is_shown(gru, gru_explained) -> None:
    """This GRU was trained on 10 steps and miscounts on some longer inputs: the report must say
    so, and every counterexample must be a real disagreement with the network."""
    e = gru_explained
    assert not e.faithful
    assert e.fidelity.counterexamples
    run = load_program(e.source)
    for c in e.fidelity.counterexamples:
        x = [list(step) for step in c.inputs]
        assert len(x) > 10
        assert gru.predict(np.array([x]))[0, -1].tolist() == list(c.network)
        assert run(x)[-1] != list(c.network)
    lengths = [len(c.inputs) for c in e.fidelity.counterexamples]
    assert lengths == sorted(lengths)


def test_a_two_layer_lstm_regressor_is_faithful_everywhere_checked() -> None:
    net = load_foreign(DATA / "lstm_pairs.safetensors")
    e = explain(net, pairs_data(), config=QUICK)
    assert e.ok and e.faithful, e.reason
    names = [c.name for c in e.fidelity.checks]
    assert names == ["fresh sequences", "5x longer", "every sequence up to length 7"]
    assert all(c.disagreeing == 0 for c in e.fidelity.checks)


def test_a_live_torch_module_explains_like_its_saved_file(gru) -> None:
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(1, 16, 1, batch_first=True)
            self.head = torch.nn.Linear(16, 2)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    module = Net()
    module.load_state_dict({k: torch.tensor(v) for k, v in gru.weights.items()})
    e = explain(module.float(), parity_data(100), output="argmax", config=QUICK)
    assert e.ok and e.machine.reading.n_states == 2


def test_labels_the_network_gets_wrong_are_listed(gru) -> None:
    data = parity_data(100)
    y = data.y.copy()
    y[3, 4, 0] ^= 1
    e = explain(gru, SequenceData(data.x, y), config=QUICK)
    assert [(m.sequence, m.step) for m in e.label_misses] == [(3, 4)]
    assert e.ok  # the program is read from the network's answers, not from the labels


def test_data_that_do_not_fit_the_network(gru) -> None:
    data = parity_data(50)
    with pytest.raises(ExplainError, match="takes 1 input"):
        explain(gru, SequenceData(np.concatenate([data.x, data.x], axis=2), data.y))
    with pytest.raises(ExplainError, match="answers 1 class index"):
        explain(gru, SequenceData(data.x, np.concatenate([data.y, data.y], axis=2)))
    with pytest.raises(ExplainError, match="class indices 0..1"):
        explain(gru, SequenceData(data.x, data.y + 2))
    regression = ForeignNetwork(replace(gru.spec, output="round", d_out=2), gru.weights)
    with pytest.raises(ExplainError, match="answers 2 output"):
        explain(regression, data)
    spread = ForeignNetwork(
        replace(gru.spec, output="round", d_out=1),
        {
            **gru.weights,
            "head.weight": np.zeros((1, 16)),
            "head.bias": np.array([0.5]),
        },
    )
    with pytest.raises(ExplainError, match="not near integers"):
        explain(spread, data)


def test_mips_explain_is_the_function() -> None:
    import mips

    assert mips.explain is explain


def test_a_network_that_is_not_quite_a_machine_is_read_by_majority() -> None:
    """This LSTM answers the running sum mod 3 except on about 0.1% of its training steps: no
    machine replays all its answers, the majority machine is the sum, and the report shows
    where the network differs from it."""
    net = load_foreign(DATA / "lstm_mod3.safetensors")
    x = np.random.default_rng(1).integers(0, 3, (400, 8, 1))
    e = explain(net, SequenceData(x, np.cumsum(x, axis=1) % 3), config=QUICK)
    assert e.ok and e.by_majority and not e.faithful
    run = load_program(e.source)
    longer = np.random.default_rng(2).integers(0, 3, (30, 25, 1))
    for seq, want in zip(longer.tolist(), (np.cumsum(longer, axis=1) % 3).tolist(), strict=True):
        assert run(seq) == want
    for c in e.fidelity.counterexamples:
        x = np.array([[list(step) for step in c.inputs]])
        assert net.predict(x)[0, -1].tolist() == list(c.network) != list(c.program)
