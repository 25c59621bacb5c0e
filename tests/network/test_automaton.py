"""The automaton family: a network whose state is a distribution over K states."""

import numpy as np
import pytest

from mips.data import SequenceData, Vocabulary
from mips.network.automaton import (
    AutomatonConfig,
    AutomatonNetwork,
    _codes,
    _network,
    _wrong,
    automaton_candidates,
)
from mips.network.search import AUTOMATON, SCALE_UP, SearchConfig, _order
from mips.network.states import distinct_states, split_states

# A door: CLOSE, OPEN, SEND; OPEN/OK opens it, SEND/OK while open, CLOSE/OK shuts it, the rest
# ERR (0) with no change. States 0 shut, 1 open.
DELTA = np.array([[0, 1, 0], [0, 1, 1]])
LAM = np.array([[0, 1, 0], [1, 0, 1]])


def door_network(k: int = 3) -> AutomatonNetwork:
    """The door as one-hot matrices over ``k`` states (the last ones unused)."""
    transition = np.zeros((3, k, k))
    emission = np.zeros((3, k, 2))
    for s in range(k):
        for a in range(3):
            q = DELTA[min(s, 1), a]
            transition[a, s, q] = 1.0
            emission[a, s, LAM[min(s, 1), a]] = 1.0
    return AutomatonNetwork(
        transition=transition,
        emission=emission,
        symbols_in=((0,), (1,), (2,)),
        symbols_out=((0,), (1,)),
    )


def door_data(n: int, seed: int) -> SequenceData:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, n)
    x = rng.integers(0, 3, (n, 8, 1))
    y = np.zeros_like(x)
    for i in range(n):
        s = 0
        for t in range(lengths[i]):
            y[i, t, 0], s = LAM[s, x[i, t, 0]], DELTA[s, x[i, t, 0]]
    pad = np.arange(8)[None, :] >= lengths[:, None]
    x[pad], y[pad] = 0, 0
    x_vocab, y_vocab = (Vocabulary(("CLOSE", "OPEN", "SEND")),), (Vocabulary(("ERR", "OK")),)
    return SequenceData(x, y, lengths=lengths, x_vocab=x_vocab, y_vocab=y_vocab)


def test_a_one_hot_automaton_answers_as_its_machine_in_numpy_and_in_training():
    net, data = door_network(), door_data(200, 0)
    predicted = net.predict(data.x)
    assert ((predicted != data.y).any(-1) & data.mask).sum() == 0
    # The forward pass training scores with agrees with the numpy network the readers read.
    assert not _wrong(net, data).any()
    _, hidden = net.run(data.x[:5])
    assert hidden.shape == (5, 8, net.hidden)


def test_an_unknown_input_row_leaves_no_state():
    net = door_network()
    h = net.step(np.zeros((2, net.hidden)), np.array([[1.0], [7.0]]))
    assert h[0, 1] == 1.0 and not h[1].any()


def test_save_and_load_round_trip(tmp_path):
    net = door_network(4)
    back = AutomatonNetwork.load(net.save(tmp_path / "a.safetensors"))
    assert np.array_equal(back.transition, net.transition)
    assert back.symbols_in == net.symbols_in and back.symbols_out == net.symbols_out


def test_training_finds_an_exact_automaton_of_the_door():
    train, test = door_data(300, 1), door_data(100, 2)
    config = AutomatonConfig(sizes=(6,), seeds=1, steps=600)
    nets = list(automaton_candidates(train, test, config, seed=0))
    assert nets[-1].report.exact and nets[-1].report.family == AUTOMATON
    assert not ((nets[-1].predict(test.x) != test.y).any(-1) & test.mask).any()


def test_data_of_words_train_the_automaton_first_and_integers_never():
    words = door_data(20, 0)
    assert _order(SearchConfig().families, words)[0][1] == AUTOMATON
    integers = SequenceData(words.x, words.y)
    order = [f for _, f in _order(SearchConfig().families, integers)]
    assert order.index(AUTOMATON) > order.index("relu")  # and search_rounds skips it there
    assert SCALE_UP in order


def test_an_automaton_needs_matching_shapes():
    with pytest.raises(ValueError):
        AutomatonNetwork(
            transition=np.zeros((2, 3, 3)),
            emission=np.zeros((2, 3, 2)),
            symbols_in=((0,),),
            symbols_out=((0,), (1,)),
        )


def test_the_data_only_state_bound_never_exceeds_the_machine():
    from mips.tasks.mealy import random_mealy

    assert distinct_states(door_data(200, 0)) == 2
    for states, inputs, outputs, seed in [(5, 3, 2, 1), (12, 4, 3, 2), (30, 6, 2, 3)]:
        task = random_mealy(states, inputs, outputs, seed)
        bound = distinct_states(task.generate(400, seed))
        assert 1 <= bound <= states


def test_a_merged_state_is_split_off_where_a_trace_is_first_answered_wrong():
    import torch

    # OPEN from shut stays shut: the open state is merged into the shut one.
    net = door_network(4)
    merged = net.transition.copy()
    merged[1, 0] = [1.0, 0.0, 0.0, 0.0]
    net = AutomatonNetwork(
        transition=merged,
        emission=net.emission,
        symbols_in=net.symbols_in,
        symbols_out=net.symbols_out,
    )
    data = door_data(100, 3)
    wrong = _wrong(net, data)
    assert wrong.any()
    t_logits = torch.log(torch.tensor(net.transition) + 1e-6)
    e_logits = torch.log(torch.tensor(net.emission) + 1e-6)
    x, y = _codes(data.x, net.symbols_in), _codes(data.y, net.symbols_out)
    assert split_states(net, t_logits, e_logits, x, y, data.mask, wrong) == 1
    split = _network(t_logits, e_logits, net.symbols_in, net.symbols_out)
    spare = int(split.transition[1, 0].argmax())
    assert spare in (1, 2, 3)  # a state the shut door never visits
    assert _wrong(split, data).sum() < wrong.sum()
