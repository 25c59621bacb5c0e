"""The scale-up family: a standard GRU or ReLU network, one-hot inputs, trained until exact."""

from dataclasses import replace

import numpy as np
import pytest

import mips.network.families as families_module
from mips.data import SequenceData
from mips.network import save_network
from mips.network.families import Packed
from mips.network.foreign import ForeignNetwork, load_foreign
from mips.network.scaleup import ScaleUpConfig, scaled_candidates, scaled_spec
from mips.network.search import SearchConfig, search_ranked


def train_scaled(train, test, config, seed):
    """The exact network alone, or every candidate, the most often right first."""
    found = []
    for net in scaled_candidates(train, test, config, seed):
        assert net.report.final  # without near_exact, only trained networks
        if net.report.exact:
            return [net]
        found.append(net)
    return sorted(found, key=lambda n: -n.report.sequence_accuracy)


def reported(net, **fields):
    """``net`` with its training report changed in ``fields``."""
    return replace(net, report=replace(net.report, **fields))


def seeds(nets) -> list:
    """Which candidates ``nets`` are (the search hands out copies carrying its work so far)."""
    return [n.report.seed for n in nets]


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
    assert len(nets) == 1 and nets[0].report.exact
    net = nets[0]
    assert np.array_equal(net.predict(sum_mod_3.x), sum_mod_3.y)
    saved = load_foreign(save_network(net, tmp_path / "net") / "network.safetensors")
    assert saved.spec == net.spec
    assert np.array_equal(saved.predict(sum_mod_3.x), sum_mod_3.y)


def test_inexact_candidates_come_back_most_often_right_first(sum_mod_3):
    train, test = sum_mod_3.split(0.25, 0)
    config = ScaleUpConfig(sizes=(2,), seeds=2, steps=20, eval_every=10)
    nets = train_scaled(train, test, config, seed=0)
    assert len(nets) == 2 and not any(n.report.exact for n in nets)
    shares = [n.report.sequence_accuracy for n in nets]
    assert shares == sorted(shares, reverse=True)


def test_a_larger_size_trains_only_after_a_smaller_one_came_near(sum_mod_3):
    train, test = sum_mod_3.split(0.25, 0)
    config = ScaleUpConfig(sizes=(2, 3), seeds=2, steps=20, eval_every=10)
    far = [n.spec.hidden for n in scaled_candidates(train, test, config, 0)]
    assert far == [2, 2]
    near = replace(config, enlarge_above=0.0)
    assert [n.spec.hidden for n in scaled_candidates(train, test, near, 0)] == [2, 2, 3, 3]


def test_the_search_scales_up_only_when_no_small_network_is_exact(monkeypatch, sum_mod_3):
    calls = []

    def scaled(train, test, config, seed, max_errors, progress, near_exact=None, first=None):
        calls.append(config.sizes)
        return train_scaled(train, test, ScaleUpConfig(sizes=(8,), seeds=1, lr=1e-2), seed)

    monkeypatch.setattr(families_module, "scaled_candidates", scaled)
    train, test = sum_mod_3.split(0.2, 0)
    ranked = search_ranked(train, test, SearchConfig(families=("linear", "scale-up")))
    assert calls and isinstance(ranked[0], ForeignNetwork) and ranked[0].report.exact
    assert ranked[0].report.family == "scale-up" and ranked[0].report.seconds is not None
    running = _data(lambda x: np.cumsum(x, axis=1), 0, 3)
    train, test = running.split(0.2, 0)
    calls.clear()
    search_ranked(train, test, SearchConfig(families=("linear", "scale-up")))
    assert not calls  # the closed-form linear network is exact


