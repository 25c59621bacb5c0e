"""The scale-up family: a standard GRU or ReLU network, one-hot inputs, trained until exact."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.network import save_network
from mips.network.foreign import ForeignNetwork, load_foreign
from mips.network.scaleup import ScaleUpConfig, scaled_candidates, scaled_spec
from mips.network.search import SearchConfig, search_ranked


def train_scaled(train, test, config, seed):
    """The exact network alone, or every candidate, the most often right first."""
    found = []
    for net in scaled_candidates(train, test, config, seed):
        assert net.metrics["final"]  # without near_exact, only trained networks
        if net.metrics["exact"]:
            return [net]
        found.append(net)
    return sorted(found, key=lambda n: -n.metrics["sequence_accuracy"])


def _data(rule, low, high, n=400, length=6, seed=0) -> SequenceData:
    x = np.random.default_rng(seed).integers(low, high + 1, (n, length, 1))
    return SequenceData(x, rule(x))


@pytest.fixture(scope="module")
def sum_mod_3() -> SequenceData:
    return _data(lambda x: np.cumsum(x, axis=1) % 3, 0, 2)


def test_few_output_values_are_classified_by_a_gru_many_are_regressed_by_relu():
    few = scaled_spec(_data(lambda x: np.cumsum(x, axis=1) % 3, 0, 2), 8, 32)
    assert (few.cell, few.output, few.symbols_in, few.symbols_out) == (
        "gru",
        "argmax",
        ((0, 1, 2),),
        ((0, 1, 2),),
    )
    assert (few.d_in, few.d_out) == (3, 3)
    many = scaled_spec(_data(lambda x: np.cumsum(x, axis=1), 0, 9), 8, 32)
    assert (many.cell, many.nonlinearity, many.output, many.symbols_out) == (
        "rnn",
        "relu",
        "round",
        (),
    )
    assert many.symbols_in == (tuple(range(10)),)
    # A column of more symbols than the one-hot limit is fed as the integer itself.
    raw = scaled_spec(_data(lambda x: np.cumsum(x, axis=1) % 2, 0, 40), 8, 32)
    assert (raw.symbols_in, raw.d_in) == ((), 1)


def test_a_gru_becomes_exact_on_a_sum_mod_3_and_saves_for_explain(sum_mod_3, tmp_path):
    train, test = sum_mod_3.split(0.25, 0)
    config = ScaleUpConfig(sizes=(8,), seeds=1, steps=3000, eval_every=50, lr=1e-2)
    nets = train_scaled(train, test, config, seed=0)
    assert len(nets) == 1 and nets[0].metrics["exact"]
    net = nets[0]
    assert np.array_equal(net.predict(sum_mod_3.x), sum_mod_3.y)
    saved = load_foreign(save_network(net, tmp_path / "net") / "network.safetensors")
    assert saved.spec == net.spec
    assert np.array_equal(saved.predict(sum_mod_3.x), sum_mod_3.y)


def test_inexact_candidates_come_back_most_often_right_first(sum_mod_3):
    train, test = sum_mod_3.split(0.25, 0)
    config = ScaleUpConfig(sizes=(2,), seeds=2, steps=20, eval_every=10)
    nets = train_scaled(train, test, config, seed=0)
    assert len(nets) == 2 and not any(n.metrics["exact"] for n in nets)
    shares = [n.metrics["sequence_accuracy"] for n in nets]
    assert shares == sorted(shares, reverse=True)


def test_the_search_scales_up_only_when_no_small_network_is_exact(monkeypatch, sum_mod_3):
    import mips.network.search as search_module

    calls = []

    def scaled(train, test, config, seed, max_errors, progress, near_exact=None):
        calls.append(config.sizes)
        return train_scaled(train, test, ScaleUpConfig(sizes=(8,), seeds=1, lr=1e-2), seed)

    monkeypatch.setattr(search_module, "scaled_candidates", scaled)
    train, test = sum_mod_3.split(0.2, 0)
    ranked = search_ranked(train, test, SearchConfig(families=("linear", "scale-up")))
    assert calls and isinstance(ranked[0], ForeignNetwork) and ranked[0].metrics["exact"]
    assert ranked[0].metrics["family"] == "scale-up"
    running = _data(lambda x: np.cumsum(x, axis=1), 0, 3)
    train, test = running.split(0.2, 0)
    calls.clear()
    search_ranked(train, test, SearchConfig(families=("linear", "scale-up")))
    assert not calls  # the closed-form linear network is exact


def test_word_outputs_are_classified_before_small_networks_regress_their_codes():
    from mips.data import Vocabulary
    from mips.network.search import _order

    families = SearchConfig().families
    x = np.zeros((4, 3, 1), dtype=np.int64)
    numbers = SequenceData(x, x)
    words = SequenceData(x, x, y_vocab=(Vocabulary(("coffee", "nothing")),))
    assert [f for _, f in _order(families, numbers)] == list(families)
    ordered = _order(families, words)
    # Integer inputs: not all words, so the automaton family (words only) never trains on them.
    assert [f for _, f in ordered][:3] == ["linear", "automaton", "scale-up"]
    assert sorted(ordered) == list(enumerate(families))  # each keeps its place for its seed


def test_each_near_exact_scale_up_network_is_a_round_before_anything_else_trains(
    monkeypatch, sum_mod_3
):
    import mips.network.search as search_module
    from mips.network.search import search_rounds

    config = ScaleUpConfig(sizes=(2,), seeds=2, steps=10)
    first, second = train_scaled(*sum_mod_3.split(0.2, 0), config, 0)
    trained = []

    def candidates(*args, **kwargs):
        for net in (first, second):
            trained.append("scale-up")
            yield net

    monkeypatch.setattr(search_module, "scaled_candidates", candidates)
    monkeypatch.setattr(search_module, "_train_family", lambda *a, **k: trained.append(a[2]) or [])
    train, test = _data(lambda x: np.cumsum(x, axis=1) % 3 * (x > 0), 0, 2).split(0.2, 0)
    config = SearchConfig(families=("scale-up", "relu-wide"), near_exact=0.98)
    first.metrics["sequence_accuracy"], second.metrics["sequence_accuracy"] = 0.99, 0.985
    rounds = search_rounds(train, test, config)
    assert next(rounds) == [first] and trained == ["scale-up"]  # read before the next trains
    assert next(rounds) == [second] and trained == ["scale-up"] * 2
    assert list(rounds) == [] and trained[-1] == "relu-wide"  # nothing new to read after it
    assert search_ranked(train, test, config) == [first, second]
    first.metrics["sequence_accuracy"] = second.metrics["sequence_accuracy"] = 0.5
    with pytest.raises(search_module.NoExactNetwork):
        next(search_rounds(train, test, config))


def test_a_candidate_is_given_as_it_first_reaches_near_exact_and_trains_on(sum_mod_3):
    train, test = sum_mod_3.split(0.2, 0)
    config = ScaleUpConfig(sizes=(4,), seeds=1, steps=100, eval_every=50, lr=1e-3)
    nets = list(scaled_candidates(train, test, config, 0, near_exact=0.0))
    assert [n.metrics["final"] for n in nets] == [False, True]
    early, trained = nets
    assert early.metrics["steps"] == config.eval_every and not early.metrics["exact"]
    assert trained.metrics["sequence_accuracy"] >= early.metrics["sequence_accuracy"]


@pytest.mark.parametrize("trained_on", [0, 500])
def test_a_candidate_given_early_is_not_read_again_unless_it_becomes_exact(
    monkeypatch, sum_mod_3, trained_on
):
    import mips.network.search as search_module
    from mips.network.search import search_rounds

    config = ScaleUpConfig(sizes=(2,), seeds=2, steps=10)
    early, other = train_scaled(*sum_mod_3.split(0.2, 0), config, 0)
    same = ForeignNetwork(early.spec, early.weights, metrics=dict(early.metrics))
    early.metrics.update(final=False, sequence_accuracy=0.99)
    # Its best evaluation was the early one, or one a few hundred steps on, a little better.
    steps = early.metrics["steps"] + trained_on
    same.metrics.update(sequence_accuracy=0.99 + trained_on / 1e5, steps=steps)
    other.metrics.update(sequence_accuracy=0.5)

    def candidates(*args, **kwargs):
        yield from (early, same, other)

    monkeypatch.setattr(search_module, "scaled_candidates", candidates)
    train, test = sum_mod_3.split(0.2, 0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("scale-up",))))
    assert rounds == [[early]]
    same.metrics.update(exact=True, sequence_accuracy=1.0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("scale-up",))))
    assert rounds == [[early], [same]]


def test_only_the_first_candidate_to_reach_near_exact_is_given_early(sum_mod_3):
    train, test = sum_mod_3.split(0.2, 0)
    config = ScaleUpConfig(sizes=(4,), seeds=2, steps=50, eval_every=25, lr=1e-3)
    nets = list(scaled_candidates(train, test, config, 0, near_exact=0.0))
    assert [n.metrics["final"] for n in nets] == [False, True, True]