def test_a_glance_exact_network_is_read_before_the_narrow_families_train(
    monkeypatch, sum_mod_3
) -> None:
    from mips.network.search import search_rounds

    log = []

    class Look:
        def __init__(self, train, test, config, seed, max_errors, progress, near_exact=None):
            log.append(("look", config.sizes[0]))
            self.train, self.test = train, test

        def exact(self, steps):
            log.append(("steps", steps))
            config = ScaleUpConfig(sizes=(8,), seeds=1, lr=1e-2)
            return train_scaled(self.train, self.test, config, 0)[0]

    def packs(*args):
        log.append("relu")
        return iter([])

    monkeypatch.setattr(families_module, "FirstLook", Look)
    monkeypatch.setattr(families_module, "scaled_candidates", pytest.fail)
    monkeypatch.setattr(families_module, "pack_rounds", packs)
    train, test = sum_mod_3.split(0.2, 0)
    config = SearchConfig(families=("linear", "relu", "scale-up", "glance"))
    rounds = search_rounds(train, test, config)
    first = next(rounds)
    assert first[0].report.exact and log == [("look", 32), ("steps", 300)]
    # Its reading failed: the narrow family looks below it, and the scale-up family is done.
    assert list(rounds) == [] and log[2:] == ["relu"]


def test_a_glance_near_exact_network_is_read_before_the_narrow_families_train(
    monkeypatch, sum_mod_3
) -> None:
    from mips.network.search import NoExactNetwork, search_rounds

    log = []
    (net,) = train_scaled(*sum_mod_3.split(0.2, 0), ScaleUpConfig(sizes=(2,), seeds=1), 0)
    near = reported(net, final=False, exact=False, sequence_accuracy=0.985)

    class Look:
        def __init__(self, *args, **kwargs):
            self.held = []

        def exact(self, steps):
            self.held.append(near)
            return None

    def packs(*args):
        log.append("relu")
        return iter([])

    monkeypatch.setattr(families_module, "FirstLook", Look)
    monkeypatch.setattr(families_module, "pack_rounds", packs)
    train, test = sum_mod_3.split(0.2, 0)
    config = SearchConfig(families=("linear", "relu", "glance"), near_exact=0.98)
    rounds = search_rounds(train, test, config)
    assert seeds(next(rounds)) == seeds([near]) and log == []  # read before the narrow family
    far = reported(net, final=False, exact=False, sequence_accuracy=0.5)
    monkeypatch.setattr(Look, "exact", lambda self, steps: self.held.append(far))
    with pytest.raises(NoExactNetwork):
        list(search_rounds(train, test, config))
    assert log == ["relu"]


@pytest.mark.parametrize("paused_at", [50, 150])
def test_a_first_look_trains_on_as_the_family_would_have_from_the_start(
    sum_mod_3, paused_at
) -> None:
    from mips.network.scaleup import FirstLook

    train, test = sum_mod_3.split(0.2, 0)
    config = ScaleUpConfig(sizes=(4,), seeds=2, steps=300, eval_every=50, lr=3e-3)
    fresh = list(scaled_candidates(train, test, config, 0, near_exact=0.0))
    look = FirstLook(train, test, config, 0, near_exact=0.0)
    assert look.exact(paused_at) is None and look.training.step == paused_at
    resumed = list(scaled_candidates(train, test, config, 0, near_exact=0.0, first=look))
    assert [n.report for n in resumed] == [n.report for n in fresh]
    assert fresh[0].report.steps == 50 and not fresh[0].report.final  # held, then handed out
    for a, b in zip(resumed, fresh, strict=True):
        assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)


def test_no_glance_where_outputs_are_words(monkeypatch) -> None:
    from mips.data import Vocabulary
    from mips.network.families import FamilyTask, Glance
    from mips.network.search import SearchWork

    monkeypatch.setattr(families_module, "scaled_candidates", pytest.fail)
    x = np.zeros((4, 3, 1), dtype=np.int64)
    words = SequenceData(x, x, y_vocab=(Vocabulary(("coffee", "nothing")),))
    task = FamilyTask(
        train=words,
        test=words,
        config=SearchConfig(),
        place=4,
        cap=32,
        shrinking=False,
        work=SearchWork(0.0),
        progress=None,
    )
    assert list(Glance().candidates(task)) == []


def test_word_outputs_are_classified_before_small_networks_regress_their_codes():
    from mips.data import Vocabulary
    from mips.network.search import _order

    families = SearchConfig().families
    x = np.zeros((4, 3, 1), dtype=np.int64)
    numbers = SequenceData(x, x)
    words = SequenceData(x, x, y_vocab=(Vocabulary(("coffee", "nothing")),))
    # The scale-up family's glance right after the closed form, the rest in their places.
    assert [f for _, f in _order(families, numbers)] == [
        "linear",
        "glance",
        "relu",
        "automaton",
        "scale-up",
    ]
    assert [p for p, _ in _order(families, numbers)] == [0, 4, 1, 2, 3]
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

    monkeypatch.setattr(families_module, "scaled_candidates", candidates)
    monkeypatch.setattr(Packed, "_packs", lambda self, *a: trained.append(self.name) or [])
    train, test = _data(lambda x: np.cumsum(x, axis=1) % 3 * (x > 0), 0, 2).split(0.2, 0)
    config = SearchConfig(families=("scale-up", "relu-wide"), near_exact=0.98)
    first, second = (
        reported(first, sequence_accuracy=0.99),
        reported(second, sequence_accuracy=0.985),
    )
    rounds = search_rounds(train, test, config)
    assert seeds(next(rounds)) == seeds([first]) and trained == ["scale-up"]  # read at once
    assert seeds(next(rounds)) == seeds([second]) and trained == ["scale-up"] * 2
    assert list(rounds) == [] and trained[-1] == "relu-wide"  # nothing new to read after it
    assert seeds(search_ranked(train, test, config)) == seeds([first, second])
    first, second = reported(first, sequence_accuracy=0.5), reported(second, sequence_accuracy=0.5)
    with pytest.raises(search_module.NoExactNetwork):
        next(search_rounds(train, test, config))


def test_a_candidate_is_given_as_it_first_reaches_near_exact_and_trains_on(sum_mod_3):
    train, test = sum_mod_3.split(0.2, 0)
    config = ScaleUpConfig(sizes=(4,), seeds=1, steps=100, eval_every=50, lr=1e-3)
    nets = list(scaled_candidates(train, test, config, 0, near_exact=0.0))
    assert [n.report.final for n in nets] == [False, True]
    early, trained = nets
    assert early.report.steps == config.eval_every and not early.report.exact
    assert trained.report.sequence_accuracy >= early.report.sequence_accuracy


@pytest.mark.parametrize("trained_on", [0, 500])
def test_a_candidate_given_early_is_not_read_again_unless_it_becomes_exact(
    monkeypatch, sum_mod_3, trained_on
):
    from mips.network.search import search_rounds

    config = ScaleUpConfig(sizes=(2,), seeds=2, steps=10)
    early, other = train_scaled(*sum_mod_3.split(0.2, 0), config, 0)
    # Its best evaluation was the early one, or one a few hundred steps on, a little better.
    steps = early.report.steps + trained_on
    same = reported(early, sequence_accuracy=0.99 + trained_on / 1e5, steps=steps)
    early = reported(early, final=False, sequence_accuracy=0.99)
    other = reported(other, sequence_accuracy=0.5)

    def candidates(*args, **kwargs):
        yield from (early, same, other)

    def given(rounds) -> list:
        return [[(n.report.seed, n.report.final, n.report.exact) for n in r] for r in rounds]

    monkeypatch.setattr(families_module, "scaled_candidates", candidates)
    train, test = sum_mod_3.split(0.2, 0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("scale-up",))))
    seed = early.report.seed
    assert given(rounds) == [[(seed, False, False)]]
    same = reported(same, exact=True, sequence_accuracy=1.0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("scale-up",))))
    assert given(rounds) == [[(seed, False, False)], [(seed, True, True)]]


def test_only_the_first_candidate_to_reach_near_exact_is_given_early(sum_mod_3):
    train, test = sum_mod_3.split(0.2, 0)
    config = ScaleUpConfig(sizes=(4,), seeds=2, steps=50, eval_every=25, lr=1e-3)
    nets = list(scaled_candidates(train, test, config, 0, near_exact=0.0))
    assert [n.report.final for n in nets] == [False, True, True]
